//! Runnable examples of the `otp` crates: see `examples/examples/`, run with
//! `cargo run -p otp-examples --example NAME`.

/// The README's Rust code, compiled and run as this crate's doctests, so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
