//! Conformance tests for exit signals and exit reasons: signals act at once, even on a busy or
//! blocked process; panics and errors end only their own process (P-02).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use otp_core::name::send;
use otp_core::process::{
    ExitReason, Info, SpawnOptions, exit, is_alive, process_info, spawn, spawn_opt,
};
use tokio::sync::{Notify, oneshot};

const QUEUED: usize = 10_000;

/// Queues 10,000 messages on a process that handles each slowly (it waits for a go-ahead per
/// message, given as fast as it asks), then sends it `exit(pid, Shutdown)`: the signal acts at
/// once, not after the queued messages.
async fn exit_signal_overtakes_queued_messages() {
    let handled = Arc::new(AtomicUsize::new(0));
    let step = Arc::new(Notify::new());
    let (first_tx, first_rx) = oneshot::channel();
    let pid = {
        let handled = handled.clone();
        let step = step.clone();
        spawn(move |mut me| async move {
            let mut first = Some(first_tx);
            while let Info::Message(_) = me.recv().await {
                handled.fetch_add(1, Ordering::SeqCst);
                if let Some(tx) = first.take() {
                    let _ = tx.send(());
                }
                step.notified().await;
            }
        })
    };
    let exited = watch_exit(pid);
    for i in 0..QUEUED {
        send(pid, i).unwrap();
    }
    within("the first message to be handled", first_rx)
        .await
        .unwrap();
    // From now on the process may handle a message whenever it asks.
    let stepper = tokio::spawn({
        let step = step.clone();
        async move {
            loop {
                step.notify_one();
                tokio::task::yield_now().await;
            }
        }
    });
    exit(pid, ExitReason::Shutdown);
    assert_eq!(exited.await, ExitReason::Shutdown);
    stepper.abort();
    let handled = handled.load(Ordering::SeqCst);
    assert!(
        handled < QUEUED,
        "the exit signal waited behind the queued messages: {handled} handled"
    );
}

/// Signals act at once, before messages already queued (single-threaded runtime).
#[tokio::test]
async fn exit_signal_acts_before_queued_messages() {
    exit_signal_overtakes_queued_messages().await;
}

/// Signals act at once, before messages already queued (multi-threaded runtime: the sender and
/// the busy process run on different threads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_signal_acts_before_queued_messages_multi_thread() {
    exit_signal_overtakes_queued_messages().await;
}

/// P-06: for a trapping process the signal becomes a message appended to the mailbox, after the
/// messages already queued.
#[tokio::test]
async fn trapped_exit_signal_is_queued_after_earlier_messages() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (out_tx, out_rx) = oneshot::channel();
    let pid = spawn_opt(
        SpawnOptions::new().trap_exit(true),
        move |mut me| async move {
            let _ = go_rx.await;
            let mut before = 0;
            loop {
                match me.recv().await {
                    Info::Message(_) => before += 1,
                    Info::Exit(s) => {
                        let _ = out_tx.send((before, s.reason().clone()));
                        return;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        },
    );
    for i in 0..100u32 {
        send(pid, i).unwrap();
    }
    exit(pid, ExitReason::Shutdown);
    go_tx.send(()).unwrap();
    let (before, reason) = within("the trapping process", out_rx).await.unwrap();
    assert_eq!(before, 100);
    assert_eq!(reason, ExitReason::Shutdown);
}

/// A process waiting on something else than its mailbox (a future that never resolves, a long
/// sleep, a channel nobody sends on) still ends at once on an exit signal, and its state is
/// dropped.
#[tokio::test]
async fn blocked_process_dies_on_exit_signal() {
    // A future that never resolves; the process holds a sender whose drop we observe.
    let (held_tx, held_rx) = oneshot::channel::<()>();
    let pid = spawn(move |_| async move {
        let _held = held_tx;
        std::future::pending::<()>().await;
    });
    let exited = watch_exit(pid);
    exit(pid, ExitReason::error("stop"));
    assert_eq!(exited.await, ExitReason::error("stop"));
    assert!(
        held_rx.await.is_err(),
        "the process's state was not dropped"
    );
    assert!(!is_alive(pid));

    // A long sleep.
    let pid = spawn(|_| async { tokio::time::sleep(Duration::from_secs(3600)).await });
    let exited = watch_exit(pid);
    exit(pid, ExitReason::Shutdown);
    assert_eq!(exited.await, ExitReason::Shutdown);

    // A channel nobody sends on, with a kill.
    let (_never_tx, never_rx) = oneshot::channel::<()>();
    let pid = spawn(move |_| async move {
        let _ = never_rx.await;
    });
    let exited = watch_exit(pid);
    exit(pid, ExitReason::Kill);
    assert_eq!(exited.await, ExitReason::Killed);
}

/// A blocked process on a multi-threaded runtime dies on an exit signal sent from another
/// thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_process_dies_on_exit_signal_multi_thread() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let pid = spawn(move |_| async move {
        let _ = ready_tx.send(());
        std::future::pending::<()>().await;
    });
    let exited = watch_exit(pid);
    within("the process to start", ready_rx).await.unwrap();
    exit(pid, ExitReason::error("stop"));
    assert_eq!(exited.await, ExitReason::error("stop"));
}

/// A panicking process ends with `Panic(message)`; its link learns it; the runtime and the
/// other processes go on.
#[tokio::test]
async fn panic_is_isolated_to_its_process() {
    quiet_panics();
    let bystander = Probe::plain();
    let mut watcher = Probe::trapping();
    let pid = watcher
        .with(|me| {
            me.spawn_link(|_| async {
                if true {
                    panic!("boom")
                }
            })
        })
        .await;
    assert_eq!(
        expect_exit(watcher.next().await),
        (Some(pid), ExitReason::Panic("boom".into()))
    );
    assert!(!is_alive(pid));
    assert!(bystander.survives().await);
    assert!(watcher.survives().await);

    // A formatted panic message.
    let pid = spawn(|_| async {
        if true {
            panic!("boom {}", 7)
        }
    });
    assert_eq!(exit_reason(pid).await, ExitReason::Panic("boom 7".into()));

    // A panic with a payload that is not a string still ends the process with Panic.
    let pid = spawn(|_| async {
        if true {
            std::panic::panic_any(42u8)
        }
    });
    assert!(matches!(exit_reason(pid).await, ExitReason::Panic(_)));

    // The runtime still spawns and runs processes.
    let pid = spawn(|_| async { ExitReason::shutdown_with("after") });
    assert_eq!(exit_reason(pid).await, ExitReason::shutdown_with("after"));
}

/// A panic in a process that does not trap exits takes its non-trapping links down with the
/// panic as reason.
#[tokio::test]
async fn panic_propagates_through_links_as_a_reason() {
    quiet_panics();
    let linked = Probe::plain();
    let lp = linked.pid;
    let pid = spawn(move |me| async move {
        me.link(lp).unwrap();
        if true {
            panic!("linked boom")
        }
    });
    let exited = watch_exit(pid);
    let reason = ExitReason::Panic("linked boom".into());
    assert_eq!(exited.await, reason);
    assert_eq!(linked.exit_reason().await, reason);
}

/// Many processes panicking at once on a multi-threaded runtime: each ends with its own panic,
/// and the runtime keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_panics_are_isolated_multi_thread() {
    quiet_panics();
    let bystander = Probe::plain();
    let mut exits = Vec::new();
    // The processes wait for the go signal, so each exit is watched before it can happen.
    let go = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    for i in 0..100 {
        let go = go.clone();
        let pid = spawn(move |_| async move {
            let _permit = go.acquire().await;
            if true {
                panic!("panic {i}")
            }
        });
        exits.push((i, watch_exit(pid)));
    }
    go.add_permits(100);
    for (i, exited) in exits {
        assert_eq!(exited.await, ExitReason::Panic(format!("panic {i}")));
    }
    assert!(bystander.survives().await);
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawn(move |_| async move {
        let _ = tx.send("still spawning and running processes");
    });
    assert_eq!(
        within("a new process to run", rx).await,
        Ok("still spawning and running processes")
    );
}

/// A process body returning `Err(e)` ends with `e` as the reason.
#[tokio::test]
async fn returning_err_ends_with_that_reason() {
    let pid = spawn(|_| async { Err::<(), _>("bad") });
    assert_eq!(exit_reason(pid).await, ExitReason::Error("bad".into()));

    let pid = spawn(|_| async { Err::<(), _>(String::from("worse")) });
    assert_eq!(exit_reason(pid).await, ExitReason::Error("worse".into()));

    let pid = spawn(|_| async { Err::<(), _>(ExitReason::Shutdown) });
    assert_eq!(exit_reason(pid).await, ExitReason::Shutdown);

    struct Custom;
    impl From<Custom> for ExitReason {
        fn from(_: Custom) -> Self {
            ExitReason::shutdown_with("custom")
        }
    }
    let pid = spawn(|_| async { Err::<(), _>(Custom) });
    assert_eq!(exit_reason(pid).await, ExitReason::shutdown_with("custom"));

    // And Ok of a reason is that reason.
    let pid = spawn(|_| async { Ok::<_, ExitReason>(ExitReason::shutdown_with("ok")) });
    assert_eq!(exit_reason(pid).await, ExitReason::shutdown_with("ok"));
}

/// P-02: a process with no more code exits `normal`; returning a reason is `exit(R)` and ends
/// with `R`; a runtime error (panic) ends with a `Panic` reason.
#[tokio::test]
async fn p02_exit_reason_of_a_finished_process() {
    quiet_panics();
    let pid = spawn(|_| async {});
    assert_eq!(exit_reason(pid).await, ExitReason::Normal);

    let pid = spawn(|_| async { ExitReason::error("by exit") });
    assert_eq!(exit_reason(pid).await, ExitReason::error("by exit"));

    let pid = spawn(|_| async {
        let v: Vec<u32> = Vec::new();
        ExitReason::error(v[std::hint::black_box(0)])
    });
    assert!(
        matches!(exit_reason(pid).await, ExitReason::Panic(m) if m.contains("index out of bounds"))
    );

    // A process that has ended is gone from introspection.
    let pid = spawn(|_| async {});
    let exited = watch_exit(pid);
    assert_eq!(exited.await, ExitReason::Normal);
    assert!(process_info(pid).is_none());
}

/// An exit signal to a process that has ended does nothing (and does not fail).
#[tokio::test]
async fn exit_signal_to_dead_process_is_dropped() {
    let dead = dead_pid().await;
    exit(dead, ExitReason::Kill);
    exit(dead, ExitReason::error("late"));
    assert!(!is_alive(dead));
    assert!(process_info(dead).is_none());
}
