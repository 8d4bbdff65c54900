//! `Application`: a top-level tree run until asked to stop, and the status it ends with.

mod common;

use common::{quiet_panics, within};
use otp_core::{AppExit, Application, ExitReason, GenServer, handlers};
use tokio::sync::{mpsc, oneshot};

/// A root that reports its `terminate`, and can be told to stop by itself.
#[derive(GenServer)]
#[gen_server(crate = "otp_core")]
struct Root {
    log: mpsc::UnboundedSender<ExitReason>,
}

#[handlers]
impl Root {
    #[init]
    fn init(log: mpsc::UnboundedSender<ExitReason>, ctx: &mut otp_core::Context<Self>) -> Self {
        // Trapping, so that the master's `shutdown` runs `terminate` (GS-16, GS-17).
        ctx.trap_exit(true);
        Root { log }
    }

    #[cast]
    fn fail(&mut self, reason: ExitReason) -> otp_core::Action<Self> {
        otp_core::Action::Stop(reason)
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
) -> (tokio::task::JoinHandle<AppExit>, otp_core::ServerRef<Root>) {
    let (started, root) = oneshot::channel();
    let app = tokio::spawn(Application::new("test").run_until(
        move || async move {
            let r = Root::start_link(log).await?;
            let _ = started.send(r.clone());
            Ok::<_, otp_core::StartError>(r.pid())
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
            || async { Err::<otp_core::Pid, _>("no database") },
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
