//! Runnable examples of the `otp` crates: see `examples/examples/`, run with
//! `cargo run -p otp-examples --example NAME`.
