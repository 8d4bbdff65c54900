//! The README's main example, run as a user runs it: the program `let_it_crash` goes through its
//! whole story (crashes, restarts, escalation), stops its tree, and exits with status 0.

use std::path::PathBuf;
use std::process::Command;

/// The example's binary, built by `cargo test` beside this test's (in `<target>/<profile>/
/// examples`); built here if it is not there yet (when this test runs alone).
fn example() -> PathBuf {
    let test = std::env::current_exe().expect("the test's own path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from <target>/<profile>/deps");
    let binary = profile_dir
        .join("examples")
        .join(format!("let_it_crash{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let built = Command::new(env!("CARGO"))
            .args([
                "build",
                "-q",
                "-p",
                "otp-examples",
                "--example",
                "let_it_crash",
            ])
            .status()
            .expect("cargo runs");
        assert!(built.success(), "cannot build the example");
    }
    binary
}

#[test]
fn the_main_example_runs_its_story_and_exits_0() {
    let output = Command::new(example()).output().expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    for step in [
        "1. The tree is up.",
        "The application ended: stopped. Exit status 0.",
    ] {
        assert!(stdout.contains(step), "no `{step}` in:\n{stdout}");
    }
    assert!(!stderr.contains("The demo failed"), "{stderr}");
}
