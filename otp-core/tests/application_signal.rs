//! `Application::run` stops its tree on a real SIGTERM. A test binary of its own: the signal
//! goes to the whole test process.
#![cfg(unix)]

use std::time::Duration;

use otp_core::supervisor::{ChildSpec, SupFlags, Supervisor};
use otp_core::{AppExit, Application, ExitReason, GenServer, handlers};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, oneshot};

/// A worker that reports its `terminate` (it traps exits, so the supervisor's `shutdown`
/// runs it).
#[derive(GenServer)]
#[gen_server(crate = "otp_core")]
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
        ctx: &mut otp_core::Context<Self>,
    ) -> Self {
        ctx.trap_exit(true);
        Worker { name, log }
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = self.log.send((self.name, reason.clone()));
    }
}

/// SIGTERM stops the tree in reverse start order, each child per its shutdown, and the
/// application ends `Stopped` (status 0).
#[tokio::test]
async fn sigterm_stops_the_tree_in_reverse_order() {
    // A listener of our own keeps SIGTERM from ending the test process before the
    // application's listener exists.
    let mut ours = signal(SignalKind::terminate()).expect("a SIGTERM listener");
    let (log, mut terminated) = mpsc::unbounded_channel();
    let (started, up) = oneshot::channel();
    let app = tokio::spawn(Application::new("signalled").run(move || async move {
        let children = ["first", "second", "third"].map(|name| {
            let log = log.clone();
            ChildSpec::new(name, move || Worker::start_link(name, log.clone()))
        });
        let sup = Supervisor::start_link(children, SupFlags::one_for_one()).await?;
        let _ = started.send(());
        Ok::<_, otp_core::SupervisorStartError>(sup.pid())
    }));
    up.await.expect("the tree started");
    // The application's listener is set up when its master first waits: signal until the
    // application ends (each SIGTERM reaches every listener set up by then).
    let ended = loop {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        ours.recv().await;
        if let Ok(done) = tokio::time::timeout(Duration::from_millis(20), async {
            while !app.is_finished() {
                tokio::task::yield_now().await;
            }
        })
        .await
        {
            let () = done;
            break app.await.expect("the application task");
        }
    };
    assert_eq!(ended, AppExit::Stopped);
    assert_eq!(ended.status(), 0);
    let mut order = Vec::new();
    while let Ok((name, reason)) = terminated.try_recv() {
        assert_eq!(reason, ExitReason::Shutdown);
        order.push(name);
    }
    assert_eq!(order, ["third", "second", "first"]);
}
