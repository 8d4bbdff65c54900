//! The options of a subscription and of a stage (GST-03, GST-07, GST-08, GST-09).

use otp_core::process::ExitReason;

use crate::error::StageError;

/// The default `max_demand` of a subscription (GST-03).
pub const DEFAULT_MAX_DEMAND: usize = 1000;

/// The default `buffer_size` of a producer (GST-07).
pub const DEFAULT_BUFFER_SIZE: usize = 10_000;

/// What a consumer does when a subscription ends from the producer's side: the producer cancelled
/// it or went down (GST-09).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CancelMode {
    /// The consumer exits, whatever the reason (the default).
    #[default]
    Permanent,
    /// The consumer exits unless the reason is `normal`, `shutdown` or `{shutdown, _}`.
    Transient,
    /// The consumer stays; its `handle_cancel` is told.
    Temporary,
}

impl CancelMode {
    /// Whether a consumer with this mode exits when its subscription ends with `reason`.
    pub fn exits_on(self, reason: &ExitReason) -> bool {
        match self {
            CancelMode::Permanent => true,
            CancelMode::Transient => !matches!(
                reason,
                ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
            ),
            CancelMode::Temporary => false,
        }
    }
}

/// The options of one subscription of a consumer to a producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscribeOptions {
    max_demand: usize,
    min_demand: Option<usize>,
    cancel: CancelMode,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions {
            max_demand: DEFAULT_MAX_DEMAND,
            min_demand: None,
            cancel: CancelMode::Permanent,
        }
    }
}

impl SubscribeOptions {
    /// The defaults: `max_demand` 1000, `min_demand` half of it, `cancel` permanent.
    pub fn new() -> Self {
        Self::default()
    }

    /// The most events the consumer has asked for and not yet received (at least 1).
    pub fn max_demand(mut self, max: usize) -> Self {
        self.max_demand = max;
        self
    }

    /// When the events asked for and not yet received fall to this, the consumer asks again
    /// (below `max_demand`; by default half of it).
    pub fn min_demand(mut self, min: usize) -> Self {
        self.min_demand = Some(min);
        self
    }

    /// What the consumer does when the producer ends the subscription.
    pub fn cancel(mut self, mode: CancelMode) -> Self {
        self.cancel = mode;
        self
    }

    /// The checked `(max_demand, min_demand)`, or why they are refused (GST-03).
    pub fn demand(&self) -> Result<(usize, usize), StageError> {
        if self.max_demand == 0 {
            return Err(StageError::BadOptions(
                "max_demand must be at least 1".to_owned(),
            ));
        }
        let min = self.min_demand.unwrap_or(self.max_demand / 2);
        if min >= self.max_demand {
            return Err(StageError::BadOptions(format!(
                "min_demand must be below max_demand ({min} >= {})",
                self.max_demand
            )));
        }
        Ok((self.max_demand, min))
    }

    /// The cancel mode.
    pub fn cancel_mode(&self) -> CancelMode {
        self.cancel
    }
}

/// Which events a full producer buffer keeps (GST-07).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BufferKeep {
    /// The newest: the oldest buffered events are dropped (the default).
    #[default]
    Last,
    /// The oldest: the incoming events are dropped.
    First,
}

/// How a producer treats the demand of its consumers (GST-08).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DemandMode {
    /// Demand goes to `handle_demand` as it comes (the default).
    #[default]
    Forward,
    /// Demand is held until the mode is set back to `Forward`.
    Accumulate,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GST-03: max 1000 and min half of it by default; max 0 and min ≥ max are refused.
    #[test]
    fn gst03_demand_defaults_and_bad_options() {
        assert_eq!(SubscribeOptions::new().demand().unwrap(), (1000, 500));
        assert_eq!(
            SubscribeOptions::new().max_demand(10).demand().unwrap(),
            (10, 5)
        );
        assert_eq!(
            SubscribeOptions::new().max_demand(1).demand().unwrap(),
            (1, 0)
        );
        assert!(matches!(
            SubscribeOptions::new().max_demand(0).demand(),
            Err(StageError::BadOptions(_))
        ));
        assert!(matches!(
            SubscribeOptions::new()
                .max_demand(10)
                .min_demand(10)
                .demand(),
            Err(StageError::BadOptions(_))
        ));
    }

    /// GST-09: which reasons make a consumer exit, by mode.
    #[test]
    fn gst09_cancel_modes() {
        let shutdown = ExitReason::shutdown_with("done");
        let crash = ExitReason::error("boom");
        assert!(CancelMode::Permanent.exits_on(&ExitReason::Normal));
        assert!(CancelMode::Permanent.exits_on(&crash));
        assert!(!CancelMode::Transient.exits_on(&ExitReason::Normal));
        assert!(!CancelMode::Transient.exits_on(&shutdown));
        assert!(CancelMode::Transient.exits_on(&crash));
        assert!(!CancelMode::Temporary.exits_on(&crash));
    }
}
