//! otp-dist on the remote workloads: the counter as an otp-core `GenServer` on node b, called
//! and cast to from node a through otp-dist, measured exactly as tcp-rmp (see
//! [`remote`](crate::remote)):
//!
//! - **two nodes in one process, each on its own tokio runtime and thread**, each a `DistNode`
//!   listening on `127.0.0.1:0`; a connects to b;
//! - **the same message**: the counter's cast, call and reply are [`Msg`] (`{ n: u64 }`), which
//!   otp-dist encodes with rmp-serde and field names, as tcp-rmp does; otp-dist's own frame
//!   (kind, destination, call number) is added on the wire;
//! - **arrivals**: the counter's cast handler records each `n`, so the rate is taken until the
//!   last cast was handled on b — one hop further than tcp-rmp's reader (a process behind the
//!   connection's reader): that hop is part of what otp-dist costs;
//! - **bytes on the wire**: the connection's own count of the bytes written to its socket;
//! - **backpressure**: a cast refused as busy (the connection's outbound queue over its bound)
//!   is made again with `cast_wait`, which waits until the connection's writer has taken the
//!   queue (as Erlang suspends a process on a busy distribution port): never dropped, no spin.
//!
//! The counter is started, and the remote reference resolved, in processes of their nodes;
//! the harness then casts and calls from node a's runtime through that reference (a reference
//! made on node a goes through a's router from code that runs on no distributed node).

use std::sync::Arc;

use otp_core::gen_server::{
    Action, CallResult, CastError, Context, GenServer, Init, RemoteServer, ServerRef, Wire,
};
use otp_core::node::Node;
use otp_dist::DistNode;

use crate::Workload;
use crate::remote::{Arrivals, Msg, Remote};

/// The cookie both nodes share.
const COOKIE: &str = "otp-bench";

/// The name the counter is registered under on node b.
const COUNTER: &str = "counter";

/// The counter on node b: the local counter's behaviour, its casts recorded on the run's
/// arrivals.
pub struct RemoteCounter {
    n: u64,
    arrivals: Arc<Arrivals>,
}

impl GenServer for RemoteCounter {
    type Args = Arc<Arrivals>;
    type Call = Msg;
    type Reply = Msg;
    type Cast = Msg;
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init(arrivals: Arc<Arrivals>, _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(RemoteCounter { n: 0, arrivals })
    }

    async fn handle_call(&mut self, request: Msg, _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(Msg {
            n: self.n + request.n,
        })
    }

    async fn handle_cast(&mut self, value: Msg, _ctx: &mut Context<Self>) -> Action<Self> {
        self.n += value.n;
        self.arrivals.record(value.n);
        Action::NoReply
    }
}

impl RemoteServer for RemoteCounter {}

/// Runs `f` in a process of `node` and resolves with its output.
async fn on_node<T: Send + 'static>(node: Node, f: impl Future<Output = T> + Send + 'static) -> T {
    let (tx, rx) = tokio::sync::oneshot::channel();
    {
        let _on = node.enter();
        otp_core::process::spawn(async move |_me| {
            let _ = tx.send(f.await);
        });
    }
    rx.await.expect("the process ran to its end")
}

/// Node b: its otp-dist node and the counter, kept until the run ends.
pub struct OtpDistNodeB {
    node: DistNode,
    _counter: ServerRef<RemoteCounter>,
}

impl Drop for OtpDistNodeB {
    fn drop(&mut self) {
        self.node.shutdown();
    }
}

/// Node a's client: its otp-dist node and the counter on b as a remote `ServerRef`.
pub struct OtpDistClient {
    node: DistNode,
    b: String,
    counter: ServerRef<RemoteCounter>,
}

impl Remote for OtpDistClient {
    type NodeB = OtpDistNodeB;

    async fn start_b(_workload: Workload, arrivals: Arc<Arrivals>) -> (OtpDistNodeB, String) {
        let node = DistNode::builder("b@127.0.0.1:0")
            .cookie(COOKIE)
            .start()
            .await
            .expect("node b did not start");
        let counter = on_node(node.node(), async move {
            let counter = RemoteCounter::start(arrivals)
                .await
                .expect("the counter did not start");
            otp_core::name::register(COUNTER, counter.pid()).expect("the counter's name is taken");
            counter
        })
        .await;
        let address = node.name().to_owned();
        (
            OtpDistNodeB {
                node,
                _counter: counter,
            },
            address,
        )
    }

    async fn connect(address: String) -> Self {
        let node = DistNode::builder("a@127.0.0.1:0")
            .cookie(COOKIE)
            .start()
            .await
            .expect("node a did not start");
        node.connect(&address)
            .await
            .expect("node a could not connect to b");
        let b = address.clone();
        let counter = on_node(node.node(), async move {
            ServerRef::<RemoteCounter>::remote(COUNTER, &b).await
        })
        .await
        .expect("no counter on node b");
        OtpDistClient {
            node,
            b: address,
            counter,
        }
    }

    async fn cast(&self, n: u64) {
        let refused = match self.counter.cast(Msg { n }) {
            Ok(()) => return,
            // The connection's outbound queue is over its bound: `cast_wait` waits for its
            // writer to take the queue, then casts.
            Err(CastError::Busy(back)) => Box::pin(self.counter.cast_wait(back)).await,
            Err(e) => Err(e),
        };
        if let Err(e) = refused {
            panic!("remote cast failed: {e}");
        }
    }

    async fn call(&self, request: u64) -> u64 {
        self.counter
            .call(Msg { n: request })
            .await
            .expect("remote call failed")
            .n
    }

    fn written_bytes(&self) -> Option<u64> {
        self.node.peer_stats(&self.b).map(|s| s.bytes_out)
    }

    async fn stop(self) {
        self.node.shutdown();
    }
}
