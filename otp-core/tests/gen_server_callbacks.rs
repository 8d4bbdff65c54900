//! GenServer callback conformance: GS-12 (cast), GS-13 (handle_continue), GS-14 (idle
//! timeout), GS-15 (hibernation), GS-16 and GS-17 (when and when not `terminate` runs), GS-18
//! (error logs), GS-19 (stop), GS-22 (default callbacks), and untyped messages dispatched by
//! type in `handle_info`.

mod common;

use common::Logs;

use std::time::Duration;

use otp_core::gen_server::{
    Action, CallResult, Context, GenServer, Init, ServerRef, StartOptions, StopError,
};
use otp_core::name::send;
use otp_core::process::{
    ExitReason, Info, Pid, ProcessStatus, exit, is_alive, process_info, spawn, wait_exit,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Waits (yielding, never sleeping) until `pid`'s status is `want`; false if it never is.
async fn status_becomes(pid: Pid, want: ProcessStatus) -> bool {
    for _ in 0..10_000 {
        if process_info(pid).map(|i| i.status) == Some(want) {
            return true;
        }
        tokio::task::yield_now().await;
    }
    false
}

// ---------------------------------------------------------------------------------------------
// GS-12, GS-13: a server that logs what it handles, in order.

/// Where a continue is asked from.
#[derive(Clone, Copy, Debug, PartialEq)]
enum From {
    Plain,
    Init,
}

#[derive(Debug)]
enum LogCall {
    /// Returns the log.
    Log,
    /// Casts a note to itself, then replies and continues.
    Continue,
}

#[derive(Debug, PartialEq)]
enum LogCast {
    Note(&'static str),
    /// Casts a note to itself, then continues.
    Continue,
}

/// An untyped message that makes `handle_info` cast a note to itself, then continue.
struct InfoContinue;

struct Logger {
    log: Vec<String>,
}

impl GenServer for Logger {
    type Args = From;
    type Call = LogCall;
    type Reply = Vec<String>;
    type Cast = LogCast;
    type Continue = (&'static str, u32);

    async fn init(from: From, ctx: &mut Context<Self>) -> Init<Self> {
        let state = Logger { log: Vec::new() };
        if from == From::Init {
            // Queued before the continue runs.
            send(ctx.pid(), "info-before").unwrap();
            ctx.server_ref().cast(LogCast::Note("cast-before")).unwrap();
            return Init::OkThen(state, Action::Continue(("init", 2)));
        }
        Init::Ok(state)
    }

    async fn handle_call(&mut self, call: LogCall, ctx: &mut Context<Self>) -> CallResult<Self> {
        match call {
            LogCall::Log => CallResult::Reply(self.log.clone()),
            LogCall::Continue => {
                ctx.server_ref().cast(LogCast::Note("queued")).unwrap();
                CallResult::ReplyThen(Vec::new(), Action::Continue(("call", 1)))
            }
        }
    }

    async fn handle_cast(&mut self, cast: LogCast, ctx: &mut Context<Self>) -> Action<Self> {
        match cast {
            LogCast::Note(note) => {
                self.log.push(format!("cast:{note}"));
                Action::NoReply
            }
            LogCast::Continue => {
                ctx.server_ref().cast(LogCast::Note("queued")).unwrap();
                Action::Continue(("cast", 0))
            }
        }
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        let Info::Message(m) = info else {
            return Action::NoReply;
        };
        match m.downcast::<InfoContinue>() {
            Ok(InfoContinue) => {
                ctx.server_ref().cast(LogCast::Note("queued")).unwrap();
                Action::Continue(("info", 0))
            }
            Err(m) => {
                let note = m.downcast::<&'static str>().unwrap_or("?");
                self.log.push(format!("info:{note}"));
                Action::NoReply
            }
        }
    }

    async fn handle_continue(
        &mut self,
        (from, n): (&'static str, u32),
        _: &mut Context<Self>,
    ) -> Action<Self> {
        self.log.push(format!("cont:{from}:{n}"));
        if n > 0 {
            Action::Continue((from, n - 1))
        } else {
            Action::NoReply
        }
    }
}

/// GS-12: `cast` returns `Ok` at once; the message is handled later.
#[tokio::test]
async fn gs12_cast_returns_at_once() {
    let server = Logger::start(From::Plain).await.unwrap();
    // Returned without the server having run (current-thread runtime, no await in between).
    assert_eq!(server.cast(LogCast::Note("a")), Ok(()));
    assert_eq!(server.mailbox_len(), 1);
    assert_eq!(server.call(LogCall::Log).await.unwrap(), vec!["cast:a"]);
}

/// GS-12: a cast to a server that has ended is `Ok` and dropped.
#[tokio::test]
async fn gs12_cast_to_a_dead_server_is_ok() {
    let server = Logger::start(From::Plain).await.unwrap();
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(server.cast(LogCast::Note("lost")), Ok(()));
    assert_eq!(server.cast_wait(LogCast::Note("lost")).await, Ok(()));
}

/// GS-13: a continue from `init` runs (and chains) before messages queued during `init`.
#[tokio::test]
async fn gs13_continue_from_init_runs_first() {
    let server = Logger::start(From::Init).await.unwrap();
    assert_eq!(
        server.call(LogCall::Log).await.unwrap(),
        vec![
            "cont:init:2",
            "cont:init:1",
            "cont:init:0",
            "info:info-before",
            "cast:cast-before"
        ]
    );
}

/// GS-13: a continue from `handle_call` runs (and chains) before a message queued by the
/// handler.
#[tokio::test]
async fn gs13_continue_from_call() {
    let server = Logger::start(From::Plain).await.unwrap();
    server.call(LogCall::Continue).await.unwrap();
    assert_eq!(
        server.call(LogCall::Log).await.unwrap(),
        vec!["cont:call:1", "cont:call:0", "cast:queued"]
    );
}

/// GS-13: a continue from `handle_cast` runs before a message queued by the handler.
#[tokio::test]
async fn gs13_continue_from_cast() {
    let server = Logger::start(From::Plain).await.unwrap();
    server.cast(LogCast::Continue).unwrap();
    // This call was queued before the handler ran; the continue still comes first.
    assert_eq!(
        server.call(LogCall::Log).await.unwrap(),
        vec!["cont:cast:0"]
    );
    assert_eq!(
        server.call(LogCall::Log).await.unwrap(),
        vec!["cont:cast:0", "cast:queued"]
    );
}

/// GS-13: a continue from `handle_info` runs before a message queued by the handler.
#[tokio::test]
async fn gs13_continue_from_info() {
    let server = Logger::start(From::Plain).await.unwrap();
    send(server.pid(), InfoContinue).unwrap();
    // This call was queued before the handler ran; the continue still comes first.
    assert_eq!(
        server.call(LogCall::Log).await.unwrap(),
        vec!["cont:info:0"]
    );
    assert_eq!(
        server.call(LogCall::Log).await.unwrap(),
        vec!["cont:info:0", "cast:queued"]
    );
}

// ---------------------------------------------------------------------------------------------
// GS-14: idle timeout.

#[derive(Debug)]
enum IdleCast {
    /// Returns `Action::Timeout` with this duration.
    Idle(Duration),
    Noop,
}

struct Idle {
    tx: mpsc::UnboundedSender<Instant>,
    timeouts: u32,
}

impl GenServer for Idle {
    type Args = mpsc::UnboundedSender<Instant>;
    type Call = ();
    type Reply = u32;
    type Cast = IdleCast;
    type Continue = ();

    async fn init(tx: Self::Args, _: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Idle { tx, timeouts: 0 })
    }

    async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(self.timeouts)
    }

    async fn handle_cast(&mut self, cast: IdleCast, _: &mut Context<Self>) -> Action<Self> {
        match cast {
            IdleCast::Idle(after) => Action::Timeout(after),
            IdleCast::Noop => Action::NoReply,
        }
    }

    async fn handle_info(&mut self, info: Info, _: &mut Context<Self>) -> Action<Self> {
        if let Info::Timeout = info {
            self.timeouts += 1;
            let _ = self.tx.send(Instant::now());
        }
        Action::NoReply
    }
}

/// GS-14: with `Action::Timeout(d)` and no message, `handle_info` gets `Info::Timeout` after d.
#[tokio::test(start_paused = true)]
async fn gs14_timeout_fires_after_the_idle_time() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = Idle::start(tx).await.unwrap();
    let t0 = Instant::now();
    server.cast(IdleCast::Idle(Duration::from_secs(1))).unwrap();
    let fired = rx.recv().await.unwrap();
    assert!(fired - t0 >= Duration::from_secs(1), "{:?}", fired - t0);
    assert_eq!(server.call(()).await.unwrap(), 1);
}

/// GS-14: a message arriving before the idle time cancels the timeout.
#[tokio::test(start_paused = true)]
async fn gs14_a_message_cancels_the_timeout() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let server = Idle::start(tx).await.unwrap();
    server
        .cast(IdleCast::Idle(Duration::from_secs(10)))
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    server.cast(IdleCast::Noop).unwrap();
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(server.call(()).await.unwrap(), 0);
}

/// GS-14: if a message is already queued, the timeout is ignored (even a zero one).
#[tokio::test(start_paused = true)]
async fn gs14_a_queued_message_wins_over_a_zero_timeout() {
    let (tx, _rx) = mpsc::unbounded_channel();
    let server = Idle::start(tx).await.unwrap();
    // Both queued before the server runs (current-thread runtime, no await in between).
    server.cast(IdleCast::Idle(Duration::ZERO)).unwrap();
    server.cast(IdleCast::Noop).unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(server.call(()).await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// GS-15: hibernation.

struct Sleepy(u32);

impl GenServer for Sleepy {
    type Args = ();
    type Call = ();
    type Reply = u32;
    type Cast = bool;
    type Continue = ();

    async fn init(_: (), _: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Sleepy(0))
    }

    async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(self.0)
    }

    /// Counts; hibernates if asked.
    async fn handle_cast(&mut self, hibernate: bool, _: &mut Context<Self>) -> Action<Self> {
        self.0 += 1;
        if hibernate {
            Action::Hibernate
        } else {
            Action::NoReply
        }
    }
}

/// GS-15: `Action::Hibernate` shows as `Hibernating`; the state is kept through the next
/// message, after which the server waits normally.
#[tokio::test]
async fn gs15_hibernate_keeps_the_state() {
    let server = Sleepy::start(()).await.unwrap();
    server.cast(true).unwrap();
    assert!(status_becomes(server.pid(), ProcessStatus::Hibernating).await);
    assert_eq!(server.call(()).await.unwrap(), 1);
    assert!(status_becomes(server.pid(), ProcessStatus::Waiting).await);
    server.cast(false).unwrap();
    assert_eq!(server.call(()).await.unwrap(), 2);
}

/// GS-15: `hibernate_after` hibernates an idle server; not before the idle time.
#[tokio::test(start_paused = true)]
async fn gs15_hibernate_after_idle_time() {
    let options = StartOptions::new().hibernate_after(Duration::from_secs(1));
    let server = Sleepy::start_with((), options).await.unwrap();
    server.cast(false).unwrap();
    assert_eq!(server.call(()).await.unwrap(), 1);
    // Idle, but less than the idle time (the paused clock does not move while we yield).
    assert!(status_becomes(server.pid(), ProcessStatus::Waiting).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(status_becomes(server.pid(), ProcessStatus::Hibernating).await);
    server.cast(false).unwrap();
    assert_eq!(server.call(()).await.unwrap(), 2);
    assert!(status_becomes(server.pid(), ProcessStatus::Waiting).await);
}

// ---------------------------------------------------------------------------------------------
// GS-16 .. GS-19: `terminate` and `stop`.

/// What the `Term` server reports.
#[derive(Debug, PartialEq)]
enum Event {
    Init(Pid),
    Blocked,
    Note(u32),
    InfoExit(Option<Pid>, ExitReason),
    Terminate(ExitReason),
}

struct TermArgs {
    tx: mpsc::UnboundedSender<Event>,
    trap: bool,
    terminate_panics: bool,
}

fn term_args(trap: bool) -> (TermArgs, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let args = TermArgs {
        tx,
        trap,
        terminate_panics: false,
    };
    (args, rx)
}

#[derive(Debug)]
enum TermCast {
    Stop(ExitReason),
    Panic,
    Block(oneshot::Receiver<()>),
    Note(u32),
    /// Spawns a linked child that fails with this reason.
    LinkChild(ExitReason),
}

#[derive(Debug)]
enum TermCall {
    Ping,
    /// Stops itself synchronously (which must fail).
    StopSelf,
}

struct Term {
    tx: mpsc::UnboundedSender<Event>,
    terminate_panics: bool,
}

impl GenServer for Term {
    type Args = TermArgs;
    type Call = TermCall;
    type Reply = Result<(), StopError>;
    type Cast = TermCast;
    type Continue = ();

    async fn init(args: TermArgs, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(args.trap);
        let _ = args.tx.send(Event::Init(ctx.pid()));
        Init::Ok(Term {
            tx: args.tx,
            terminate_panics: args.terminate_panics,
        })
    }

    async fn handle_call(&mut self, call: TermCall, ctx: &mut Context<Self>) -> CallResult<Self> {
        match call {
            TermCall::Ping => CallResult::Reply(Ok(())),
            TermCall::StopSelf => {
                CallResult::Reply(ctx.server_ref().stop(ExitReason::Normal).await)
            }
        }
    }

    async fn handle_cast(&mut self, cast: TermCast, ctx: &mut Context<Self>) -> Action<Self> {
        match cast {
            TermCast::Stop(reason) => return Action::Stop(reason),
            TermCast::Panic => panic!("cast panic"),
            TermCast::Block(gate) => {
                let _ = self.tx.send(Event::Blocked);
                let _ = gate.await;
            }
            TermCast::Note(n) => {
                let _ = self.tx.send(Event::Note(n));
            }
            TermCast::LinkChild(reason) => {
                ctx.spawn_link(move |_| async move { reason });
            }
        }
        Action::NoReply
    }

    async fn handle_info(&mut self, info: Info, _: &mut Context<Self>) -> Action<Self> {
        if let Info::Exit(signal) = info {
            let _ = self
                .tx
                .send(Event::InfoExit(signal.from(), signal.reason().clone()));
        }
        Action::NoReply
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        let _ = self.tx.send(Event::Terminate(reason.clone()));
        if self.terminate_panics {
            panic!("terminate panic");
        }
    }
}

/// Starts a `Term` server linked to a new parent process, and returns the parent, the
/// server and its events. The parent runs `then` with the server, then exits with its result.
async fn start_under_parent<F, Fut>(
    trap: bool,
    then: F,
) -> (Pid, ServerRef<Term>, mpsc::UnboundedReceiver<Event>)
where
    F: FnOnce(ServerRef<Term>) -> Fut + Send + 'static,
    Fut: Future<Output = ExitReason> + Send + 'static,
{
    let (args, mut rx) = term_args(trap);
    let (ready_tx, ready_rx) = oneshot::channel();
    let parent = spawn(move |_me| async move {
        let server = Term::start_link(args).await.unwrap();
        let _ = ready_tx.send(server.clone());
        then(server).await
    });
    let server = ready_rx.await.unwrap();
    assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
    (parent, server, rx)
}

/// GS-16: `terminate` runs on `Action::Stop`, with the reason.
#[tokio::test]
async fn gs16_terminate_runs_on_stop_action() {
    let (args, mut rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    let reason = ExitReason::shutdown_with("done");
    server.cast(TermCast::Stop(reason.clone())).unwrap();
    assert_eq!(server.wait_exit().await, reason);
    assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
    assert_eq!(rx.recv().await, Some(Event::Terminate(reason)));
}

/// GS-16: `terminate` runs when a handler panics, with the panic as the reason.
#[tokio::test]
async fn gs16_terminate_runs_on_a_panic() {
    common::quiet_panics();
    let (args, mut rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    server.cast(TermCast::Panic).unwrap();
    let reason = ExitReason::Panic("cast panic".into());
    assert_eq!(server.wait_exit().await, reason);
    assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
    assert_eq!(rx.recv().await, Some(Event::Terminate(reason)));
}

/// GS-16: a trapping server whose parent exits runs `terminate` with the parent's reason.
#[tokio::test]
async fn gs16_terminate_runs_on_parent_exit_when_trapping() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (parent, server, mut rx) = start_under_parent(true, move |_| async move {
        let _ = go_rx.await;
        ExitReason::Shutdown
    })
    .await;
    go_tx.send(()).unwrap();
    assert_eq!(wait_exit(parent).await, ExitReason::Shutdown);
    assert_eq!(server.wait_exit().await, ExitReason::Shutdown);
    assert_eq!(
        rx.recv().await,
        Some(Event::Terminate(ExitReason::Shutdown))
    );
}

/// GS-16: an `EXIT` from a linked process that is not the parent goes to `handle_info`, and
/// the server goes on.
#[tokio::test]
async fn gs16_other_exit_goes_to_handle_info() {
    let (args, mut rx) = term_args(true);
    let server = Term::start(args).await.unwrap();
    assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
    let reason = ExitReason::error("child failed");
    server.cast(TermCast::LinkChild(reason.clone())).unwrap();
    match rx.recv().await {
        Some(Event::InfoExit(_, r)) => assert_eq!(r, reason),
        other => panic!("expected InfoExit, got {other:?}"),
    }
    assert_eq!(server.call(TermCall::Ping).await, Ok(Ok(())));
    server.stop(ExitReason::Normal).await.unwrap();
    // The next event is the terminate of this stop: none ran before.
    assert_eq!(rx.recv().await, Some(Event::Terminate(ExitReason::Normal)));
}

/// GS-16: an exit signal ends the server without `terminate` when it is `kill` (even for a
/// server that traps exits), or when the server does not trap exits (a non-normal reason sent
/// with `exit`).
#[tokio::test]
async fn gs16_no_terminate_on_kill_or_when_not_trapping() {
    for (trap, signal, ends) in [
        (true, ExitReason::Kill, ExitReason::Killed),
        (false, ExitReason::Shutdown, ExitReason::Shutdown),
    ] {
        let (args, mut rx) = term_args(trap);
        let server = Term::start(args).await.unwrap();
        exit(server.pid(), signal);
        assert_eq!(server.wait_exit().await, ends);
        assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
        // The state (holding the only sender) is gone, without a Terminate.
        assert_eq!(rx.recv().await, None, "trapping: {trap}");
    }
}

/// GS-16: a non-normal exit signal through a link ends a non-trapping server without
/// `terminate`, even from its parent.
#[tokio::test]
async fn gs16_no_terminate_on_link_exit_when_not_trapping() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (parent, server, mut rx) = start_under_parent(false, move |_| async move {
        let _ = go_rx.await;
        ExitReason::error("parent died")
    })
    .await;
    go_tx.send(()).unwrap();
    assert_eq!(wait_exit(parent).await, ExitReason::error("parent died"));
    assert_eq!(server.wait_exit().await, ExitReason::error("parent died"));
    assert_eq!(rx.recv().await, None);
}

/// GS-17: when trapping, `terminate` runs only after the messages queued before the parent's
/// `EXIT` have been handled.
#[tokio::test]
async fn gs17_terminate_after_messages_queued_before_the_parent_exit() {
    let (gate_tx, gate_rx) = oneshot::channel();
    let (ready_tx, ready_rx) = oneshot::channel::<()>();
    let (parent, server, mut rx) = start_under_parent(true, move |server| async move {
        server.cast(TermCast::Block(gate_rx)).unwrap();
        for n in 1..=3 {
            server.cast(TermCast::Note(n)).unwrap();
        }
        let _ = ready_rx.await;
        ExitReason::Shutdown
    })
    .await;
    assert_eq!(rx.recv().await, Some(Event::Blocked));
    ready_tx.send(()).unwrap();
    assert_eq!(wait_exit(parent).await, ExitReason::Shutdown);
    // The server is still blocked in the first cast, with the notes and the EXIT queued.
    assert!(server.is_alive());
    gate_tx.send(()).unwrap();
    assert_eq!(server.wait_exit().await, ExitReason::Shutdown);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    assert_eq!(
        events,
        vec![
            Event::Note(1),
            Event::Note(2),
            Event::Note(3),
            Event::Terminate(ExitReason::Shutdown)
        ]
    );
}

/// GS-17: a kill arriving while messages are queued ends the server at once: the queued
/// messages are not handled and `terminate` does not run.
#[tokio::test]
async fn gs17_kill_preempts_queued_messages_and_terminate() {
    let (args, mut rx) = term_args(true);
    let server = Term::start(args).await.unwrap();
    assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
    let (_gate_tx, gate_rx) = oneshot::channel::<()>();
    server.cast(TermCast::Block(gate_rx)).unwrap();
    server.cast(TermCast::Note(1)).unwrap();
    assert_eq!(rx.recv().await, Some(Event::Blocked));
    exit(server.pid(), ExitReason::Kill);
    assert_eq!(server.wait_exit().await, ExitReason::Killed);
    assert_eq!(rx.recv().await, None);
}

/// GS-19: `stop` returns `Ok` once the server has exited with the reason; `terminate` got it.
#[tokio::test]
async fn gs19_stop_returns_ok_when_the_server_exits() {
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::error("asked"),
    ] {
        let (args, mut rx) = term_args(false);
        let server = Term::start(args).await.unwrap();
        assert_eq!(server.stop(reason.clone()).await, Ok(()));
        assert!(!server.is_alive());
        assert!(!is_alive(server.pid()));
        assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
        assert_eq!(rx.recv().await, Some(Event::Terminate(reason)));
    }
}

/// GS-19: the stop is queued after the messages already there.
#[tokio::test]
async fn gs19_stop_is_queued_after_pending_messages() {
    let (args, mut rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    server.cast(TermCast::Note(1)).unwrap();
    server.cast(TermCast::Note(2)).unwrap();
    server.stop(ExitReason::Normal).await.unwrap();
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    assert_eq!(
        events,
        vec![
            Event::Init(server.pid()),
            Event::Note(1),
            Event::Note(2),
            Event::Terminate(ExitReason::Normal)
        ]
    );
}

/// GS-19: stopping a server that has ended → `NoProc`.
#[tokio::test]
async fn gs19_stop_a_dead_server_is_noproc() {
    let (args, _rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(
        server.stop(ExitReason::Normal).await,
        Err(StopError::NoProc)
    );
    assert_eq!(
        server
            .stop_timeout(ExitReason::Normal, Duration::from_secs(1))
            .await,
        Err(StopError::NoProc)
    );
}

/// GS-19: a server stopping itself synchronously → `CallingSelf`, and it goes on.
#[tokio::test]
async fn gs19_stop_self_is_calling_self() {
    let (args, _rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(60), server.call(TermCall::StopSelf))
        .await
        .unwrap();
    assert_eq!(reply, Ok(Err(StopError::CallingSelf)));
    assert_eq!(server.call(TermCall::Ping).await, Ok(Ok(())));
}

/// GS-19: a stop the server does not meet within the timeout → `StopError::Timeout`; the
/// server is still alive then.
#[tokio::test(start_paused = true)]
async fn gs19_stop_timeout() {
    let (args, mut rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    assert_eq!(rx.recv().await, Some(Event::Init(server.pid())));
    let (_gate_tx, gate_rx) = oneshot::channel::<()>();
    server.cast(TermCast::Block(gate_rx)).unwrap();
    assert_eq!(rx.recv().await, Some(Event::Blocked));
    let t0 = Instant::now();
    assert_eq!(
        server
            .stop_timeout(ExitReason::Normal, Duration::from_secs(1))
            .await,
        Err(StopError::Timeout)
    );
    assert!(t0.elapsed() >= Duration::from_secs(1));
    assert!(server.is_alive());
    exit(server.pid(), ExitReason::Kill);
    assert_eq!(server.wait_exit().await, ExitReason::Killed);
}

/// GS-19: a stop whose `terminate` panics → `StopError::Exited(Panic(..))`.
#[tokio::test]
async fn gs19_stop_with_a_panicking_terminate_is_exited() {
    common::quiet_panics();
    let (tx, _rx) = mpsc::unbounded_channel();
    let args = TermArgs {
        tx,
        trap: false,
        terminate_panics: true,
    };
    let server = Term::start(args).await.unwrap();
    assert_eq!(
        server.stop(ExitReason::Normal).await,
        Err(StopError::Exited(ExitReason::Panic(
            "terminate panic".into()
        )))
    );
}

// ---------------------------------------------------------------------------------------------
// GS-18: logs.

/// GS-18: `normal`, `shutdown` and `{shutdown, _}` exits log no error.
#[tokio::test]
async fn gs18_clean_exits_are_not_logged_as_errors() {
    let capture = Logs::default();
    let _guard = capture.install_for_thread();
    for reason in [
        ExitReason::Normal,
        ExitReason::Shutdown,
        ExitReason::shutdown_with("bye"),
    ] {
        let (args, _rx) = term_args(false);
        let server = Term::start(args).await.unwrap();
        server.stop(reason.clone()).await.unwrap();
        assert_eq!(capture.errors_about(server.pid()), Vec::<String>::new());

        let (args, _rx) = term_args(false);
        let server = Term::start(args).await.unwrap();
        server.cast(TermCast::Stop(reason.clone())).unwrap();
        assert_eq!(server.wait_exit().await, reason);
        assert_eq!(capture.errors_about(server.pid()), Vec::<String>::new());
    }
}

/// GS-18: any other exit (error, panic, killed) logs an error naming the server.
#[tokio::test]
async fn gs18_other_exits_are_logged_as_errors() {
    common::quiet_panics();
    let capture = Logs::default();
    let _guard = capture.install_for_thread();

    let (args, _rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    server
        .cast(TermCast::Stop(ExitReason::error("bad")))
        .unwrap();
    assert_eq!(server.wait_exit().await, ExitReason::error("bad"));
    let errors = capture.errors_about(server.pid());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("bad"), "{errors:?}");

    let (args, _rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    server.cast(TermCast::Panic).unwrap();
    server.wait_exit().await;
    let errors = capture.errors_about(server.pid());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("cast panic"), "{errors:?}");

    let (args, _rx) = term_args(false);
    let server = Term::start(args).await.unwrap();
    exit(server.pid(), ExitReason::Kill);
    assert_eq!(server.wait_exit().await, ExitReason::Killed);
    let errors = capture.errors_about(server.pid());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("killed"), "{errors:?}");
}

// ---------------------------------------------------------------------------------------------
// GS-22: default callbacks; untyped messages.

/// A server with only `init`.
struct Bare;

impl GenServer for Bare {
    type Args = bool;
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();

    /// Continues at once if asked (there is no `handle_continue`).
    async fn init(continue_: bool, _: &mut Context<Self>) -> Init<Self> {
        if continue_ {
            Init::OkThen(Bare, Action::Continue(()))
        } else {
            Init::Ok(Bare)
        }
    }
}

/// A server with `handle_call` only: default `handle_info` and `terminate`.
struct CallOnly;

impl GenServer for CallOnly {
    type Args = ();
    type Call = ();
    type Reply = &'static str;
    type Cast = ();
    type Continue = ();

    async fn init(_: (), _: &mut Context<Self>) -> Init<Self> {
        Init::Ok(CallOnly)
    }

    async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply("pong")
    }
}

/// GS-22: a call to a server without `handle_call` crashes it with a message naming the
/// server; the caller gets `Exited(Panic(..))`.
#[tokio::test]
async fn gs22_default_handle_call_crashes_naming_the_server() {
    common::quiet_panics();
    let server = Bare::start(false).await.unwrap();
    let message = match server.call(()).await {
        Err(otp_core::gen_server::CallError::Exited(ExitReason::Panic(m))) => m,
        other => panic!("expected Exited(Panic), got {other:?}"),
    };
    assert!(message.contains("attempted to call GenServer"), "{message}");
    assert!(message.contains(std::any::type_name::<Bare>()), "{message}");
    assert_eq!(server.wait_exit().await, ExitReason::Panic(message));
}

/// GS-22: a cast to a server without `handle_cast` crashes it, naming the server.
#[tokio::test]
async fn gs22_default_handle_cast_crashes_naming_the_server() {
    common::quiet_panics();
    let server = Bare::start(false).await.unwrap();
    server.cast(()).unwrap();
    match server.wait_exit().await {
        ExitReason::Panic(m) => {
            assert!(m.contains("attempted to cast GenServer"), "{m}");
            assert!(m.contains(std::any::type_name::<Bare>()), "{m}");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
}

/// GS-22: a continue without `handle_continue` crashes the server, naming it.
#[tokio::test]
async fn gs22_default_handle_continue_crashes_naming_the_server() {
    common::quiet_panics();
    let server = Bare::start(true).await.unwrap();
    match server.wait_exit().await {
        ExitReason::Panic(m) => {
            assert!(m.contains("no handle_continue"), "{m}");
            assert!(m.contains(std::any::type_name::<Bare>()), "{m}");
        }
        other => panic!("expected a panic, got {other:?}"),
    }
}

/// GS-22: the default `handle_info` logs an error about the unexpected message (by its type)
/// and the server goes on; the default `terminate` is fine with a stop.
#[tokio::test]
async fn gs22_default_handle_info_logs_and_goes_on() {
    let capture = Logs::default();
    let _guard = capture.install_for_thread();
    let server = CallOnly::start(()).await.unwrap();
    send(server.pid(), 42u8).unwrap();
    assert_eq!(server.call(()).await.unwrap(), "pong");
    let errors = capture.errors_about(server.pid());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("unexpected message"), "{errors:?}");
    assert!(errors[0].contains("u8"), "{errors:?}");
    assert!(server.is_alive());
    assert_eq!(server.stop(ExitReason::Normal).await, Ok(()));
}

/// Dispatches untyped messages by their type.
struct Dispatch {
    seen: Vec<String>,
}

impl GenServer for Dispatch {
    type Args = ();
    type Call = ();
    type Reply = Vec<String>;
    type Cast = ();
    type Continue = ();

    async fn init(_: (), _: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Dispatch { seen: Vec::new() })
    }

    async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(self.seen.clone())
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        let m = match info {
            Info::Message(m) => m,
            other => {
                otp_core::gen_server::unexpected_info::<Self>(ctx.pid(), &other);
                return Action::NoReply;
            }
        };
        let m = match m.downcast::<u32>() {
            Ok(n) => {
                self.seen.push(format!("u32 {n}"));
                return Action::NoReply;
            }
            Err(m) => m,
        };
        match m.downcast::<String>() {
            Ok(s) => self.seen.push(format!("string {s}")),
            Err(m) => otp_core::gen_server::unexpected_info::<Self>(ctx.pid(), &Info::Message(m)),
        }
        Action::NoReply
    }
}

/// Untyped `send` to a server (by pid or name) reaches `handle_info`, which tells messages
/// apart by type; a message of an unhandled type is logged and dropped without a crash.
#[tokio::test]
async fn untyped_send_is_dispatched_by_type() {
    let capture = Logs::default();
    let _guard = capture.install_for_thread();
    let options = StartOptions::new().name("gs_dispatch");
    let server = Dispatch::start_with((), options).await.unwrap();
    send(server.pid(), 7u32).unwrap();
    send("gs_dispatch", String::from("hi")).unwrap();
    send(server.pid(), 1.5f64).unwrap();
    send(server.pid(), 8u32).unwrap();
    assert_eq!(
        server.call(()).await.unwrap(),
        vec!["u32 7", "string hi", "u32 8"]
    );
    let errors = capture.errors_about(server.pid());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("f64"), "{errors:?}");
    assert!(server.is_alive());
}
