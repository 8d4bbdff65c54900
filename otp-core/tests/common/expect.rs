//! Taking a received [`Info`] apart, failing the test when it is not the kind expected.

use otp_core::process::{Down, ExitReason, Info, Pid};

/// The exit signal inside an [`Info`], failing the test for anything else: its sender (`None`
/// for an `exit` called outside any process) and its reason.
pub fn expect_exit(info: Info) -> (Option<Pid>, ExitReason) {
    match info {
        Info::Exit(s) => (s.from(), s.reason().clone()),
        other => panic!("expected an exit message, got {other:?}"),
    }
}

/// The `Down` inside an [`Info`], failing the test for anything else.
pub fn expect_down(info: Info) -> Down {
    match info {
        Info::Down(d) => d,
        other => panic!("expected a Down message, got {other:?}"),
    }
}

/// The user message inside an [`Info`], downcast to `T`, failing the test for anything else.
pub fn expect_message<T: std::any::Any>(info: Info) -> T {
    match info {
        Info::Message(m) => match m.downcast::<T>() {
            Ok(v) => v,
            Err(m) => panic!(
                "expected a {} message, got {m:?}",
                std::any::type_name::<T>()
            ),
        },
        other => panic!("expected a user message, got {other:?}"),
    }
}
