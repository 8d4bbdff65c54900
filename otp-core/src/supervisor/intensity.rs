//! The restart intensity: how many restarts a supervisor allows within a period (SUP-04).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// The restarts a supervisor made within its period, and its limit.
///
/// OTP's `add_restart/3`, exactly: on each restart, the times of earlier restarts older than
/// `now - period` are dropped, `now` is added, and the supervisor gives up if more than
/// `intensity` remain. So with intensity 3 and period 5 s the fourth restart within 5 s gives
/// up, and with intensity 0 the first restart does. OTP counts in whole seconds of its
/// monotonic clock; this counts on tokio's clock at its full resolution (a restart `period`
/// or less ago is still in the window), which also lets a period be shorter than a second.
#[derive(Debug)]
pub(crate) struct Intensity {
    max: u32,
    period: Duration,
    restarts: VecDeque<Instant>,
}

impl Intensity {
    pub(crate) fn new(max: u32, period: Duration) -> Self {
        Intensity {
            max,
            period,
            restarts: VecDeque::new(),
        }
    }

    /// Counts a restart now. Returns `false` if that exceeds the intensity: the supervisor
    /// must give up.
    pub(crate) fn add_restart(&mut self) -> bool {
        self.add_restart_at(Instant::now())
    }

    fn add_restart_at(&mut self, now: Instant) -> bool {
        let period = self.period;
        // Kept: restarts at or after `now - period`. They are in time order.
        while let Some(&oldest) = self.restarts.front() {
            if now.saturating_duration_since(oldest) > period {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        self.restarts.len() <= self.max as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(base: Instant, ms: u64) -> Instant {
        base + Duration::from_millis(ms)
    }

    /// SUP-04: with 3 restarts in 5 s, the fourth within the window gives up.
    #[test]
    fn fourth_restart_within_the_period_gives_up() {
        let base = Instant::now();
        let mut i = Intensity::new(3, Duration::from_secs(5));
        assert!(i.add_restart_at(at(base, 0)));
        assert!(i.add_restart_at(at(base, 1000)));
        assert!(i.add_restart_at(at(base, 2000)));
        assert!(!i.add_restart_at(at(base, 4999)));
    }

    /// SUP-04: restarts older than the period leave the window; one exactly `period` old stays.
    #[test]
    fn old_restarts_leave_the_window() {
        let base = Instant::now();
        let mut i = Intensity::new(1, Duration::from_secs(1));
        assert!(i.add_restart_at(at(base, 0)));
        // Exactly one period later, the first restart still counts: two in the window.
        assert!(
            !Intensity {
                restarts: i.restarts.clone(),
                ..Intensity::new(1, Duration::from_secs(1))
            }
            .add_restart_at(at(base, 1000))
        );
        // Later than that, it has left.
        assert!(i.add_restart_at(at(base, 1001)));
        assert!(i.add_restart_at(at(base, 2100)));
        assert!(i.add_restart_at(at(base, 4200)));
    }

    /// SUP-04: intensity 0 gives up at the first restart.
    #[test]
    fn intensity_zero_gives_up_at_once() {
        let mut i = Intensity::new(0, Duration::from_secs(5));
        assert!(!i.add_restart_at(Instant::now()));
    }
}
