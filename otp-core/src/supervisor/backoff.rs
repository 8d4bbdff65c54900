//! The optional restart backoff of a child (beyond OTP): its policy; and a child's place in
//! its restarts, with the retries a supervisor sends itself.

use std::time::Duration;

use tokio::time::Instant;

use crate::gen_server::{Context, GenServer};

/// An exponential restart backoff with jitter, a cap, and a reset after a stable period —
/// beyond OTP. Off by default; set per child with [`ChildSpec::backoff`](super::ChildSpec::backoff).
///
/// OTP restarts a child at once. A child that fails against a dependency that is down (a
/// database, a remote service) then fails again at once, and again: with the default intensity
/// of 3 restarts in 5 seconds, the supervisor gives up within milliseconds, and the failure
/// climbs the tree even though waiting a few seconds would have been enough.
///
/// A [`Backoff`] on a child spec delays each restart of that child: the first by `initial`,
/// each next one `factor` times longer, never more than `max`, each shortened by a random part
/// of up to `jitter` of itself (so that many children failing together do not retry together).
/// Once the child has run for `reset_after` without ending, the next restart is again delayed by
/// `initial`. A restart that fails to start the child is retried after the next delay.
///
/// While it waits, the child is shown as restarting (`which_children`), it is not active
/// (`count_children`), and the siblings the strategy stops with it (all of them for
/// `one_for_all`, those started after it for `rest_for_one`) are stopped at once and started
/// again with it when the delay is over.
///
/// **How it interacts with the restart intensity.** A restart is counted when it happens, at
/// the end of its delay, not when the child ends. Delayed restarts are therefore spread over
/// time, and the supervisor gives up only if more than `intensity` of them fall within
/// `period`. With delays longer than `period / intensity`, a child that keeps failing never
/// exhausts the intensity: it is retried forever, at most every `max`, and never escalates.
/// Choose `max` accordingly: below `period / intensity` if a dependency that stays down should
/// still, in the end, take the supervisor down (and let its own supervisor decide); above it
/// if the child should keep trying on its own.
///
/// ```
/// use std::time::Duration;
/// use otp_core::supervisor::Backoff;
///
/// let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10))
///     .factor(2.0)
///     .jitter(0.0)
///     .reset_after(Duration::from_secs(60));
/// assert_eq!(backoff.nominal_delay(0), Duration::from_millis(100));
/// assert_eq!(backoff.nominal_delay(3), Duration::from_millis(800));
/// assert_eq!(backoff.nominal_delay(20), Duration::from_secs(10));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    factor: f64,
    jitter: f64,
    reset_after: Duration,
}

/// The default growth factor of a [`Backoff`]: each delay doubles.
pub const DEFAULT_BACKOFF_FACTOR: f64 = 2.0;
/// The default jitter of a [`Backoff`]: each delay is shortened by up to a fifth of itself.
pub const DEFAULT_BACKOFF_JITTER: f64 = 0.2;
/// The default stable period of a [`Backoff`], after which its delays start over: one minute.
pub const DEFAULT_BACKOFF_RESET: Duration = Duration::from_secs(60);

impl Backoff {
    /// A backoff whose first delay is `initial` and whose delays never exceed `max`. The
    /// factor is 2, the jitter 0.2, and the delays start over after a minute without failure.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Backoff {
            initial,
            max,
            factor: DEFAULT_BACKOFF_FACTOR,
            jitter: DEFAULT_BACKOFF_JITTER,
            reset_after: DEFAULT_BACKOFF_RESET,
        }
    }

    /// Sets how much longer each delay is than the one before (at least 1).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets the jitter, between 0 (none) and 1: each delay is shortened by a random part of up
    /// to this fraction of itself.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets how long the child must run without ending for its delays to start over.
    pub fn reset_after(mut self, stable: Duration) -> Self {
        self.reset_after = stable;
        self
    }

    /// The first delay.
    pub fn initial(&self) -> Duration {
        self.initial
    }

    /// The longest delay.
    pub fn max(&self) -> Duration {
        self.max
    }

    /// The delay before the restart after `failures` earlier ones in a row, before jitter:
    /// `initial * factor^failures`, at most `max`.
    pub fn nominal_delay(&self, failures: u32) -> Duration {
        let exp = i32::try_from(failures).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.factor.powi(exp);
        if !secs.is_finite() || secs >= self.max.as_secs_f64() {
            self.max
        } else {
            Duration::from_secs_f64(secs).min(self.max)
        }
    }

    /// What is wrong with this backoff, if anything.
    pub(crate) fn problem(&self) -> Option<&'static str> {
        if self.initial.is_zero() {
            Some("the initial delay is zero")
        } else if self.max < self.initial {
            Some("the maximum delay is shorter than the initial delay")
        } else if !self.factor.is_finite() || self.factor < 1.0 {
            Some("the factor is not a finite number of at least 1")
        } else if !(0.0..=1.0).contains(&self.jitter) {
            Some("the jitter is not between 0 and 1")
        } else if self.reset_after.is_zero() {
            Some("the stable period (reset_after) is zero")
        } else {
            None
        }
    }

    fn with_jitter(&self, delay: Duration) -> Duration {
        if self.jitter <= 0.0 {
            return delay;
        }
        let cut: f64 = rand::random::<f64>() * self.jitter;
        delay.mul_f64(1.0 - cut)
    }
}

/// The message a supervisor sends itself to try a failed or delayed restart again (OTP's
/// `try_again_restart` cast): it goes to the end of the mailbox, so that calls already queued
/// are served between attempts (SUP-12). The token tells the retry a child waits for from a
/// stale one.
pub(crate) struct TryAgain {
    pub(crate) seq: u64,
    token: u32,
}

/// A child's place in its restarts: the retry it waits for, and where it is in its backoff
/// (failures in a row, and when it last started).
#[derive(Debug, Default)]
pub(crate) struct RestartState {
    /// The token of the latest retry scheduled: only that one is due. Counted per child, it
    /// comes back to a stale retry's value only after four billion more retries of the child,
    /// far more than any restart intensity allows while a retry is on its way.
    token: u32,
    failures: u32,
    started_at: Option<Instant>,
}

impl RestartState {
    /// The child started now.
    pub(crate) fn started(&mut self) {
        self.started_at = Some(Instant::now());
    }

    /// The delay before the next restart, counting it as one more failure. A child that ran
    /// for the stable period starts over at the initial delay.
    pub(crate) fn next_delay(&mut self, policy: &Backoff) -> Duration {
        if let Some(at) = self.started_at.take()
            && at.elapsed() >= policy.reset_after
        {
            self.failures = 0;
        }
        let delay = policy.with_jitter(policy.nominal_delay(self.failures));
        self.failures = self.failures.saturating_add(1);
        delay
    }

    /// Sends the supervisor `ctx` belongs to a retry of its child `seq`, which supersedes any
    /// retry sent before: after the child's next backoff delay if its spec has a `policy`,
    /// else at once.
    pub(crate) fn schedule_retry<S: GenServer>(
        &mut self,
        ctx: &Context<S>,
        seq: u64,
        policy: Option<&Backoff>,
    ) {
        self.token = self.token.wrapping_add(1);
        let again = TryAgain {
            seq,
            token: self.token,
        };
        match policy {
            Some(policy) => {
                let delay = self.next_delay(policy);
                ctx.send_after(again, delay);
            }
            None => {
                let _ = crate::name::send(ctx.pid(), again);
            }
        }
    }

    /// Whether `again` is the retry the child waits for.
    pub(crate) fn is_due(&self, again: &TryAgain) -> bool {
        self.token == again.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Backoff {
        Backoff::new(Duration::from_millis(100), Duration::from_secs(1)).jitter(0.0)
    }

    #[test]
    fn delays_grow_to_the_cap() {
        let p = policy();
        let mut s = RestartState::default();
        let delays: Vec<_> = (0..6).map(|_| s.next_delay(&p).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn jitter_only_shortens() {
        let p = policy().jitter(0.5);
        for _ in 0..100 {
            let d = p.with_jitter(Duration::from_millis(100));
            assert!(d <= Duration::from_millis(100) && d >= Duration::from_millis(50));
        }
    }

    #[test]
    fn invalid_policies_are_named() {
        assert!(policy().problem().is_none());
        assert!(policy().factor(0.5).problem().is_some());
        assert!(policy().jitter(1.5).problem().is_some());
        assert!(
            Backoff::new(Duration::ZERO, Duration::from_secs(1))
                .problem()
                .is_some()
        );
        assert!(
            Backoff::new(Duration::from_secs(2), Duration::from_secs(1))
                .problem()
                .is_some()
        );
        assert!(policy().reset_after(Duration::ZERO).problem().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stable_run_starts_the_delays_over() {
        let p = policy().reset_after(Duration::from_secs(10));
        let mut s = RestartState::default();
        s.started();
        assert_eq!(s.next_delay(&p), Duration::from_millis(100));
        s.started();
        assert_eq!(s.next_delay(&p), Duration::from_millis(200));
        s.started();
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(s.next_delay(&p), Duration::from_millis(100));
    }
}
