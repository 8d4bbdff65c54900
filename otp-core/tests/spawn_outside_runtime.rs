//! Spawning where no tokio runtime runs: `try_spawn` says so with an error, `spawn` panics with
//! a clear message that points at the caller's line, not into otp-core. Alone in its test
//! binary: it installs a panic hook.

use std::panic::{self, Location};
use std::sync::{Arc, Mutex};

use otp_core::process::{SpawnError, SpawnOptions, spawn, spawn_link, try_spawn, try_spawn_opt};
use otp_core::task::Task;

/// Runs `f`, which must panic; returns the panic's message and location.
fn panic_of(f: impl FnOnce() + panic::UnwindSafe) -> (String, String) {
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()));
        *hook_seen.lock().unwrap() = location;
    }));
    let payload = panic::catch_unwind(f).expect_err("it panics");
    panic::set_hook(previous);
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    let location = seen.lock().unwrap().take().unwrap_or_default();
    (message, location)
}

fn here(line: u32) -> String {
    format!("{}:{line}", Location::caller().file())
}

#[test]
fn spawning_outside_a_runtime() {
    // try_spawn: a typed error, and no process left behind.
    let before = otp_core::process::process_count();
    assert_eq!(
        try_spawn(|_me| async {}),
        Err(SpawnError::NoRuntime),
        "try_spawn outside a runtime"
    );
    assert_eq!(
        try_spawn_opt(SpawnOptions::new().trap_exit(true), |_me| async {}),
        Err(SpawnError::NoRuntime)
    );
    assert_eq!(otp_core::process::process_count(), before);

    // spawn, spawn_link and Task::spawn: a panic that names the problem, at the caller's line.
    let (message, location) = panic_of(|| {
        spawn(|_me| async {});
    });
    assert!(message.contains("outside a tokio runtime"), "{message}");
    assert_eq!(location, here(line!() - 3));

    let (message, location) = panic_of(|| {
        spawn_link(|_me| async {});
    });
    assert!(message.contains("outside a tokio runtime"), "{message}");
    assert_eq!(location, here(line!() - 3));

    let (message, location) = panic_of(|| {
        drop(Task::spawn(async { 1 }));
    });
    assert!(message.contains("outside a tokio runtime"), "{message}");
    assert_eq!(location, here(line!() - 3));
    assert_eq!(otp_core::process::process_count(), before);
}
