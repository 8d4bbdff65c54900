//! Supervisor flags as OTP's test suites write them.

use std::time::Duration;

use otp_core::supervisor::{Strategy, SupFlags};

/// OTP's flags `{Strategy, Intensity, Period}`: at most `intensity` restarts within
/// `period_secs` seconds.
pub fn otp_flags(strategy: Strategy, intensity: u32, period_secs: u64) -> SupFlags {
    SupFlags::new(strategy)
        .intensity(intensity)
        .period(Duration::from_secs(period_secs))
}
