//! Conformance tests for monitors: P-15 to P-20 and spawn_monitor.

mod common;

use common::*;
use otp_core::name::{Name, register, send, unregister};
use otp_core::process::{ExitReason, Info, MonitorRef, Monitored, Pid, exit, process_info, spawn};
use tokio::sync::oneshot;

fn error(s: &str) -> ExitReason {
    ExitReason::error(s)
}

fn monitors_of(pid: Pid) -> Vec<Pid> {
    process_info(pid).expect("alive").monitors
}

fn monitored_by(pid: Pid) -> Vec<Pid> {
    process_info(pid).expect("alive").monitored_by
}

/// P-15: when the monitored process ends, the watcher gets a Down with the monitor's reference,
/// the pid and the reason; a non-trapping watcher is not affected by the reason.
#[tokio::test]
async fn p15_down_carries_reference_pid_and_reason() {
    let mut w = Probe::plain();
    for reason in [error("x"), ExitReason::Normal, ExitReason::Kill] {
        let x = spawn_exit_on_message(reason.clone());
        let r = w.with(move |me| me.monitor(x)).await;
        assert_eq!(monitors_of(w.pid), vec![x]);
        assert_eq!(monitored_by(x), vec![w.pid]);
        assert!(process_info(x).unwrap().links.is_empty());
        send(x, Go).unwrap();
        assert_eq!(exit_reason(x).await, reason);
        let down = expect_down(w.next().await);
        assert_eq!(down.reference(), r);
        assert_eq!(down.pid(), Some(x));
        assert_eq!(down.object(), &Monitored::Pid(x));
        assert_eq!(down.reason(), &reason);
        assert!(w.survives().await, "the watcher was affected by {reason}");
        assert!(monitors_of(w.pid).is_empty());
    }
}

/// P-15: monitors are one-way: the monitored process is not affected when its watcher ends,
/// and the monitor is removed from it.
#[tokio::test]
async fn p15_monitored_process_is_unaffected_by_the_watcher() {
    let mut x = Probe::plain();
    let w = Probe::plain();
    let xp = x.pid;
    w.with(move |me| me.monitor(xp)).await;
    assert_eq!(monitored_by(x.pid), vec![w.pid]);
    exit(w.pid, error("watcher dies"));
    assert_eq!(w.exit_reason().await, error("watcher dies"));
    assert!(x.survives().await);
    assert!(x.flush().await.is_empty());
    assert!(monitored_by(x.pid).is_empty());
}

/// P-16: monitoring a process that has ended delivers a Down with `NoProc` at once.
#[tokio::test]
async fn p16_monitor_dead_process_is_down_noproc_at_once() {
    let dead = dead_pid().await;
    let w = Probe::plain();
    let (r, queued) = w
        .with(move |me| {
            let r = me.monitor(dead);
            (r, me.try_recv())
        })
        .await;
    let down = expect_down(queued.expect("the Down is queued when monitor returns"));
    assert_eq!(down.reference(), r);
    assert_eq!(down.pid(), Some(dead));
    assert_eq!(down.object(), &Monitored::Pid(dead));
    assert_eq!(down.reason(), &ExitReason::NoProc);
    assert!(monitors_of(w.pid).is_empty());
}

/// P-17: each monitor call sets a new monitor with its own reference, and each fires its own
/// Down.
#[tokio::test]
async fn p17_monitors_are_independent() {
    let mut w = Probe::plain();
    let x = spawn_exit_on_message(error("x"));
    let (r1, r2, r3) = w
        .with(move |me| (me.monitor(x), me.monitor(x), me.monitor(x)))
        .await;
    assert!(r1 != r2 && r2 != r3 && r1 != r3);
    assert_eq!(monitors_of(w.pid), vec![x, x, x]);
    // Removing one leaves the others.
    assert!(w.with(move |me| me.demonitor(r2)).await);
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    let mut refs: Vec<MonitorRef> = Vec::new();
    for _ in 0..2 {
        let down = expect_down(w.next().await);
        assert_eq!(down.reason(), &error("x"));
        refs.push(down.reference());
    }
    refs.sort();
    let mut expected = vec![r1, r3];
    expected.sort();
    assert_eq!(refs, expected);
    assert!(w.flush().await.is_empty());
}

/// P-18: a monitor by name names the process in its Down; the monitor follows the process that
/// held the name when it was set.
#[tokio::test]
async fn p18_monitor_by_name() {
    const NAME: &str = "monitors-p18";
    let mut w = Probe::plain();
    let x = spawn_exit_on_message(error("named"));
    register(NAME, x).unwrap();
    let r = w.with(|me| me.monitor_name(NAME)).await;
    assert_eq!(monitored_by(x), vec![w.pid]);
    // The name goes away; the monitor stays on the process.
    assert!(unregister(NAME));
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("named"));
    let down = expect_down(w.next().await);
    assert_eq!(down.reference(), r);
    assert_eq!(down.object(), &Monitored::Name(Name::from(NAME)));
    assert_eq!(down.pid(), Some(x));
    assert_eq!(down.reason(), &error("named"));
}

/// P-18: monitoring a name nobody holds delivers a Down with `NoProc` at once, naming it.
#[tokio::test]
async fn p18_monitor_unregistered_name_is_down_noproc_at_once() {
    const NAME: &str = "monitors-p18-nobody";
    let w = Probe::plain();
    let (r, queued) = w
        .with(|me| {
            let r = me.monitor_name(NAME);
            (r, me.try_recv())
        })
        .await;
    let down = expect_down(queued.expect("the Down is queued when monitor_name returns"));
    assert_eq!(down.reference(), r);
    assert_eq!(down.object(), &Monitored::Name(Name::from(NAME)));
    assert_eq!(down.reason(), &ExitReason::NoProc);
    assert!(monitors_of(w.pid).is_empty());
}

/// P-19 (without distribution): monitoring a pid of a node that cannot be reached delivers a
/// Down with `NoConnection` at once.
#[tokio::test]
async fn p19_monitor_unreachable_node_is_down_noconnection() {
    let remote = remote_pid();
    let w = Probe::plain();
    let (r, queued) = w
        .with(move |me| {
            let r = me.monitor(remote);
            (r, me.try_recv())
        })
        .await;
    let down = expect_down(queued.expect("the Down is queued when monitor returns"));
    assert_eq!(down.reference(), r);
    assert_eq!(down.pid(), Some(remote));
    assert_eq!(down.reason(), &ExitReason::NoConnection);
    assert!(w.survives().await);
}

/// P-20: demonitor of an active monitor returns true, and no Down comes after; a repeated call
/// returns false; the target no longer lists the watcher.
#[tokio::test]
async fn p20_demonitor_active_monitor() {
    let mut w = Probe::plain();
    let x = spawn_exit_on_message(error("x"));
    let r = w.with(move |me| me.monitor(x)).await;
    assert!(w.with(move |me| me.demonitor(r)).await);
    assert!(monitored_by(x).is_empty());
    assert!(monitors_of(w.pid).is_empty());
    assert!(!w.with(move |me| me.demonitor(r)).await);
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    assert!(w.flush().await.is_empty(), "a Down arrived after demonitor");
}

/// P-20: demonitor returns false once the monitor has fired (its Down received).
#[tokio::test]
async fn p20_demonitor_after_down_returns_false() {
    let mut w = Probe::plain();
    let x = spawn_exit_on_message(error("x"));
    let r = w.with(move |me| me.monitor(x)).await;
    send(x, Go).unwrap();
    assert_eq!(expect_down(w.next().await).reference(), r);
    assert!(!w.with(move |me| me.demonitor(r)).await);
    assert!(!w.with(move |me| me.demonitor_flush(r)).await);
}

/// A watcher that monitors `x`, then (once told, with the Down already queued) removes the
/// monitor with or without flush. Returns (the demonitor result, the next queued message).
async fn demonitor_after_queued_down(flush: bool) -> (Pid, MonitorRef, bool, Option<Info>) {
    let x = spawn_exit_on_message(error("x"));
    let (ready_tx, ready_rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (out_tx, out_rx) = oneshot::channel();
    spawn(move |mut me| async move {
        let r = me.monitor(x);
        let _ = ready_tx.send(r);
        let _ = go_rx.await;
        let active = if flush {
            me.demonitor_flush(r)
        } else {
            me.demonitor(r)
        };
        let _ = out_tx.send((active, me.try_recv()));
    });
    let r = ready_rx.await.unwrap();
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    go_tx.send(()).unwrap();
    let (active, next) = within("the watcher", out_rx).await.unwrap();
    (x, r, active, next)
}

/// P-20: after the monitor fired, demonitor leaves the queued Down; demonitor_flush removes it.
#[tokio::test]
async fn p20_demonitor_flush_removes_a_queued_down() {
    let (x, r, active, next) = demonitor_after_queued_down(false).await;
    assert!(!active, "the monitor had fired");
    let down = expect_down(next.expect("the Down stays queued"));
    assert_eq!((down.reference(), down.pid()), (r, Some(x)));

    let (_, _, active, next) = demonitor_after_queued_down(true).await;
    assert!(!active, "the monitor had fired");
    assert!(next.is_none(), "demonitor_flush left {next:?}");
}

/// P-20: demonitor_flush of an active monitor returns true and nothing arrives afterwards.
#[tokio::test]
async fn p20_demonitor_flush_active_monitor() {
    let mut w = Probe::plain();
    let x = spawn_exit_on_message(error("x"));
    let r = w.with(move |me| me.monitor(x)).await;
    assert!(w.with(move |me| me.demonitor_flush(r)).await);
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    assert!(w.flush().await.is_empty());
}

/// spawn_monitor: the monitor exists before the child runs, so a child that ends at once still
/// sends its Down; the child is not linked.
#[tokio::test]
async fn spawn_monitor_sets_the_monitor_before_the_child_runs() {
    quiet_panics();
    let mut w = Probe::plain();
    let (pid, r) = w
        .with(|me| me.spawn_monitor(|_| async { Err::<(), _>("early") }))
        .await;
    let down = expect_down(w.next().await);
    assert_eq!(down.reference(), r);
    assert_eq!(down.pid(), Some(pid));
    assert_eq!(down.object(), &Monitored::Pid(pid));
    assert_eq!(down.reason(), &error("early"));
    assert!(w.survives().await, "spawn_monitor linked the child");

    let (pid, r) = w
        .with(|me| {
            me.spawn_monitor(|_| async {
                if true {
                    panic!("early panic")
                }
            })
        })
        .await;
    let down = expect_down(w.next().await);
    assert_eq!((down.reference(), down.pid()), (r, Some(pid)));
    assert_eq!(down.reason(), &ExitReason::Panic("early panic".into()));
    assert!(w.survives().await);

    // While the child lives, both sides show the monitor, and no link.
    let (pid, _) = w.with(|me| me.spawn_monitor(ignore_messages)).await;
    assert_eq!(monitored_by(pid), vec![w.pid]);
    assert_eq!(monitors_of(w.pid), vec![pid]);
    assert!(process_info(pid).unwrap().links.is_empty());
    assert_eq!(process_info(pid).unwrap().parent, Some(w.pid));
    exit(pid, ExitReason::Kill);
    assert_eq!(expect_down(w.next().await).reason(), &ExitReason::Killed);
}
