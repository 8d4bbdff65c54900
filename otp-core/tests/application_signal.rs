//! `Application::run` stops its tree on a real SIGTERM, also while its start function still runs.
//! A test binary of its own: the signal goes to the whole test process; and the tests take
//! turns ([`ONE_AT_A_TIME`]), as each one's signal reaches every application listening.
#![cfg(unix)]

mod common;

use common::within;
use otp_core::application::{AppExit, Application};
use otp_core::gen_server::{GenServer, handlers};
use otp_core::process::ExitReason;
use otp_core::supervisor::{ChildSpec, SupFlags, Supervisor};
use tokio::sync::{mpsc, oneshot};

/// A worker that reports its `terminate` (it traps exits, so the supervisor's `shutdown`
/// runs it).
#[derive(GenServer)]
struct Worker {
    name: &'static str,
    log: mpsc::UnboundedSender<(&'static str, ExitReason)>,
}

#[handlers]
impl Worker {
    #[init]
    fn init(
        name: &'static str,
        log: mpsc::UnboundedSender<(&'static str, ExitReason)>,
        ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> Self {
        ctx.trap_exit(true);
        Worker { name, log }
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = self.log.send((self.name, reason.clone()));
    }
}

/// The tests take turns: a SIGTERM reaches every application that listens.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Sends SIGTERM to this test process.
fn sigterm() {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// SIGTERM stops the tree in reverse start order, each child per its shutdown, and the
/// application ends `Stopped` (status 0).
#[tokio::test]
async fn sigterm_stops_the_tree_in_reverse_order() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let app = tokio::spawn(Application::new("signalled").run(move || async move {
        let children = ["first", "second", "third"].map(|name| {
            let log = log.clone();
            ChildSpec::new(name, move || Worker::start_link(name, log.clone()))
        });
        let sup = Supervisor::start_link(children, SupFlags::one_for_one()).await?;
        let _ = started.send(());
        Ok::<_, otp_core::supervisor::SupervisorStartError>(sup.pid())
    }));
    within("the tree", up).await.expect("the tree started");
    // `run` installed its signal handlers before the start ran: one SIGTERM is enough.
    sigterm();
    let ended = within("the application", app)
        .await
        .expect("the application task");
    assert_eq!(ended, AppExit::Stopped);
    assert_eq!(ended.status(), 0);
    let mut order = Vec::new();
    while let Ok((name, reason)) = terminated.try_recv() {
        assert_eq!(reason, ExitReason::Shutdown);
        order.push(name);
    }
    assert_eq!(order, ["third", "second", "first"]);
}

/// A start that starts a supervisor of two workers and then never returns: one SIGTERM stops
/// the application — the supervisor and its workers in reverse order — which ends
/// `StartCancelled`, status 0. The handlers are installed before the start runs, so no signal
/// is lost and none ends the process. It used to ignore the signal until the start returned.
#[tokio::test]
async fn sigterm_during_a_hanging_start_stops_cleanly() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let app = tokio::spawn(Application::new("signalled").run(move || async move {
        let children = ["first", "second"].map(|name| {
            let log = log.clone();
            ChildSpec::new(name, move || Worker::start_link(name, log.clone()))
        });
        Supervisor::start_link(children, SupFlags::one_for_one())
            .await
            .expect("the supervisor starts");
        let _ = started.send(());
        // A start that hangs: waiting on a dependency that never answers.
        std::future::pending::<Result<otp_core::process::Pid, String>>().await
    }));
    within("the supervisor", up)
        .await
        .expect("the supervisor started");
    sigterm();
    let ended = within("the application", app)
        .await
        .expect("the application task");
    assert_eq!(ended, AppExit::StartCancelled);
    assert_eq!(ended.status(), 0);
    let mut order = Vec::new();
    while let Ok((name, reason)) = terminated.try_recv() {
        assert_eq!(reason, ExitReason::Shutdown);
        order.push(name);
    }
    assert_eq!(order, ["second", "first"]);
}
