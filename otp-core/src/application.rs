//! Applications: a top-level supervision tree run as a program (see [`Application`]).

use std::collections::HashSet;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

use futures_util::FutureExt;
use futures_util::future::Either;
use tokio::sync::oneshot;

use crate::exit::{ExitReason, panic_message};
use crate::message::Info;
use crate::pid::Pid;
use crate::process::{Process, SpawnOptions, exit, spawn_opt};

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
/// use otp_core::application::Application;
/// use otp_core::gen_server::{GenServer, handlers};
///
/// /// The root of the tree (a supervisor, in a real program).
/// #[derive(GenServer, Default)]
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
#[non_exhaustive]
pub enum AppExit {
    /// A stop was asked (a signal, or the future given to [`Application::run_until`]) and the
    /// tree stopped cleanly (the root exited `shutdown` or `normal`). Exit status 0.
    Stopped,
    /// A stop was asked before the start function had finished: the start was abandoned, and
    /// the processes it had started and linked to the application were stopped. Exit status 0,
    /// as for any stop that was asked for.
    StartCancelled,
    /// A stop was asked, and the root exited with this other reason (a child that would not
    /// stop, a `terminate` that panicked...). Exit status 1.
    StopFailed(ExitReason),
    /// The root ended by itself with this reason, without being asked: a supervisor at the top
    /// that gave up exits `shutdown`. Exit status 1.
    Ended(ExitReason),
    /// The root did not start: the start function returned an error or panicked; the message
    /// says why. Exit status 2.
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
            AppExit::Stopped | AppExit::StartCancelled => 0,
            AppExit::StopFailed(_) | AppExit::Ended(_) => 1,
            AppExit::StartFailed(_) => 2,
        }
    }
}

impl fmt::Display for AppExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppExit::Stopped => f.write_str("stopped"),
            AppExit::StartCancelled => f.write_str("stopped while starting"),
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
    /// is linked to the master, whose exit signal `shutdown` then stops it. The signal handlers
    /// are installed before `start` runs: a signal during a start that hangs stops the
    /// application too ([`AppExit::StartCancelled`]). Needs tokio's `signal` driver (a runtime
    /// built with `enable_all`, as `#[tokio::main]` does).
    pub async fn run<F, Fut, E>(self, start: F) -> AppExit
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pid, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
    {
        let stop = stop_signal_or_never();
        self.run_until(start, stop).await
    }

    /// A future that completes on the first SIGINT (Ctrl-C) or SIGTERM — what a terminal and a
    /// service manager send, and what [`run`](Self::run) stops on. Where there is no SIGTERM
    /// (Windows), Ctrl-C only.
    ///
    /// The listeners are set up by this call, not when the future is first polled: a signal
    /// that comes after it returned is seen, and no longer ends the program at once (the
    /// signals' default action). Give it to [`run_until`](Self::run_until), or await it in a
    /// program that serves until told to stop. Call it inside a tokio runtime with the signal
    /// driver (`enable_all`, as `#[tokio::main]` does).
    ///
    /// # Errors
    /// If a listener cannot be set up (no signal driver, or the OS refused).
    pub fn stop_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut interrupt = signal(SignalKind::interrupt())?;
            let mut terminate = signal(SignalKind::terminate())?;
            Ok(async move {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            })
        }
        #[cfg(windows)]
        {
            let mut ctrl_c = tokio::signal::windows::ctrl_c()?;
            Ok(async move {
                ctrl_c.recv().await;
            })
        }
    }

    /// As [`run`](Self::run), stopping when `stop` completes instead of on a signal.
    ///
    /// `stop` is watched from the moment the start begins: if it completes while `start` is
    /// still running, the start is abandoned (its future dropped, which ends a server whose
    /// `init` was under way) and every process linked to the application master — what
    /// `start` had started with `start_link` — is sent `shutdown` and waited for; the result
    /// is then [`AppExit::StartCancelled`]. A start that fails (returns an error or panics)
    /// stops them the same way before the application ends with [`AppExit::StartFailed`].
    ///
    /// So a `stop` that should only begin once the tree is up (a demo, a test) waits for a word
    /// from `start`, as the main example `let_it_crash` does:
    ///
    /// ```no_run
    /// # use otp_core::application::Application;
    /// # use otp_core::process::Pid;
    /// # async fn start_tree() -> Result<Pid, String> { unimplemented!() }
    /// # async fn demo() {}
    /// # async fn run() {
    /// let (up, tree_is_up) = tokio::sync::oneshot::channel();
    /// let start = move || async move {
    ///     let root = start_tree().await?;
    ///     let _ = up.send(());
    ///     Ok::<_, String>(root)
    /// };
    /// Application::new("demo")
    ///     .run_until(start, async move {
    ///         if tree_is_up.await.is_ok() {
    ///             demo().await;
    ///         }
    ///     })
    ///     .await;
    /// # }
    /// ```
    ///
    /// Dropping the returned future stops the application as a completed `stop` would: the
    /// master stops the tree, and nothing is left running.
    pub async fn run_until<F, Fut, E, S>(self, start: F, stop: S) -> AppExit
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<Pid, E>> + Send + 'static,
        E: fmt::Display + Send + 'static,
        S: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        // Dropped with this future: the master then stops the tree as if `stop` had completed.
        let (_dropped_guard, dropped) = oneshot::channel::<()>();
        let stop = async move {
            tokio::select! {
                () = stop => {}
                _ = dropped => {}
            }
        };
        let name = self.name;
        spawn_opt(SpawnOptions::new().trap_exit(true), move |master| {
            master_loop(master, name, start, stop, tx)
        });
        // The master sends its ending before it returns; should it be killed first, the tree
        // is gone with it.
        rx.await.unwrap_or(AppExit::Ended(ExitReason::Killed))
    }
}

/// The application master: starts the tree (watching `stop` meanwhile), then waits for `stop`
/// or for the root to end.
async fn master_loop<F, Fut, E, S>(
    mut master: Process,
    name: String,
    start: F,
    stop: S,
    done: oneshot::Sender<AppExit>,
) where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<Pid, E>> + Send + 'static,
    E: fmt::Display + Send + 'static,
    S: Future<Output = ()> + Send + 'static,
{
    let mut stop = std::pin::pin!(stop);
    // The start function is called inside the guarded future, so a panic in the call itself
    // is caught as well as one in the future it returns.
    let starting = AssertUnwindSafe(async move { start().await }).catch_unwind();
    let started = tokio::select! {
        biased;
        () = &mut stop => None,
        started = starting => Some(started),
    };
    let failed = match started {
        None => {
            tracing::info!(application = %name, "stop asked while starting: start abandoned");
            stop_linked(&mut master).await;
            tracing::info!(application = %name, "application stopped while starting");
            let _ = done.send(AppExit::StartCancelled);
            return;
        }
        Some(Ok(Ok(root))) => Ok(root),
        Some(Ok(Err(e))) => Err(e.to_string()),
        Some(Err(panic)) => Err(format!(
            "the start function panicked: {}",
            panic_message(&*panic)
        )),
    };
    let root = match failed {
        Ok(root) => root,
        Err(why) => {
            tracing::error!(application = %name, "application did not start: {why}");
            stop_linked(&mut master).await;
            let _ = done.send(AppExit::StartFailed(why));
            return;
        }
    };
    // `start_link` linked the root to the master already; linking again does nothing, and
    // covers a root started otherwise. A root that is already gone has ended.
    if master.link(root).is_err() {
        let _ = done.send(AppExit::Ended(ExitReason::NoProc));
        return;
    }
    tracing::info!(application = %name, %root, "application started");
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
                if signal.from() != Some(root) {
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
    // Anything else the start linked to the master goes with it.
    stop_linked(&mut master).await;
    let _ = done.send(ending);
}

/// Sends `shutdown` to every process linked to the master and waits for each to exit (the
/// master traps exits, so each exit arrives as a message).
async fn stop_linked(master: &mut Process) {
    let mut linked: HashSet<Pid> = master.links().into_iter().collect();
    for &pid in &linked {
        master.exit(pid, ExitReason::Shutdown);
    }
    while !linked.is_empty() {
        if let Info::Exit(signal) = master.recv().await
            && let Some(from) = signal.from()
        {
            linked.remove(&from);
        }
    }
}

/// The stop signal of [`Application::run`]: if the listeners cannot be set up, logs why and
/// never completes (the application then runs until its root ends).
fn stop_signal_or_never() -> impl Future<Output = ()> + Send + 'static {
    match Application::stop_signal() {
        Ok(signal) => Either::Left(signal),
        Err(e) => {
            tracing::error!("cannot listen for SIGINT and SIGTERM: {e}");
            Either::Right(std::future::pending())
        }
    }
}
