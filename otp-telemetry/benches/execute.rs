//! The cost of emitting: `execute` with no handler, with one no-op handler, and `span` (and the
//! `Span` builder, with no handler) around an empty closure, beside a `metrics` counter increment
//! (no recorder installed) and a `tracing` event with no subscriber, as references, in one run.
//!
//! Run with `cargo bench -p otp-telemetry`. Budgets (issue 5): no handler ≤ 20 ns, one no-op
//! handler ≤ 60 ns.

// `criterion_group!` generates an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use otp_telemetry::{Span, Value, attach, attach_many, execute, span};

const EVENT: &[&str] = &["otp", "bench", "event"];
const OTHER: &[&str] = &["otp", "bench", "other"];
const SPAN: &[&str] = &["otp", "bench", "span"];

fn emit(event: &[&str]) {
    execute(
        black_box(event),
        black_box(&[("count", 1.0), ("bytes", 512.0)]),
        black_box(&[("pid", Value::UInt(42)), ("child_id", Value::Str("worker"))]),
    );
}

fn telemetry(c: &mut Criterion) {
    let mut group = c.benchmark_group("telemetry");

    // References.
    group.bench_function("metrics counter increment (no recorder)", |b| {
        b.iter(|| metrics::counter!("otp_bench_counter").increment(black_box(1)));
    });
    group.bench_function("tracing event (no subscriber)", |b| {
        b.iter(|| tracing::info!(count = black_box(1u64), "otp bench event"));
    });

    // Nothing attached anywhere: the global flag.
    group.bench_function("execute, no handler attached", |b| b.iter(|| emit(EVENT)));
    group.bench_function("span around an empty closure, no handler", |b| {
        b.iter(|| span(black_box(SPAN), &[("id", Value::UInt(1))], || black_box(1)));
    });
    group.bench_function("Span::run with a stop measurement, no handler", |b| {
        b.iter(|| {
            Span::new(black_box(SPAN))
                .metadata(&[("id", Value::UInt(1))])
                .run(|stop| {
                    stop.measurement("rows", black_box(1.0));
                    black_box(1)
                })
        });
    });

    // One no-op handler on EVENT.
    attach("bench-noop", EVENT, |event| {
        black_box(event);
    })
    .expect("attach the no-op handler");
    group.bench_function("execute, one no-op handler", |b| b.iter(|| emit(EVENT)));
    group.bench_function("execute, handlers attached to other events only", |b| {
        b.iter(|| emit(OTHER));
    });
    group.bench_function("span around an empty closure, handlers elsewhere", |b| {
        b.iter(|| span(black_box(SPAN), &[("id", Value::UInt(1))], || black_box(1)));
    });

    attach_many(
        "bench-span-noop",
        &[
            &["otp", "bench", "span", "start"],
            &["otp", "bench", "span", "stop"],
        ],
        |event| {
            black_box(event);
        },
    )
    .expect("attach the span handler");
    group.bench_function(
        "span around an empty closure, no-op start/stop handlers",
        |b| {
            b.iter(|| span(black_box(SPAN), &[("id", Value::UInt(1))], || black_box(1)));
        },
    );
    group.finish();
}

criterion_group!(benches, telemetry);
criterion_main!(benches);
