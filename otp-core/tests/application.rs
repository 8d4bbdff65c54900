//! `Application`: a top-level tree run until asked to stop, and the status it ends with.

mod common;

use common::{quiet_panics, within};
use otp_core::application::{AppExit, Application};
use otp_core::gen_server::{GenServer, handlers};
use otp_core::process::ExitReason;
use tokio::sync::{mpsc, oneshot};

/// A root that reports its `terminate`, and can be told to stop by itself.
#[derive(GenServer)]
struct Root {
    log: mpsc::UnboundedSender<ExitReason>,
}

#[handlers]
impl Root {
    #[init]
    fn init(
        log: mpsc::UnboundedSender<ExitReason>,
        ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> Self {
        // Trapping, so that the master's `shutdown` runs `terminate` (GS-16, GS-17).
        ctx.trap_exit(true);
        Root { log }
    }

    #[cast]
    fn fail(&mut self, reason: ExitReason) -> otp_core::gen_server::Action<Self> {
        otp_core::gen_server::Action::Stop(reason)
    }

    #[cast]
    fn panic_on_terminate(&mut self) {
        self.log = mpsc::unbounded_channel().0;
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        if self.log.send(reason.clone()).is_err() {
            panic!("terminate failed");
        }
    }
}

/// Runs an application whose root is a `Root` logging its `terminate` to `log`, until `stop`
/// completes; returns the application's task and the root once it runs.
async fn run_root(
    log: mpsc::UnboundedSender<ExitReason>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> (
    tokio::task::JoinHandle<AppExit>,
    otp_core::gen_server::ServerRef<Root>,
) {
    let (started, root) = oneshot::channel();
    let app = tokio::spawn(Application::new("test").run_until(
        move || async move {
            let r = Root::start_link(log).await?;
            let _ = started.send(r.clone());
            Ok::<_, otp_core::gen_server::StartError>(r.pid())
        },
        stop,
    ));
    let root = within("the root", root).await.unwrap();
    (app, root)
}

/// Asked to stop, the root gets `shutdown` from the master, runs `terminate`, and the
/// application ends `Stopped`, status 0.
#[tokio::test]
async fn stop_request_stops_the_root_cleanly() {
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let (app, root) = run_root(log, async move {
        let _ = stopped.await;
    })
    .await;
    assert!(root.is_alive());
    stop.send(()).unwrap();
    let ended = within("the application", app).await.unwrap();
    assert_eq!(ended, AppExit::Stopped);
    assert_eq!(ended.status(), 0);
    assert_eq!(terminated.recv().await, Some(ExitReason::Shutdown));
    assert!(!root.is_alive());
}

/// A root that ends by itself (a top supervisor giving up exits `shutdown`) ends the
/// application at once with a non-zero status.
#[tokio::test]
async fn root_ending_by_itself_ends_the_application_non_zero() {
    let (log, _terminated) = mpsc::unbounded_channel();
    let (app, root) = run_root(log, std::future::pending()).await;
    root.fail(ExitReason::Shutdown).unwrap();
    let ended = within("the application", app).await.unwrap();
    assert_eq!(ended, AppExit::Ended(ExitReason::Shutdown));
    assert_eq!(ended.status(), 1);
}

/// A tree that does not start ends the application with status 2.
#[tokio::test]
async fn start_failure_is_status_2() {
    let ended = Application::new("test")
        .run_until(
            || async { Err::<otp_core::process::Pid, _>("no database") },
            std::future::pending(),
        )
        .await;
    assert_eq!(ended, AppExit::StartFailed("no database".into()));
    assert_eq!(ended.status(), 2);
}

/// A root whose `terminate` panics while stopping: `StopFailed`, status 1.
#[tokio::test]
async fn stop_that_fails_is_non_zero() {
    quiet_panics();
    let (log, _terminated) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let (app, root) = run_root(log, async move {
        let _ = stopped.await;
    })
    .await;
    root.panic_on_terminate().unwrap();
    // GS-17: the master's `shutdown` is handled after the cast queued before it.
    stop.send(()).unwrap();
    match within("the application", app).await.unwrap() {
        AppExit::StopFailed(ExitReason::Panic(m)) => assert!(m.contains("terminate failed")),
        other => panic!("unexpected {other:?}"),
    }
}

/// Starts a `Root` linked to the application master, reports it and the master's pid, then
/// either hangs forever or fails as `then` says.
async fn start_then<E: std::fmt::Display>(
    log: mpsc::UnboundedSender<ExitReason>,
    started: oneshot::Sender<(
        otp_core::gen_server::ServerRef<Root>,
        otp_core::process::Pid,
    )>,
    then: impl Future<Output = E>,
) -> Result<otp_core::process::Pid, E> {
    let root = Root::start_link(log).await.expect("the root starts");
    let master = otp_core::process::current_pid().expect("start runs in the master");
    let _ = started.send((root, master));
    Err(then.await)
}

/// A stop asked while the start function still runs (here it never returns) is honoured: the
/// start is abandoned, what it had linked to the application is stopped with `shutdown`, and
/// the application ends `StartCancelled`, status 0. It used to wait for the start forever.
#[tokio::test]
async fn stop_during_a_hanging_start_cancels_it() {
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let app = tokio::spawn(Application::new("test").run_until(
        move || start_then::<String>(log, started, std::future::pending()),
        async move {
            let _ = stopped.await;
        },
    ));
    let (root, master) = within("the start", up).await.unwrap();
    let master_exit = otp_core::process::wait_exit(master);
    stop.send(()).unwrap();
    let ended = within("the application", app).await.unwrap();
    assert_eq!(ended, AppExit::StartCancelled);
    assert_eq!(ended.status(), 0);
    assert_eq!(terminated.recv().await, Some(ExitReason::Shutdown));
    assert!(!root.is_alive());
    assert_eq!(within("the master", master_exit).await, ExitReason::Normal);
}

/// Dropping the application's future while it starts leaves nothing behind: the master stops
/// what the start had linked to it, and ends.
#[tokio::test]
async fn dropping_the_application_during_start_stops_everything() {
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let app = tokio::spawn(Application::new("test").run_until(
        move || start_then::<String>(log, started, std::future::pending()),
        std::future::pending(),
    ));
    let (root, master) = within("the start", up).await.unwrap();
    let master_exit = otp_core::process::wait_exit(master);
    app.abort();
    assert!(app.await.unwrap_err().is_cancelled());
    assert_eq!(within("the master", master_exit).await, ExitReason::Normal);
    assert_eq!(terminated.recv().await, Some(ExitReason::Shutdown));
    assert!(!root.is_alive());
}

/// Dropping the application's future once the tree runs stops the tree, as a stop would.
#[tokio::test]
async fn dropping_the_running_application_stops_the_tree() {
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (app, root) = run_root(log, std::future::pending()).await;
    app.abort();
    assert!(app.await.unwrap_err().is_cancelled());
    assert_eq!(
        within("the root's terminate", terminated.recv()).await,
        Some(ExitReason::Shutdown)
    );
    assert_eq!(
        within("the root", root.wait_exit()).await,
        ExitReason::Shutdown
    );
}

/// A start function that panics is a failed start (`StartFailed` with the panic's message,
/// status 2), not a root that ended by itself; what it had started is stopped.
#[tokio::test]
async fn start_that_panics_is_a_failed_start() {
    quiet_panics();
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let (fail, failing) = oneshot::channel::<()>();
    let app = tokio::spawn(Application::new("test").run_until(
        move || {
            start_then::<String>(log, started, async move {
                let _ = failing.await;
                panic!("no database");
            })
        },
        std::future::pending(),
    ));
    let (root, _master) = within("the start", up).await.unwrap();
    fail.send(()).unwrap();
    let ended = within("the application", app).await.unwrap();
    match &ended {
        AppExit::StartFailed(why) => assert!(why.contains("no database"), "{why}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(ended.status(), 2);
    assert_eq!(terminated.recv().await, Some(ExitReason::Shutdown));
    assert!(!root.is_alive());
}

/// A start function that panics before returning its future is a failed start too.
#[tokio::test]
async fn start_function_that_panics_at_once_is_a_failed_start() {
    quiet_panics();
    let ended = Application::new("test")
        .run_until(
            || -> std::future::Ready<Result<otp_core::process::Pid, String>> {
                panic!("bad config")
            },
            std::future::pending(),
        )
        .await;
    match &ended {
        AppExit::StartFailed(why) => assert!(why.contains("bad config"), "{why}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(ended.status(), 2);
}

/// A start that returns an error after starting something stops what it started: nothing is
/// left behind.
#[tokio::test]
async fn start_that_fails_stops_what_it_started() {
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let app = tokio::spawn(Application::new("test").run_until(
        move || start_then(log, started, async { "half started" }),
        std::future::pending(),
    ));
    let (root, _master) = within("the start", up).await.unwrap();
    let ended = within("the application", app).await.unwrap();
    assert_eq!(ended, AppExit::StartFailed("half started".into()));
    assert_eq!(terminated.recv().await, Some(ExitReason::Shutdown));
    assert!(!root.is_alive());
}
