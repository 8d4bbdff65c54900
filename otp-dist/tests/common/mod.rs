//! What the tests of otp-dist share: nodes on an in-memory network, spawning on a node, and
//! waiting for what a process of a node reports.
#![allow(dead_code)]

use std::time::Duration;

use otp_core::node::Node;
use otp_core::process::{ExitReason, Pid, Process};
use otp_dist::transport::{Memory, Transport};
use otp_dist::{DistBuilder, DistNode, NodeEvent};
use tokio::sync::mpsc;

/// The tick time of the tests' nodes.
pub const TICK: Duration = Duration::from_secs(4);

/// A builder of the node named `name` (`name@host:port`) over `transport`, with the tests'
/// cookie and tick time.
pub fn builder(name: &str, transport: impl Transport) -> DistBuilder {
    DistNode::builder(name)
        .cookie("test-cookie")
        .tick_time(TICK)
        .transport(transport)
}

/// A node named `name` on `net`, with the tests' cookie and tick time, that sends `Note`s.
pub async fn node(net: &Memory, name: &str) -> DistNode {
    builder(&format!("{name}@mem:0"), net.clone())
        .message::<Note>()
        .start()
        .await
        .expect("a node starts")
}

/// Two nodes on one in-memory network, connected.
pub async fn pair() -> (DistNode, DistNode) {
    let net = Memory::new();
    let a = node(&net, "a").await;
    let b = node(&net, "b").await;
    a.connect(b.name()).await.expect("a connects to b");
    (a, b)
}

/// A message type the tests' nodes register.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    pub from: String,
    pub n: u64,
}

/// Spawns a process on `node`.
pub fn spawn_on<F, Fut>(node: Node, f: F) -> Pid
where
    F: FnOnce(Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: otp_core::process::IntoExitReason,
{
    let _on = node.enter();
    otp_core::process::spawn(f)
}

/// The exit reason of a process of `node`.
pub async fn exit_of(node: Node, pid: Pid) -> ExitReason {
    let exited = {
        let _on = node.enter();
        otp_core::process::wait_exit(pid)
    };
    within(exited).await
}

/// Waits for `f`, at most a minute of (paused) test time.
pub async fn within<T>(f: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("within a minute")
}

/// The next node event.
pub async fn next_event(events: &mut mpsc::UnboundedReceiver<NodeEvent>) -> NodeEvent {
    within(events.recv()).await.expect("an event")
}

/// Runs `f` on `node` (what `send`, `link`, `exit` act on outside processes).
pub fn on<R>(node: Node, f: impl FnOnce() -> R) -> R {
    let _on = node.enter();
    f()
}

/// Runs `f` in a process of `node` (so that what it calls acts on that node) and returns its
/// output.
pub async fn run_on<T, F>(node: Node, f: F) -> T
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawn_on(node, async move |_me| {
        let _ = tx.send(f.await);
    });
    within(rx).await.expect("the process ran to the end")
}
