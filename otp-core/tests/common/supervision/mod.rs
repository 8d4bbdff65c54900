//! Support for the supervisor tests: test children whose starts and ends a test controls and
//! observes (the role of `supervisor_1`, `supervisor_3` and `supervisor_deadlock` in OTP's
//! `supervisor_SUITE`), and what a test does to a supervisor of any kind.
//!
//! - [`worker`]: [`Worker`], a test child, and how its starts go ([`Plan`]);
//! - [`log`]: [`Log`], what the test children report, in order;
//! - [`handle`]: crash a child and let the supervisor act on it, count and list its children,
//!   see it give up — for any [`SupervisorHandle`](otp_core::supervisor::SupervisorHandle);
//! - [`flags`]: [`otp_flags`], supervisor flags written as OTP's suites write them;
//! - [`kind`]: [`Kind`], starting a static or a dynamic supervisor with test children, so that a
//!   test of what holds for every kind is written once.

pub mod flags;
pub mod handle;
pub mod kind;
pub mod log;
pub mod worker;

pub use flags::*;
pub use handle::*;
pub use kind::*;
pub use log::*;
pub use worker::*;
