//! Stopping children: `brutal_kill` (SUP-14), a timeout (SUP-15), infinity (SUP-16), waiting for
//! the end rather than the link (SUP-17); a supervisor stopped by its parent; with the
//! `sup_stop_*` and `child_unlink` cases of OTP's `supervisor_SUITE`.

mod common;
mod supervision;

use std::time::Duration;

use otp_core::process::spawn_link_opt;
use otp_core::process::{ExitReason, Pid, SpawnOptions, is_alive, spawn};
use otp_core::supervisor::{ChildSpec, ChildType, Shutdown, SupFlags, Supervisor};
use tokio::sync::oneshot;

use common::watch_exit;
use supervision::*;

const HOUR: Duration = Duration::from_secs(3600);

/// SUP-14: `BrutalKill` kills the child at once, even if it traps exits: it ends `killed`.
#[tokio::test(start_paused = true)]
async fn sup14_brutal_kill() {
    let log = Log::new();
    let spec = Worker::trapping("c", &log, HOUR)
        .spec()
        .shutdown(Shutdown::BrutalKill);
    let sup = Supervisor::start_link([spec], SupFlags::default())
        .await
        .unwrap();
    let ended = watch_exit(pid_of(&sup, "c").await);
    sup.terminate_child("c").await.unwrap();
    assert_eq!(ended.await, ExitReason::Killed);
    assert!(log.stopping().is_empty());
}

/// SUP-15: a timeout sends `shutdown`: a child that does not trap exits ends `shutdown`; one
/// that traps exits and ends in time ends `shutdown`; one that does not end in time is killed.
#[tokio::test(start_paused = true)]
async fn sup15_timeout() {
    let log = Log::new();
    let t = Shutdown::Timeout(Duration::from_secs(1));
    let sup = Supervisor::start_link(
        [
            Worker::new("plain", &log).spec().shutdown(t),
            Worker::trapping("quick", &log, Duration::from_millis(500))
                .spec()
                .shutdown(t),
            Worker::trapping("slow", &log, HOUR).spec().shutdown(t),
        ],
        SupFlags::default(),
    )
    .await
    .unwrap();
    for (id, expected) in [
        ("plain", ExitReason::Shutdown),
        ("quick", ExitReason::Shutdown),
        ("slow", ExitReason::Killed),
    ] {
        let ended = watch_exit(pid_of(&sup, id).await);
        sup.terminate_child(id).await.unwrap();
        assert_eq!(ended.await, expected, "{id}");
    }
    assert_eq!(log.stopping(), ["quick", "slow"]);
}

/// SUP-16: `Infinity` waits as long as the child takes; it ends `shutdown`.
#[tokio::test(start_paused = true)]
async fn sup16_infinity() {
    let log = Log::new();
    let spec = Worker::trapping("c", &log, HOUR)
        .spec()
        .shutdown(Shutdown::Infinity);
    let sup = Supervisor::start_link([spec], SupFlags::default())
        .await
        .unwrap();
    let ended = watch_exit(pid_of(&sup, "c").await);
    sup.terminate_child("c").await.unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
}

/// A child that unlinks itself from its supervisor and ignores `shutdown` (OTP's
/// `naughty_child`).
fn naughty_child() -> ChildSpec {
    ChildSpec::new("naughty_child", || async {
        let (ready_tx, ready) = oneshot::channel();
        let pid = spawn_link_opt(SpawnOptions::new().trap_exit(true), move |me| async move {
            if let Some(parent) = otp_core::process::process_info(me.pid()).and_then(|i| i.parent) {
                me.unlink(parent);
            }
            let _ = ready_tx.send(());
            std::future::pending::<()>().await
        });
        let _ = ready.await;
        Ok::<Pid, ExitReason>(pid)
    })
    .shutdown(Shutdown::Timeout(Duration::from_secs(1)))
}

/// SUP-17, supervisor_SUITE: child_unlink — a child that unlinked itself does not hang the
/// supervisor when it is terminated: the supervisor waits for its end (not its link), kills it
/// after the timeout, and goes on serving messages.
#[tokio::test(start_paused = true)]
async fn child_unlink() {
    let sup = Supervisor::start_link([], SupFlags::default().intensity(2))
        .await
        .unwrap();
    let child = sup.start_child(naughty_child()).await.unwrap().unwrap();
    assert!(
        otp_core::process::process_info(child)
            .unwrap()
            .links
            .is_empty()
    );
    let ended = watch_exit(child);
    let terminating = tokio::spawn({
        let sup = sup.clone();
        async move { sup.terminate_child("naughty_child").await }
    });
    otp_core::name::send(sup.pid(), "foo").unwrap();
    terminating.await.unwrap().unwrap();
    assert_eq!(ended.await, ExitReason::Killed);
    // It did not hang: it has served the message sent meanwhile.
    settle(&sup).await;
    assert_eq!(
        otp_core::process::process_info(sup.pid())
            .unwrap()
            .mailbox_len,
        0
    );
}

/// supervisor_SUITE: sup_stop_infinity — shutdown infinity, allowed for supervisors and
/// workers: both end `shutdown` when the supervisor stops.
#[tokio::test(start_paused = true)]
async fn sup_stop_infinity() {
    let log = Log::new();
    let sup = Supervisor::start_link([], SupFlags::default().intensity(2))
        .await
        .unwrap();
    let c1 = Worker::new("child1", &log)
        .spec()
        .shutdown(Shutdown::Infinity)
        .kind(ChildType::Supervisor);
    let c2 = Worker::new("child2", &log)
        .spec()
        .shutdown(Shutdown::Infinity);
    let p1 = sup.start_child(c1).await.unwrap().unwrap();
    let p2 = sup.start_child(c2).await.unwrap().unwrap();
    let (e1, e2) = (watch_exit(p1), watch_exit(p2));
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(e1.await, ExitReason::Shutdown);
    assert_eq!(e2.await, ExitReason::Shutdown);
}

/// supervisor_SUITE: sup_stop_timeout — the child that does not end within its shutdown time is
/// killed; the other ends `shutdown`.
#[tokio::test(start_paused = true)]
async fn sup_stop_timeout() {
    let log = Log::new();
    let sup = Supervisor::start_link([], SupFlags::default().intensity(2))
        .await
        .unwrap();
    let t = Shutdown::Timeout(Duration::from_secs(1));
    let p1 = sup
        .start_child(Worker::new("child1", &log).spec().shutdown(t))
        .await
        .unwrap()
        .unwrap();
    // child2 is busy (it lingers 200 s before acting on the exit signal).
    let p2 = sup
        .start_child(
            Worker::trapping("child2", &log, Duration::from_secs(200))
                .spec()
                .shutdown(t),
        )
        .await
        .unwrap()
        .unwrap();
    let (e1, e2) = (watch_exit(p1), watch_exit(p2));
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(e1.await, ExitReason::Shutdown);
    assert_eq!(e2.await, ExitReason::Killed);
}

/// supervisor_SUITE: sup_stop_brutal_kill — the brutally killed child ends `killed`, the other
/// `shutdown`.
#[tokio::test(start_paused = true)]
async fn sup_stop_brutal_kill() {
    let log = Log::new();
    let sup = Supervisor::start_link([], SupFlags::default().intensity(2))
        .await
        .unwrap();
    let p1 = sup
        .start_child(
            Worker::new("child1", &log)
                .spec()
                .shutdown(Shutdown::Timeout(Duration::from_secs(1))),
        )
        .await
        .unwrap()
        .unwrap();
    let p2 = sup
        .start_child(
            Worker::new("child2", &log)
                .spec()
                .shutdown(Shutdown::BrutalKill),
        )
        .await
        .unwrap()
        .unwrap();
    let (e1, e2) = (watch_exit(p1), watch_exit(p2));
    sup.stop_timeout(ExitReason::Shutdown, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(e1.await, ExitReason::Shutdown);
    assert_eq!(e2.await, ExitReason::Killed);
}

/// A supervisor whose parent exits (it traps exits, the signal comes from its parent) stops its
/// children in reverse order and exits with the parent's reason.
#[tokio::test(start_paused = true)]
async fn parent_exit_stops_the_tree() {
    let log = Log::new();
    let children = [
        Worker::trapping("a", &log, Duration::ZERO).spec(),
        Worker::trapping("b", &log, Duration::ZERO).spec(),
    ];
    let (tx, rx) = oneshot::channel();
    let parent = spawn(move |mut me| async move {
        let sup = Supervisor::start_link(children, SupFlags::default())
            .await
            .unwrap();
        let _ = tx.send(sup);
        // Ends with `shutdown` on any message.
        let _ = me.recv().await;
        ExitReason::Shutdown
    });
    let sup = rx.await.unwrap();
    let a = pid_of(&sup, "a").await;
    let ended = watch_exit(sup.pid());
    otp_core::name::send(parent, ()).unwrap();
    assert_eq!(ended.await, ExitReason::Shutdown);
    assert_eq!(log.stopping(), ["b", "a"]);
    assert!(!is_alive(a));
}

/// Killing a supervisor (untrappable) kills its children that do not trap exits, through their
/// links.
#[tokio::test(start_paused = true)]
async fn killed_supervisor_takes_its_children() {
    let log = Log::new();
    let sup = Supervisor::start(
        [Worker::new("a", &log).spec(), Worker::new("b", &log).spec()],
        SupFlags::default(),
    )
    .await
    .unwrap();
    let a = watch_exit(pid_of(&sup, "a").await);
    let b = watch_exit(pid_of(&sup, "b").await);
    otp_core::process::exit(sup.pid(), ExitReason::Kill);
    assert_eq!(sup.wait_exit().await, ExitReason::Killed);
    assert_eq!(a.await, ExitReason::Killed);
    assert_eq!(b.await, ExitReason::Killed);
}
