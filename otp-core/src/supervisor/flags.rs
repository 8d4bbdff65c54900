//! Supervisor flags: the restart strategy, the restart intensity and automatic shutdown.

use std::time::Duration;

/// Which children a supervisor restarts when one of them must be restarted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Only the child that ended is restarted (SUP-06). The default.
    #[default]
    OneForOne,
    /// All children are stopped (in reverse start order) and all are started again, in start
    /// order (SUP-07): for children that cannot work without each other.
    OneForAll,
    /// The children started after the one that ended are stopped (in reverse order), then it
    /// and they are started again, in order (SUP-08): for children that depend on those
    /// started before them.
    RestForOne,
}

/// When a supervisor stops by itself because its significant children have ended (SUP-30).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AutoShutdown {
    /// Never (the default). No child may then be significant.
    #[default]
    Never,
    /// When any significant child ends and is not restarted.
    AnySignificant,
    /// When the last significant child that was running ends and is not restarted.
    AllSignificant,
}

/// The flags of a supervisor: strategy, restart intensity and automatic shutdown.
///
/// Defaults follow Elixir: [`Strategy::OneForOne`], at most 3 restarts in 5 seconds,
/// [`AutoShutdown::Never`]. (Erlang's `supervisor` defaults to 1 restart in 5 seconds.)
///
/// The intensity is a count, so it cannot be negative; `SupFlags::default().intensity(-1)`
/// does not compile:
///
/// ```compile_fail
/// let flags = otp_core::supervisor::SupFlags::default().intensity(-1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SupFlags {
    /// Which children are restarted when one must be.
    pub strategy: Strategy,
    /// The most restarts allowed within [`period`](SupFlags::period) (SUP-04); one more and the
    /// supervisor gives up (SUP-05). Erlang's `intensity`, Elixir's `max_restarts`.
    pub intensity: u32,
    /// The sliding window the restarts are counted in; must not be zero. Erlang's `period`,
    /// Elixir's `max_seconds`.
    pub period: Duration,
    /// When the supervisor stops by itself because significant children ended.
    pub auto_shutdown: AutoShutdown,
}

impl Default for SupFlags {
    fn default() -> Self {
        SupFlags {
            strategy: Strategy::OneForOne,
            intensity: 3,
            period: Duration::from_secs(5),
            auto_shutdown: AutoShutdown::Never,
        }
    }
}

impl SupFlags {
    /// The default flags with this strategy.
    pub fn new(strategy: Strategy) -> Self {
        SupFlags {
            strategy,
            ..SupFlags::default()
        }
    }

    /// The default flags, strategy [`Strategy::OneForOne`].
    pub fn one_for_one() -> Self {
        Self::new(Strategy::OneForOne)
    }

    /// The default flags, strategy [`Strategy::OneForAll`].
    pub fn one_for_all() -> Self {
        Self::new(Strategy::OneForAll)
    }

    /// The default flags, strategy [`Strategy::RestForOne`].
    pub fn rest_for_one() -> Self {
        Self::new(Strategy::RestForOne)
    }

    /// Sets the strategy.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the most restarts allowed within the period.
    pub fn intensity(mut self, restarts: u32) -> Self {
        self.intensity = restarts;
        self
    }

    /// Sets the period the restarts are counted in.
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Elixir's name for [`intensity`](SupFlags::intensity).
    pub fn max_restarts(self, restarts: u32) -> Self {
        self.intensity(restarts)
    }

    /// Elixir's `max_seconds`: the period, in whole seconds.
    pub fn max_seconds(self, seconds: u64) -> Self {
        self.period(Duration::from_secs(seconds))
    }

    /// Sets the automatic shutdown.
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }
}
