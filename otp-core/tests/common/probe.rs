//! [`Probe`]: a process driven by the test.
//!
//! A test often needs something done *from inside* a process — link, monitor, trap exits, call a
//! server or a supervisor as that process — and needs to see what that process receives. A
//! probe runs the test's commands, one at a time, and forwards every message it receives to the
//! test.

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use otp_core::process::{ExitReason, Info, Pid, Process, SpawnOptions, spawn_opt, wait_exit};
use tokio::sync::{mpsc, oneshot};

use super::wait::{watch_exit, within};

/// What a probe is told to do.
enum Command {
    /// Run this on the probe's [`Process`] handle.
    Now(Box<dyn FnOnce(&mut Process) + Send>),
    /// Make this future inside the probe and await it there (receiving nothing meanwhile).
    Await(Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>),
}

/// A process driven by the test: it runs the closures the test sends ([`with`](Self::with))
/// and the futures it asks for ([`run`](Self::run)), and forwards every message it receives to
/// the test ([`next`](Self::next), [`flush`](Self::flush)).
pub struct Probe {
    /// The probe's pid.
    pub pid: Pid,
    commands: mpsc::UnboundedSender<Command>,
    infos: mpsc::UnboundedReceiver<Info>,
    exited: Shared<BoxFuture<'static, ExitReason>>,
}

impl Probe {
    /// Spawns a probe, trapping exits or not from its first instruction.
    pub fn spawn(trap_exit: bool) -> Probe {
        let (commands, mut command_rx) = mpsc::unbounded_channel::<Command>();
        let (info_tx, infos) = mpsc::unbounded_channel();
        let opts = SpawnOptions::new().trap_exit(trap_exit);
        let pid = spawn_opt(opts, move |mut me| async move {
            loop {
                tokio::select! {
                    biased;
                    command = command_rx.recv() => match command {
                        Some(Command::Now(f)) => f(&mut me),
                        Some(Command::Await(job)) => job().await,
                        None => return,
                    },
                    info = me.recv() => {
                        let _ = info_tx.send(info);
                    }
                }
            }
        });
        Probe {
            pid,
            commands,
            infos,
            exited: watch_exit(pid).boxed().shared(),
        }
    }

    /// A probe that traps exits.
    pub fn trapping() -> Probe {
        Probe::spawn(true)
    }

    /// A probe that does not trap exits.
    pub fn plain() -> Probe {
        Probe::spawn(false)
    }

    /// Runs `f` inside the probe and returns its result, or `None` if the probe has ended
    /// (before or while running it).
    pub async fn try_with<R, F>(&self, f: F) -> Option<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Process) -> R + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Now(Box::new(move |me| {
            let _ = tx.send(f(me));
        })))?;
        within("the probe to run a command", rx).await.ok()
    }

    /// Runs `f` inside the probe and returns its result; fails the test if the probe has ended.
    pub async fn with<R, F>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&mut Process) -> R + Send + 'static,
    {
        let result = self.try_with(f).await;
        self.alive(result).await
    }

    /// Makes `f`'s future inside the probe (so that it is made and awaited *as* the probe) and
    /// returns its output, or `None` if the probe has ended first.
    pub async fn try_run<R, F, Fut>(&self, f: F) -> Option<R>
    where
        R: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Await(Box::new(move || {
            async move {
                let _ = tx.send(f().await);
            }
            .boxed()
        })))?;
        within("the probe to run a future", rx).await.ok()
    }

    /// Makes `f`'s future inside the probe and returns its output; fails the test if the probe
    /// has ended.
    pub async fn run<R, F, Fut>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = R> + Send + 'static,
    {
        let result = self.try_run(f).await;
        self.alive(result).await
    }

    /// The next message the probe receives.
    pub async fn next(&mut self) -> Info {
        match within("a message at the probe", self.infos.recv()).await {
            Some(info) => info,
            None => panic!(
                "probe {} ended while a message was awaited: {:?}",
                self.pid,
                wait_exit(self.pid).await
            ),
        }
    }

    /// Every message the probe holds or has forwarded so far, in arrival order. Exit signals
    /// sent to the probe before this call have been acted on by the time it returns, so an
    /// empty result means none of them reached the probe as a message. Fails the test if the
    /// probe has ended.
    pub async fn flush(&mut self) -> Vec<Info> {
        let queued = self
            .with(|me| std::iter::from_fn(|| me.try_recv()).collect::<Vec<_>>())
            .await;
        let mut all = Vec::new();
        while let Ok(info) = self.infos.try_recv() {
            all.push(info);
        }
        all.extend(queued);
        all
    }

    /// The probe's exit reason, once it has ended (watched from its spawn, so it is right even
    /// if the probe ended long before).
    pub async fn exit_reason(&self) -> ExitReason {
        self.exited.clone().await
    }

    /// Whether the probe is still running (it acted on every exit signal sent before the call).
    pub async fn survives(&self) -> bool {
        self.try_with(|_| ()).await.is_some()
    }

    /// Sends a command; `None` if the probe has ended.
    fn send(&self, command: Command) -> Option<()> {
        self.commands.send(command).ok()
    }

    /// The result of a command, failing the test with the probe's exit reason if it ended.
    async fn alive<R>(&self, result: Option<R>) -> R {
        match result {
            Some(r) => r,
            None => panic!(
                "probe {} has ended: {:?}",
                self.pid,
                self.exit_reason().await
            ),
        }
    }
}
