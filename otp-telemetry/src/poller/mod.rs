//! Periodic measurements emitted as events, like Erlang's `telemetry_poller`.
//!
//! Some figures are not events: the memory in use, the number of tasks alive. A [`Poller`] calls
//! **measurements** (functions that read such figures and [`execute`](crate::execute) an event
//! with them) once per **period** (5 s by default, as `telemetry_poller`), so that handlers and
//! metrics see them as events like any other.
//!
//! - [`Poller::measurement`] adds your own; [`Poller::memory`] and [`Poller::tokio_runtime`] add
//!   the built-ins, which emit [`MEMORY_EVENT`] (`["otp", "vm", "memory"]`) and [`TOKIO_EVENT`]
//!   (`["otp", "vm", "tokio"]`). A built-in reads nothing when nobody listens to its event.
//! - [`Poller::poll_once`] runs every measurement once, now (tests, or another scheduler);
//!   [`Poller::run`] polls at once and then once per period, forever (a `tokio` interval whose
//!   missed ticks are delayed, not bunched); [`Poller::spawn`] runs it as a task of the current
//!   runtime, stopped when its [`PollerHandle`] is dropped or [`PollerHandle::stop`]ped.
//! - A measurement that panics is removed from the poller and the panic is logged through
//!   `tracing` (as `telemetry_poller` does); the others go on.
//!
//! This module needs the cargo feature `poller` (on by default).
//!
//! ```
//! use std::time::Duration;
//! use otp_telemetry::{execute, poller::{Poller, MEMORY_EVENT}, testing};
//!
//! let capture = testing::attach_event_handlers(&[MEMORY_EVENT, &["doc", "poller", "queue"]])
//!     .unwrap();
//! let mut poller = Poller::new()
//!     .period(Duration::from_secs(10))
//!     .memory()
//!     .measurement("queue length", || {
//!         execute(&["doc", "poller", "queue"], &[("length", 3.0)], &[]);
//!     });
//! poller.poll_once();
//! let events = capture.drain();
//! assert!(events.iter().any(|event| event.name == ["doc", "poller", "queue"]));
//!
//! // Or poll in the background, until the handle is dropped.
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! runtime.block_on(async move {
//!     let handle = poller.spawn().unwrap();
//!     tokio::task::yield_now().await;
//!     handle.stop();
//! });
//! ```

mod vm;

use std::convert::Infallible;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use crate::registry::panic_message;

pub use vm::{MEMORY_EVENT, TOKIO_EVENT};

/// The period of a poller that is not given one: 5 seconds, as `telemetry_poller`.
pub const DEFAULT_PERIOD: Duration = Duration::from_secs(5);

/// Why a poller could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PollerError {
    /// The period is zero.
    #[error("a telemetry poller's period must be greater than zero")]
    ZeroPeriod,
    /// [`Poller::spawn`] was called outside a tokio runtime.
    #[error("a telemetry poller must be spawned from within a tokio runtime")]
    NoRuntime,
    /// The tokio runtime has no timer (build it with `enable_time` or `enable_all`).
    #[error("the tokio runtime has timers disabled: build it with `enable_time()`")]
    TimersDisabled,
}

/// One named measurement.
struct Measurement {
    name: String,
    function: Box<dyn FnMut() + Send>,
}

/// Periodic measurements: a builder, then [`poll_once`](Poller::poll_once),
/// [`run`](Poller::run) or [`spawn`](Poller::spawn) (see the [module docs](self)).
#[must_use = "a poller does nothing until it is polled, run or spawned"]
pub struct Poller {
    period: Duration,
    measurements: Vec<Measurement>,
}

impl Default for Poller {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("period", &self.period)
            .field(
                "measurements",
                &self.measurement_names().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Poller {
    /// A poller with no measurement and the [`DEFAULT_PERIOD`].
    pub fn new() -> Self {
        Self {
            period: DEFAULT_PERIOD,
            measurements: Vec::new(),
        }
    }

    /// Polls every `period`. Zero is refused when the poller starts ([`PollerError::ZeroPeriod`]).
    pub fn period(self, period: Duration) -> Self {
        Self { period, ..self }
    }

    /// Adds a measurement: `function` runs once per poll and emits what it measures with
    /// [`execute`](crate::execute). `name` names it in logs (e.g. when it panics and is removed).
    pub fn measurement(
        mut self,
        name: impl Into<String>,
        function: impl FnMut() + Send + 'static,
    ) -> Self {
        self.measurements.push(Measurement {
            name: name.into(),
            function: Box::new(function),
        });
        self
    }

    /// Adds the measurement `"memory"`: [`MEMORY_EVENT`] with `total` (resident set size) and
    /// `virtual` (virtual memory size), in bytes. Emits nothing where the platform gives no
    /// figures.
    pub fn memory(self) -> Self {
        self.measurement("memory", vm::memory)
    }

    /// Adds the measurement `"tokio_runtime"`: [`TOKIO_EVENT`] with the metrics of the runtime
    /// the poll runs in (see [`TOKIO_EVENT`] for the measurements). Emits nothing when polled
    /// outside a runtime.
    pub fn tokio_runtime(self) -> Self {
        self.measurement("tokio_runtime", vm::tokio_runtime)
    }

    /// The names of the measurements still in the poller, in the order they were added.
    pub fn measurement_names(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.measurements.iter().map(|m| m.name.as_str())
    }

    /// Runs every measurement once, now, in this thread.
    ///
    /// A measurement that panics is removed, with an error logged through `tracing`; the others
    /// still run.
    pub fn poll_once(&mut self) {
        self.measurements.retain_mut(|measurement| {
            match catch_unwind(AssertUnwindSafe(&mut measurement.function)) {
                Ok(()) => true,
                Err(payload) => {
                    tracing::error!(
                        measurement = %measurement.name,
                        reason = %panic_message(&*payload),
                        "telemetry poller measurement panicked and was removed"
                    );
                    false
                }
            }
        });
    }

    /// Polls at once, then once per period, forever, on the current tokio runtime's clock.
    ///
    /// A poll that comes late (a busy runtime, a blocked thread) delays the next ones
    /// (`MissedTickBehavior::Delay`): polls are never bunched to catch up.
    ///
    /// # Errors
    /// Returns at once, with [`PollerError::ZeroPeriod`] for a zero period or
    /// [`PollerError::TimersDisabled`] if the runtime has no timer. Otherwise it never returns:
    /// drop the future (or abort its task) to stop it.
    pub async fn run(self) -> Result<Infallible, PollerError> {
        let interval = interval(self.period)?;
        Ok(self.run_with(interval).await)
    }

    async fn run_with(mut self, mut interval: Interval) -> Infallible {
        loop {
            interval.tick().await;
            self.poll_once();
        }
    }

    /// Spawns [`run`](Poller::run) as a task of the current tokio runtime; it stops when the
    /// returned [`PollerHandle`] is dropped or stopped.
    ///
    /// # Errors
    /// [`PollerError::ZeroPeriod`] for a zero period, [`PollerError::NoRuntime`] outside a tokio
    /// runtime, [`PollerError::TimersDisabled`] if the runtime has no timer.
    pub fn spawn(self) -> Result<PollerHandle, PollerError> {
        if self.period.is_zero() {
            return Err(PollerError::ZeroPeriod);
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| PollerError::NoRuntime)?;
        let interval = {
            let _entered = runtime.enter();
            interval(self.period)?
        };
        let task = runtime.spawn(async move {
            // `run_with` never returns: the task ends when aborted.
            let _never = self.run_with(interval).await;
        });
        Ok(PollerHandle { task })
    }
}

/// A `tokio` interval of `period`, first tick at once, missed ticks delayed.
fn interval(period: Duration) -> Result<Interval, PollerError> {
    if period.is_zero() {
        return Err(PollerError::ZeroPeriod);
    }
    // tokio panics when the runtime has no time driver, and has no way to ask beforehand.
    let mut interval =
        catch_unwind(|| tokio::time::interval(period)).map_err(|_| PollerError::TimersDisabled)?;
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    Ok(interval)
}

/// The handle of a [spawned](Poller::spawn) poller: dropping it stops the poller.
#[derive(Debug)]
#[must_use = "dropping the handle stops the poller at once"]
pub struct PollerHandle {
    task: JoinHandle<()>,
}

impl PollerHandle {
    /// Stops the poller (aborts its task): it polls no more once its task next waits for a
    /// tick; a poll already running on another thread finishes first.
    pub fn stop(self) {
        // Drop aborts.
    }

    /// Whether the poller's task has ended (it ends only when stopped, or with its runtime).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

impl Drop for PollerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
