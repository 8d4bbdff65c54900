//! Raw tokio, the baseline: a spawned task that owns its state and drains an unbounded mpsc
//! channel; a call carries a oneshot sender for the reply. Also the same server called with a
//! 5 s `tokio::time::timeout`, as a like-for-like reference for otp's calls, which always have a
//! timeout.
//!
//! The supervision baseline ([`TokioSupervisor`]) is a supervising task written by hand: a
//! respawn loop that awaits its child's `JoinHandle` and spawns a new child when the old one
//! panicked, and a task that spawns many counter tasks one after the other, each reporting it
//! runs through a oneshot, and stops them in reverse order.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::harness::crash;
use crate::{CrashChild, Server, Supervision};

/// A message to the baseline server.
enum Msg {
    /// Add the value to the state.
    Cast(u64),
    /// Reply `state + request` on the oneshot.
    Call(u64, oneshot::Sender<u64>),
}

/// The baseline server's loop: owns the state, drains the channel until every sender is gone.
async fn serve(initial: u64, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut state = initial;
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Cast(value) => state += value,
            Msg::Call(request, reply) => {
                let _ = reply.send(state + request);
            }
        }
    }
}

/// Handle to a baseline server: the channel's sender and the task's join handle.
pub struct TokioServer {
    tx: mpsc::UnboundedSender<Msg>,
    task: JoinHandle<()>,
}

impl Server for TokioServer {
    async fn start(initial: u64) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(serve(initial, rx));
        TokioServer { tx, task }
    }

    fn cast(&self, value: u64) {
        self.tx.send(Msg::Cast(value)).expect("tokio server gone");
    }

    async fn call(&self, request: u64) -> u64 {
        let (reply, response) = oneshot::channel();
        self.tx
            .send(Msg::Call(request, reply))
            .expect("tokio server gone");
        response.await.expect("tokio server dropped the call")
    }

    /// Closes the channel (the task's loop then ends) and awaits the task.
    async fn stop(self) {
        drop(self.tx);
        self.task.await.expect("tokio server panicked");
    }
}

/// The baseline server, called with a 5 s timeout (the default call timeout of otp, Erlang and
/// Elixir) through `tokio::time::timeout`: not a budget baseline, a reference for what a timeout
/// costs when each call arms a fresh tokio timer.
pub struct TokioTimeoutServer(TokioServer);

impl Server for TokioTimeoutServer {
    async fn start(initial: u64) -> Self {
        TokioTimeoutServer(TokioServer::start(initial).await)
    }

    fn cast(&self, value: u64) {
        self.0.cast(value);
    }

    async fn call(&self, request: u64) -> u64 {
        tokio::time::timeout(Duration::from_secs(5), self.0.call(request))
            .await
            .expect("tokio server call timed out")
    }

    async fn stop(self) {
        self.0.stop().await;
    }
}

/// A message to the crashing child of the `restart` workload.
enum ChildMsg {
    /// Reply `request` (the child's state is 0) on the oneshot.
    Call(u64, oneshot::Sender<u64>),
    /// Panic.
    Crash,
}

/// Handle to the crashing child: its channel's sender.
pub struct TokioChild(mpsc::UnboundedSender<ChildMsg>);

impl CrashChild for TokioChild {
    fn crash(&self) {
        self.0.send(ChildMsg::Crash).expect("tokio child gone");
    }

    async fn call(&self, request: u64) -> u64 {
        let (reply, response) = oneshot::channel();
        self.0
            .send(ChildMsg::Call(request, reply))
            .expect("tokio child gone");
        response.await.expect("tokio child dropped the call")
    }
}

/// Spawns a crashing child: a task that first sends its handle on `running`, then serves its
/// channel; it panics on [`ChildMsg::Crash`] and returns once every sender is gone.
fn spawn_child(running: mpsc::UnboundedSender<TokioChild>) -> JoinHandle<()> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _ = running.send(TokioChild(tx));
        drop(running);
        let state = 0;
        while let Some(msg) = rx.recv().await {
            match msg {
                ChildMsg::Call(request, reply) => {
                    let _ = reply.send(state + request);
                }
                ChildMsg::Crash => crash(),
            }
        }
    })
}

/// The respawn loop: spawns a child, awaits its `JoinHandle`, and spawns a new one if it
/// panicked; ends when the child ends otherwise, or, aborting the child, when told to stop.
async fn respawn_loop(running: mpsc::UnboundedSender<TokioChild>, mut stop: oneshot::Receiver<()>) {
    loop {
        let mut child = spawn_child(running.clone());
        tokio::select! {
            biased;
            ended = &mut child => match ended {
                Err(e) if e.is_panic() => continue,
                _ => return,
            },
            _ = &mut stop => {
                child.abort();
                let _ = child.await;
                return;
            }
        }
    }
}

/// Spawns the counters one after the other, each reporting through a oneshot that it runs
/// before the next is spawned; reports on `started` once all run; on `stop`, stops them in
/// reverse order, each by dropping its sender and awaiting its task.
async fn supervise_counters(n: u64, started: oneshot::Sender<()>, stop: oneshot::Receiver<()>) {
    let mut children = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready, is_ready) = oneshot::channel();
        let task = tokio::spawn(async move {
            let _ = ready.send(());
            serve(0, rx).await;
        });
        is_ready.await.expect("a counter task ended before it ran");
        children.push((tx, task));
    }
    let _ = started.send(());
    let _ = stop.await;
    for (tx, task) in children.into_iter().rev() {
        drop(tx);
        task.await.expect("a counter task panicked");
    }
}

/// Handle to a baseline supervisor: a way to tell it to stop, and its task.
pub struct TokioSupervisor {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Supervision for TokioSupervisor {
    type Child = TokioChild;
    type Children = u64;

    /// Spawns the respawn loop; returns at once (the harness waits for the child's handle).
    async fn start_restarting(running: mpsc::UnboundedSender<TokioChild>) -> Self {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(respawn_loop(running, stopped));
        TokioSupervisor { stop, task }
    }

    fn children(n: u64) -> u64 {
        n
    }

    /// Spawns the supervising task and waits until it reports that every counter runs.
    async fn start_children(n: u64) -> Self {
        let (started, all_running) = oneshot::channel();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(supervise_counters(n, started, stopped));
        all_running
            .await
            .expect("the supervising task ended before its children ran");
        TokioSupervisor { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("the supervising task panicked");
    }
}
