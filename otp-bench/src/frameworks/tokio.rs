//! Raw tokio, the baseline: a spawned task that owns its state and drains an unbounded mpsc
//! channel; a call carries a oneshot sender for the reply. Also the same server called with a
//! 5 s `tokio::time::timeout`, as a like-for-like reference for otp's calls, which always have a
//! timeout.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::Server;

/// A message to the baseline server.
enum Msg {
    /// Add the value to the state.
    Cast(u64),
    /// Reply `state + request` on the oneshot.
    Call(u64, oneshot::Sender<u64>),
}

/// Handle to a baseline server: the channel's sender and the task's join handle.
pub struct TokioServer {
    tx: mpsc::UnboundedSender<Msg>,
    task: JoinHandle<()>,
}

impl Server for TokioServer {
    async fn start(initial: u64) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut state = initial;
            while let Some(msg) = rx.recv().await {
                match msg {
                    Msg::Cast(value) => state += value,
                    Msg::Call(request, reply) => {
                        let _ = reply.send(state + request);
                    }
                }
            }
        });
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
