//! Pins the compile errors of `#[derive(GenServer)]` and `#[handlers]`: each file in `tests/ui`
//! is a small program with one mistake, and its `.stderr` is the error the user sees, at the
//! offending code. Regenerate with `TRYBUILD=overwrite cargo test -p otp-macros --test
//! compile_fail`, then read the diff.

#[test]
fn compile_fail() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
