//! Distribution's telemetry events: node up and down (with the reason), a failed handshake, a
//! refused frame, a refused message, bytes and frames in and out per peer, an outbound queue over
//! its threshold. Handlers are global and tests run in parallel: each test keeps the events of
//! its own nodes (their names are unique to it).

mod common;

use common::{Note, TICK, node, on, spawn_on, within};
use otp_core::name::send;
use otp_core::process::Info;
use otp_dist::DistNode;
use otp_dist::events::{
    FRAME_REFUSED, HANDSHAKE_FAILED, MESSAGE_REFUSED, NODE_DOWN, NODE_UP, OUTBOUND_OVER_THRESHOLD,
    PEER_IN, PEER_OUT,
};
use otp_dist::transport::Memory;
use otp_telemetry::OwnedEvent;
use otp_telemetry::testing::{EventCapture, attach_event_handlers};

fn capture() -> EventCapture {
    attach_event_handlers(&[
        NODE_UP,
        NODE_DOWN,
        HANDSHAKE_FAILED,
        FRAME_REFUSED,
        MESSAGE_REFUSED,
        PEER_IN,
        PEER_OUT,
        OUTBOUND_OVER_THRESHOLD,
    ])
    .expect("handlers attach")
}

/// The events so far about the node named `node` (the others are dropped).
fn about(capture: &EventCapture, node: &str) -> Vec<OwnedEvent> {
    about_in(capture.drain(), node)
}

fn about_in(events: Vec<OwnedEvent>, node: &str) -> Vec<OwnedEvent> {
    events
        .into_iter()
        .filter(|e| e.meta("node").is_some_and(|v| v.to_string() == node))
        .collect()
}

fn last(e: &OwnedEvent) -> String {
    e.name.segments().collect::<Vec<_>>().join(".")
}

#[tokio::test(start_paused = true)]
async fn node_up_down_and_traffic_per_peer_are_reported() {
    let events = capture();
    let net = Memory::new();
    let a = node(&net, "tel-a").await;
    let b = node(&net, "tel-b").await;
    a.connect(b.name()).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let target = spawn_on(b.node(), async move |mut me| -> () {
        loop {
            if let Info::Message(_) = me.recv().await {
                let _ = tx.send(());
            }
        }
    });
    for n in 0..10 {
        on(a.node(), || {
            send(
                target,
                Note {
                    from: "t".into(),
                    n,
                },
            )
        })
        .unwrap();
    }
    for _ in 0..10 {
        within(rx.recv()).await;
    }
    a.disconnect(b.name());
    tokio::time::sleep(TICK).await;
    let all = events.drain();
    let seen = about_in(all.clone(), b.name());
    let names: Vec<String> = seen.iter().map(last).collect();
    assert!(names.contains(&"otp.dist.node.up".to_owned()), "{names:?}");
    let down = seen
        .iter()
        .find(|e| last(e) == "otp.dist.node.down")
        .expect("a node down");
    assert_eq!(down.meta("reason").unwrap().to_string(), "disconnected");
    let out: f64 = seen
        .iter()
        .filter(|e| last(e) == "otp.dist.peer.out")
        .map(|e| e.measurement("frames").unwrap())
        .sum();
    assert!(out >= 10.0, "frames out to b: {out}");
    // And b saw a's frames come in.
    let into_b: f64 = about_in(all, a.name())
        .iter()
        .filter(|e| last(e) == "otp.dist.peer.in")
        .map(|e| e.measurement("bytes").unwrap())
        .sum();
    assert!(into_b > 0.0);
    let stats = a.peer_stats(b.name());
    assert!(stats.is_none(), "disconnected: no figures any more");
}

#[tokio::test(start_paused = true)]
async fn a_failed_handshake_is_reported_on_both_sides() {
    let events = capture();
    let net = Memory::new();
    let a = node(&net, "tel-c").await;
    let b = DistNode::builder("tel-d@mem:0")
        .cookie("other")
        .tick_time(TICK)
        .transport(net.clone())
        .start()
        .await
        .unwrap();
    assert!(a.connect(b.name()).await.is_err());
    tokio::time::sleep(TICK).await;
    let seen: Vec<OwnedEvent> = events.drain();
    let failed: Vec<_> = seen
        .iter()
        .filter(|e| last(e) == "otp.dist.handshake.failed")
        .collect();
    let side = |s: &str| {
        failed.iter().any(|e| {
            e.meta("side").unwrap().to_string() == s
                && e.meta("reason")
                    .unwrap()
                    .to_string()
                    .contains("cookies differ")
        })
    };
    assert!(side("initiator") && side("acceptor"), "{failed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_message_that_does_not_decode_is_reported_and_the_connection_stays() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Unknown(u8);
    let events = capture();
    let net = Memory::new();
    let a = common::builder("tel-e@mem:0", net.clone())
        .message::<Unknown>()
        .start()
        .await
        .unwrap();
    let b = node(&net, "tel-f").await;
    a.connect(b.name()).await.unwrap();
    let target = spawn_on(b.node(), |mut me| async move {
        me.recv().await;
    });
    on(a.node(), || send(target, Unknown(1))).unwrap();
    tokio::time::sleep(TICK).await;
    let refused: Vec<_> = about(&events, a.name())
        .into_iter()
        .filter(|e| last(e) == "otp.dist.message.refused")
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0]
            .meta("tag")
            .unwrap()
            .to_string()
            .ends_with("Unknown")
    );
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
}

#[tokio::test(start_paused = true)]
async fn an_outbound_queue_over_its_threshold_is_reported() {
    let events = capture();
    let net = Memory::new();
    let a = common::builder("tel-g@mem:0", net.clone())
        .outbound_limit(1 << 20, Some(1024))
        .message::<Note>()
        .start()
        .await
        .unwrap();
    let b = node(&net, "tel-h").await;
    a.connect(b.name()).await.unwrap();
    let target = spawn_on(b.node(), async move |mut me| -> () {
        loop {
            me.recv().await;
        }
    });
    // Many messages queued at once, before the writer runs.
    on(a.node(), || {
        for n in 0..200 {
            send(
                target,
                Note {
                    from: "a long enough sender name".into(),
                    n,
                },
            )
            .unwrap();
        }
    });
    tokio::time::sleep(TICK).await;
    let over: Vec<_> = about(&events, b.name())
        .into_iter()
        .filter(|e| last(e) == "otp.dist.outbound.over_threshold")
        .collect();
    assert!(!over.is_empty());
    assert!(over[0].measurement("bytes").unwrap() >= 1024.0);
}
