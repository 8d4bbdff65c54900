//! Conformance tests for introspection: processes() and process_info() show each live process
//! with its name, parent, links, monitors, mailbox, status and trap_exit flag.

mod common;

use common::*;
use otp_core::gen_server::{Action, Context, GenServer, Init};
use otp_core::name::{Name, register, send};
use otp_core::process::{
    ExitReason, ProcessStatus, SpawnOptions, exit, process_info, processes, spawn, spawn_opt,
};
use tokio::sync::{mpsc, oneshot};

/// A process spawned from outside any process: no parent, nothing linked or monitored, not
/// trapping, status Waiting once parked on its empty mailbox.
#[tokio::test]
async fn process_info_of_a_fresh_process() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let pid = spawn(move |me| async move {
        let _ = ready_tx.send(());
        ignore_messages(me).await
    });
    ready_rx.await.unwrap();
    let info = process_info(pid).unwrap();
    assert_eq!(info.pid, pid);
    assert_eq!(info.name, None);
    assert_eq!(info.kind, otp_core::process::ProcessKind::Plain);
    assert_eq!(info.parent, None);
    assert!(info.links.is_empty());
    assert!(info.monitors.is_empty());
    assert!(info.monitored_by.is_empty());
    assert_eq!(info.mailbox_len, 0);
    assert_eq!(info.mailbox_bound, None);
    assert_eq!(info.mailbox_dropped, 0);
    assert_eq!(info.status, ProcessStatus::Waiting);
    assert!(!info.trap_exit);
}

/// Status: Waiting when parked on an empty mailbox, Running when it waits on something else
/// (here a channel) even with messages queued.
#[tokio::test]
async fn status_waiting_and_running() {
    let (parked_tx, parked_rx) = oneshot::channel();
    let (blocked_tx, blocked_rx) = oneshot::channel();
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let pid = spawn(move |mut me| async move {
        let _ = parked_tx.send(());
        let _ = me.recv().await;
        let _ = blocked_tx.send(());
        let _ = release_rx.await;
    });
    parked_rx.await.unwrap();
    assert_eq!(process_info(pid).unwrap().status, ProcessStatus::Waiting);
    send(pid, 1u32).unwrap();
    blocked_rx.await.unwrap();
    send(pid, 2u32).unwrap();
    send(pid, 3u32).unwrap();
    let info = process_info(pid).unwrap();
    assert_eq!(info.status, ProcessStatus::Running);
    assert_eq!(info.mailbox_len, 2);
    drop(release_tx);
    assert_eq!(exit_reason(pid).await, ExitReason::Normal);
}

/// The parent is the process that spawned it: with spawn, spawn_link and spawn_monitor on the
/// process handle, and with the free `spawn` called inside a process.
#[tokio::test]
async fn parent_is_the_spawning_process() {
    let p = Probe::plain();
    let (a, b, (c, _), d) = p
        .with(|me| {
            (
                me.spawn(ignore_messages),
                me.spawn_link(ignore_messages),
                me.spawn_monitor(ignore_messages),
                spawn(ignore_messages),
            )
        })
        .await;
    for child in [a, b, c, d] {
        assert_eq!(process_info(child).unwrap().parent, Some(p.pid), "{child}");
    }
    // Only spawn_link links, only spawn_monitor monitors.
    assert_eq!(process_info(p.pid).unwrap().links, vec![b]);
    assert_eq!(process_info(p.pid).unwrap().monitors, vec![c]);
    assert!(process_info(a).unwrap().links.is_empty());
    assert!(process_info(d).unwrap().monitored_by.is_empty());
    // A child of a child names its own parent.
    let (tx, rx) = oneshot::channel();
    let child = p
        .with(|me| {
            me.spawn(|me| async move {
                let _ = tx.send(me.spawn(ignore_messages));
                ignore_messages(me).await
            })
        })
        .await;
    let grandchild = rx.await.unwrap();
    assert_eq!(process_info(grandchild).unwrap().parent, Some(child));
    assert_eq!(process_info(child).unwrap().parent, Some(p.pid));
}

/// Links, monitors and monitored_by show both sides, and follow link/unlink and
/// monitor/demonitor.
#[tokio::test]
async fn links_and_monitors_are_listed() {
    let a = Probe::plain();
    let b = spawn_idle();
    let c = spawn_idle();
    let r = a
        .with(move |me| {
            me.link(b).unwrap();
            me.monitor(c)
        })
        .await;
    let ai = process_info(a.pid).unwrap();
    assert_eq!(ai.links, vec![b]);
    assert_eq!(ai.monitors, vec![c]);
    assert!(ai.monitored_by.is_empty());
    assert_eq!(process_info(b).unwrap().links, vec![a.pid]);
    assert_eq!(process_info(c).unwrap().monitored_by, vec![a.pid]);
    assert!(process_info(c).unwrap().links.is_empty());

    a.with(move |me| {
        me.unlink(b);
        me.demonitor(r)
    })
    .await;
    let ai = process_info(a.pid).unwrap();
    assert!(ai.links.is_empty());
    assert!(ai.monitors.is_empty());
    assert!(process_info(b).unwrap().links.is_empty());
    assert!(process_info(c).unwrap().monitored_by.is_empty());
}

/// The registered name and the trap_exit flag are shown and follow their changes.
#[tokio::test]
async fn name_and_trap_exit_are_shown() {
    let p = Probe::trapping();
    assert!(process_info(p.pid).unwrap().trap_exit);
    assert!(p.with(|me| me.trap_exit(false)).await, "was trapping");
    assert!(!process_info(p.pid).unwrap().trap_exit);
    assert!(!p.with(|me| me.traps_exits()).await);

    register("introspection-named", p.pid).unwrap();
    assert_eq!(
        process_info(p.pid).unwrap().name,
        Some(Name::from("introspection-named"))
    );
}

/// processes() lists live processes, ordered by pid, with the same details as process_info;
/// a process that has ended is gone from both.
#[tokio::test]
async fn processes_lists_live_processes_only() {
    let a = spawn_idle();
    let b = spawn_idle();
    let dead = dead_pid().await;
    let all = processes();
    assert!(
        all.windows(2).all(|w| w[0].pid < w[1].pid),
        "not ordered by pid"
    );
    let pids: Vec<_> = all.iter().map(|i| i.pid).collect();
    assert!(pids.contains(&a));
    assert!(pids.contains(&b));
    assert!(!pids.contains(&dead));
    assert!(process_info(dead).is_none());

    exit(a, ExitReason::Kill);
    assert_eq!(exit_reason(a).await, ExitReason::Killed);
    assert!(process_info(a).is_none());
    assert!(!processes().iter().any(|i| i.pid == a));
    assert!(process_info(b).is_some());
}

/// A server that reports each cast before returning: to hibernate (`true`) or not.
struct Idle(mpsc::UnboundedSender<bool>);

impl GenServer for Idle {
    type Args = mpsc::UnboundedSender<bool>;
    type Call = ();
    type Reply = ();
    type Cast = bool;
    type Continue = ();

    async fn init(report: Self::Args, _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Idle(report))
    }

    async fn handle_cast(&mut self, hibernate: bool, _ctx: &mut Context<Self>) -> Action<Self> {
        let _ = self.0.send(hibernate);
        if hibernate {
            Action::Hibernate
        } else {
            Action::NoReply
        }
    }
}

/// A GenServer is shown with its type as kind, Waiting when idle and Hibernating after
/// `Action::Hibernate` (on a single-threaded runtime the server parks in the same run that
/// reports the cast, before this test resumes).
#[tokio::test]
async fn gen_server_kind_and_status() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = Idle::start(tx).await.unwrap();
    let pid = server.pid();
    assert_eq!(
        process_info(pid).unwrap().kind,
        otp_core::process::ProcessKind::Server(std::any::type_name::<Idle>())
    );

    server.cast(true).unwrap();
    assert_eq!(within("the cast", rx.recv()).await, Some(true));
    assert_eq!(
        process_info(pid).unwrap().status,
        ProcessStatus::Hibernating
    );

    server.cast(false).unwrap();
    assert_eq!(within("the cast", rx.recv()).await, Some(false));
    assert_eq!(process_info(pid).unwrap().status, ProcessStatus::Waiting);
}

/// Options given to spawn_opt show: the mailbox bound and the trap_exit flag.
#[tokio::test]
async fn spawn_opt_options_are_shown() {
    let bound = otp_core::process::MailboxBound::new(
        std::num::NonZeroUsize::new(4).unwrap(),
        otp_core::process::Overflow::DropNewest,
    );
    let pid = spawn_opt(
        SpawnOptions::new().mailbox(bound).trap_exit(true),
        ignore_messages,
    );
    let info = process_info(pid).unwrap();
    assert_eq!(info.mailbox_bound, Some(bound));
    assert!(info.trap_exit);
}

/// A supervisor is a process of kind `Supervisor` (a GenServer that supervises), which tools
/// that draw the tree ask for children; a server is a `Server`, a plain process `Plain`.
#[tokio::test]
async fn kinds_tell_supervisors_servers_and_plain_processes_apart() {
    let sup = otp_core::supervisor::Supervisor::start(
        Vec::new(),
        otp_core::supervisor::SupFlags::one_for_one(),
    )
    .await
    .unwrap();
    let dynamic =
        otp_core::supervisor::DynamicSupervisor::start(otp_core::supervisor::DynamicOptions::new())
            .await
            .unwrap();
    for pid in [sup.pid(), dynamic.pid()] {
        let kind = process_info(pid).unwrap().kind;
        assert!(
            matches!(kind, otp_core::process::ProcessKind::Supervisor(_)) && kind.is_server(),
            "{kind:?}"
        );
    }
    sup.stop().await.unwrap();
    dynamic.stop().await.unwrap();
}
