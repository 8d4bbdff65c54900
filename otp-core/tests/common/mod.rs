//! What the integration tests of otp-core share, one module per concept:
//!
//! - [`wait`]: waiting for what must happen (a future, a process's end) without hanging;
//! - [`panics`]: keeping the panics that tests provoke inside processes quiet;
//! - [`probe`]: [`Probe`], a process the test drives and whose mailbox it reads;
//! - [`processes`]: small test processes and pids (idle, ending on a message, dead, remote),
//!   and the links of a process;
//! - [`expect`]: taking a message apart, failing the test on anything else;
//! - [`logs`]: capturing what the runtime logs;
//! - [`supervision`]: test children for the supervisor tests, and what every test does to a
//!   supervisor of any kind (crash a child and let it act, count, list).
//!
//! A test file includes it with `mod common;` and uses `use common::*;` (the first six are
//! re-exported here) or `use common::supervision::*;`. These are ordinary modules: change a
//! helper, and its callers, when a test needs it to do something else.
// Not every test file uses every helper.
#![allow(dead_code, unused_imports)]

pub mod expect;
pub mod logs;
pub mod panics;
pub mod probe;
pub mod processes;
pub mod supervision;
pub mod wait;

pub use expect::*;
pub use logs::*;
pub use panics::*;
pub use probe::*;
pub use processes::*;
pub use wait::*;
