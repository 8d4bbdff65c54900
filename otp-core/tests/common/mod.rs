//! Helpers shared by the integration tests of otp-core.
//!
//! Add functions here; do not change existing ones (several test files use them).
#![allow(dead_code)]

use std::pin::Pin;
use std::sync::Once;
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::Shared;
use otp_core::process::{
    ExitReason, Info, Pid, Process, SpawnOptions, spawn, spawn_opt, wait_exit,
};
use tokio::sync::{mpsc, oneshot};

/// How long a test waits for something that must happen before failing instead of hanging.
/// On a paused clock this only passes once nothing else can run.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Silences panics inside processes, for tests that make processes panic on purpose. Panics
/// elsewhere (a failed assertion in a test) still print through the default hook.
pub fn quiet_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if otp_core::process::current_pid().is_none() {
                default(info);
            }
        }));
    });
}

/// Awaits `fut`, failing the test (instead of hanging) if it takes longer than [`PATIENCE`].
pub async fn within<F: Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Waits for `pid` to end and returns its exit reason, failing the test if it does not end.
///
/// `wait_exit` answers `NoProc` for a process that has already ended, so call this only while
/// `pid` is certainly alive (or use [`watch_exit`] before letting it end).
pub async fn exit_reason(pid: Pid) -> ExitReason {
    within("a process to exit", wait_exit(pid)).await
}

/// Starts waiting for `pid` to end right now, so that its exit reason is kept even if it ends
/// before the returned future is awaited. The future fails the test if `pid` does not end.
pub fn watch_exit(pid: Pid) -> impl Future<Output = ExitReason> + Send + 'static {
    let mut waiting = Box::pin(wait_exit(pid));
    let ended = (&mut waiting).now_or_never();
    async move {
        match ended {
            Some(reason) => reason,
            None => within("a process to exit", waiting).await,
        }
    }
}

type Command = Box<dyn FnOnce(&mut Process) + Send>;

/// A process driven by the test: it runs closures sent by the test on its [`Process`] handle,
/// and forwards every message it receives to the test.
pub struct Probe {
    /// The probe's pid.
    pub pid: Pid,
    commands: mpsc::UnboundedSender<Command>,
    infos: mpsc::UnboundedReceiver<Info>,
    exited: Shared<Pin<Box<dyn Future<Output = ExitReason> + Send>>>,
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
                        Some(f) => f(&mut me),
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
            exited: (Box::pin(watch_exit(pid)) as Pin<Box<dyn Future<Output = _> + Send>>).shared(),
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
        let command: Command = Box::new(move |me| {
            let _ = tx.send(f(me));
        });
        self.commands.send(command).ok()?;
        within("the probe to run a command", rx).await.ok()
    }

    /// Runs `f` inside the probe and returns its result; fails the test if the probe has ended.
    pub async fn with<R, F>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&mut Process) -> R + Send + 'static,
    {
        match self.try_with(f).await {
            Some(r) => r,
            None => panic!(
                "probe {} has ended: {:?}",
                self.pid,
                wait_exit(self.pid).await
            ),
        }
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
}

/// Spawns a process that waits for any message and then ends with `reason`.
pub fn spawn_exit_on_message(reason: ExitReason) -> Pid {
    spawn(move |mut me| async move {
        let _ = me.recv().await;
        reason
    })
}

/// Spawns a process that receives and ignores messages forever.
pub fn spawn_idle() -> Pid {
    spawn(ignore_messages)
}

/// The body of [`spawn_idle`]: receives and ignores messages forever.
pub async fn ignore_messages(mut me: Process) {
    loop {
        let _ = me.recv().await;
    }
}

/// A local pid that belonged to a process that has ended.
pub async fn dead_pid() -> Pid {
    let pid = spawn(|_| async {});
    assert_eq!(watch_exit(pid).await, ExitReason::Normal);
    pid
}

/// A pid on another node, which this node cannot reach.
pub fn remote_pid() -> Pid {
    Pid::from_parts(7, 42, 1)
}

/// A message that makes a process spawned with [`spawn_exit_on_message`] end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Go;

/// The exit signal inside an [`Info`], failing the test for anything else: its sender (`None`
/// for an `exit` called outside any process) and its reason.
pub fn expect_exit(info: Info) -> (Option<Pid>, ExitReason) {
    match info {
        Info::Exit(s) => (s.from(), s.reason().clone()),
        other => panic!("expected an exit message, got {other:?}"),
    }
}

/// The `Down` inside an [`Info`], failing the test for anything else.
pub fn expect_down(info: Info) -> otp_core::process::Down {
    match info {
        Info::Down(d) => d,
        other => panic!("expected a Down message, got {other:?}"),
    }
}

/// The user message inside an [`Info`], downcast to `T`, failing the test for anything else.
pub fn expect_message<T: std::any::Any>(info: Info) -> T {
    match info {
        Info::Message(m) => match m.downcast::<T>() {
            Ok(v) => v,
            Err(m) => panic!(
                "expected a {} message, got {m:?}",
                std::any::type_name::<T>()
            ),
        },
        other => panic!("expected a user message, got {other:?}"),
    }
}
