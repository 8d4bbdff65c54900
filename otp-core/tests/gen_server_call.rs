//! GenServer call conformance: GS-05 (default timeout), GS-06 (timeouts), GS-07 (dead
//! server), GS-08 (calling self), GS-09 (server dies during a call), GS-10 (what `handle_call`
//! returns), GS-11 (replying from anywhere), plus the documented zero and unlimited timeouts and
//! calls to a full bounded mailbox.

use std::num::NonZeroUsize;
use std::time::Duration;

use otp_core::gen_server::{
    Action, CallError, CallResult, Context, DEFAULT_CALL_TIMEOUT, GenServer, Init, ReplyTo,
    ServerRef, StartOptions,
};
use otp_core::process::{ExitReason, MailboxBound, Overflow, exit};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

type Reply = Result<u32, CallError>;

/// The requests of the test server.
enum Req {
    /// Replies with the number.
    Echo(u32),
    /// Keeps the reply handle without replying.
    Hold,
    /// Panics.
    Panic,
    /// Stops with the reason without replying.
    StopNoReply(ExitReason),
    /// Replies, then stops with the reason.
    ReplyThenStop(u32, ExitReason),
    /// Replies with the number from a tokio task after a delay.
    DeferToTask(u32, Duration),
    /// Replies with the number from another process.
    DeferToProcess(u32),
    /// Calls itself through its own `ServerRef`.
    CallSelf,
    /// Calls itself through its registered name.
    CallSelfByName(&'static str),
    /// Awaits something that never comes, inside the handler.
    Stall,
}

/// The casts of the test server.
#[derive(Debug)]
enum Cast {
    /// Answers the held call with the number.
    Release(u32),
    /// Blocks the server until the gate opens (or its sender is dropped).
    Block(oneshot::Receiver<()>),
    /// Does nothing.
    Noop,
}

/// What the test server reports to the test.
#[derive(Debug, PartialEq)]
enum Event {
    /// A `Hold` call arrived.
    Held,
    /// The server is blocked on a gate.
    Blocked,
    /// A `Noop` cast was handled.
    Noop,
    /// A reply was sent from elsewhere; whether the caller was still waiting.
    Replied(bool),
    Terminate(ExitReason),
}

struct Server {
    tx: mpsc::UnboundedSender<Event>,
    held: Option<ReplyTo<Server>>,
}

impl GenServer for Server {
    type Args = mpsc::UnboundedSender<Event>;
    type Call = Req;
    type Reply = Reply;
    type Cast = Cast;
    type Continue = ();

    async fn init(tx: Self::Args, _: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Server { tx, held: None })
    }

    async fn handle_call(&mut self, req: Req, ctx: &mut Context<Self>) -> CallResult<Self> {
        match req {
            Req::Echo(n) => CallResult::Reply(Ok(n)),
            Req::Hold => {
                self.held = ctx.defer_reply();
                let _ = self.tx.send(Event::Held);
                CallResult::NoReply(Action::NoReply)
            }
            Req::Panic => panic!("boom"),
            Req::StopNoReply(reason) => CallResult::NoReply(Action::Stop(reason)),
            Req::ReplyThenStop(n, reason) => CallResult::ReplyThen(Ok(n), Action::Stop(reason)),
            Req::DeferToTask(n, delay) => {
                let from = ctx.defer_reply().unwrap();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Event::Replied(from.reply(Ok(n))));
                });
                CallResult::NoReply(Action::NoReply)
            }
            Req::DeferToProcess(n) => {
                let from = ctx.defer_reply().unwrap();
                let tx = self.tx.clone();
                ctx.spawn(move |_me| async move {
                    let _ = tx.send(Event::Replied(from.reply(Ok(n))));
                });
                CallResult::NoReply(Action::NoReply)
            }
            Req::CallSelf => {
                CallResult::Reply(ctx.server_ref().call(Req::Echo(1)).await.and_then(|r| r))
            }
            Req::Stall => {
                std::future::pending::<()>().await;
                CallResult::Reply(Ok(0))
            }
            Req::CallSelfByName(name) => {
                let me = ServerRef::<Server>::whereis(name).unwrap();
                CallResult::Reply(me.call(Req::Echo(1)).await.and_then(|r| r))
            }
        }
    }

    async fn handle_cast(&mut self, cast: Cast, _: &mut Context<Self>) -> Action<Self> {
        match cast {
            Cast::Release(n) => {
                let from = self.held.take().unwrap();
                let _ = self.tx.send(Event::Replied(from.reply(Ok(n))));
            }
            Cast::Block(gate) => {
                let _ = self.tx.send(Event::Blocked);
                let _ = gate.await;
            }
            Cast::Noop => {
                let _ = self.tx.send(Event::Noop);
            }
        }
        Action::NoReply
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        let _ = self.tx.send(Event::Terminate(reason.clone()));
    }
}

async fn start() -> (ServerRef<Server>, mpsc::UnboundedReceiver<Event>) {
    start_with(StartOptions::new()).await
}

async fn start_with(options: StartOptions) -> (ServerRef<Server>, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Server::start_with(tx, options).await.unwrap(), rx)
}

fn silence_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&"boom") {
                default(info);
            }
        }));
    });
}

/// GS-05: the default call timeout is 5 s: a server that never replies makes `call` fail with
/// `Timeout` after 5 s of (paused) time, and not before.
#[tokio::test(start_paused = true)]
async fn gs05_default_call_timeout_is_five_seconds() {
    assert_eq!(DEFAULT_CALL_TIMEOUT, Duration::from_secs(5));
    let (server, _rx) = start().await;

    // Not before 5 s: the call is still waiting just short of it.
    let early = tokio::time::timeout(Duration::from_millis(4_999), server.call(Req::Hold)).await;
    assert!(early.is_err(), "call returned before 5 s: {early:?}");

    let t0 = Instant::now();
    assert_eq!(server.call(Req::Hold).await, Err(CallError::Timeout));
    assert!(t0.elapsed() >= Duration::from_secs(5), "{:?}", t0.elapsed());
    assert!(server.is_alive());
}

/// GS-06: a call to an idle server whose handler never finishes (it awaits something that never
/// comes) times out after its timeout, and not before. (Such a call arms no timer when queued:
/// the server wakes the caller when the handler does not finish at once.)
#[tokio::test(start_paused = true)]
async fn gs06_call_times_out_when_the_handler_never_finishes() {
    let (server, _rx) = start().await;
    let t0 = Instant::now();
    let call = server.call_timeout(Req::Stall, Duration::from_secs(2));
    let outcome = tokio::time::timeout(Duration::from_secs(10), call).await;
    assert_eq!(
        outcome,
        Ok(Err(CallError::Timeout)),
        "the call must time out by itself"
    );
    assert!(t0.elapsed() >= Duration::from_secs(2), "{:?}", t0.elapsed());
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
    assert!(server.is_alive());
}

/// GS-06: a call queued while the server is busy in another handler times out after its
/// timeout; once free, the server handles it and the late reply is dropped.
#[tokio::test(start_paused = true)]
async fn gs06_call_queued_behind_a_busy_server_times_out() {
    let (server, mut rx) = start().await;
    let (gate_tx, gate_rx) = oneshot::channel();
    server.cast(Cast::Block(gate_rx)).unwrap();
    assert_eq!(rx.recv().await, Some(Event::Blocked));
    let t0 = Instant::now();
    assert_eq!(
        server
            .call_timeout(Req::Echo(1), Duration::from_secs(1))
            .await,
        Err(CallError::Timeout)
    );
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());
    gate_tx.send(()).unwrap();
    assert_eq!(server.call(Req::Echo(2)).await, Ok(Ok(2)));
}

/// GS-06: a call timeout leaves the server unaffected; a late reply is dropped (`reply`
/// returns false) and the next call gets its own reply.
#[tokio::test(start_paused = true)]
async fn gs06_call_timeout_late_reply_is_dropped() {
    let (server, mut rx) = start().await;
    let t0 = Instant::now();
    assert_eq!(
        server.call_timeout(Req::Hold, Duration::from_secs(1)).await,
        Err(CallError::Timeout)
    );
    assert!(t0.elapsed() >= Duration::from_secs(1));
    assert_eq!(rx.recv().await, Some(Event::Held));
    assert!(server.is_alive());

    server.cast(Cast::Release(7)).unwrap();
    assert_eq!(rx.recv().await, Some(Event::Replied(false)));
    assert_eq!(server.call(Req::Echo(3)).await, Ok(Ok(3)));
    assert!(server.is_alive());
}

/// GS-07: a call to a server that has ended → `NoProc`.
#[tokio::test]
async fn gs07_call_to_a_dead_server_is_noproc() {
    let (server, _rx) = start().await;
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(server.call(Req::Echo(1)).await, Err(CallError::NoProc));
    assert_eq!(
        server
            .call_timeout(Req::Echo(1), Duration::from_secs(1))
            .await,
        Err(CallError::NoProc)
    );

    let (killed, _rx) = start().await;
    exit(killed.pid(), ExitReason::Kill);
    assert_eq!(killed.wait_exit().await, ExitReason::Killed);
    assert_eq!(killed.call(Req::Echo(1)).await, Err(CallError::NoProc));
}

/// GS-08: a server calling itself gets `CallingSelf` at once instead of hanging.
#[tokio::test]
async fn gs08_call_to_self_is_an_error() {
    let (server, _rx) = start().await;
    // An outer limit, so a regression fails instead of hanging.
    let reply = tokio::time::timeout(Duration::from_secs(60), server.call(Req::CallSelf))
        .await
        .unwrap();
    assert_eq!(reply, Ok(Err(CallError::CallingSelf)));
    assert!(server.is_alive());
}

/// GS-08: also through its registered name.
#[tokio::test]
async fn gs08_call_to_self_by_name_is_an_error() {
    let (server, _rx) = start_with(StartOptions::new().name("gs08_self")).await;
    let reply = tokio::time::timeout(
        Duration::from_secs(60),
        server.call(Req::CallSelfByName("gs08_self")),
    )
    .await
    .unwrap();
    assert_eq!(reply, Ok(Err(CallError::CallingSelf)));
}

/// GS-09: the server panics while serving the call → `Exited(Panic(..))`.
#[tokio::test]
async fn gs09_server_panics_during_call() {
    silence_panics();
    let (server, mut rx) = start().await;
    let reason = ExitReason::Panic("boom".into());
    assert_eq!(
        server.call(Req::Panic).await,
        Err(CallError::Exited(reason.clone()))
    );
    assert_eq!(server.wait_exit().await, reason);
    assert_eq!(rx.recv().await, Some(Event::Terminate(reason)));
}

/// GS-09: the server stops without replying → `Exited(reason)`.
#[tokio::test]
async fn gs09_server_stops_during_call() {
    let (server, _rx) = start().await;
    let reason = ExitReason::shutdown_with("bye");
    assert_eq!(
        server.call(Req::StopNoReply(reason.clone())).await,
        Err(CallError::Exited(reason.clone()))
    );
    assert_eq!(server.wait_exit().await, reason);
}

/// GS-09: the server is killed while the caller waits → `Exited(Killed)`.
#[tokio::test]
async fn gs09_server_killed_during_call() {
    let (server, mut rx) = start().await;
    let pid = server.pid();
    let (reply, ()) = tokio::join!(server.call(Req::Hold), async {
        assert_eq!(rx.recv().await, Some(Event::Held));
        exit(pid, ExitReason::Kill);
    });
    assert_eq!(reply, Err(CallError::Exited(ExitReason::Killed)));
}

/// GS-10: `ReplyThen(.., Action::Stop)`: `terminate` runs, then the reply is delivered, then
/// the server exits with the reason.
#[tokio::test]
async fn gs10_reply_then_stop_terminates_then_replies() {
    let (server, mut rx) = start().await;
    let reason = ExitReason::Shutdown;
    assert_eq!(
        server.call(Req::ReplyThenStop(5, reason.clone())).await,
        Ok(Ok(5))
    );
    // terminate ran before the reply was sent.
    assert_eq!(rx.try_recv().ok(), Some(Event::Terminate(reason.clone())));
    assert_eq!(server.wait_exit().await, reason);
}

/// GS-10 / GS-11: `NoReply` with the deferred `ReplyTo` answered later from another task;
/// `reply` returns true because the caller was waiting.
#[tokio::test(start_paused = true)]
async fn gs10_noreply_then_deferred_reply_from_a_task() {
    let (server, mut rx) = start().await;
    let t0 = Instant::now();
    assert_eq!(
        server
            .call(Req::DeferToTask(9, Duration::from_secs(2)))
            .await,
        Ok(Ok(9))
    );
    assert!(t0.elapsed() >= Duration::from_secs(2));
    assert_eq!(rx.recv().await, Some(Event::Replied(true)));
    // The server went on serving while the reply was pending.
    assert_eq!(server.call(Req::Echo(1)).await, Ok(Ok(1)));
}

/// GS-10: the server keeps serving other calls while a deferred reply is pending.
#[tokio::test(start_paused = true)]
async fn gs10_server_serves_others_while_a_reply_is_deferred() {
    let (server, _rx) = start().await;
    let (slow, fast) = tokio::join!(
        server.call(Req::DeferToTask(1, Duration::from_secs(3))),
        async {
            tokio::task::yield_now().await;
            server.call(Req::Echo(2)).await
        }
    );
    assert_eq!(slow, Ok(Ok(1)));
    assert_eq!(fast, Ok(Ok(2)));
}

/// GS-11: the reply handle can be moved to and used from another process.
#[tokio::test]
async fn gs11_reply_from_another_process() {
    let (server, mut rx) = start().await;
    assert_eq!(server.call(Req::DeferToProcess(4)).await, Ok(Ok(4)));
    assert_eq!(rx.recv().await, Some(Event::Replied(true)));
}

/// GS-11: `reply` after the caller gave up returns false; `is_waiting` tells beforehand.
#[tokio::test(start_paused = true)]
async fn gs11_reply_returns_whether_the_caller_waited() {
    let (server, mut rx) = start().await;
    assert_eq!(
        server
            .call_timeout(
                Req::DeferToTask(4, Duration::from_secs(10)),
                Duration::from_secs(1)
            )
            .await,
        Err(CallError::Timeout)
    );
    assert_eq!(rx.recv().await, Some(Event::Replied(false)));
}

/// GS-06 (documented edge): a zero timeout returns `Timeout`, and the server is unaffected.
#[tokio::test]
async fn gs06_zero_timeout_times_out() {
    let (server, _rx) = start().await;
    assert_eq!(
        server.call_timeout(Req::Echo(1), Duration::ZERO).await,
        Err(CallError::Timeout)
    );
    assert_eq!(server.call(Req::Echo(2)).await, Ok(Ok(2)));
}

/// GS-05 (`:infinity`): `Duration::MAX` waits without limit.
#[tokio::test(start_paused = true)]
async fn gs05_duration_max_waits_without_limit() {
    let (server, _rx) = start().await;
    let hour = Duration::from_secs(3_600);
    let t0 = Instant::now();
    assert_eq!(
        server
            .call_timeout(Req::DeferToTask(8, hour), Duration::MAX)
            .await,
        Ok(Ok(8))
    );
    assert!(t0.elapsed() >= hour);
}

fn bound(capacity: usize, overflow: Overflow) -> StartOptions {
    StartOptions::new().mailbox(MailboxBound::new(
        NonZeroUsize::new(capacity).unwrap(),
        overflow,
    ))
}

/// A server whose mailbox holds one message, with this overflow policy, blocked on a gate with
/// its mailbox full (of a `Noop` cast).
struct Full {
    server: ServerRef<Server>,
    events: mpsc::UnboundedReceiver<Event>,
    gate: oneshot::Sender<()>,
}

impl Full {
    async fn start(overflow: Overflow) -> Full {
        let (server, mut events) = start_with(bound(1, overflow)).await;
        let (gate, gate_rx) = oneshot::channel();
        server.cast(Cast::Block(gate_rx)).unwrap();
        assert_eq!(events.recv().await, Some(Event::Blocked));
        server.cast(Cast::Noop).unwrap();
        Full {
            server,
            events,
            gate,
        }
    }

    /// Opens the gate, and checks that the server handles the queued cast and answers again.
    async fn goes_on(mut self) {
        self.gate.send(()).unwrap();
        assert_eq!(self.events.recv().await, Some(Event::Noop));
        assert_eq!(self.server.call(Req::Echo(2)).await, Ok(Ok(2)));
    }
}

/// A call to a full bounded mailbox with policy `Error` → `MailboxFull`; the server goes on.
#[tokio::test]
async fn call_to_a_full_mailbox_with_overflow_error() {
    let full = Full::start(Overflow::Error).await;
    assert!(matches!(
        full.server.cast(Cast::Noop),
        Err(otp_core::gen_server::CastError::MailboxFull(Cast::Noop))
    ));
    assert_eq!(
        full.server.call(Req::Echo(1)).await,
        Err(CallError::MailboxFull)
    );
    full.goes_on().await;
}

/// A call to a full bounded mailbox with policy `DropNewest` is refused, not dropped.
#[tokio::test]
async fn call_to_a_full_mailbox_with_overflow_drop_newest() {
    let full = Full::start(Overflow::DropNewest).await;
    assert_eq!(
        full.server.call(Req::Echo(1)).await,
        Err(CallError::MailboxFull)
    );
    full.goes_on().await;
}

/// With policy `Wait`, the wait for room counts against the call timeout.
#[tokio::test(start_paused = true)]
async fn call_to_a_full_mailbox_with_overflow_wait_times_out() {
    let full = Full::start(Overflow::Wait).await;
    let t0 = Instant::now();
    assert_eq!(
        full.server
            .call_timeout(Req::Echo(1), Duration::from_secs(1))
            .await,
        Err(CallError::Timeout)
    );
    assert!(t0.elapsed() >= Duration::from_secs(1));
    full.goes_on().await;
}
