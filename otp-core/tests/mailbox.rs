//! Conformance tests for mailboxes: P-01 ordering, bounded mailboxes and their overflow
//! policies, and the mailbox length and drop count seen from outside.

mod common;

use std::num::NonZeroUsize;
use std::sync::Arc;

use common::*;
use futures_util::FutureExt;
use otp_core::gen_server::{
    Action, CallError, CallResult, CastError, Context, GenServer, Init, ServerRef, StartOptions,
};
use otp_core::name::{SendError, send};
use otp_core::process::{
    ExitReason, Info, MailboxBound, Overflow, Pid, SpawnOptions, exit, process_info, spawn,
    spawn_opt,
};
use tokio::sync::{Notify, mpsc, oneshot};

fn bound(capacity: usize, overflow: Overflow) -> MailboxBound {
    MailboxBound::new(NonZeroUsize::new(capacity).unwrap(), overflow)
}

/// How many messages came in order, or the first (expected, got) mismatch.
type OrderResult = Result<u64, (u64, u64)>;

/// Spawns a process that receives `n` u64 messages and checks they come as 0, 1, 2, ...;
/// resolves with how many came in order.
fn spawn_in_order_receiver(n: u64) -> (Pid, oneshot::Receiver<OrderResult>) {
    let (tx, rx) = oneshot::channel();
    let pid = spawn(move |mut me| async move {
        for expected in 0..n {
            let got = expect_message::<u64>(me.recv().await);
            if got != expected {
                let _ = tx.send(Err((expected, got)));
                return;
            }
        }
        let _ = tx.send(Ok(n));
    });
    (pid, rx)
}

const ORDERED: u64 = 100_000;

/// P-01: 100,000 messages from one sender outside any process arrive in the order sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p01_messages_from_one_sender_arrive_in_order() {
    let (receiver, result) = spawn_in_order_receiver(ORDERED);
    for i in 0..ORDERED {
        send(receiver, i).unwrap();
        if i % 1000 == 0 {
            // Let the receiver run between bursts, so it also takes messages while more come.
            tokio::task::yield_now().await;
        }
    }
    assert_eq!(within("the receiver", result).await.unwrap(), Ok(ORDERED));
}

/// P-01: 100,000 messages from one process to another, on different threads, arrive in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p01_messages_between_processes_arrive_in_order() {
    let (receiver, result) = spawn_in_order_receiver(ORDERED);
    spawn(move |_| async move {
        for i in 0..ORDERED {
            send(receiver, i).unwrap();
            if i % 1000 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    assert_eq!(within("the receiver", result).await.unwrap(), Ok(ORDERED));
}

/// P-01: with several senders, each sender's messages keep their order (no order between
/// senders is promised).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p01_order_is_kept_per_sender() {
    const SENDERS: usize = 4;
    const EACH: u64 = 10_000;
    let (tx, rx) = oneshot::channel();
    let receiver = spawn(move |mut me| async move {
        let mut next = [0u64; SENDERS];
        for _ in 0..SENDERS as u64 * EACH {
            let (sender, seq) = expect_message::<(usize, u64)>(me.recv().await);
            if seq != next[sender] {
                let _ = tx.send(Err((sender, next[sender], seq)));
                return;
            }
            next[sender] += 1;
        }
        let _ = tx.send(Ok(next));
    });
    for sender in 0..SENDERS {
        spawn(move |_| async move {
            for seq in 0..EACH {
                send(receiver, (sender, seq)).unwrap();
                if seq % 500 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
    }
    assert_eq!(
        within("the receiver", rx).await.unwrap(),
        Ok([EACH; SENDERS])
    );
}

/// A plain process with a bounded mailbox that does not receive until told; then it takes
/// every queued message and reports the user messages (u32) and whether a Down was among them.
struct Holder {
    pid: Pid,
    go: oneshot::Sender<()>,
    out: oneshot::Receiver<(Vec<u32>, usize)>,
}

fn spawn_holder(bound: MailboxBound, monitor: Option<Pid>) -> (Holder, oneshot::Receiver<()>) {
    let (go, go_rx) = oneshot::channel::<()>();
    let (out_tx, out) = oneshot::channel();
    let (ready_tx, ready_rx) = oneshot::channel();
    let pid = spawn_opt(
        SpawnOptions::new().mailbox(bound),
        move |mut me| async move {
            if let Some(target) = monitor {
                me.monitor(target);
            }
            let _ = ready_tx.send(());
            let _ = go_rx.await;
            let mut user = Vec::new();
            let mut downs = 0;
            while let Some(info) = me.try_recv() {
                match info {
                    Info::Down(_) => downs += 1,
                    other => user.push(expect_message::<u32>(other)),
                }
            }
            let _ = out_tx.send((user, downs));
        },
    );
    (Holder { pid, go, out }, ready_rx)
}

impl Holder {
    async fn contents(self) -> (Vec<u32>, usize) {
        self.go.send(()).unwrap();
        within("the holder", self.out).await.unwrap()
    }
}

/// Overflow::Error: a send to a full mailbox fails with MailboxFull and hands the message back;
/// what was queued is kept.
#[tokio::test]
async fn bounded_mailbox_error_hands_the_message_back() {
    let b = bound(3, Overflow::Error);
    let (holder, _) = spawn_holder(b, None);
    for i in 1..=3u32 {
        send(holder.pid, i).unwrap();
    }
    match send(holder.pid, 4u32) {
        Err(SendError::MailboxFull { pid, message }) => {
            assert_eq!(pid, holder.pid);
            assert_eq!(message.downcast::<u32>().unwrap(), 4);
        }
        other => panic!("expected MailboxFull, got {other:?}"),
    }
    let info = process_info(holder.pid).unwrap();
    assert_eq!(info.mailbox_len, 3);
    assert_eq!(info.mailbox_bound, Some(b));
    assert_eq!(info.mailbox_dropped, 0);
    assert_eq!(holder.contents().await, (vec![1, 2, 3], 0));
}

/// Overflow::DropNewest and Overflow::DropOldest: sends succeed; the messages that do not fit
/// (the newest), or the oldest ones that make room for them, are dropped and counted.
#[tokio::test]
async fn bounded_mailbox_drops_by_its_overflow_policy() {
    for (overflow, kept) in [
        (Overflow::DropNewest, [1, 2, 3]),
        (Overflow::DropOldest, [3, 4, 5]),
    ] {
        let (holder, _) = spawn_holder(bound(3, overflow), None);
        for i in 1..=5u32 {
            send(holder.pid, i).unwrap();
        }
        let info = process_info(holder.pid).unwrap();
        assert_eq!(info.mailbox_len, 3, "{overflow:?}");
        assert_eq!(info.mailbox_dropped, 2, "{overflow:?}");
        assert_eq!(holder.contents().await, (kept.to_vec(), 0), "{overflow:?}");
    }
}

/// Overflow::Wait: a plain `send` cannot wait, so it fails with MailboxFull and the message
/// back.
#[tokio::test]
async fn bounded_mailbox_wait_plain_send_fails_when_full() {
    let (holder, _) = spawn_holder(bound(2, Overflow::Wait), None);
    send(holder.pid, 1u32).unwrap();
    send(holder.pid, 2u32).unwrap();
    match send(holder.pid, 3u32) {
        Err(SendError::MailboxFull { message, .. }) => {
            assert_eq!(message.downcast::<u32>().unwrap(), 3)
        }
        other => panic!("expected MailboxFull, got {other:?}"),
    }
    assert_eq!(process_info(holder.pid).unwrap().mailbox_dropped, 0);
    assert_eq!(holder.contents().await, (vec![1, 2], 0));
}

/// The runtime's own messages (a Down) are never dropped by a bound, whatever the policy: only
/// user messages are.
#[tokio::test]
async fn bounded_mailbox_never_drops_runtime_messages() {
    for overflow in [
        Overflow::DropOldest,
        Overflow::DropNewest,
        Overflow::Error,
        Overflow::Wait,
    ] {
        let x = spawn_exit_on_message(ExitReason::Normal);
        let (holder, ready) = spawn_holder(bound(2, overflow), Some(x));
        ready.await.unwrap();
        send(x, Go).unwrap();
        assert_eq!(exit_reason(x).await, ExitReason::Normal);
        // The Down is queued; now fill the mailbox past its capacity with user messages.
        for i in 1..=3u32 {
            let _ = send(holder.pid, i);
        }
        let (user, downs) = holder.contents().await;
        assert_eq!(downs, 1, "{overflow:?} dropped the Down");
        match overflow {
            Overflow::DropOldest => assert_eq!(user, vec![3], "{overflow:?}"),
            _ => assert_eq!(user, vec![1], "{overflow:?}"),
        }
    }
}

/// The mailbox length is seen from outside, also for messages the process has taken into its
/// own buffer but not yet handled.
#[tokio::test]
async fn mailbox_len_is_observable_from_outside() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (took_tx, took_rx) = oneshot::channel();
    let (more_tx, more_rx) = oneshot::channel::<()>();
    let pid = spawn(move |mut me| async move {
        let _ = ready_tx.send(());
        let _ = go_rx.await;
        let a = expect_message::<u32>(me.recv().await);
        let b = expect_message::<u32>(me.recv().await);
        let _ = took_tx.send((a, b, me.mailbox_len()));
        let _ = more_rx.await;
    });
    ready_rx.await.unwrap();
    assert_eq!(process_info(pid).unwrap().mailbox_len, 0);
    for i in 0..5u32 {
        send(pid, i).unwrap();
    }
    assert_eq!(process_info(pid).unwrap().mailbox_len, 5);
    go_tx.send(()).unwrap();
    assert_eq!(took_rx.await.unwrap(), (0, 1, 3));
    assert_eq!(process_info(pid).unwrap().mailbox_len, 3);
    drop(more_tx);
    assert_eq!(exit_reason(pid).await, ExitReason::Normal);
}

/// A server for the bounded-mailbox tests: cast 0 blocks it until the gate opens; every cast
/// and call is logged when handled; a call replies with its argument.
struct Gate {
    gate: Arc<Notify>,
    log: mpsc::UnboundedSender<u32>,
}

impl GenServer for Gate {
    type Args = (Arc<Notify>, mpsc::UnboundedSender<u32>);
    type Call = u32;
    type Reply = u32;
    type Cast = u32;
    type Continue = ();

    async fn init((gate, log): Self::Args, _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Gate { gate, log })
    }

    async fn handle_call(&mut self, n: u32, _ctx: &mut Context<Self>) -> CallResult<Self> {
        let _ = self.log.send(n);
        CallResult::Reply(n)
    }

    async fn handle_cast(&mut self, n: u32, _ctx: &mut Context<Self>) -> Action<Self> {
        let _ = self.log.send(n);
        if n == 0 {
            self.gate.notified().await;
        }
        Action::NoReply
    }
}

/// A Gate server with a bounded mailbox of 2, blocked in cast 0, with casts 1 and 2 queued:
/// its mailbox is full.
async fn full_gate(
    overflow: Overflow,
) -> (ServerRef<Gate>, Arc<Notify>, mpsc::UnboundedReceiver<u32>) {
    let gate = Arc::new(Notify::new());
    let (log_tx, mut log) = mpsc::unbounded_channel();
    let server = Gate::start_with(
        (gate.clone(), log_tx),
        StartOptions::new().mailbox(bound(2, overflow)),
    )
    .await
    .unwrap();
    server.cast(0).unwrap();
    assert_eq!(within("cast 0", log.recv()).await, Some(0));
    server.cast(1).unwrap();
    server.cast(2).unwrap();
    assert_eq!(server.mailbox_len(), 2);
    assert_eq!(process_info(server.pid()).unwrap().mailbox_len, 2);
    (server, gate, log)
}

/// The next `n` requests a Gate server handles; checks that nothing else was queued, with a
/// final call that must be handled right after them.
async fn logged(
    server: &ServerRef<Gate>,
    log: &mut mpsc::UnboundedReceiver<u32>,
    n: usize,
) -> Vec<u32> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(within("a handled request", log.recv()).await.unwrap());
    }
    // The mailbox is empty now: a call goes through and is handled next.
    assert_eq!(server.call(99).await, Ok(99));
    assert_eq!(log.recv().await, Some(99), "more was queued than expected");
    all
}

/// Overflow::Wait on a server: `cast` fails with the message back, while `cast_wait` and
/// `call` wait for room and then go through.
#[tokio::test]
async fn bounded_server_wait_policy() {
    let (server, gate, mut log) = full_gate(Overflow::Wait).await;
    assert_eq!(server.cast(3), Err(CastError::MailboxFull(3)));

    let mut cast_wait = Box::pin(server.cast_wait(4));
    assert!(
        (&mut cast_wait).now_or_never().is_none(),
        "cast_wait did not wait"
    );
    let mut call = Box::pin(server.call(5));
    assert!((&mut call).now_or_never().is_none(), "call did not wait");
    assert_eq!(server.mailbox_len(), 2);

    gate.notify_one();
    let (cast_result, call_result) = within("cast_wait and call", async {
        tokio::join!(cast_wait, call)
    })
    .await;
    assert_eq!(cast_result, Ok(()));
    assert_eq!(call_result, Ok(5));
    let mut seen = logged(&server, &mut log, 4).await;
    seen.sort_unstable();
    assert_eq!(seen, vec![1, 2, 4, 5]);
    assert_eq!(process_info(server.pid()).unwrap().mailbox_dropped, 0);
}

/// Overflow::Error on a server: cast and cast_wait fail with the message back, a call fails
/// with MailboxFull.
#[tokio::test]
async fn bounded_server_error_policy() {
    let (server, gate, mut log) = full_gate(Overflow::Error).await;
    assert_eq!(server.cast(3), Err(CastError::MailboxFull(3)));
    assert_eq!(server.cast_wait(4).await, Err(CastError::MailboxFull(4)));
    assert_eq!(server.call(5).await, Err(CallError::MailboxFull));
    gate.notify_one();
    assert_eq!(logged(&server, &mut log, 2).await, vec![1, 2]);
    assert_eq!(process_info(server.pid()).unwrap().mailbox_dropped, 0);
}

/// Overflow::DropNewest on a server: a cast that does not fit is dropped (and counted), a call
/// is refused rather than left without a reply.
#[tokio::test]
async fn bounded_server_drop_newest_policy() {
    let (server, gate, mut log) = full_gate(Overflow::DropNewest).await;
    assert_eq!(server.cast(3), Ok(()));
    assert_eq!(server.call(5).await, Err(CallError::MailboxFull));
    assert_eq!(process_info(server.pid()).unwrap().mailbox_dropped, 1);
    gate.notify_one();
    assert_eq!(logged(&server, &mut log, 2).await, vec![1, 2]);
}

/// Overflow::DropOldest on a server: a cast that does not fit pushes out the oldest queued one.
#[tokio::test]
async fn bounded_server_drop_oldest_policy() {
    let (server, gate, mut log) = full_gate(Overflow::DropOldest).await;
    assert_eq!(server.cast(3), Ok(()));
    assert_eq!(server.cast(4), Ok(()));
    assert_eq!(process_info(server.pid()).unwrap().mailbox_dropped, 2);
    assert_eq!(server.mailbox_len(), 2);
    gate.notify_one();
    assert_eq!(logged(&server, &mut log, 2).await, vec![3, 4]);
}

/// Overflow::DropOldest on a server: a queued call pushed out by a newer message is answered at
/// once with `MailboxFull` — its caller does not wait out its timeout, even an unlimited one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounded_server_drop_oldest_refuses_an_evicted_call_at_once() {
    let gate = Arc::new(Notify::new());
    let (log_tx, mut log) = mpsc::unbounded_channel();
    let server = Gate::start_with(
        (gate.clone(), log_tx),
        StartOptions::new().mailbox(bound(2, Overflow::DropOldest)),
    )
    .await
    .unwrap();
    server.cast(0).unwrap();
    assert_eq!(within("cast 0", log.recv()).await, Some(0));
    let caller = server.clone();
    let call = tokio::spawn(async move { caller.call_timeout(10, std::time::Duration::MAX).await });
    within("the call to be queued", async {
        while server.mailbox_len() < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    server.cast(1).unwrap();
    // The mailbox holds the call and cast 1: cast 2 pushes the call out.
    server.cast(2).unwrap();
    assert_eq!(
        within("the evicted call", call).await.unwrap(),
        Err(CallError::MailboxFull)
    );
    assert_eq!(process_info(server.pid()).unwrap().mailbox_dropped, 1);
    gate.notify_one();
    assert_eq!(logged(&server, &mut log, 2).await, vec![1, 2]);
}

/// Overflow::DropOldest never drops a stop asked with `ServerRef::stop`, even when it is the
/// oldest queued message: the user messages behind it make room instead.
#[tokio::test]
async fn bounded_server_drop_oldest_keeps_a_queued_stop() {
    let gate = Arc::new(Notify::new());
    let (log_tx, mut log) = mpsc::unbounded_channel();
    let server = Gate::start_with(
        (gate.clone(), log_tx),
        StartOptions::new().mailbox(bound(2, Overflow::DropOldest)),
    )
    .await
    .unwrap();
    server.cast(0).unwrap();
    assert_eq!(within("cast 0", log.recv()).await, Some(0));
    let mut stop = Box::pin(server.stop(ExitReason::Shutdown));
    assert!(
        (&mut stop).now_or_never().is_none(),
        "the stop did not wait"
    );
    for i in 1..=3 {
        assert_eq!(server.cast(i), Ok(()));
    }
    assert_eq!(process_info(server.pid()).unwrap().mailbox_dropped, 2);
    gate.notify_one();
    assert_eq!(within("the stop", stop).await, Ok(()));
    assert_eq!(server.wait_exit().await, ExitReason::Shutdown);
}

/// Overflow::Wait: a sender waiting for room in the mailbox of a server that then ends is not
/// left waiting: its cast is dropped, as a cast to an ended server is.
#[tokio::test]
async fn bounded_server_wait_sender_is_released_when_the_server_ends() {
    let (server, _gate, _log) = full_gate(Overflow::Wait).await;
    let mut cast_wait = Box::pin(server.cast_wait(4));
    assert!(
        (&mut cast_wait).now_or_never().is_none(),
        "cast_wait did not wait"
    );
    exit(server.pid(), ExitReason::Kill);
    assert_eq!(server.wait_exit().await, ExitReason::Killed);
    assert_eq!(within("cast_wait", cast_wait).await, Ok(()));
}
