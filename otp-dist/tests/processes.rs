//! The process behaviours of otp-core, with the peer on this node and on another: one table of
//! cases, two placements (DIST.md: "everything that works on a local pid works on a remote
//! one"). The other node is reached through otp-dist over an in-memory network.

mod common;

use common::{Note, exit_of, on, pair, spawn_on, within};
use otp_core::name::{SendError, send};
use otp_core::node::Node;
use otp_core::process::{ExitReason, Info, Pid, exit, process_info};
use otp_dist::DistNode;
use tokio::sync::mpsc;

/// Where the peer of the process under test runs.
#[derive(Clone, Copy, Debug)]
enum Placement {
    SameNode,
    OtherNode,
}

/// Two connected nodes; the process under test runs on `here`, its peer on `there`.
struct Setup {
    _nodes: (DistNode, DistNode),
    here: Node,
    there: Node,
}

async fn setup(placement: Placement) -> Setup {
    let (a, b) = pair().await;
    let (here, there) = match placement {
        Placement::SameNode => (a.node(), a.node()),
        Placement::OtherNode => (a.node(), b.node()),
    };
    Setup {
        _nodes: (a, b),
        here,
        there,
    }
}

const PLACEMENTS: [Placement; 2] = [Placement::SameNode, Placement::OtherNode];

/// A peer that waits for a `Note` and ends with the reason it names.
fn peer(node: Node) -> Pid {
    spawn_on(node, |mut me| async move {
        loop {
            if let Info::Message(m) = me.recv().await
                && let Ok(note) = m.downcast::<Note>()
            {
                return match note.from.as_str() {
                    "normal" => ExitReason::Normal,
                    "kill" => ExitReason::Kill,
                    other => ExitReason::Error(other.to_owned()),
                };
            }
        }
    })
}

fn end_with(node: Node, pid: Pid, reason: &str) {
    on(node, || {
        send(
            pid,
            Note {
                from: reason.into(),
                n: 0,
            },
        )
    })
    .unwrap();
}

/// A process linked to `target` that reports the exit signals it traps (if `trap`).
fn linked(
    node: Node,
    target: Pid,
    trap: bool,
) -> (Pid, mpsc::UnboundedReceiver<(Option<Pid>, ExitReason)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let pid = spawn_on(node, async move |mut me| -> () {
        me.trap_exit(trap);
        let _ = me.link(target);
        loop {
            if let Info::Exit(e) = me.recv().await {
                let _ = tx.send((e.from(), e.reason().clone()));
            }
        }
    });
    (pid, rx)
}

#[tokio::test(start_paused = true)]
async fn p05_an_abnormal_exit_travels_the_link_and_kills_with_the_same_reason() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let target = peer(s.there);
        let (watcher, _) = linked(s.here, target, false);
        tokio::task::yield_now().await;
        let watcher_exit = on(s.here, || otp_core::process::wait_exit(watcher));
        end_with(s.there, target, "boom");
        assert_eq!(
            within(watcher_exit).await,
            ExitReason::Error("boom".into()),
            "{placement:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p05_a_normal_exit_is_ignored_by_a_process_that_does_not_trap() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let target = peer(s.there);
        let (watcher, _) = linked(s.here, target, false);
        tokio::task::yield_now().await;
        end_with(s.there, target, "normal");
        assert_eq!(exit_of(s.there, target).await, ExitReason::Normal);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(
            on(s.here, || otp_core::process::is_alive(watcher)),
            "{placement:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p06_a_trapping_process_gets_every_exit_signal_as_a_message() {
    for placement in PLACEMENTS {
        for reason in ["normal", "boom"] {
            let s = setup(placement).await;
            let target = peer(s.there);
            let (_, mut exits) = linked(s.here, target, true);
            tokio::task::yield_now().await;
            end_with(s.there, target, reason);
            let expected = if reason == "normal" {
                ExitReason::Normal
            } else {
                ExitReason::Error("boom".into())
            };
            assert_eq!(
                within(exits.recv()).await,
                Some((Some(target), expected)),
                "{placement:?}"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn p07_exit_kill_cannot_be_trapped_and_links_get_killed() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        // The target traps exits; it is killed all the same.
        let (target, _) = linked(
            s.there,
            spawn_on(s.there, |mut me| async move {
                me.recv().await;
            }),
            true,
        );
        let (_, mut exits) = linked(s.here, target, true);
        tokio::task::yield_now().await;
        let target_exit = on(s.there, || otp_core::process::wait_exit(target));
        on(s.here, || exit(target, ExitReason::Kill));
        assert_eq!(
            within(target_exit).await,
            ExitReason::Killed,
            "{placement:?}"
        );
        assert_eq!(
            within(exits.recv()).await,
            Some((Some(target), ExitReason::Killed)),
            "{placement:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p12_linking_to_a_process_that_is_gone_gives_noproc() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let gone = spawn_on(s.there, |_| async {});
        exit_of(s.there, gone).await;
        let (_, mut exits) = linked(s.here, gone, true);
        assert_eq!(
            within(exits.recv()).await,
            Some((Some(gone), ExitReason::NoProc)),
            "{placement:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p14_after_unlink_the_end_of_the_other_does_not_reach_the_caller() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let target = peer(s.there);
        let (ready, mut ready_rx) = mpsc::unbounded_channel();
        let watcher = spawn_on(s.here, async move |mut me| -> () {
            me.link(target).unwrap();
            me.unlink(target);
            let _ = ready.send(());
            loop {
                me.recv().await;
            }
        });
        within(ready_rx.recv()).await;
        end_with(s.there, target, "boom");
        exit_of(s.there, target).await;
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(
            on(s.here, || otp_core::process::is_alive(watcher)),
            "{placement:?}"
        );
    }
}

/// A process that monitors `target` `count` times and reports each `Down`.
fn watcher(
    node: Node,
    target: Pid,
    count: usize,
    demonitor_first: bool,
) -> mpsc::UnboundedReceiver<(bool, ExitReason)> {
    let (tx, rx) = mpsc::unbounded_channel();
    spawn_on(node, async move |mut me| -> () {
        let mut references: Vec<_> = (0..count).map(|_| me.monitor(target)).collect();
        if demonitor_first {
            let first = references.remove(0);
            me.demonitor(first);
        }
        loop {
            if let Info::Down(d) = me.recv().await {
                let ours = references.contains(&d.reference()) && d.pid() == Some(target);
                let _ = tx.send((ours, d.reason().clone()));
            }
        }
    });
    rx
}

#[tokio::test(start_paused = true)]
async fn p15_p17_each_monitor_fires_its_own_down_with_the_reason() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let target = peer(s.there);
        let mut downs = watcher(s.here, target, 2, false);
        tokio::task::yield_now().await;
        end_with(s.there, target, "boom");
        for _ in 0..2 {
            assert_eq!(
                within(downs.recv()).await,
                Some((true, ExitReason::Error("boom".into()))),
                "{placement:?}"
            );
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(
            downs.try_recv().is_err(),
            "{placement:?}: one Down per monitor"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p16_monitoring_a_process_that_is_gone_is_down_noproc() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let gone = spawn_on(s.there, |_| async {});
        exit_of(s.there, gone).await;
        let mut downs = watcher(s.here, gone, 1, false);
        assert_eq!(
            within(downs.recv()).await,
            Some((true, ExitReason::NoProc)),
            "{placement:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p20_a_removed_monitor_fires_nothing() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let target = peer(s.there);
        let mut downs = watcher(s.here, target, 2, true);
        tokio::task::yield_now().await;
        end_with(s.there, target, "boom");
        assert_eq!(
            within(downs.recv()).await,
            Some((true, ExitReason::Error("boom".into())))
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        assert!(
            downs.try_recv().is_err(),
            "{placement:?}: the removed monitor fired"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p01_messages_from_one_sender_arrive_in_order() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let receiver = spawn_on(s.there, async move |mut me| -> () {
            loop {
                if let Info::Message(m) = me.recv().await
                    && let Ok(note) = m.downcast::<Note>()
                {
                    let _ = tx.send(note.n);
                }
            }
        });
        spawn_on(s.here, async move |_me| {
            for n in 0..2_000u64 {
                send(
                    receiver,
                    Note {
                        from: "sender".into(),
                        n,
                    },
                )
                .unwrap();
            }
        });
        for n in 0..2_000u64 {
            assert_eq!(within(rx.recv()).await, Some(n), "{placement:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn p22_a_send_to_a_pid_that_is_gone_succeeds_and_is_dropped() {
    for placement in PLACEMENTS {
        let s = setup(placement).await;
        let gone = spawn_on(s.there, |_| async {});
        exit_of(s.there, gone).await;
        assert!(
            on(s.here, || send(
                gone,
                Note {
                    from: "x".into(),
                    n: 1
                }
            ))
            .is_ok(),
            "{placement:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn p13_p19_a_lost_connection_fires_each_link_and_monitor_once_on_both_sides() {
    let (a, b) = pair().await;
    // On each side: a trapping process linked to, and monitoring, a process of the other.
    let (tx, mut rx) = mpsc::unbounded_channel::<(&'static str, &'static str, ExitReason)>();
    let sleeper = |node: Node| {
        spawn_on(node, |mut me| async move {
            me.recv().await;
        })
    };
    let (on_a, on_b) = (sleeper(a.node()), sleeper(b.node()));
    for (side, node, other) in [("a", a.node(), on_b), ("b", b.node(), on_a)] {
        let tx = tx.clone();
        spawn_on(node, async move |mut me| -> () {
            me.trap_exit(true);
            me.link(other).unwrap();
            let reference = me.monitor(other);
            let _ = tx.send((side, "ready", ExitReason::Normal));
            loop {
                match me.recv().await {
                    Info::Exit(e) if e.from() == Some(other) => {
                        let _ = tx.send((side, "exit", e.reason().clone()));
                    }
                    Info::Down(d) if d.reference() == reference => {
                        let _ = tx.send((side, "down", d.reason().clone()));
                    }
                    _ => {}
                }
            }
        });
    }
    for _ in 0..2 {
        assert_eq!(within(rx.recv()).await.map(|r| r.1), Some("ready"));
    }
    // The introspection of a local process lists its remote links and monitors: on_a is linked
    // to and monitored by b's watcher.
    let info = on(a.node(), || process_info(on_a)).expect("alive");
    assert!(info.links.iter().any(|p| !a.node().owns(*p)), "{info:?}");
    assert!(
        info.monitored_by.iter().any(|p| !a.node().owns(*p)),
        "{info:?}"
    );
    let on_a_exited = on(a.node(), || otp_core::process::wait_exit(on_a));
    let on_b_exited = on(b.node(), || otp_core::process::wait_exit(on_b));
    a.disconnect(b.name());
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(within(rx.recv()).await.unwrap());
    }
    seen.sort_by_key(|(side, kind, _)| (*side, *kind));
    assert_eq!(
        seen,
        vec![
            ("a", "down", ExitReason::NoConnection),
            ("a", "exit", ExitReason::NoConnection),
            ("b", "down", ExitReason::NoConnection),
            ("b", "exit", ExitReason::NoConnection),
        ]
    );
    tokio::time::sleep(common::TICK * 2).await;
    assert!(rx.try_recv().is_err(), "each fired once");
    // The sleepers, linked to the trapping processes of the other side, died of noconnection.
    assert_eq!(within(on_a_exited).await, ExitReason::NoConnection);
    assert_eq!(within(on_b_exited).await, ExitReason::NoConnection);
}

#[tokio::test(start_paused = true)]
async fn a_message_of_a_type_without_a_wire_form_is_handed_back() {
    let (a, b) = pair().await;
    let target = spawn_on(b.node(), |mut me| async move {
        me.recv().await;
    });
    struct Local(#[allow(dead_code)] u8);
    match on(a.node(), || send(target, Local(1))) {
        Err(SendError::NotSendable { type_name, message }) => {
            assert!(type_name.ends_with("Local"));
            assert!(message.is::<Local>());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_message_whose_tag_the_receiver_does_not_know_is_dropped_and_the_connection_stays() {
    let net = otp_dist::transport::Memory::new();
    #[derive(serde::Serialize, serde::Deserialize)]
    struct OnlyOnA(u8);
    let a = common::builder("a@mem:0", net.clone())
        .message::<OnlyOnA>()
        .message::<Note>()
        .start()
        .await
        .unwrap();
    let b = common::node(&net, "b").await;
    a.connect(b.name()).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let target = spawn_on(b.node(), async move |mut me| -> () {
        loop {
            if let Info::Message(m) = me.recv().await {
                let _ = tx.send(m.type_name());
            }
        }
    });
    on(a.node(), || send(target, OnlyOnA(1))).unwrap();
    on(a.node(), || {
        send(
            target,
            Note {
                from: "after".into(),
                n: 2,
            },
        )
    })
    .unwrap();
    assert!(within(rx.recv()).await.unwrap().ends_with("Note"));
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
}

#[tokio::test(start_paused = true)]
async fn a_serialize_that_sends_to_another_node_is_an_error_not_a_hang() {
    /// A value whose `Serialize` sends a message to the node it is being sent to.
    #[derive(serde::Deserialize)]
    struct Meddler(u8);
    static TARGET: std::sync::OnceLock<otp_core::process::Pid> = std::sync::OnceLock::new();
    impl serde::Serialize for Meddler {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let inner = send(
                *TARGET.get().unwrap(),
                Note {
                    from: "inner".into(),
                    n: 0,
                },
            );
            if let Err(e) = inner {
                return Err(serde::ser::Error::custom(e));
            }
            s.serialize_u8(self.0)
        }
    }
    let net = otp_dist::transport::Memory::new();
    let a = common::builder("a@mem:0", net.clone())
        .message::<Meddler>()
        .message::<Note>()
        .start()
        .await
        .unwrap();
    let b = common::node(&net, "b").await;
    a.connect(b.name()).await.unwrap();
    let target = spawn_on(b.node(), |mut me| async move {
        me.recv().await;
    });
    TARGET.set(target).unwrap();
    match on(a.node(), || send(target, Meddler(1))) {
        Err(SendError::Encode(why)) => assert!(why.contains("while it was being encoded"), "{why}"),
        other => panic!("{other:?}"),
    }
    // The connection is fine.
    on(a.node(), || {
        send(
            target,
            Note {
                from: "after".into(),
                n: 1,
            },
        )
    })
    .unwrap();
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
}
