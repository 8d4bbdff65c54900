//! Stopping children: `brutal_kill` (SUP-14), a timeout (SUP-15), infinity (SUP-16), by
//! `terminate_child` or with the supervisor, under a static and a dynamic supervisor (DS-07);
//! waiting for the end rather than the link (SUP-17); a supervisor stopped by its parent; with
//! the `sup_stop_*` and `child_unlink` cases of OTP's `supervisor_SUITE`.

mod common;

use std::time::Duration;

use otp_core::process::spawn_link_opt;
use otp_core::process::{ExitReason, Pid, SpawnOptions, is_alive, spawn};
use otp_core::supervisor::{
    ChildSpec, ChildType, DynamicSupervisorRef, Shutdown, SupFlags, Supervisor, SupervisorRef,
};
use tokio::sync::oneshot;

use common::supervision::*;
use common::watch_exit;

const HOUR: Duration = Duration::from_secs(3600);

/// A test child of the shutdown table.
struct Case {
    id: &'static str,
    shutdown: Shutdown,
    /// `None`: it does not trap exits; `Some(linger)`: it traps them and takes `linger` to end.
    linger: Option<Duration>,
    kind: ChildType,
    /// How it ends when it is stopped.
    ends: ExitReason,
}

/// The table: a shutdown time, how long the child takes to end on `shutdown`, how it ends.
fn cases() -> Vec<Case> {
    let case = |id, shutdown, linger, ends| Case {
        id,
        shutdown,
        linger,
        kind: ChildType::Worker,
        ends,
    };
    let (killed, shutdown) = (ExitReason::Killed, ExitReason::Shutdown);
    let (second, t) = (
        Duration::from_secs(1),
        Shutdown::Timeout(Duration::from_secs(1)),
    );
    vec![
        // SUP-14: killed at once, even if it traps exits.
        case("brutal", Shutdown::BrutalKill, None, killed.clone()),
        case(
            "brutal_trapping",
            Shutdown::BrutalKill,
            Some(HOUR),
            killed.clone(),
        ),
        // SUP-15: sent `shutdown`, killed if it has not ended in time.
        case("plain", t, None, shutdown.clone()),
        case("quick", t, Some(second / 2), shutdown.clone()),
        case("slow", t, Some(Duration::from_secs(200)), killed.clone()),
        case(
            "in_time",
            Shutdown::Timeout(5 * second),
            Some(second),
            shutdown.clone(),
        ),
        // SUP-16: waited for as long as it takes, a worker or a supervisor.
        case("infinity", Shutdown::Infinity, Some(HOUR), shutdown.clone()),
        Case {
            kind: ChildType::Supervisor,
            ..case("infinity_sup", Shutdown::Infinity, None, shutdown.clone())
        },
        // The default for a worker: 5 s.
        case("default", Shutdown::Timeout(5 * second), None, shutdown),
    ]
}

/// SUP-14, SUP-15, SUP-16, DS-07, supervisor_SUITE: sup_stop_infinity, sup_stop_timeout,
/// sup_stop_brutal_kill, sup_stop_timeout_dynamic, sup_stop_brutal_kill_dynamic; Elixir:
/// "terminates children with brutal kill / infinity / integer / expired integer shutdown" —
/// each child ends as its shutdown says (the table of [`cases`]), whether it is stopped by
/// `terminate_child` or with its supervisor, static or dynamic; a brutally killed child is not
/// even sent `shutdown`.
#[tokio::test(start_paused = true)]
async fn each_child_is_stopped_as_its_shutdown_says() {
    stops_as_its_shutdown_says::<SupervisorRef>().await;
    stops_as_its_shutdown_says::<DynamicSupervisorRef>().await;
}

async fn stops_as_its_shutdown_says<K: Kind>() {
    for by_terminate_child in [true, false] {
        let way = format!(
            "{}, {}",
            K::NAME,
            if by_terminate_child {
                "terminate_child"
            } else {
                "stop"
            }
        );
        let log = Log::new();
        let specs = cases()
            .iter()
            .map(|c| {
                let w = match c.linger {
                    None => Worker::new(c.id, &log),
                    Some(linger) => Worker::trapping(c.id, &log, linger),
                };
                w.spec().shutdown(c.shutdown).kind(c.kind)
            })
            .collect();
        let sup = K::start_with(SupFlags::default(), specs).await;
        let mut ends = Vec::new();
        for c in cases() {
            let pid = pid_of(&sup, c.id).await;
            ends.push((c, pid, watch_exit(pid)));
        }
        if !by_terminate_child {
            sup.stop().await.unwrap();
        }
        for (c, pid, ended) in ends {
            if by_terminate_child {
                sup.terminate_child(K::child(c.id, pid)).await.unwrap();
            }
            assert_eq!(ended.await, c.ends, "{way}: {}", c.id);
            let trapped = c.linger.is_some() && c.shutdown != Shutdown::BrutalKill;
            assert_eq!(log.stopping().contains(&c.id), trapped, "{way}: {}", c.id);
        }
    }
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
