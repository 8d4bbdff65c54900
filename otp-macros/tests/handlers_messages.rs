//! `#[cast]`, `#[info]`, `#[handle_continue]` and `#[terminate]` handlers of derived servers:
//! what they return (nothing, or an action: stop, idle timeout, continue), info dispatched by
//! type (GS-12 .. GS-14, GS-16), trapped exits and monitors reaching typed handlers.

use std::time::Duration;

use otp::prelude::*;
use otp::process::{Down, ExitSignal};
use tokio::sync::mpsc;

/// A tick, sent untyped with `otp::name::send`.
#[derive(Debug)]
struct Tick(u32);

/// Another message type.
#[derive(Debug)]
struct Label(&'static str);

/// What the server saw, in order.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Cast(u32),
    AsyncCast(u32),
    Tick(u32),
    Label(&'static str),
    Exit(ExitReason),
    Down(ExitReason),
    Idle,
    Other(String),
    Continued(String),
    Terminated(ExitReason),
}

#[derive(GenServer)]
struct Watcher {
    log: mpsc::UnboundedSender<Seen>,
}

#[handlers]
impl Watcher {
    #[init]
    fn init(log: mpsc::UnboundedSender<Seen>, trap: bool, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(trap);
        Init::OkThen(
            Watcher { log },
            Action::Continue(WatcherContinue::AfterInit("init".into())),
        )
    }

    fn note(&self, seen: Seen) {
        let _ = self.log.send(seen);
    }

    #[cast]
    fn record(&mut self, n: u32) {
        self.note(Seen::Cast(n));
    }

    #[cast]
    async fn record_later(&mut self, n: u32, ctx: &mut Context<Self>) {
        tokio::task::yield_now().await;
        let _ = ctx.pid();
        self.note(Seen::AsyncCast(n));
    }

    /// Stops with `reason` (GS-16: terminate runs).
    #[cast]
    fn halt(&mut self, reason: ExitReason) -> Action<Self> {
        Action::Stop(reason)
    }

    /// Asks for an idle timeout (GS-14).
    #[cast]
    fn idle_after(&mut self, ms: u64) -> Action<Self> {
        Action::Timeout(Duration::from_millis(ms))
    }

    #[cast]
    fn continue_with(&mut self, what: String) -> Action<Self> {
        Action::Continue(WatcherContinue::AfterInit(what))
    }

    #[handle_continue]
    fn after_init(&mut self, what: String) {
        self.note(Seen::Continued(what));
    }

    #[info]
    fn tick(&mut self, tick: Tick) {
        self.note(Seen::Tick(tick.0));
    }

    #[info]
    async fn label(&mut self, label: Label, _ctx: &mut Context<Self>) -> Action<Self> {
        self.note(Seen::Label(label.0));
        Action::NoReply
    }

    #[info]
    fn exit(&mut self, signal: ExitSignal) {
        self.note(Seen::Exit(signal.reason().clone()));
    }

    #[info]
    fn down(&mut self, down: Down) {
        self.note(Seen::Down(down.reason().clone()));
    }

    #[info]
    fn idle(&mut self, _: IdleTimeout) {
        self.note(Seen::Idle);
    }

    /// Monitors the pid it is given.
    #[info]
    fn watch(&mut self, what: MonitorThis, ctx: &mut Context<Self>) {
        ctx.monitor(what.0);
    }

    /// Everything else.
    #[info]
    fn other(&mut self, info: Info) {
        let what = match info {
            Info::Message(m) => m.type_name().to_owned(),
            other => format!("{other:?}"),
        };
        self.note(Seen::Other(what));
    }

    #[terminate]
    async fn terminate(&mut self, reason: &ExitReason) {
        self.note(Seen::Terminated(reason.clone()));
    }
}

async fn start(trap: bool) -> (ServerRef<Watcher>, mpsc::UnboundedReceiver<Seen>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let server = Watcher::start(tx, trap).await.unwrap();
    // GS-13: the continue asked for by init runs before any message.
    assert_eq!(rx.recv().await, Some(Seen::Continued("init".into())));
    (server, rx)
}

/// GS-12: casts return at once and are handled in order, sync and async alike.
#[tokio::test]
async fn casts_sync_and_async_in_order() {
    let (w, mut rx) = start(false).await;
    w.record(1).unwrap();
    w.record_later(2).unwrap();
    w.record(3).unwrap();
    assert_eq!(rx.recv().await, Some(Seen::Cast(1)));
    assert_eq!(rx.recv().await, Some(Seen::AsyncCast(2)));
    assert_eq!(rx.recv().await, Some(Seen::Cast(3)));
}

/// Untyped messages reach the `#[info]` handler of their type; the catch-all takes the rest.
#[tokio::test]
async fn info_dispatched_by_type() {
    let (w, mut rx) = start(false).await;
    otp::name::send(w.pid(), Tick(7)).unwrap();
    otp::name::send(w.pid(), Label("hello")).unwrap();
    otp::name::send(w.pid(), 42u8).unwrap();
    otp::name::send(w.pid(), Tick(8)).unwrap();
    assert_eq!(rx.recv().await, Some(Seen::Tick(7)));
    assert_eq!(rx.recv().await, Some(Seen::Label("hello")));
    assert_eq!(rx.recv().await, Some(Seen::Other("u8".into())));
    assert_eq!(rx.recv().await, Some(Seen::Tick(8)));
}

/// Trapped exit signals reach the `ExitSignal` handler, monitor notifications the `Down` one.
#[tokio::test]
async fn exit_signals_and_downs_reach_their_handlers() {
    let (w, mut rx) = start(true).await;
    let target = w.pid();
    otp::process::exit(target, ExitReason::shutdown_with("bye"));
    assert_eq!(
        rx.recv().await,
        Some(Seen::Exit(ExitReason::shutdown_with("bye")))
    );

    // The server monitors a process that then ends.
    #[derive(GenServer, Default)]
    struct Short;
    #[handlers]
    impl Short {}
    let short = Short::start().await.unwrap();
    otp::name::send(target, MonitorThis(short.pid())).unwrap();
    // The monitor is set once the message is handled: a cast behind it is handled after.
    w.record(0).unwrap();
    assert_eq!(rx.recv().await, Some(Seen::Cast(0)));
    short.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(rx.recv().await, Some(Seen::Down(ExitReason::Normal)));
}

/// Asks the watcher (through its catch-all handler) to monitor a pid.
#[derive(Debug)]
struct MonitorThis(Pid);

/// GS-14: an idle timeout delivers `IdleTimeout` when no message comes.
#[tokio::test(start_paused = true)]
async fn idle_timeout_reaches_its_handler() {
    let (w, mut rx) = start(false).await;
    w.idle_after(100).unwrap();
    assert_eq!(rx.recv().await, Some(Seen::Idle));
}

/// GS-13: a cast may ask to continue; GS-16: a stop runs terminate with the reason.
#[tokio::test]
async fn continue_then_stop_runs_terminate() {
    let (w, mut rx) = start(false).await;
    w.continue_with("more".into()).unwrap();
    assert_eq!(rx.recv().await, Some(Seen::Continued("more".into())));
    w.halt(ExitReason::shutdown_with("done")).unwrap();
    assert_eq!(
        rx.recv().await,
        Some(Seen::Terminated(ExitReason::shutdown_with("done")))
    );
    assert_eq!(w.wait_exit().await, ExitReason::shutdown_with("done"));
}
