//! What stages report on the `otp-telemetry` bus.
//!
//! | event | measurements | metadata |
//! |---|---|---|
//! | [`SUBSCRIBE`] | `count`, `max_demand` | `stage`, `producer`, `consumer`, `tag` |
//! | [`CANCEL`] | `count` | `stage`, `producer`, `consumer`, `tag`, `how` (`cancel`/`down`), `reason` |
//! | [`DEMAND`] | `demand` (asked of `handle_demand`, or of a producer-consumer's queue) | `stage`, `pid` |
//! | [`BUFFER_DROPPED`] | `dropped` | `stage`, `pid`, `where` (`buffer`/`partition`) |
//!
//! `SUBSCRIBE` and `CANCEL` are emitted by the producer's side; `stage` is the producer's type.
//! Each costs one atomic load while no handler is attached.

use otp_core::process::{ExitReason, Pid};
use otp_telemetry::{PidValue, Value, any_handlers, execute};

use crate::protocol::{Cancel, SubscriptionTag};

/// A consumer subscribed to a producer.
pub const SUBSCRIBE: &[&str] = &["otp", "stage", "subscribe"];
/// A subscription ended: cancelled by either side, or one side went down.
pub const CANCEL: &[&str] = &["otp", "stage", "cancel"];
/// A producer was asked for events (its `handle_demand` runs next).
pub const DEMAND: &[&str] = &["otp", "stage", "demand"];
/// A full buffer or partition queue dropped events.
pub const BUFFER_DROPPED: &[&str] = &["otp", "stage", "buffer", "dropped"];

pub(crate) fn subscribed<S>(producer: Pid, consumer: Pid, tag: SubscriptionTag, max: usize) {
    if any_handlers() {
        execute(
            SUBSCRIBE,
            &[("count", 1.0), ("max_demand", max as f64)],
            &[
                ("stage", Value::Str(std::any::type_name::<S>())),
                ("producer", Value::Pid(PidValue::from(producer))),
                ("consumer", Value::Pid(PidValue::from(consumer))),
                ("tag", Value::Display(&tag)),
            ],
        );
    }
}

pub(crate) fn cancelled<S>(producer: Pid, consumer: Pid, tag: SubscriptionTag, why: &Cancel) {
    if any_handlers() {
        let (how, reason): (&str, &ExitReason) = match why {
            Cancel::Cancelled(r) => ("cancel", r),
            Cancel::Down(r) => ("down", r),
        };
        execute(
            CANCEL,
            &[("count", 1.0)],
            &[
                ("stage", Value::Str(std::any::type_name::<S>())),
                ("producer", Value::Pid(PidValue::from(producer))),
                ("consumer", Value::Pid(PidValue::from(consumer))),
                ("tag", Value::Display(&tag)),
                ("how", Value::Str(how)),
                ("reason", Value::Display(reason)),
            ],
        );
    }
}

pub(crate) fn demanded<S>(pid: Pid, demand: usize) {
    if any_handlers() {
        execute(
            DEMAND,
            &[("demand", demand as f64)],
            &[
                ("stage", Value::Str(std::any::type_name::<S>())),
                ("pid", Value::Pid(PidValue::from(pid))),
            ],
        );
    }
}

pub(crate) fn dropped<S>(pid: Pid, dropped: usize, place: &'static str) {
    if any_handlers() {
        execute(
            BUFFER_DROPPED,
            &[("dropped", dropped as f64)],
            &[
                ("stage", Value::Str(std::any::type_name::<S>())),
                ("pid", Value::Pid(PidValue::from(pid))),
                ("where", Value::Str(place)),
            ],
        );
    }
}
