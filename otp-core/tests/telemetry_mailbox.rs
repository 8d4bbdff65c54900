//! Mailbox telemetry: the over-threshold event and the process counts of the poller's
//! measurement. One test, because the threshold is a global setting.

use std::num::NonZeroUsize;

use otp_core::name::{register, send};
use otp_core::process::{Pid, spawn, wait_exit};
use otp_core::telemetry::{
    DEFAULT_MAILBOX_THRESHOLD, MAILBOX_OVER_THRESHOLD, VM_PROCESSES, emit_process_counts,
    mailbox_threshold, poller, set_mailbox_threshold,
};
use otp_telemetry::testing::attach_event_handlers;
use otp_telemetry::{OwnedValue, PidValue};
use tokio::sync::oneshot;

/// A process that handles nothing until `go` fires, then handles `n` messages and reports.
fn stalled(go: oneshot::Receiver<()>, n: usize, done: oneshot::Sender<()>) -> Pid {
    spawn(move |mut me| async move {
        let _ = go.await;
        for _ in 0..n {
            me.recv().await;
        }
        let _ = done.send(());
        me.recv().await;
    })
}

#[tokio::test]
async fn mailbox_over_threshold_once_per_crossing_and_process_counts() {
    assert_eq!(
        mailbox_threshold(),
        NonZeroUsize::new(DEFAULT_MAILBOX_THRESHOLD)
    );
    set_mailbox_threshold(NonZeroUsize::new(5));
    let capture = attach_event_handlers(&[MAILBOX_OVER_THRESHOLD]).unwrap();
    let me_pid = |p: Pid| OwnedValue::Pid(PidValue::from(p));

    let (go, wait) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    let slow = stalled(wait, 12, done_tx);
    register("telemetry_mailbox_slow", slow).unwrap();
    for i in 0..12 {
        send(slow, i).unwrap();
    }
    let events: Vec<_> = capture
        .drain()
        .into_iter()
        .filter(|e| e.meta("pid") == Some(&me_pid(slow)))
        .collect();
    assert_eq!(events.len(), 1, "one crossing, one event: {events:?}");
    assert_eq!(events[0].measurement("length"), Some(5.0));
    assert_eq!(events[0].measurement("threshold"), Some(5.0));
    assert_eq!(
        events[0].meta("name").map(ToString::to_string).as_deref(),
        Some("telemetry_mailbox_slow")
    );

    // The poller's measurement: the longest mailbox is this one, with its pid and name.
    let counts = attach_event_handlers(&[VM_PROCESSES]).unwrap();
    emit_process_counts();
    let measured = counts.try_recv().expect("the process counts");
    // The same, polled by the runtime's poller, with its memory and tokio events.
    let vm = attach_event_handlers(&[&["otp", "vm", "memory"], &["otp", "vm", "tokio"]]).unwrap();
    let mut poller = poller();
    assert_eq!(
        poller.measurement_names().collect::<Vec<_>>(),
        ["processes", "memory", "tokio_runtime"]
    );
    poller.poll_once();
    let polled = counts.try_recv().expect("the polled process counts");
    assert_eq!(polled.meta("largest_pid"), measured.meta("largest_pid"));
    let names: Vec<_> = vm.drain().into_iter().map(|e| e.name.to_string()).collect();
    assert!(names.contains(&"otp.vm.tokio".to_owned()), "{names:?}");
    assert!(measured.measurement("count").unwrap() >= 1.0);
    assert!(measured.measurement("total_mailbox_length").unwrap() >= 12.0);
    assert_eq!(measured.measurement("largest_mailbox_length"), Some(12.0));
    assert_eq!(measured.meta("largest_pid"), Some(&me_pid(slow)));
    assert_eq!(
        measured
            .meta("largest_name")
            .map(ToString::to_string)
            .as_deref(),
        Some("telemetry_mailbox_slow")
    );

    // Drained below the threshold, then over it again: a second event.
    go.send(()).unwrap();
    done.await.unwrap();
    for i in 0..6 {
        send(slow, i).unwrap();
    }
    let again: Vec<_> = capture
        .drain()
        .into_iter()
        .filter(|e| e.meta("pid") == Some(&me_pid(slow)))
        .collect();
    assert_eq!(again.len(), 1, "{again:?}");

    // Off: no event however long the mailbox gets.
    set_mailbox_threshold(None);
    assert_eq!(mailbox_threshold(), None);
    let (_go2, wait2) = oneshot::channel();
    let (done2, _) = oneshot::channel();
    let other = stalled(wait2, 0, done2);
    for i in 0..20 {
        send(other, i).unwrap();
    }
    assert!(
        capture
            .drain()
            .iter()
            .all(|e| e.meta("pid") != Some(&me_pid(other)))
    );
    otp_core::process::exit(other, otp_core::process::ExitReason::Kill);
    otp_core::process::exit(slow, otp_core::process::ExitReason::Kill);
    wait_exit(slow).await;
    set_mailbox_threshold(NonZeroUsize::new(DEFAULT_MAILBOX_THRESHOLD));
}
