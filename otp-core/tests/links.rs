//! Conformance tests for links and the exit signals they carry: P-03 to P-14 and the exit-reason
//! matrix of CONFORMANCE.md.

mod common;

use common::*;
use otp_core::name::{register, send, whereis};
use otp_core::process::{
    ExitReason, LinkError, Pid, SpawnOptions, exit, process_info, spawn, spawn_opt,
};
use tokio::sync::oneshot;

fn error(s: &str) -> ExitReason {
    ExitReason::error(s)
}

/// P-03: a link set by one side shows on both, and carries exit signals both ways.
#[tokio::test]
async fn p03_link_is_bidirectional() {
    let mut a = Probe::trapping();
    let mut b = Probe::trapping();
    let bp = b.pid;
    a.with(move |me| me.link(bp)).await.unwrap();
    assert_eq!(links_of(a.pid), vec![b.pid]);
    assert_eq!(links_of(b.pid), vec![a.pid]);

    // a set the link; b ending reaches a.
    let c = spawn_exit_on_message(error("c"));
    a.with(move |me| me.link(c)).await.unwrap();
    send(c, Go).unwrap();
    assert_eq!(exit_reason(c).await, error("c"));
    assert_eq!(expect_exit(a.next().await), (Some(c), error("c")));

    // a set the link to b; a ending reaches b.
    exit(a.pid, ExitReason::Kill);
    assert_eq!(a.exit_reason().await, ExitReason::Killed);
    assert_eq!(
        expect_exit(b.next().await),
        (Some(a.pid), ExitReason::Killed)
    );
    assert!(b.flush().await.is_empty());
}

/// P-03: at most one link per pair: linking twice makes one link, one exit signal, and one
/// unlink removes it.
#[tokio::test]
async fn p03_links_are_unique_per_pair() {
    let mut a = Probe::trapping();
    let x = spawn_exit_on_message(error("x"));
    a.with(move |me| {
        me.link(x).unwrap();
        me.link(x).unwrap();
    })
    .await;
    assert_eq!(links_of(a.pid), vec![x]);
    assert_eq!(links_of(x), vec![a.pid]);
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    assert_eq!(expect_exit(a.next().await), (Some(x), error("x")));
    assert!(a.flush().await.is_empty(), "a second exit message arrived");

    // Linked twice, unlinked once: no link is left.
    let p = Probe::plain();
    let y = spawn_exit_on_message(error("y"));
    p.with(move |me| {
        me.link(y).unwrap();
        me.link(y).unwrap();
        me.unlink(y);
    })
    .await;
    assert!(links_of(p.pid).is_empty());
    assert!(links_of(y).is_empty());
    send(y, Go).unwrap();
    assert_eq!(exit_reason(y).await, error("y"));
    assert!(p.survives().await);
}

/// P-03: linking to itself does nothing.
#[tokio::test]
async fn p03_link_to_self_is_a_no_op() {
    let mut p = Probe::plain();
    let result = p.with(|me| me.link(me.pid())).await;
    assert_eq!(result, Ok(()));
    assert!(links_of(p.pid).is_empty());
    // Nothing was sent either.
    assert!(p.flush().await.is_empty());
}

/// P-03: spawn_link links before the child runs: the child sees the link at its first
/// instruction, and a child that fails at once still reaches its parent.
#[tokio::test]
async fn p03_spawn_link_is_atomic() {
    quiet_panics();
    let mut parent = Probe::trapping();
    let (tx, rx) = oneshot::channel();
    let parent_pid = parent.pid;
    let child = parent
        .with(move |me| {
            me.spawn_link(move |me| async move {
                let _ = tx.send(process_info(me.pid()).map(|i| i.links));
            })
        })
        .await;
    assert_eq!(rx.await.unwrap(), Some(vec![parent_pid]));
    assert_eq!(
        expect_exit(parent.next().await),
        (Some(child), ExitReason::Normal)
    );

    // A child failing at once reaches a trapping parent as a message...
    let child = parent
        .with(|me| me.spawn_link(|_| async { Err::<(), _>("early") }))
        .await;
    assert_eq!(
        expect_exit(parent.next().await),
        (Some(child), error("early"))
    );

    // ...and takes a parent that does not trap down with it.
    let plain = Probe::plain();
    plain
        .with(|me| {
            me.spawn_link(|_| async {
                if true {
                    panic!("early panic")
                }
            })
        })
        .await;
    assert_eq!(
        plain.exit_reason().await,
        ExitReason::Panic("early panic".into())
    );
}

/// P-04: the exit signal reaches linked processes after the name is released: the receiver of
/// the EXIT finds the name free and can take it.
#[tokio::test]
async fn p04_exit_signal_comes_after_the_name_is_released() {
    const NAME: &str = "links-p04-named";
    let named = spawn_exit_on_message(error("p04"));
    register(NAME, named).unwrap();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (seen_tx, seen_rx) = oneshot::channel();
    let watcher = spawn_opt(
        SpawnOptions::new().trap_exit(true),
        move |mut me| async move {
            me.link(named).unwrap();
            let _ = ready_tx.send(());
            let (from, reason) = expect_exit(me.recv().await);
            let holder = whereis(NAME);
            let retaken = me.register(NAME);
            let _ = seen_tx.send((from, reason, holder, retaken));
            let _ = me.recv().await;
        },
    );
    ready_rx.await.unwrap();
    send(named, Go).unwrap();
    let (from, reason, holder, retaken) = within("the watcher", seen_rx).await.unwrap();
    assert_eq!(from, Some(named));
    assert_eq!(reason, error("p04"));
    assert_eq!(
        holder, None,
        "the name was still held when the EXIT arrived"
    );
    assert_eq!(retaken, Ok(()));
    assert_eq!(whereis(NAME), Some(watcher));
    exit(watcher, ExitReason::Kill);
    assert_eq!(exit_reason(watcher).await, ExitReason::Killed);
}

/// P-05: a `normal` exit signal from a linked process is dropped by a process that does not
/// trap exits.
#[tokio::test]
async fn p05_normal_exit_signal_is_ignored_by_non_trapping() {
    let mut p = Probe::plain();
    let x = spawn_exit_on_message(ExitReason::Normal);
    p.with(move |me| me.link(x)).await.unwrap();
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, ExitReason::Normal);
    assert!(p.survives().await);
    assert!(p.flush().await.is_empty());
    assert!(links_of(p.pid).is_empty(), "the link outlived the process");
}

/// P-05: any other reason ends a non-trapping linked process with the same reason, which then
/// travels on to its own links.
#[tokio::test]
async fn p05_abnormal_exit_signal_propagates_along_links() {
    let mut top = Probe::trapping();
    let middle = Probe::plain();
    let leaf = spawn_exit_on_message(error("leaf"));
    let mp = middle.pid;
    top.with(move |me| me.link(mp)).await.unwrap();
    middle.with(move |me| me.link(leaf)).await.unwrap();
    send(leaf, Go).unwrap();
    assert_eq!(exit_reason(leaf).await, error("leaf"));
    assert_eq!(middle.exit_reason().await, error("leaf"));
    assert_eq!(
        expect_exit(top.next().await),
        (Some(middle.pid), error("leaf"))
    );
    assert!(top.survives().await);
}

/// P-06: a trapping process receives every exit signal, `normal` included, as a message with
/// the sender and the reason, and keeps running.
#[tokio::test]
async fn p06_trapping_process_receives_exit_messages() {
    let mut t = Probe::trapping();
    for reason in [ExitReason::Normal, ExitReason::Shutdown, error("other")] {
        let x = spawn_exit_on_message(reason.clone());
        t.with(move |me| me.link(x)).await.unwrap();
        send(x, Go).unwrap();
        assert_eq!(exit_reason(x).await, reason);
        assert_eq!(expect_exit(t.next().await), (Some(x), reason));
    }
    // exit/2 from another process to a trapping one (t_exit_2_other).
    let tp = t.pid;
    let sender = spawn(move |me| async move { me.exit(tp, error("sent")) });
    assert_eq!(exit_reason(sender).await, ExitReason::Normal);
    assert_eq!(expect_exit(t.next().await), (Some(sender), error("sent")));
    assert!(t.survives().await);
}

/// P-06: trap_exit can be turned off: signals that already became messages stay, later ones
/// end the process.
#[tokio::test]
async fn p06_trap_exit_can_be_turned_off() {
    let mut t = Probe::trapping();
    exit(t.pid, error("trapped"));
    assert_eq!(expect_exit(t.next().await).1, error("trapped"));
    assert!(t.with(|me| me.trap_exit(false)).await, "was trapping");
    exit(t.pid, error("not trapped"));
    assert_eq!(t.exit_reason().await, error("not trapped"));
}

/// P-07: `exit(pid, Kill)` cannot be trapped and ends the target with `killed`; its links then
/// receive `killed`, an ordinary reason that can be trapped.
#[tokio::test]
async fn p07_exit_kill_is_untrappable_and_links_get_killed() {
    let target = Probe::trapping();
    let mut trapping = Probe::trapping();
    let plain = Probe::plain();
    let tp = target.pid;
    trapping.with(move |me| me.link(tp)).await.unwrap();
    plain.with(move |me| me.link(tp)).await.unwrap();
    exit(target.pid, ExitReason::Kill);
    assert_eq!(target.exit_reason().await, ExitReason::Killed);
    assert_eq!(
        expect_exit(trapping.next().await),
        (Some(target.pid), ExitReason::Killed)
    );
    assert!(trapping.survives().await);
    assert_eq!(plain.exit_reason().await, ExitReason::Killed);

    // The same from a process rather than from outside.
    let victim = Probe::trapping();
    let vp = victim.pid;
    trapping.with(move |me| me.exit(vp, ExitReason::Kill)).await;
    assert_eq!(victim.exit_reason().await, ExitReason::Killed);

    // And a trapping process killing itself.
    let suicide = Probe::trapping();
    suicide.with(|me| me.exit(me.pid(), ExitReason::Kill)).await;
    assert_eq!(suicide.exit_reason().await, ExitReason::Killed);
}

/// P-08: a process that itself ends with reason `Kill` passes `Kill` to its links, where it is
/// trappable: a trapping process gets it as a message, a non-trapping one dies with `Kill`
/// (not `Killed`).
#[tokio::test]
async fn p08_kill_through_a_link_is_trappable() {
    let mut trapping = Probe::trapping();
    let plain = Probe::plain();
    let x = spawn_exit_on_message(ExitReason::Kill);
    trapping.with(move |me| me.link(x)).await.unwrap();
    plain.with(move |me| me.link(x)).await.unwrap();
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, ExitReason::Kill);
    assert_eq!(
        expect_exit(trapping.next().await),
        (Some(x), ExitReason::Kill)
    );
    assert!(trapping.survives().await);
    assert_eq!(plain.exit_reason().await, ExitReason::Kill);
}

/// P-09: `exit(self, normal)` ends a non-trapping caller with `normal` (normal_suicide_exit).
#[tokio::test]
async fn p09_exit_self_normal_ends_the_caller() {
    let (tx, rx) = oneshot::channel::<()>();
    let pid = spawn(move |me| async move {
        me.exit(me.pid(), ExitReason::Normal);
        tokio::task::yield_now().await;
        let _ = tx.send(());
        std::future::pending::<()>().await;
    });
    assert_eq!(exit_reason(pid).await, ExitReason::Normal);
    assert!(
        rx.await.is_err(),
        "the process ran on after exit(self, normal)"
    );

    // The free function, from inside the process, does the same.
    let pid = spawn(|_| async {
        exit(
            otp_core::process::current_pid().unwrap(),
            ExitReason::Normal,
        );
        std::future::pending::<()>().await;
    });
    assert_eq!(exit_reason(pid).await, ExitReason::Normal);
}

/// P-09: `exit(other, normal)` has no effect on another process that does not trap exits
/// (t_exit_2_other_normal), whether sent from a process or from outside.
#[tokio::test]
async fn p09_exit_other_normal_has_no_effect() {
    let mut p = Probe::plain();
    let pp = p.pid;
    let sender = spawn(move |me| async move { me.exit(pp, ExitReason::Normal) });
    assert_eq!(exit_reason(sender).await, ExitReason::Normal);
    assert!(p.survives().await);
    exit(p.pid, ExitReason::Normal);
    assert!(p.survives().await);
    assert!(p.flush().await.is_empty());
}

/// P-10: a trapping process that sends `exit(self, R)` receives an EXIT from itself (self_exit);
/// a non-trapping one ends with `R` (abnormal_suicide_exit).
#[tokio::test]
async fn p10_exit_self_with_reason() {
    let mut t = Probe::trapping();
    t.with(|me| me.exit(me.pid(), error("die"))).await;
    assert_eq!(expect_exit(t.next().await), (Some(t.pid), error("die")));
    assert!(t.survives().await);

    let p = Probe::plain();
    p.with(|me| me.exit(me.pid(), error("die"))).await;
    assert_eq!(p.exit_reason().await, error("die"));
}

/// P-11: of two exit signals sent to a non-trapping process, the first wins (exit_twice).
#[tokio::test]
async fn p11_first_exit_signal_wins() {
    let p = Probe::plain();
    exit(p.pid, error("first"));
    exit(p.pid, error("second"));
    assert_eq!(p.exit_reason().await, error("first"));

    // Even when the second is an untrappable kill.
    let p = Probe::plain();
    exit(p.pid, ExitReason::Shutdown);
    exit(p.pid, ExitReason::Kill);
    assert_eq!(p.exit_reason().await, ExitReason::Shutdown);

    // A trapping process gets both, in order.
    let mut t = Probe::trapping();
    exit(t.pid, error("first"));
    exit(t.pid, error("second"));
    assert_eq!(expect_exit(t.next().await).1, error("first"));
    assert_eq!(expect_exit(t.next().await).1, error("second"));
}

/// P-12: linking to a process that has ended fails with `NoProc` when not trapping; when
/// trapping, it succeeds and an EXIT with reason `NoProc` arrives.
#[tokio::test]
async fn p12_link_to_dead_process() {
    let dead = dead_pid().await;
    let mut p = Probe::plain();
    assert_eq!(
        p.with(move |me| me.link(dead)).await,
        Err(LinkError::NoProc(dead))
    );
    assert!(p.survives().await);
    assert!(links_of(p.pid).is_empty());
    assert!(p.flush().await.is_empty());

    let mut t = Probe::trapping();
    assert_eq!(t.with(move |me| me.link(dead)).await, Ok(()));
    assert_eq!(
        expect_exit(t.next().await),
        (Some(dead), ExitReason::NoProc)
    );
    assert!(links_of(t.pid).is_empty());

    // A local pid that never existed is the same.
    let never = Pid::from_parts(0, u64::MAX - 1, 0);
    assert_eq!(
        p.with(move |me| me.link(never)).await,
        Err(LinkError::NoProc(never))
    );
}

/// P-13 (without distribution): linking to a pid of a node that cannot be reached fails with
/// `NoConnection` when not trapping, and gives an EXIT with `NoConnection` when trapping.
#[tokio::test]
async fn p13_link_to_unreachable_node() {
    let remote = remote_pid();
    let p = Probe::plain();
    assert_eq!(
        p.with(move |me| me.link(remote)).await,
        Err(LinkError::NoConnection(remote))
    );
    assert!(p.survives().await);

    let mut t = Probe::trapping();
    assert_eq!(t.with(move |me| me.link(remote)).await, Ok(()));
    assert_eq!(
        expect_exit(t.next().await),
        (Some(remote), ExitReason::NoConnection)
    );
}

/// P-14: after unlink (by either side) the other's death no longer affects the caller.
#[tokio::test]
async fn p14_unlinked_process_is_not_affected() {
    let p = Probe::plain();
    let x = spawn_exit_on_message(error("x"));
    p.with(move |me| {
        me.link(x).unwrap();
        me.unlink(x);
    })
    .await;
    assert!(links_of(p.pid).is_empty());
    assert!(links_of(x).is_empty());
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    assert!(p.survives().await);

    // The other side unlinks.
    let a = Probe::plain();
    let b = Probe::plain();
    let bp = b.pid;
    let ap = a.pid;
    a.with(move |me| me.link(bp)).await.unwrap();
    b.with(move |me| me.unlink(ap)).await;
    assert!(links_of(a.pid).is_empty());
    exit(b.pid, error("b"));
    assert_eq!(b.exit_reason().await, error("b"));
    assert!(a.survives().await);
}

/// Links a trapping process to a process that then dies with `x`, and once the EXIT is queued
/// (not yet received), unlinks (with or without flush). Returns how many messages the flush
/// removed and the next queued message.
async fn unlink_after_queued_exit(flush: bool) -> (Pid, usize, Option<otp_core::process::Info>) {
    let x = spawn_exit_on_message(error("x"));
    let (linked_tx, linked_rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (out_tx, out_rx) = oneshot::channel();
    spawn_opt(
        SpawnOptions::new().trap_exit(true),
        move |mut me| async move {
            me.link(x).unwrap();
            let _ = linked_tx.send(());
            let _ = go_rx.await;
            let removed = if flush {
                me.unlink_flush(x)
            } else {
                me.unlink(x);
                0
            };
            let _ = out_tx.send((removed, me.try_recv()));
        },
    );
    linked_rx.await.unwrap();
    send(x, Go).unwrap();
    assert_eq!(exit_reason(x).await, error("x"));
    go_tx.send(()).unwrap();
    let (removed, next) = within("the unlinking process", out_rx).await.unwrap();
    (x, removed, next)
}

/// P-14: an EXIT queued before `unlink` stays in the mailbox; `unlink_flush` removes it.
#[tokio::test]
async fn p14_unlink_flush_removes_a_queued_exit() {
    let (x, removed, next) = unlink_after_queued_exit(false).await;
    assert_eq!(removed, 0);
    assert_eq!(
        expect_exit(next.expect("the EXIT stays queued")),
        (Some(x), error("x"))
    );

    let (_, removed, next) = unlink_after_queued_exit(true).await;
    assert_eq!(removed, 1);
    assert!(next.is_none(), "unlink_flush left {next:?}");
}

/// How the linked process ends in a row of the exit-reason matrix.
#[derive(Clone, Copy)]
enum Ending {
    /// Its body returns this reason.
    Returns(fn() -> ExitReason),
    /// Its body panics.
    Panics,
    /// It is killed with `exit(pid, Kill)`.
    IsKilled,
}

/// The exit-reason matrix (the docs of `ExitReason`), rows normal / shutdown / {shutdown,T} / killed /
/// kill via link / noproc / noconnection / other, for a linked process that does not trap
/// exits (P-05) and one that does (P-06).
#[tokio::test]
async fn exit_reason_matrix_linked_processes() {
    quiet_panics();
    let rows: [(Ending, ExitReason, Option<ExitReason>); 9] = [
        // (how the linked process ends, its reason, what a non-trapping link dies with)
        (
            Ending::Returns(|| ExitReason::Normal),
            ExitReason::Normal,
            None,
        ),
        (
            Ending::Returns(|| ExitReason::Shutdown),
            ExitReason::Shutdown,
            Some(ExitReason::Shutdown),
        ),
        (
            Ending::Returns(|| ExitReason::shutdown_with("t")),
            ExitReason::shutdown_with("t"),
            Some(ExitReason::shutdown_with("t")),
        ),
        (
            Ending::IsKilled,
            ExitReason::Killed,
            Some(ExitReason::Killed),
        ),
        (
            Ending::Returns(|| ExitReason::Kill),
            ExitReason::Kill,
            Some(ExitReason::Kill),
        ),
        (
            Ending::Returns(|| ExitReason::NoProc),
            ExitReason::NoProc,
            Some(ExitReason::NoProc),
        ),
        (
            Ending::Returns(|| ExitReason::NoConnection),
            ExitReason::NoConnection,
            Some(ExitReason::NoConnection),
        ),
        (
            Ending::Returns(|| error("other")),
            error("other"),
            Some(error("other")),
        ),
        (
            Ending::Panics,
            ExitReason::Panic("matrix".into()),
            Some(ExitReason::Panic("matrix".into())),
        ),
    ];
    for (ending, reason, plain_dies_with) in rows {
        let mut plain = Probe::plain();
        let mut trapping = Probe::trapping();
        let x = spawn(move |mut me| async move {
            let _ = me.recv().await;
            match ending {
                Ending::Returns(r) => r(),
                Ending::Panics => panic!("matrix"),
                Ending::IsKilled => std::future::pending().await,
            }
        });
        plain.with(move |me| me.link(x)).await.unwrap();
        trapping.with(move |me| me.link(x)).await.unwrap();
        send(x, Go).unwrap();
        if let Ending::IsKilled = ending {
            exit(x, ExitReason::Kill);
        }
        assert_eq!(exit_reason(x).await, reason, "row {reason}");

        // Linked, trapping: a message, and it goes on.
        assert_eq!(
            expect_exit(trapping.next().await),
            (Some(x), reason.clone()),
            "row {reason}"
        );
        assert!(trapping.survives().await, "row {reason}");

        // Linked, not trapping: ignored for normal, else dies with the reason.
        match plain_dies_with {
            None => {
                assert!(plain.survives().await, "row {reason}");
                assert!(plain.flush().await.is_empty(), "row {reason}");
            }
            Some(r) => assert_eq!(plain.exit_reason().await, r, "row {reason}"),
        }
        exit(plain.pid, ExitReason::Kill);
        exit(trapping.pid, ExitReason::Kill);
    }
}

/// The exit-reason matrix, row "kill sent with exit/2": untrappable, the target dies `killed`
/// whether it traps exits or not (P-07).
#[tokio::test]
async fn exit_reason_matrix_kill_sent_with_exit() {
    for trap in [false, true] {
        let p = Probe::spawn(trap);
        exit(p.pid, ExitReason::Kill);
        assert_eq!(
            p.exit_reason().await,
            ExitReason::Killed,
            "trap_exit {trap}"
        );
    }
}
