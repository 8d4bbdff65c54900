//! Instrumentation: a critical function wrapped in a telemetry span, and a handler that turns
//! the span's events into a report.
//!
//! The pattern, as with Erlang's `:telemetry`: the code that does the work **emits**, the
//! application **listens**. Here `checkout` (a shop's payment step, which sometimes fails and,
//! through a bug, sometimes panics) runs inside a [`Span`] named `["shop", "checkout"]`, which
//! emits:
//!
//! - `["shop", "checkout", "start"]` when it begins;
//! - `["shop", "checkout", "stop"]` when it returns, with the measurement `duration` (ns) and
//!   the **stop metadata** the code adds through its [`SpanStop`]: `result` = `"ok"` or
//!   `"error"`, and the error's kind;
//! - `["shop", "checkout", "exception"]` when it panics, with `kind` = `"panic"` and the panic
//!   message as `reason`; the panic then goes on, and ends the checkout's process (each
//!   checkout runs as a [`Task`], so a crash stays in it).
//!
//! A handler attached to the stop and exception events records every run: the count, the
//! durations (min, median, max) and the errors by kind, printed as a summary at the end. It runs
//! synchronously in the process that emits, so it does little: it takes a lock and pushes a
//! number. With no handler attached, the span costs one atomic load and emits nothing: the first
//! order below is taken before the handler is attached, and is not in the summary.
//!
//! ```sh
//! cargo run -p otp-examples --example instrumentation
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use otp::prelude::*;
use otp::task::TaskError;
use otp::telemetry::{self, Event, Span, SpanStop, Value};

/// The span's name: its events are this plus `start`, `stop` and `exception`.
const CHECKOUT: &[&str] = &["shop", "checkout"];
/// The events the report listens to.
const CHECKOUT_STOP: &[&str] = &["shop", "checkout", "stop"];
const CHECKOUT_EXCEPTION: &[&str] = &["shop", "checkout", "exception"];
/// The id of the report's handler.
const REPORT_HANDLER: &str = "instrumentation-report";

/// How many orders the shop takes.
const ORDERS: u64 = 40;
/// The start of the bug's panic message (the example silences those panics' default report).
const BUG: &str = "bug:";

/// An order to pay for.
#[derive(Clone, Copy, Debug)]
struct Order {
    id: u64,
    cents: u64,
}

/// Why a checkout failed: the expected failures, handled by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CheckoutError {
    CardDeclined,
    OutOfStock,
}

impl CheckoutError {
    /// A short tag, fit for metadata and metric labels.
    fn kind(self) -> &'static str {
        match self {
            CheckoutError::CardDeclined => "card_declined",
            CheckoutError::OutOfStock => "out_of_stock",
        }
    }
}

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CheckoutError::CardDeclined => "the card was declined",
            CheckoutError::OutOfStock => "an item is out of stock",
        })
    }
}

/// The critical function: reserves the stock, asks the payment gateway, returns a receipt
/// number. Deterministic, so that every run prints the same story: the outcome depends on the
/// order's id, the gateway's latency on its amount.
async fn checkout(order: Order) -> Result<u64, CheckoutError> {
    if order.id.is_multiple_of(11) {
        return Err(CheckoutError::OutOfStock);
    }
    // The payment gateway: 1 to 20 ms.
    tokio::time::sleep(Duration::from_millis(1 + order.cents % 20)).await;
    if order.id.is_multiple_of(7) {
        return Err(CheckoutError::CardDeclined);
    }
    if order.id.is_multiple_of(13) {
        // A bug nobody handled: the discount code of these orders overflows.
        panic!("{BUG} discount overflow on order {}", order.id);
    }
    Ok(1000 + order.id)
}

/// `checkout` inside the span: what every caller of the shop runs.
///
/// The code fills the stop metadata: once given, it replaces the start metadata on the stop
/// event, so `order_id` is given again.
async fn instrumented_checkout(order: Order) -> Result<u64, CheckoutError> {
    Span::new(CHECKOUT)
        .metadata(&[("order_id", Value::UInt(order.id))])
        .run_async(async |stop: &mut SpanStop| {
            let result = checkout(order).await;
            stop.metadata("order_id", order.id);
            match result {
                Ok(_) => stop.metadata("result", "ok"),
                Err(e) => stop.metadata("result", "error").metadata("error", e.kind()),
            };
            result
        })
        .await
}

/// What the handler records.
#[derive(Default)]
struct Report {
    /// The duration of every run, ok or not, in milliseconds.
    durations_ms: Vec<f64>,
    ok: u64,
    /// Failed runs by kind: the `error` of a stop event, or the `kind` of an exception.
    errors: BTreeMap<String, u64>,
    /// The messages of the panics.
    panics: Vec<String>,
}

impl Report {
    /// Records one event of the span (runs in the emitting process: keep it short).
    fn record(&mut self, event: &Event<'_>) {
        if let Some(duration) = event.measurement("duration") {
            self.durations_ms.push(duration / 1e6);
        }
        let meta = |key| event.meta(key).map(|v| v.to_string());
        if event.name() == CHECKOUT_EXCEPTION {
            let kind = meta("kind").unwrap_or_else(|| "unknown".to_owned());
            *self.errors.entry(kind).or_default() += 1;
            self.panics.extend(meta("reason"));
        } else if meta("result").as_deref() == Some("ok") {
            self.ok += 1;
        } else {
            let kind = meta("error").unwrap_or_else(|| "unknown".to_owned());
            *self.errors.entry(kind).or_default() += 1;
        }
    }

    /// The summary, a few lines.
    fn print(&self) {
        let mut sorted = self.durations_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let failed: u64 = self.errors.values().sum();
        println!(
            "  runs: {}, ok: {}, failed: {failed}",
            sorted.len(),
            self.ok
        );
        if let (Some(min), Some(max)) = (sorted.first(), sorted.last()) {
            let median = sorted[sorted.len() / 2];
            println!("  duration: min {min:.3} ms, median {median:.3} ms, max {max:.3} ms");
        }
        println!("  errors by kind:");
        for (kind, count) in &self.errors {
            println!("    {kind:<14} {count}");
        }
        let mut panics = self.panics.clone();
        panics.sort();
        for reason in panics {
            println!("  panic: {reason}");
        }
    }
}

/// The amount of order `id`, in cents.
fn order(id: u64) -> Order {
    Order {
        id,
        cents: 500 + id * 37 % 4_000,
    }
}

/// Runs the checkout of order `id` as a task and says how it went.
async fn take(id: u64) -> String {
    match Task::spawn(instrumented_checkout(order(id))).await {
        Ok(Ok(receipt)) => format!("receipt {receipt}"),
        Ok(Err(e)) => format!("failed: {e}"),
        Err(TaskError::Exited(reason)) => format!("crashed: `{reason}`"),
        Err(e) => format!("no answer: {e}"),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The bug's panics end their task, which the example reports itself; the default panic hook
    // would print them to stderr too. Keep it for any other panic.
    otp_examples::quiet_expected_panics(|message| message.starts_with(BUG));

    println!("Instrumentation: `checkout` runs inside the span {CHECKOUT:?}.\n");
    println!(
        "Order 1, before any handler is attached: {} (the span emitted nothing).",
        take(1).await
    );

    // The application's side: one handler on the stop and exception events.
    let report = Arc::new(Mutex::new(Report::default()));
    let recorded = Arc::clone(&report);
    telemetry::attach_many(
        REPORT_HANDLER,
        &[CHECKOUT_STOP, CHECKOUT_EXCEPTION],
        move |event| {
            recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .record(event);
        },
    )?;
    println!("The report's handler is attached to {CHECKOUT_STOP:?} and {CHECKOUT_EXCEPTION:?}.");

    // The orders, all at once: each checkout is a task (a process), so a panic ends only it.
    println!("\n{ORDERS} orders, each checkout a task of its own, all at once:");
    let tasks: Vec<_> = (2..ORDERS + 2)
        .map(|id| (id, tokio::spawn(take(id))))
        .collect();
    for (id, task) in tasks {
        let outcome = task.await?;
        if !outcome.starts_with("receipt") {
            println!("  order {id:>2}: {outcome}");
        }
    }
    println!("  (the others paid)");

    telemetry::detach(REPORT_HANDLER)?;
    println!("\nThe report, from the span's events alone:");
    report
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .print();
    Ok(())
}
