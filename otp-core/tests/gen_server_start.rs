//! GenServer start conformance: GS-01 (synchronous start, links), GS-02 (what `init` returns),
//! GS-03 (start timeout), GS-04 (names) and GS-23 (finding a typed server by name or pid).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use otp_core::gen_server::{
    Action, CallResult, Context, GenServer, Init, RefError, ServerRef, StartError, StartOptions,
    handlers,
};
use otp_core::name::whereis;
use otp_core::process::{
    ExitReason, Info, Pid, exit, is_alive, process_info, spawn, spawn_opt, wait_exit,
};
use tokio::sync::{mpsc, oneshot};

/// What the test server reports to the test.
#[derive(Debug, PartialEq)]
enum Event {
    Init(Pid),
    Continued(u32),
    Terminate(ExitReason),
}

/// How the test server's `init` ends.
enum Plan {
    Ok,
    Continue(u32),
    Ignore,
    Stop(ExitReason),
    Panic,
    Hang,
    /// Waits a second (paused clock), sets the flag, then starts.
    Slow(Arc<AtomicBool>),
}

/// A server whose `init` follows a [`Plan`] and which reports to the test.
struct Probe {
    tx: mpsc::UnboundedSender<Event>,
}

impl GenServer for Probe {
    type Args = (Plan, mpsc::UnboundedSender<Event>);
    type Call = ();
    type Reply = Option<Pid>;
    type Cast = ();
    type Continue = u32;

    async fn init((plan, tx): Self::Args, ctx: &mut Context<Self>) -> Init<Self> {
        let _ = tx.send(Event::Init(ctx.pid()));
        match plan {
            Plan::Ok => Init::Ok(Probe { tx }),
            Plan::Continue(n) => Init::OkThen(Probe { tx }, Action::Continue(n)),
            Plan::Ignore => Init::Ignore,
            Plan::Stop(reason) => Init::Stop(reason),
            Plan::Panic => panic!("init failed"),
            Plan::Hang => std::future::pending().await,
            Plan::Slow(flag) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                flag.store(true, Ordering::SeqCst);
                Init::Ok(Probe { tx })
            }
        }
    }

    /// Replies with the server's parent.
    async fn handle_call(&mut self, _: (), ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(ctx.parent())
    }

    async fn handle_continue(&mut self, n: u32, _: &mut Context<Self>) -> Action<Self> {
        let _ = self.tx.send(Event::Continued(n));
        Action::NoReply
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        let _ = self.tx.send(Event::Terminate(reason.clone()));
    }
}

/// Another server type, for the type checks of GS-23.
#[derive(GenServer, Default)]
struct Other;

#[handlers]
impl Other {}

fn channel() -> (mpsc::UnboundedSender<Event>, mpsc::UnboundedReceiver<Event>) {
    mpsc::unbounded_channel()
}

/// Starts a server under a name, with `init` succeeding; its reports are not read.
async fn start_named(name: &'static str) -> ServerRef<Probe> {
    let (tx, _rx) = channel();
    Probe::start_with((Plan::Ok, tx), StartOptions::new().name(name))
        .await
        .unwrap()
}

/// The pid the server reported from `init`.
async fn init_pid(rx: &mut mpsc::UnboundedReceiver<Event>) -> Pid {
    match rx.recv().await {
        Some(Event::Init(pid)) => pid,
        other => panic!("expected Init, got {other:?}"),
    }
}

/// GS-01: `start` returns only once `init` has returned.
#[tokio::test(start_paused = true)]
async fn gs01_start_returns_after_init() {
    let flag = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = channel();
    let server = Probe::start((Plan::Slow(flag.clone()), tx)).await.unwrap();
    assert!(
        flag.load(Ordering::SeqCst),
        "start returned before init did"
    );
    assert_eq!(init_pid(&mut rx).await, server.pid());
    assert!(server.is_alive());
}

/// GS-01: from a process, `start_link` links the server and the caller both ways, `start`
/// does not link; either way the caller is the server's parent.
#[tokio::test]
async fn gs01_start_link_links_to_the_calling_process_and_start_does_not() {
    for link in [true, false] {
        let (done_tx, done_rx) = oneshot::channel();
        spawn(move |me| async move {
            let (tx, _rx) = channel();
            let args = (Plan::Ok, tx);
            let started = if link {
                Probe::start_link(args).await
            } else {
                Probe::start(args).await
            };
            let server = started.unwrap();
            let mine = process_info(me.pid()).unwrap().links;
            let theirs = process_info(server.pid()).unwrap().links;
            let parent = server.call(()).await.unwrap();
            let _ = done_tx.send((me.pid(), server.pid(), mine, theirs, parent));
        });
        let (me, server, mine, theirs, parent) = done_rx.await.unwrap();
        let (my_links, its_links) = if link {
            (vec![server], vec![me])
        } else {
            (vec![], vec![])
        };
        assert_eq!(mine, my_links, "link: {link}");
        assert_eq!(theirs, its_links, "link: {link}");
        assert_eq!(parent, Some(me));
    }
}

/// GS-01: started outside any process, a server has no parent and no links.
#[tokio::test]
async fn gs01_start_outside_a_process_has_no_parent() {
    let (tx, _rx) = channel();
    let server = Probe::start_link((Plan::Ok, tx)).await.unwrap();
    assert_eq!(server.call(()).await.unwrap(), None);
    assert!(process_info(server.pid()).unwrap().links.is_empty());
}

/// GS-02: `Init::Ok` starts the server.
#[tokio::test]
async fn gs02_init_ok_starts() {
    let (tx, mut rx) = channel();
    let server = Probe::start((Plan::Ok, tx)).await.unwrap();
    assert_eq!(init_pid(&mut rx).await, server.pid());
    assert!(server.is_alive());
    assert_eq!(server.call(()).await.unwrap(), None);
}

/// GS-02: `Init::OkThen(.., Action::Continue)` starts, then runs `handle_continue`.
#[tokio::test]
async fn gs02_init_ok_then_continue() {
    let (tx, mut rx) = channel();
    let server = Probe::start((Plan::Continue(7), tx)).await.unwrap();
    assert_eq!(init_pid(&mut rx).await, server.pid());
    assert_eq!(rx.recv().await, Some(Event::Continued(7)));
    assert!(server.is_alive());
}

/// GS-02: `Init::Ignore` → `StartError::Ignored`; the process is gone when start returns and
/// `terminate` does not run.
#[tokio::test]
async fn gs02_init_ignore() {
    let (tx, mut rx) = channel();
    assert_eq!(
        Probe::start((Plan::Ignore, tx)).await.unwrap_err(),
        StartError::Ignored
    );
    let pid = init_pid(&mut rx).await;
    assert!(!is_alive(pid));
    // The only sender was dropped without a Terminate.
    assert_eq!(rx.recv().await, None);
}

/// GS-02: an ignored start exits `normal`: a trapping linked caller gets `EXIT normal`.
#[tokio::test]
async fn gs02_init_ignore_exits_normal() {
    let (done_tx, done_rx) = oneshot::channel();
    spawn(move |mut me| async move {
        me.trap_exit(true);
        let (tx, mut rx) = channel();
        let result = Probe::start_link((Plan::Ignore, tx)).await.map(|s| s.pid());
        let pid = init_pid(&mut rx).await;
        let signal = match me.recv_timeout(Duration::from_secs(5)).await {
            Some(Info::Exit(s)) => Some((s.from(), s.reason().clone())),
            _ => None,
        };
        let _ = done_tx.send((result, pid, signal));
    });
    let (result, pid, signal) = done_rx.await.unwrap();
    assert_eq!(result, Err(StartError::Ignored));
    assert_eq!(signal, Some((Some(pid), ExitReason::Normal)));
}

/// GS-02: `Init::Stop(R)` → `StartError::Stopped(R)`, without `terminate`.
#[tokio::test]
async fn gs02_init_stop() {
    let (tx, mut rx) = channel();
    let reason = ExitReason::error("bad config");
    assert_eq!(
        Probe::start((Plan::Stop(reason.clone()), tx))
            .await
            .unwrap_err(),
        StartError::Stopped(reason)
    );
    let pid = init_pid(&mut rx).await;
    assert!(!is_alive(pid));
    assert_eq!(rx.recv().await, None, "terminate ran after Init::Stop");
}

/// GS-02: after `Init::Stop(R)`, a linked caller that does not trap exits dies with `R`.
#[tokio::test]
async fn gs02_init_stop_kills_a_linked_non_trapping_caller() {
    let reason = ExitReason::error("bad config");
    let r = reason.clone();
    let caller = spawn(move |_me| async move {
        let (tx, _rx) = channel();
        let _ = Probe::start_link((Plan::Stop(r), tx)).await;
        // Not reached: the exit signal ends this process first.
        std::future::pending::<()>().await
    });
    assert_eq!(wait_exit(caller).await, reason);
}

/// GS-02: after `Init::Stop(R)`, a linked trapping caller gets the error and an `EXIT`.
#[tokio::test]
async fn gs02_init_stop_reaches_a_trapping_caller_as_a_message() {
    let reason = ExitReason::shutdown_with("no");
    let r = reason.clone();
    let (done_tx, done_rx) = oneshot::channel();
    spawn(move |mut me| async move {
        me.trap_exit(true);
        let (tx, mut rx) = channel();
        let result = Probe::start_link((Plan::Stop(r), tx))
            .await
            .map(|s| s.pid());
        let pid = init_pid(&mut rx).await;
        let signal = match me.recv_timeout(Duration::from_secs(5)).await {
            Some(Info::Exit(s)) => Some((s.from(), s.reason().clone())),
            _ => None,
        };
        let _ = done_tx.send((result, pid, signal));
    });
    let (result, pid, signal) = done_rx.await.unwrap();
    assert_eq!(result, Err(StartError::Stopped(reason.clone())));
    assert_eq!(signal, Some((Some(pid), reason)));
}

/// GS-02: a panic in `init` → `StartError::Stopped(Panic(..))`, without `terminate`.
#[tokio::test]
async fn gs02_init_panic_is_a_stopped_start() {
    common::quiet_panics();
    let (tx, mut rx) = channel();
    assert_eq!(
        Probe::start((Plan::Panic, tx)).await.unwrap_err(),
        StartError::Stopped(ExitReason::Panic("init failed".into()))
    );
    let pid = init_pid(&mut rx).await;
    assert!(!is_alive(pid));
    assert_eq!(rx.recv().await, None);
}

/// GS-03: `init` longer than the start timeout → `StartError::Timeout`; afterwards no process,
/// no name and no link remain, no `EXIT` reaches the trapping caller, and the caller lives on.
#[tokio::test(start_paused = true)]
async fn gs03_start_timeout_leaves_nothing_behind() {
    let (done_tx, done_rx) = oneshot::channel();
    let caller = spawn_opt(
        otp_core::process::SpawnOptions::new().trap_exit(true),
        move |mut me| async move {
            let (tx, mut rx) = channel();
            let options = StartOptions::new()
                .name("gs03_timeout")
                .timeout(Duration::from_secs(1));
            let result = Probe::start_link_with((Plan::Hang, tx), options)
                .await
                .map(|s| s.pid());
            let pid = init_pid(&mut rx).await;
            let alive = is_alive(pid) || process_info(pid).is_some();
            let name = whereis("gs03_timeout");
            let links = process_info(me.pid()).unwrap().links;
            let queued = me.try_recv().map(|i| format!("{i:?}"));
            let _ = done_tx.send((result, alive, name, links, queued));
            std::future::pending::<()>().await
        },
    );
    let (result, alive, name, links, queued) = done_rx.await.unwrap();
    assert_eq!(result, Err(StartError::Timeout));
    assert!(!alive, "the timed-out server is still there");
    assert_eq!(name, None);
    assert!(links.is_empty(), "{links:?}");
    assert_eq!(queued, None);
    assert!(is_alive(caller));
    exit(caller, ExitReason::Kill);
}

/// GS-03: a non-trapping caller is not taken down by the killed server.
#[tokio::test(start_paused = true)]
async fn gs03_start_timeout_does_not_kill_a_linked_caller() {
    let (done_tx, done_rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let caller = spawn(move |_me| async move {
        let (tx, _rx) = channel();
        let options = StartOptions::new().timeout(Duration::from_millis(500));
        let result = Probe::start_link_with((Plan::Hang, tx), options)
            .await
            .map(|s| s.pid());
        let _ = done_tx.send(result);
        let _ = go_rx.await;
        ExitReason::shutdown_with("done")
    });
    assert_eq!(done_rx.await.unwrap(), Err(StartError::Timeout));
    assert!(is_alive(caller));
    go_tx.send(()).unwrap();
    // The caller exits with its own reason, not with the killed server's.
    assert_eq!(wait_exit(caller).await, ExitReason::shutdown_with("done"));
}

/// GS-03: an `init` within the start timeout starts normally.
#[tokio::test(start_paused = true)]
async fn gs03_init_within_the_timeout_starts() {
    let flag = Arc::new(AtomicBool::new(false));
    let (tx, _rx) = channel();
    let options = StartOptions::new().timeout(Duration::from_secs(2));
    let server = Probe::start_with((Plan::Slow(flag.clone()), tx), options)
        .await
        .unwrap();
    assert!(flag.load(Ordering::SeqCst));
    assert!(server.is_alive());
}

/// GS-04: a named server is registered under its name.
#[tokio::test]
async fn gs04_start_registers_the_name() {
    let server = start_named("gs04_named").await;
    assert_eq!(whereis("gs04_named"), Some(server.pid()));
    let name = process_info(server.pid()).unwrap().name.unwrap();
    assert_eq!(name.as_str(), "gs04_named");
}

/// GS-04: a taken name → `AlreadyStarted(holder)`, and the second `init` never runs.
#[tokio::test]
async fn gs04_name_taken_is_already_started_without_init() {
    let first = start_named("gs04_taken").await;
    let (tx, mut rx) = channel();
    let second = Probe::start_with((Plan::Ok, tx), StartOptions::new().name("gs04_taken")).await;
    assert_eq!(second.unwrap_err(), StartError::AlreadyStarted(first.pid()));
    // `init` would have sent Init before anything else; its args were dropped unused.
    assert_eq!(rx.recv().await, None, "init ran for a taken name");
    assert_eq!(whereis("gs04_taken"), Some(first.pid()));
    assert!(first.is_alive());
}

/// GS-04: a name taken by a plain process is also `AlreadyStarted`.
#[tokio::test]
async fn gs04_name_held_by_a_plain_process() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let holder = spawn(move |mut me| async move {
        me.register("gs04_plain").unwrap();
        let _ = ready_tx.send(());
        me.recv().await;
    });
    ready_rx.await.unwrap();
    let (tx, _rx) = channel();
    let result = Probe::start_with((Plan::Ok, tx), StartOptions::new().name("gs04_plain")).await;
    assert_eq!(result.unwrap_err(), StartError::AlreadyStarted(holder));
    exit(holder, ExitReason::Kill);
}

/// GS-04: the name is released when the server exits, and can be taken again.
#[tokio::test]
async fn gs04_name_released_on_exit() {
    let server = start_named("gs04_exit").await;
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(whereis("gs04_exit"), None);
    let again = start_named("gs04_exit").await;
    assert_eq!(whereis("gs04_exit"), Some(again.pid()));
}

/// GS-04: the name is released on a crash and a kill, before `wait_exit` resolves.
#[tokio::test]
async fn gs04_name_released_on_kill() {
    let server = start_named("gs04_kill").await;
    exit(server.pid(), ExitReason::Kill);
    assert_eq!(server.wait_exit().await, ExitReason::Killed);
    assert_eq!(whereis("gs04_kill"), None);
}

/// GS-04: the name is released before the start result is delivered when `init` fails
/// (stop, panic, ignore), and can be taken again at once.
#[tokio::test]
async fn gs04_name_released_when_init_fails() {
    common::quiet_panics();
    let plans = [
        Plan::Stop(ExitReason::error("no")),
        Plan::Panic,
        Plan::Ignore,
    ];
    for plan in plans {
        let (tx, _rx) = channel();
        let result = Probe::start_with((plan, tx), StartOptions::new().name("gs04_fail")).await;
        assert!(result.is_err());
        assert_eq!(whereis("gs04_fail"), None);
    }
    let server = start_named("gs04_fail").await;
    assert_eq!(whereis("gs04_fail"), Some(server.pid()));
}

/// GS-23: `ServerRef::whereis` finds a server of the right type by name, and only that.
#[tokio::test]
async fn gs23_whereis_by_name() {
    let server = start_named("gs23_named").await;
    let found = ServerRef::<Probe>::whereis("gs23_named").unwrap();
    assert_eq!(found, server);
    assert_eq!(found.call(()).await.unwrap(), None);
    assert!(ServerRef::<Other>::whereis("gs23_named").is_none());
    assert!(ServerRef::<Probe>::whereis("gs23_nobody").is_none());
    server.stop(ExitReason::Normal).await.unwrap();
    assert!(ServerRef::<Probe>::whereis("gs23_named").is_none());
}

/// GS-23: `from_pid` is checked: Ok for the right type, `WrongType` for another server type
/// or a plain process, `NoProc` for a dead pid.
#[tokio::test]
async fn gs23_from_pid_is_checked() {
    let (tx, _rx) = channel();
    let server = Probe::start((Plan::Ok, tx)).await.unwrap();
    let pid = server.pid();

    let back = ServerRef::<Probe>::from_pid(pid).unwrap();
    assert_eq!(back, server);
    assert_eq!(back.call(()).await.unwrap(), None);

    assert_eq!(
        ServerRef::<Other>::from_pid(pid).unwrap_err(),
        RefError::WrongType {
            pid,
            actual: otp_core::process::ProcessKind::Server(std::any::type_name::<Probe>()),
            expected: std::any::type_name::<Other>(),
        }
    );

    let plain = spawn(|mut me| async move {
        me.recv().await;
    });
    match ServerRef::<Probe>::from_pid(plain) {
        Err(RefError::WrongType { pid, expected, .. }) => {
            assert_eq!(pid, plain);
            assert_eq!(expected, std::any::type_name::<Probe>());
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    exit(plain, ExitReason::Kill);

    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(
        ServerRef::<Probe>::from_pid(pid).unwrap_err(),
        RefError::NoProc(pid)
    );
}

/// GS-01: `init` runs as the new server: its pid is the one running (so a server calling itself
/// from `init` is told, not deadlocked).
#[tokio::test]
async fn gs01_init_runs_as_the_new_server() {
    struct Me;
    impl GenServer for Me {
        type Args = oneshot::Sender<(Pid, Option<Pid>)>;
        type Call = ();
        type Reply = ();
        type Cast = ();
        type Continue = ();
        async fn init(tx: Self::Args, ctx: &mut Context<Self>) -> Init<Self> {
            let _ = tx.send((ctx.pid(), otp_core::process::current_pid()));
            Init::Ok(Me)
        }
    }
    let (tx, rx) = oneshot::channel();
    let server = Me::start(tx).await.unwrap();
    let (own, current) = rx.await.unwrap();
    assert_eq!(own, server.pid());
    assert_eq!(current, Some(server.pid()));
}

/// GS-03: a server killed while its `init` waits does not start: the start fails with the
/// reason, and no process or name is left.
#[tokio::test(start_paused = true)]
async fn gs03_killed_during_init_is_a_failed_start() {
    let (tx, mut rx) = channel();
    let start = tokio::spawn(Probe::start_with(
        (Plan::Hang, tx),
        StartOptions::new().name("killed-during-init"),
    ));
    let pid = init_pid(&mut rx).await;
    exit(pid, ExitReason::Kill);
    let started = start.await.unwrap();
    assert_eq!(
        started.unwrap_err(),
        StartError::Stopped(ExitReason::Killed)
    );
    assert!(!is_alive(pid));
    assert_eq!(whereis("killed-during-init"), None);
}

/// A start that is dropped while `init` waits leaves no process or name behind.
#[tokio::test(start_paused = true)]
async fn start_dropped_during_init_leaves_nothing() {
    let (tx, mut rx) = channel();
    let start = tokio::spawn(Probe::start_with(
        (Plan::Hang, tx),
        StartOptions::new().name("dropped-during-init"),
    ));
    let pid = init_pid(&mut rx).await;
    start.abort();
    let _ = start.await;
    assert!(!is_alive(pid));
    assert_eq!(whereis("dropped-during-init"), None);
}
