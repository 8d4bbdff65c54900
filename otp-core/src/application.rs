//! Applications: a top-level supervision tree run as a program (see [`Application`]).

use std::fmt;
use std::future::Future;
use std::process::ExitCode;

use tokio::sync::oneshot;

use crate::exit::ExitReason;
use crate::message::Info;
use crate::pid::Pid;
use crate::process::{SpawnOptions, exit, spawn_opt};

/// A top-level supervision tree run as a program.
///
/// An `Application` starts the root of a tree — usually a supervisor, started with
/// `start_link` — from an *application master* process that traps exits, then waits. On SIGINT
/// or SIGTERM (or any future you choose, with [`Application::run_until`]) it stops the root with
/// an exit signal `shutdown`: the root, whose parent is the master, stops its children in
/// reverse start order, each per its shutdown spec, then exits; the application then returns an
/// [`AppExit`] that says how it ended, and [`AppExit::exit_code`] turns it into the process's
/// exit status. If the root ends by itself — a supervisor that gave up because its restart
/// intensity was exceeded, say — the application ends at once with a non-zero status, as a
/// permanent application takes its node down in Erlang.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use otp_core::{Application, GenServer, handlers};
///
/// /// The root of the tree (a supervisor, in a real program).
/// #[derive(GenServer, Default)]
/// #[gen_server(crate = "otp_core")]
/// struct Root;
///
/// #[handlers]
/// impl Root {}
///
/// #[tokio::main]
/// async fn main() -> ExitCode {
///     Application::new("shop")
///         // Runs in the application master: `start_link` links the root to it.
///         .run(|| async { Root::start_link().await.map(|root| root.pid()) })
///         .await
///         .exit_code()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Application {
    name: String,
}

/// How an application ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppExit {
    /// A stop was asked (a signal, or the future given to [`Application::run_until`]) and the
    /// tree stopped cleanly (the root exited `shutdown` or `normal`). Exit status 0.
    Stopped,
    /// A stop was asked, and the root exited with this other reason (a child that would not
    /// stop, a `terminate` that panicked...). Exit status 1.
    StopFailed(ExitReason),
    /// The root ended by itself with this reason, without being asked: a supervisor at the top
    /// that gave up exits `shutdown`. Exit status 1.
    Ended(ExitReason),
    /// The root did not start; the message says why. Exit status 2.
    StartFailed(String),
}

impl AppExit {
    /// The exit status this ending gives the program: 0 for a clean stop, 1 for a tree that
    /// ended or stopped badly, 2 for a tree that did not start.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.status())
    }

    /// The exit status as a number.
    pub fn status(&self) -> u8 {
        match self {
            AppExit::Stopped => 0,
            AppExit::StopFailed(_) | AppExit::Ended(_) => 1,
            AppExit::StartFailed(_) => 2,
        }
    }
}

impl fmt::Display for AppExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppExit::Stopped => f.write_str("stopped"),
            AppExit::StopFailed(r) => write!(f, "stopped badly: the root exited with {r}"),
            AppExit::Ended(r) => write!(f, "the root ended by itself: {r}"),
            AppExit::StartFailed(why) => write!(f, "did not start: {why}"),
        }
    }
}

impl Application {
    /// An application of this name (used in logs).
    pub fn new(name: impl Into<String>) -> Self {
        Application { name: name.into() }
    }

    /// Starts the tree with `start` and runs it until SIGINT or SIGTERM (on Unix; Ctrl-C
    /// elsewhere), then stops it. See [`Application`].
    ///
    /// `start` runs in the application master process, so the root it starts with `start_link`
    /// is linked to the master, whose exit signal `shutdown` then stops it. Needs tokio's
    /// `signal` driver (a runtime built with `enable_all`, as `#[tokio::main]` does).
    pub async fn run<F, Fut, E>(self, start: F) -> AppExit
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pid, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        self.run_until(start, stop_signal()).await
    }

    /// As [`run`](Self::run), stopping when `stop` completes instead of on a signal.
    pub async fn run_until<F, Fut, E, S>(self, start: F, stop: S) -> AppExit
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pid, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
        S: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let name = self.name.clone();
        spawn_opt(
            SpawnOptions::new().trap_exit(true),
            move |mut master| async move {
                let root = match start().await {
                    Ok(root) => root,
                    Err(e) => {
                        let _ = tx.send(AppExit::StartFailed(e.to_string()));
                        return;
                    }
                };
                // `start_link` linked the root to the master already; linking again does nothing,
                // and covers a root started otherwise. A root that is already gone has ended.
                if master.link(root).is_err() {
                    let _ = tx.send(AppExit::Ended(ExitReason::NoProc));
                    return;
                }
                tracing::info!(application = %name, %root, "application started");
                let mut stop = std::pin::pin!(stop);
                let mut stopping = false;
                let ending = loop {
                    tokio::select! {
                        () = &mut stop, if !stopping => {
                            tracing::info!(application = %name, %root, "stopping the application");
                            stopping = true;
                            exit(root, ExitReason::Shutdown);
                        }
                        info = master.recv() => {
                            let Info::Exit(signal) = info else { continue };
                            if signal.from() != root {
                                continue;
                            }
                            let reason = signal.reason().clone();
                            break if !stopping {
                                AppExit::Ended(reason)
                            } else if reason.is_clean() {
                                AppExit::Stopped
                            } else {
                                AppExit::StopFailed(reason)
                            };
                        }
                    }
                };
                match &ending {
                    AppExit::Stopped => tracing::info!(application = %name, "application stopped"),
                    other => tracing::error!(application = %name, "application {other}"),
                }
                let _ = tx.send(ending);
            },
        );
        // The master sends its ending before it returns; should it be killed first, the tree
        // is gone with it.
        rx.await.unwrap_or(AppExit::Ended(ExitReason::Killed))
    }
}

/// Completes on the first SIGINT or SIGTERM (Ctrl-C where there is no SIGTERM). If the signal
/// handlers cannot be installed, logs why and never completes: the application then runs until
/// its root ends.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!("cannot listen for SIGINT and SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    }
}
