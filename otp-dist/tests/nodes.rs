//! The node service: connecting, refusing, node events, liveness, limits (DIST.md tiers 1 and
//! 2 on an in-memory network, with tokio's paused clock).

mod common;

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use common::{TICK, next_event, node, on, pair, run_on, spawn_on, within};
use otp_core::name::{Dest, send};
use otp_core::process::{ExitReason, Info, Pid};
use otp_dist::handshake::{HandshakeConfig, initiate};
use otp_dist::transport::{BoxFuture, BoxStream, Listener, Memory, Transport};
use otp_dist::{ConnectError, DistNode, DownReason, NodeEvent};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

/// D-08: `monitor_nodes` reports the node coming up, on both sides.
#[tokio::test(start_paused = true)]
async fn d05_connect_lists_the_node_on_both_sides_and_reports_node_up() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let b = node(&net, "b").await;
    let (mut a_events, mut b_events) = (a.monitor_nodes(), b.monitor_nodes());
    a.connect(b.name()).await.unwrap();
    assert_eq!(
        next_event(&mut a_events).await,
        NodeEvent::NodeUp {
            node: b.name().into()
        }
    );
    assert_eq!(
        next_event(&mut b_events).await,
        NodeEvent::NodeUp {
            node: a.name().into()
        }
    );
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
    assert_eq!(b.nodes(), vec![a.name().to_owned()]);
    // Connecting again is a no-op.
    a.connect(b.name()).await.unwrap();
    assert_eq!(a.nodes().len(), 1);
}

/// D-08: `monitor_nodes` reports the node going down, with the reason, on both sides.
#[tokio::test(start_paused = true)]
async fn d05_disconnect_reports_node_down_on_both_sides() {
    let (a, b) = pair().await;
    let (mut a_events, mut b_events) = (a.monitor_nodes(), b.monitor_nodes());
    assert!(a.disconnect(b.name()));
    assert_eq!(
        next_event(&mut a_events).await,
        NodeEvent::NodeDown {
            node: b.name().into(),
            reason: DownReason::Disconnected
        }
    );
    assert_eq!(
        next_event(&mut b_events).await,
        NodeEvent::NodeDown {
            node: a.name().into(),
            reason: DownReason::ConnectionClosed
        }
    );
    assert!(a.nodes().is_empty() && b.nodes().is_empty());
    assert!(!a.disconnect(b.name()));
    // And they connect again, with a new connection.
    a.connect(b.name()).await.unwrap();
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
}

#[tokio::test(start_paused = true)]
async fn d04_another_cookie_is_a_typed_error_and_no_connection() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let b = DistNode::builder("b@mem:0")
        .cookie("another")
        .tick_time(TICK)
        .transport(net.clone())
        .start()
        .await
        .unwrap();
    let mut a_events = a.monitor_nodes();
    let err = a.connect(b.name()).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::Failed { reason, .. } if reason.contains("cookies differ")),
        "{err}"
    );
    assert!(matches!(
        next_event(&mut a_events).await,
        NodeEvent::NodeDown {
            reason: DownReason::HandshakeFailed(_),
            ..
        }
    ));
    assert!(a.nodes().is_empty() && b.nodes().is_empty());
}

#[tokio::test(start_paused = true)]
async fn d07_another_tick_time_is_refused() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let b = DistNode::builder("b@mem:0")
        .cookie("test-cookie")
        .tick_time(TICK * 2)
        .transport(net.clone())
        .start()
        .await
        .unwrap();
    let err = a.connect(b.name()).await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::Failed { reason, .. } if reason.contains("tick")),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn d01_a_node_is_named_name_at_host_port_and_port_0_takes_a_free_one() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let (alive, addr) = a.name().split_once('@').unwrap();
    assert_eq!(alive, "a");
    assert!(addr.starts_with("mem:") && !addr.ends_with(":0"), "{addr}");
    assert_eq!(a.node().name(), a.name());
    for bad in ["nameless", "@mem:1", "a@:1", "a@mem", "a@mem:99999"] {
        let started = DistNode::builder(bad).transport(net.clone()).start().await;
        assert!(
            matches!(started, Err(otp_dist::StartError::InvalidName(_))),
            "{bad}"
        );
    }
    // A node that is not distributed keeps the default name.
    assert_eq!(otp_core::node::Node::default_node().name(), "nonode@nohost");
}

#[tokio::test(start_paused = true)]
async fn connecting_to_an_address_nobody_listens_on_fails() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let err = a.connect("ghost@mem:999").await.unwrap_err();
    assert!(matches!(err, ConnectError::Failed { .. }), "{err}");
    assert!(matches!(
        a.connect("no-at-sign").await,
        Err(ConnectError::InvalidName(_))
    ));
    assert!(matches!(
        a.connect(a.name()).await,
        Err(ConnectError::ThisNode(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn d03a_simultaneous_connects_end_in_one_connection() {
    for _ in 0..20 {
        let net = Memory::new();
        let a = node(&net, "a").await;
        let b = node(&net, "b").await;
        let (ra, rb) = tokio::join!(a.connect(b.name()), b.connect(a.name()));
        ra.unwrap();
        rb.unwrap();
        assert_eq!(a.nodes(), vec![b.name().to_owned()]);
        assert_eq!(b.nodes(), vec![a.name().to_owned()]);
        // The one connection works both ways.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let pid = spawn_on(b.node(), async move |mut me| -> () {
            if let Info::Message(m) = me.recv().await {
                let _ = tx.send(m.downcast::<u64>().ok());
            }
        });
        on(a.node(), || send(pid, 7u64)).unwrap();
        assert_eq!(within(rx.recv()).await, Some(Some(7)));
    }
}

#[tokio::test(start_paused = true)]
async fn d09_a_send_to_a_name_on_a_node_connects_on_demand() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let b = node(&net, "b").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    spawn_on(b.node(), async move |mut me| -> () {
        otp_core::name::register("inbox", me.pid()).unwrap();
        loop {
            if let Info::Message(m) = me.recv().await {
                let _ = tx.send(m.downcast::<String>().ok());
            }
        }
    });
    tokio::task::yield_now().await;
    assert!(a.nodes().is_empty());
    on(a.node(), || {
        send(Dest::remote("inbox", b.name()), "hello".to_owned())
    })
    .unwrap();
    assert_eq!(within(rx.recv()).await, Some(Some("hello".to_owned())));
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
    // To a node that does not exist: dropped, as Erlang's `{Name, Node} ! Msg`.
    on(a.node(), || {
        send(Dest::remote("inbox", "ghost@mem:999"), "lost".to_owned())
    })
    .unwrap();
}

#[tokio::test(start_paused = true)]
async fn d01_a_node_restarted_under_its_name_has_a_new_creation_and_old_pids_are_stale() {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let b = common::builder("b@mem:7", net.clone())
        .start()
        .await
        .unwrap();
    let old = spawn_on(b.node(), |mut me| async move {
        me.recv().await;
    });
    a.connect(b.name()).await.unwrap();
    b.shutdown();
    drop(b);
    tokio::time::sleep(Duration::from_millis(10)).await;
    // The same name again: a new boot, a new creation.
    let b2 = common::builder("b@mem:7", net.clone())
        .start()
        .await
        .unwrap();
    assert_eq!(b2.name(), "b@mem:7");
    assert_ne!(b2.node().creation(), old.creation());
    a.connect(b2.name()).await.unwrap();
    // A monitor on the old pid: noproc at once; a link: noproc.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    spawn_on(a.node(), move |mut me| async move {
        me.trap_exit(true);
        let reference = me.monitor(old);
        let _ = me.link(old);
        for _ in 0..2 {
            match me.recv().await {
                Info::Down(d) if d.reference() == reference => {
                    let _ = tx.send(("down", d.reason().clone()));
                }
                Info::Exit(e) => {
                    let _ = tx.send(("exit", e.reason().clone()));
                }
                _ => {}
            }
        }
    });
    let mut seen = vec![
        within(rx.recv()).await.unwrap(),
        within(rx.recv()).await.unwrap(),
    ];
    seen.sort_by_key(|(k, _)| *k);
    assert_eq!(
        seen,
        vec![("down", ExitReason::NoProc), ("exit", ExitReason::NoProc)]
    );
    // A message to it is dropped (not delivered to anything of the new boot).
    on(a.node(), || send(old, 1u64)).unwrap();
}

/// A transport whose streams can be frozen: a frozen stream neither reads nor writes, as a
/// network that holds every packet.
#[derive(Clone)]
struct Freezable {
    inner: Memory,
    frozen: Arc<AtomicBool>,
    wakers: Arc<Mutex<Vec<Waker>>>,
    held: Arc<Mutex<Vec<BoxStream>>>,
}

struct FrozenStream {
    inner: Option<BoxStream>,
    frozen: Arc<AtomicBool>,
    wakers: Arc<Mutex<Vec<Waker>>>,
    held: Arc<Mutex<Vec<BoxStream>>>,
}

impl Drop for FrozenStream {
    fn drop(&mut self) {
        // A stream closed while the network holds everything: its close does not get through
        // either.
        if self.frozen.load(Ordering::SeqCst)
            && let Some(inner) = self.inner.take()
        {
            self.held.lock().unwrap().push(inner);
        }
    }
}

impl FrozenStream {
    fn held(&self, cx: &mut Context<'_>) -> bool {
        if self.frozen.load(Ordering::SeqCst) {
            self.wakers.lock().unwrap().push(cx.waker().clone());
            true
        } else {
            false
        }
    }
}

impl AsyncRead for FrozenStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.held(cx) {
            return Poll::Pending;
        }
        Pin::new(self.inner.as_mut().expect("open")).poll_read(cx, buf)
    }
}

impl AsyncWrite for FrozenStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.held(cx) {
            return Poll::Pending;
        }
        Pin::new(self.inner.as_mut().expect("open")).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(self.inner.as_mut().expect("open")).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(self.inner.as_mut().expect("open")).poll_shutdown(cx)
    }
}

impl Freezable {
    /// `net`'s streams, not frozen yet.
    fn over(net: &Memory) -> Self {
        Freezable {
            inner: net.clone(),
            frozen: Arc::default(),
            wakers: Arc::default(),
            held: Arc::default(),
        }
    }

    fn wrap(&self, inner: BoxStream) -> BoxStream {
        Box::new(FrozenStream {
            inner: Some(inner),
            frozen: self.frozen.clone(),
            wakers: self.wakers.clone(),
            held: self.held.clone(),
        })
    }
}

impl Transport for Freezable {
    fn bind<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, std::io::Result<Box<dyn Listener>>> {
        self.inner.bind(addr)
    }
    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, std::io::Result<BoxStream>> {
        Box::pin(async move { Ok(self.wrap(self.inner.connect(addr).await?)) })
    }
}

#[tokio::test(start_paused = true)]
async fn d07_a_silent_peer_is_down_within_the_tick_window_and_its_links_fire_noconnection() {
    let net = Memory::new();
    let freezable = Freezable::over(&net);
    let a = common::builder("a@mem:0", freezable.clone())
        .start()
        .await
        .unwrap();
    let b = node(&net, "b").await;
    a.connect(b.name()).await.unwrap();
    let mut a_events = a.monitor_nodes();
    let mut b_events = b.monitor_nodes();
    // A process of b linked to one of a.
    let on_a = spawn_on(a.node(), |mut me| async move {
        me.recv().await;
    });
    let on_a_exited = on(a.node(), || otp_core::process::wait_exit(on_a));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    spawn_on(b.node(), async move |mut me| -> () {
        me.trap_exit(true);
        me.link(on_a).unwrap();
        let _ = tx.send(());
        loop {
            if let Info::Exit(e) = me.recv().await {
                let _ = tx.send(());
                assert_eq!(e.reason(), &ExitReason::NoConnection);
            }
        }
    });
    within(rx.recv()).await.unwrap();
    // Some traffic, then a's side of the connection goes silent both ways.
    tokio::time::sleep(TICK).await;
    freezable.frozen.store(true, Ordering::SeqCst);
    let cut = tokio::time::Instant::now();
    let down = next_event(&mut a_events).await;
    let detected = cut.elapsed();
    assert_eq!(
        down,
        NodeEvent::NodeDown {
            node: b.name().into(),
            reason: DownReason::TickTimeout
        }
    );
    assert!(
        detected >= TICK - TICK / 4 && detected <= TICK + TICK / 4,
        "a detected after {detected:?}"
    );
    let down = next_event(&mut b_events).await;
    let detected = cut.elapsed();
    assert!(
        matches!(
            down,
            NodeEvent::NodeDown {
                reason: DownReason::TickTimeout,
                ..
            }
        ),
        "{down:?}"
    );
    assert!(
        detected >= TICK - TICK / 4 && detected <= TICK + TICK / 4,
        "b detected after {detected:?}"
    );
    // b's process got its noconnection, once; a's linked process died of it.
    within(rx.recv()).await.unwrap();
    assert_eq!(within(on_a_exited).await, ExitReason::NoConnection);
    tokio::time::sleep(TICK).await;
    assert!(rx.try_recv().is_err());
}

/// A raw peer that shakes hands properly, then sends `bytes`.
async fn raw_peer_sends(net: &Memory, target: &DistNode, bytes: &[u8]) {
    let stream = net
        .connect(target.name().split_once('@').unwrap().1)
        .await
        .unwrap();
    let (r, mut w) = tokio::io::split(stream);
    let mut reader = otp_dist::frame::FrameReader::new(r, 1 << 20);
    let mut config = HandshakeConfig::new("raw@mem:1", 9, "test-cookie");
    config.tick = TICK;
    initiate(&mut reader, &mut w, &config, Some(target.name()))
        .await
        .unwrap();
    w.write_all(bytes).await.unwrap();
    w.flush().await.unwrap();
    // Keep the stream open while the target reacts.
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn malformed_oversized_and_unknown_frames_close_the_connection_with_a_reason() {
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "malformed",
            vec![0, 0, 0, 3, 0xc1, 0xc1, 0xc1],
            "did not decode",
        ),
        (
            "oversized",
            0x0010_0000u32.to_be_bytes().to_vec(),
            "over the limit",
        ),
        // A valid MessagePack string naming no frame kind.
        (
            "unknown",
            {
                let mut f = vec![0, 0, 0, 6, 0xa5];
                f.extend_from_slice(b"Hello");
                f
            },
            "unknown",
        ),
        // A run of two casts that holds one value.
        (
            "run cut short",
            {
                let mut f = vec![0, 0, 0, 22, 5];
                f.extend_from_slice(&[0; 16]);
                f.extend_from_slice(&[2, 2, 0, 0x01, 0x02]);
                f
            },
            "run of casts",
        ),
    ];
    for (case, bytes, expected) in cases {
        let net = Memory::new();
        let target = node(&net, "t").await;
        let mut events = target.monitor_nodes();
        raw_peer_sends(&net, &target, &bytes).await;
        assert_eq!(
            next_event(&mut events).await,
            NodeEvent::NodeUp {
                node: "raw@mem:1".into()
            }
        );
        match next_event(&mut events).await {
            NodeEvent::NodeDown {
                reason: DownReason::FrameRefused(why),
                ..
            } => {
                assert!(why.contains(expected), "{case}: {why}");
            }
            other => panic!("{case}: {other:?}"),
        }
        assert!(target.nodes().is_empty(), "{case}");
    }
}

/// Node a, whose outbound queues hold 64 KiB, over a freezable network, connected to node b.
async fn busy_pair() -> (Freezable, DistNode, DistNode) {
    let net = Memory::new();
    let freezable = Freezable::over(&net);
    let a = common::builder("a@mem:0", freezable.clone())
        .outbound_limit(64 * 1024, None)
        .start()
        .await
        .unwrap();
    let b = node(&net, "b").await;
    a.connect(b.name()).await.unwrap();
    (freezable, a, b)
}

#[tokio::test(start_paused = true)]
async fn d11_a_full_outbound_queue_refuses_sends_as_busy() {
    let (freezable, a, b) = busy_pair().await;
    let target = spawn_on(b.node(), async move |mut me| -> () {
        loop {
            me.recv().await;
        }
    });
    freezable.frozen.store(true, Ordering::SeqCst);
    let big = vec![7u8; 16 * 1024];
    let mut busy = None;
    for i in 0..100 {
        match on(a.node(), || send(target, big.clone())) {
            Ok(()) => {}
            Err(e) => {
                busy = Some((i, e));
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    let (i, e) = busy.expect("the queue fills");
    assert!(i >= 3, "refused after {i} sends");
    assert!(
        matches!(e, otp_core::name::SendError::Busy(ref n) if n == b.name()),
        "{e}"
    );
}

/// A server that counts the bytes cast to it.
struct Tally(usize);

impl otp_core::gen_server::GenServer for Tally {
    type Args = ();
    type Call = ();
    type Reply = usize;
    type Cast = Vec<u8>;
    type Continue = ();
    const WIRE: Option<otp_core::gen_server::Wire<Self>> = Some(otp_core::gen_server::Wire::new());

    async fn init(
        (): (),
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> otp_core::gen_server::Init<Self> {
        otp_core::gen_server::Init::Ok(Tally(0))
    }

    async fn handle_call(
        &mut self,
        (): (),
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> otp_core::gen_server::CallResult<Self> {
        otp_core::gen_server::CallResult::Reply(self.0)
    }

    async fn handle_cast(
        &mut self,
        bytes: Vec<u8>,
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> otp_core::gen_server::Action<Self> {
        self.0 += bytes.len();
        otp_core::gen_server::Action::NoReply
    }
}

impl otp_core::gen_server::RemoteServer for Tally {}

impl Freezable {
    /// Lets the streams read and write again.
    fn thaw(&self) {
        self.frozen.store(false, Ordering::SeqCst);
        for waker in self.wakers.lock().unwrap().drain(..) {
            waker.wake();
        }
    }
}

/// D11: `cast_wait` to a server of another node over a busy connection (its outbound queue
/// over its limit, where `cast` fails with `Busy`) waits for room, as Erlang suspends a sender
/// on a busy distribution port: it resolves once the connection's writer has taken the queue,
/// and every cast arrives. Over a connection that closes while it waits, it ends (the cast
/// dropped, as to a node that is down) and never hangs.
#[tokio::test(start_paused = true)]
async fn d11_cast_wait_waits_for_room_on_a_busy_connection() {
    use otp_core::gen_server::{CastError, GenServer, ServerRef};
    let (freezable, a, b) = busy_pair().await;
    run_on(b.node(), async {
        let tally = Tally::start(()).await.unwrap();
        otp_core::name::register("tally", tally.pid()).unwrap();
    })
    .await;
    let b_name = b.name().to_owned();
    let tally = run_on(a.node(), async move {
        ServerRef::<Tally>::remote("tally", &b_name).await.unwrap()
    })
    .await;
    let piece = vec![7u8; 16 * 1024];
    // Casts until the queue is full, the network holding everything.
    let fill = |tally: &ServerRef<Tally>| {
        for sent in 1.. {
            match tally.cast(piece.clone()) {
                Ok(()) => assert!(sent < 100, "the queue never fills"),
                Err(CastError::Busy(_)) => return sent - 1,
                Err(e) => panic!("{e}"),
            }
        }
        unreachable!()
    };
    freezable.frozen.store(true, Ordering::SeqCst);
    // Twice: the writer takes the first queue (and waits on the network), the second stays.
    let mut sent = fill(&tally);
    tokio::time::sleep(Duration::from_millis(1)).await;
    sent += fill(&tally);
    let waiting = tokio::spawn({
        let (tally, piece) = (tally.clone(), piece.clone());
        async move { tally.cast_wait(piece).await }
    });
    // Well within the tick window: the connection stays.
    tokio::time::sleep(TICK / 4).await;
    assert!(!waiting.is_finished(), "no room while the network holds");
    freezable.thaw();
    assert_eq!(within(waiting).await.unwrap(), Ok(()));
    sent += 1;
    let seen = within(tally.call(())).await.unwrap();
    assert_eq!(seen, sent * piece.len(), "every cast arrived");

    // Full again, and the connection closes while a sender waits.
    freezable.frozen.store(true, Ordering::SeqCst);
    fill(&tally);
    tokio::time::sleep(Duration::from_millis(1)).await;
    fill(&tally);
    let waiting = tokio::spawn({
        let (tally, piece) = (tally.clone(), piece.clone());
        async move { tally.cast_wait(piece).await }
    });
    tokio::time::sleep(TICK / 4).await;
    assert!(!waiting.is_finished());
    assert!(a.disconnect(b.name()));
    assert_eq!(within(waiting).await.unwrap(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn process_pids_of_both_nodes_are_told_apart() {
    let (a, b) = pair().await;
    let pa: Pid = spawn_on(a.node(), |_| async {});
    let pb: Pid = spawn_on(b.node(), |_| async {});
    assert!(a.node().owns(pa) && !a.node().owns(pb));
    assert_eq!(pb.node(), otp_core::node::Node::id_of(b.name()));
}

#[tokio::test(start_paused = true)]
async fn a_large_message_crosses_in_pieces_and_one_over_the_maximum_is_refused_to_its_sender() {
    let (a, b) = pair().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let target = spawn_on(b.node(), async move |mut me| -> () {
        loop {
            if let Info::Message(m) = me.recv().await {
                let _ = tx.send(m.downcast::<Vec<u8>>().ok());
            }
        }
    });
    // 1 MiB: sixteen pieces and more (a `Vec<u8>` is an array of integers on the wire).
    let large: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    on(a.node(), || send(target, large.clone())).unwrap();
    assert_eq!(within(rx.recv()).await, Some(Some(large)));
    // Over the maximum frame size (8 MiB): refused here, and the connection stays.
    let huge = vec![0u8; 9 << 20];
    match on(a.node(), || send(target, huge)) {
        Err(otp_core::name::SendError::Encode(why)) => {
            assert!(why.contains("maximum frame size"), "{why}")
        }
        other => panic!("{other:?}"),
    }
    on(a.node(), || send(target, vec![1u8])).unwrap();
    assert_eq!(within(rx.recv()).await, Some(Some(vec![1u8])));
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
}
