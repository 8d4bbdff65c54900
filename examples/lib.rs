//! Runnable examples of the `otp` crates: see `examples/examples/`, run with
//! `cargo run -p otp-examples --example NAME`.
//!
//! Code shared by an example and its test lives here, one module per example.

pub mod cluster_peer;
pub mod metrics_app;

/// Sends `tracing` output to stderr (in colour on a terminal): how the runtime, the supervisors
/// and the applications of the examples report crashes and restarts.
pub fn log_to_stderr() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Keeps the default panic hook for every panic except those whose message `expected` accepts:
/// the runtime already logs an example's planned panics, and the hook would print them twice.
pub fn quiet_expected_panics(expected: impl Fn(&str) -> bool + Send + Sync + 'static) {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.payload_as_str().is_some_and(&expected) {
            default_hook(info);
        }
    }));
}

/// The README's Rust code, compiled and run as this crate's doctests, so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
