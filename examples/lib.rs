//! Runnable examples of the `otp` crates: see `examples/examples/`, run with
//! `cargo run -p otp-examples --example NAME`.
//!
//! Code shared by an example and its test lives here, one module per example.

pub mod metrics_app;

/// The README's Rust code, compiled and run as this crate's doctests, so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
