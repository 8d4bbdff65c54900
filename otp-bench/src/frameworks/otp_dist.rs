//! otp-dist on the remote workloads: the counter as an otp-core `GenServer` on node b, called
//! and cast to from node a through otp-dist.
//!
//! **Not in the build.** otp-dist did not exist when the remote workloads were written, so this
//! file is a sketch against the API issue 12 expected (which may change), never compiled and
//! never measured; `frameworks.rs` has its `mod` line commented out, and `Framework::OtpDist`
//! takes part in no workload. No figure of otp-dist is printed until these steps are done:
//!
//! 1. `otp-bench/Cargo.toml`: add `otp-dist.workspace = true` to `[dependencies]`.
//! 2. `frameworks.rs`: uncomment `pub mod otp_dist;`; make this file compile against the real
//!    API (the `expect`s on network and node errors are as the other frameworks' are: a failed
//!    run is reported as a failed child).
//! 3. `lib.rs`, `Framework::measures`: `Framework::OtpDist => return workload.is_remote(),`;
//!    `Framework::run`, the remote arm:
//!    `Framework::OtpDist => Ok(remote::run::<otp_dist::OtpDistClient>(workload, n, runtime, mode)),`;
//!    the test `who_runs_where` then expects otp-dist in the remote workloads.
//! 4. Run, in release, on a quiet machine:
//!    `compare --workloads remote_cast,remote_call --json dist.json`: the distribution tables
//!    get an `otp-dist` column (ratios to tcp-rmp), the budget table of `DIST_BUDGETS`
//!    (casts/s ≥ 0.7× tcp-rmp, call median ≤ 1.3×, decided by every round on both runtimes)
//!    and the aim over the BEAM (casts/s ≥ 10× the BEAM's) replace the "not measured" line.
//!    Put the figures, with their ranges and the command, in `BENCHMARKS.md`, "Distribution".
//!
//! What the harness (`remote::Remote`) asks, so that otp-dist is measured exactly as tcp-rmp:
//!
//! - **Two nodes in one process, each on its own tokio runtime and thread**, of the kind the
//!   run asks for (current-thread, or multi-thread with 2 workers): the harness builds them
//!   through [`Remote::runtime`]; if otp-dist's node must be bound to its runtime (otp-core's
//!   `Node::runtime`), build it there. Each node listens on `127.0.0.1:0`; a connects to b.
//! - **The same message**: the counter's cast, call and reply are [`Msg`] (`{ n: u64 }`),
//!   which otp-dist encodes with rmp-serde and field names, as tcp-rmp does; only otp-dist's
//!   own envelope (destination, type tag, call reference, version) is added on the wire.
//! - **Arrivals**: the counter's cast handler calls [`Arrivals::record`] with each `n`, so
//!   that the rate is taken until the last cast was handled on b, as tcp-rmp's reader does.
//!   otp-dist's counter runs one hop further (in a process, behind the connection's reader):
//!   that hop is part of what otp-dist costs.
//! - **Bytes on the wire** ([`Remote::written_bytes`]): the bytes a's connection wrote to its
//!   socket, if otp-dist counts them (a per-connection counter, bumped no later than the
//!   write). If it does not, return `None`: the metric is then missing for otp-dist, never
//!   estimated.
//! - **Backpressure**: `cast` is async so that a bounded outbound queue can make the sender
//!   wait for room (Erlang's `busy_dist_port`); a `Busy` error must be waited out, not
//!   dropped, or the cast workload never completes.
//!
//! Still to measure once otp-dist runs: the memory of an idle connection (see
//! `BENCHMARKS.md`, "Distribution").

use std::sync::Arc;

use otp_core::gen_server::{Action, CallResult, Context, GenServer, Init, ServerRef};
use otp_core::name;
use otp_dist::NodeBuilder;

use crate::Workload;
use crate::remote::{Arrivals, Msg, Remote, Side};

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

/// Node b: its otp-dist node and the counter, kept until the run ends.
pub struct OtpDistNodeB {
    _node: otp_dist::Node,
    _counter: ServerRef<RemoteCounter>,
}

/// Node a's client: its otp-dist node and the counter on b as a remote `ServerRef`.
pub struct OtpDistClient {
    node: otp_dist::Node,
    counter: ServerRef<RemoteCounter>,
}

impl Remote for OtpDistClient {
    type NodeB = OtpDistNodeB;

    fn runtime(
        side: Side,
        builder: &mut tokio::runtime::Builder,
    ) -> std::io::Result<tokio::runtime::Runtime> {
        // If otp-dist's node must own its runtime's threads, make its otp-core `Node` here
        // (named after `side`) and build the runtime with `node.runtime(builder)`.
        let _ = side;
        builder.build()
    }

    async fn start_b(_workload: Workload, arrivals: Arc<Arrivals>) -> (OtpDistNodeB, String) {
        let node = NodeBuilder::new("b@127.0.0.1:0")
            .cookie(COOKIE)
            .start()
            .await
            .expect("node b did not start");
        let counter = RemoteCounter::start(arrivals)
            .await
            .expect("the counter did not start");
        name::register(COUNTER, counter.pid()).expect("the counter's name is taken");
        // The name a connects to, with the port b listens on: "b@127.0.0.1:<port>".
        let address = node.name().to_string();
        (
            OtpDistNodeB {
                _node: node,
                _counter: counter,
            },
            address,
        )
    }

    async fn connect(address: String) -> Self {
        let node = NodeBuilder::new("a@127.0.0.1:0")
            .cookie(COOKIE)
            .start()
            .await
            .expect("node a did not start");
        node.connect(&address)
            .await
            .expect("node a could not connect to b");
        let counter = ServerRef::<RemoteCounter>::remote(COUNTER, "b")
            .await
            .expect("no counter on node b");
        OtpDistClient { node, counter }
    }

    async fn cast(&self, n: u64) {
        // With a bounded outbound queue: on `SendError::Busy`, wait for room and retry.
        self.counter.cast(Msg { n }).expect("remote cast failed");
    }

    async fn call(&self, request: u64) -> u64 {
        self.counter
            .call(Msg { n: request })
            .await
            .expect("remote call failed")
            .n
    }

    fn written_bytes(&self) -> Option<u64> {
        // Only if otp-dist counts the bytes each connection writes; `None` otherwise.
        self.node.connection_stats("b").map(|s| s.bytes_written)
    }

    async fn stop(self) {
        self.node.stop().await;
    }
}
