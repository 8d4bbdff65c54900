//! Panics that a test provokes on purpose inside processes.

use std::sync::Once;

/// Silences panics inside processes, for tests that make processes panic on purpose. Panics
/// elsewhere (a failed assertion in a test) still print through the default hook.
pub fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if otp_core::process::current_pid().is_none() {
                default(info);
            }
        }));
    });
}
