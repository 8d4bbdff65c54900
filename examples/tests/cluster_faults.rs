//! Distribution's faults on real processes (DIST.md, tier 3): node processes on 127.0.0.x —
//! the `cluster` example's binary in its `--peer` mode — are killed with `kill -9`, or frozen
//! with SIGSTOP and thawed with SIGCONT, while a node in this test process (on a tokio runtime
//! here) and other peers watch. The tests assert outcomes — which node-down reason, which exit
//! reason, how many times, which error — never how long anything took; every wait has a
//! deadline, so a fault that is never noticed fails the test instead of hanging it.
//!
//! Linux only: it needs the whole of 127.0.0.0/8 on the loopback interface (other systems give
//! it 127.0.0.1 alone), and Unix signals.
#![cfg(target_os = "linux")]

use std::net::IpAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::time::Duration;

use otp::dist::{DistNode, DownReason, NodeEvent};
use otp::name::Name;
use otp::process::{ExitReason, Info, Pid, spawn};
use otp_examples::cluster_peer::{Command, Event, Peer, PeerArgs, Signal, example_binary};
use tokio::sync::mpsc;

/// The deadline of every wait: far above anything that works (a tick timeout included), so
/// that only a fault that is not handled reaches it.
const DEADLINE: Duration = Duration::from_secs(30);

fn example() -> PathBuf {
    example_binary("cluster").expect("the example's binary")
}

fn ip(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// A cookie of this test run.
fn cookie(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

/// This process's node, on 127.0.0.1, with `tick` as its tick time.
async fn test_node(cookie: &str, tick: Duration) -> DistNode {
    DistNode::builder("t@127.0.0.1:0")
        .cookie(cookie)
        .tick_time(tick)
        .start()
        .await
        .expect("the test's node starts")
}

/// The next node event of `events` that `pick` accepts.
async fn next_event<T>(
    events: &mut mpsc::UnboundedReceiver<NodeEvent>,
    what: &str,
    mut pick: impl FnMut(&NodeEvent) -> Option<T>,
) -> T {
    let wait = async {
        while let Some(event) = events.recv().await {
            if let Some(found) = pick(&event) {
                return found;
            }
        }
        panic!("the node events ended before {what}");
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {DEADLINE:?}"))
}

/// The process registered as `name` on `node`, asked through `on`'s router.
async fn whereis(on: &DistNode, name: &str, node: &str) -> Option<Pid> {
    let router = on.node().router().cloned().expect("a distributed node");
    router
        .whereis(&Name::from(name), node)
        .await
        .expect("the lookup is answered")
        .map(|(pid, _kind)| pid)
}

/// What the watching process of the first test saw.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// It linked itself to the target and monitors it.
    Ready,
    /// The link broke: the exit signal's reason (trapped).
    Exit(ExitReason),
    /// The monitor fired.
    Down(ExitReason),
    /// Its mailbox was read up to a [`Flush`] sent by the test: everything sent to it before
    /// has been seen.
    Flushed,
}

/// A message the test sends the watching process, after everything it wants seen.
struct Flush;

/// The next thing the watching process saw.
async fn seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("the watcher saw nothing within {DEADLINE:?}"))
        .expect("the watcher runs")
}

/// Asks the watching process to read its mailbox up to here: what it saw before the flush
/// is everything there was.
async fn flush(watcher: Pid, rx: &mut mpsc::UnboundedReceiver<Seen>) -> Vec<Seen> {
    otp::name::send(watcher, Flush).expect("the watcher is local");
    let mut before = Vec::new();
    loop {
        match seen(rx).await {
            Seen::Flushed => return before,
            other => before.push(other),
        }
    }
}

#[tokio::test(flavor = "current_thread")]
async fn kill_9_of_a_node_is_node_down_noconnection_once_and_a_call_in_flight_fails_at_once() {
    let example = example();
    let cookie = cookie("kill");
    let t = test_node(&cookie, otp::dist::DEFAULT_TICK_TIME).await;
    let _on_t = t.node().enter();
    let mut t_events = t.monitor_nodes();
    // The victim on 127.0.0.2; a caller on 127.0.0.3 that will have a call in flight to it.
    let mut victim = Peer::launch(
        &example,
        &PeerArgs::new("victim", &cookie).host(ip(2)),
        DEADLINE,
    )
    .await
    .expect("the victim starts");
    let mut caller = Peer::launch(
        &example,
        &PeerArgs::new("caller", &cookie).host(ip(3)),
        DEADLINE,
    )
    .await
    .expect("the caller starts");
    let victim_name = victim.node().to_owned();
    assert!(
        victim_name.starts_with("victim@127.0.0.2:"),
        "{victim_name}"
    );

    // A process of this node links itself to the victim's counter (trapping exits) and
    // monitors it.
    t.connect(&victim_name)
        .await
        .expect("t connects to the victim");
    let target = whereis(&t, "counter", &victim_name)
        .await
        .expect("the victim's counter is registered");
    let (tx, mut rx) = mpsc::unbounded_channel();
    let watcher = spawn(async move |mut me| -> () {
        me.trap_exit(true);
        me.link(target).expect("the link is set");
        let monitor = me.monitor(target);
        let _ = tx.send(Seen::Ready);
        loop {
            let seen = match me.recv().await {
                Info::Exit(exit) if exit.from() == Some(target) => {
                    Seen::Exit(exit.reason().clone())
                }
                Info::Down(down) if down.reference() == monitor => {
                    Seen::Down(down.reason().clone())
                }
                Info::Message(message) if message.is::<Flush>() => Seen::Flushed,
                _ => continue,
            };
            let _ = tx.send(seen);
        }
    });
    assert_eq!(seen(&mut rx).await, Seen::Ready);

    let connected = caller
        .ask(
            &Command::Connect {
                node: victim_name.clone(),
            },
            DEADLINE,
            |e| match e {
                Event::Connected { .. } => Some(Ok(())),
                Event::ConnectFailed { why, .. } => Some(Err(why.clone())),
                _ => None,
            },
        )
        .await
        .expect("the caller answers");
    assert_eq!(connected, Ok(()));
    // The caller calls the victim's counter with `wait_for`, which answers only once the
    // count reaches its target: the call stays in flight, until the victim dies.
    caller
        .send(&Command::WaitFor {
            node: victim_name.clone(),
            target: 1_000_000,
        })
        .expect("the caller reads its commands");
    // The call is in flight once the victim's counter holds it.
    let mut waiters = 0;
    for _ in 0..600 {
        waiters = victim
            .ask(&Command::Waiters, DEADLINE, |e| match e {
                Event::Waiters { count } => Some(*count),
                _ => None,
            })
            .await
            .expect("the victim answers");
        if waiters == 1 {
            break;
        }
        let ended = caller
            .expect("an early end of the call", Duration::ZERO, |e| match e {
                Event::WaitFailed { .. } | Event::Waited { .. } => Some(e.to_string()),
                _ => None,
            })
            .await;
        if let Ok(ended) = ended {
            panic!("the call ended before the kill: {ended}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(waiters, 1, "the caller's call never reached the victim");

    // kill -9.
    let status = victim.kill(DEADLINE).await.expect("the victim dies");
    assert_eq!(status.signal(), Some(9), "{status}");

    // This node: NodeDown, for a closed connection (the kernel closed the dead process's
    // socket), not a tick timeout.
    let reason = next_event(&mut t_events, "NodeDown of the victim", |e| match e {
        NodeEvent::NodeDown { node, reason } if *node == victim_name => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, DownReason::ConnectionClosed);
    assert!(!t.nodes().contains(&victim_name));

    // The link and the monitor fired `noconnection`, once each.
    let mut fired = vec![seen(&mut rx).await, seen(&mut rx).await];
    fired.extend(flush(watcher, &mut rx).await);
    fired.sort_by_key(|s| format!("{s:?}"));
    assert_eq!(
        fired,
        vec![
            Seen::Down(ExitReason::NoConnection),
            Seen::Exit(ExitReason::NoConnection),
        ]
    );
    // A new attempt to reach the dead node fails, and fires nothing more.
    assert!(t.connect(&victim_name).await.is_err());
    assert_eq!(flush(watcher, &mut rx).await, vec![]);

    // The caller's call in flight failed with `noconnection` — its node noticed the closed
    // connection — not with its 60 s timeout.
    let failed = caller
        .expect("the failure of the call in flight", DEADLINE, |e| match e {
            Event::WaitFailed { node, kind, detail } if *node == victim_name => {
                Some((kind.clone(), detail.clone()))
            }
            Event::Waited { node, value } if *node == victim_name => {
                Some(("answered".into(), value.to_string()))
            }
            _ => None,
        })
        .await
        .expect("the caller reports");
    assert_eq!(failed, ("exited".to_owned(), "noconnection".to_owned()));
    let caller_saw = caller
        .expect("the caller's node-down", DEADLINE, |e| match e {
            Event::NodeDown { node, reason } if *node == victim_name => Some(reason.clone()),
            _ => None,
        })
        .await
        .expect("the caller reports");
    assert_eq!(caller_saw, "connection_closed");

    let status = caller.stop(DEADLINE).await.expect("the caller stops");
    assert!(status.success(), "{status}");
    t.shutdown();
}

#[tokio::test(flavor = "current_thread")]
async fn sigstop_is_a_tick_timeout_and_after_sigcont_both_nodes_connect_again() {
    // A short tick time, the same on both nodes: a frozen node is declared down after about
    // that long.
    let tick = Duration::from_secs(2);
    let example = example();
    let cookie = cookie("stop");
    let t = test_node(&cookie, tick).await;
    let _on_t = t.node().enter();
    let t_name = t.name().to_owned();
    let mut t_events = t.monitor_nodes();
    let mut sleeper = Peer::launch(
        &example,
        &PeerArgs::new("sleeper", &cookie).host(ip(2)).tick(tick),
        DEADLINE,
    )
    .await
    .expect("the sleeper starts");
    let sleeper_name = sleeper.node().to_owned();
    t.connect(&sleeper_name)
        .await
        .expect("t connects to the sleeper");
    sleeper
        .expect("node-up of t", DEADLINE, |e| {
            matches!(e, Event::NodeUp { node } if *node == t_name).then_some(())
        })
        .await
        .expect("the sleeper sees t");

    // Frozen: its socket stays open, nothing answers on it. Only the tick timeout tells.
    sleeper.signal(Signal::Stop).expect("SIGSTOP");
    let reason = next_event(&mut t_events, "NodeDown of the frozen node", |e| match e {
        NodeEvent::NodeDown { node, reason } if *node == sleeper_name => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert_eq!(reason, DownReason::TickTimeout);
    assert!(t.nodes().is_empty());

    // Thawed: it finds the connection gone too — its own tick timeout (it heard nothing for
    // longer than the tick time) or the end of the stream t closed, whichever it reads first.
    sleeper.signal(Signal::Cont).expect("SIGCONT");
    let its_reason = sleeper
        .expect("the thawed node's node-down of t", DEADLINE, |e| match e {
            Event::NodeDown { node, reason } if *node == t_name => Some(reason.clone()),
            _ => None,
        })
        .await
        .expect("the sleeper reports");
    assert!(
        ["tick_timeout", "connection_closed"].contains(&its_reason.as_str()),
        "{its_reason}"
    );

    // And they connect again: a new connection, both ways.
    t.connect(&sleeper_name).await.expect("t connects again");
    next_event(&mut t_events, "NodeUp of the thawed node", |e| {
        matches!(e, NodeEvent::NodeUp { node } if *node == sleeper_name).then_some(())
    })
    .await;
    sleeper
        .expect("node-up of t again", DEADLINE, |e| {
            matches!(e, Event::NodeUp { node } if *node == t_name).then_some(())
        })
        .await
        .expect("the sleeper sees t again");
    assert_eq!(t.nodes(), vec![sleeper_name.clone()]);
    assert!(
        whereis(&t, "counter", &sleeper_name).await.is_some(),
        "the new connection answers a lookup"
    );
    let its_nodes = sleeper
        .ask(&Command::Nodes, DEADLINE, |e| match e {
            Event::Nodes { nodes } => Some(nodes.clone()),
            _ => None,
        })
        .await
        .expect("the sleeper answers");
    assert_eq!(its_nodes, vec![t_name.clone()]);

    let status = sleeper.stop(DEADLINE).await.expect("the sleeper stops");
    assert!(status.success(), "{status}");
    t.shutdown();
}
