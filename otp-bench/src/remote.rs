//! The remote workloads: a counter on one node, its client on another, connected over TCP on
//! 127.0.0.1, both nodes in one process.
//!
//! # The arrangement
//!
//! Each node has **its own tokio runtime and its own thread**, as two hosts would, or two
//! otp-core [`Node`](otp_core::node::Node)s in one program (each made with its runtime,
//! `Node::runtime`): node b's runtime is driven by a thread of its own, node a's by the calling
//! (main) thread, and the benchmark runs as a task spawned onto a's runtime. The runtime kind
//! ([`Runtime`]) is the kind of **each** node's runtime:
//!
//! - **current-thread**: two current-thread runtimes, one thread per node — two threads for
//!   the two cores of the reference machine; each node, its connection's tasks and its
//!   processes on one thread, like a BEAM node with one scheduler (`+S 1`, what the BEAM is
//!   given on this runtime).
//! - **multi-thread**: two multi-thread runtimes of [`WORKER_THREADS`] workers each — what
//!   two server applications on one host would build (four workers on two cores), like two
//!   BEAM nodes with their default two schedulers each.
//!
//! One runtime shared by both nodes was not chosen: its workers would run either node's tasks,
//! so a node's reader and the other node's writer could share a thread by chance, which
//! neither two hosts nor two BEAM nodes ever do; and otp-core binds a node to its runtime's
//! threads, so otp-dist's two nodes need a runtime each anyway — the baseline is measured in
//! the arrangement otp-dist must use.
//!
//! # The workloads
//!
//! - **`remote_cast`**: `n / 10` untimed casts, until the counter on b has counted them; then,
//!   timed, `n` casts of `1` from one task on a, until the counter on b has **decoded and
//!   counted the last** ([`Arrivals`] notes the instant, on b's thread); the rate is `n` over
//!   that time. The bytes a's connection wrote during those `n` casts, divided by `n`, are
//!   the bytes per message on the wire ([`Remote::written_bytes`]).
//! - **`remote_call`**: `n / 10` untimed calls, then `n` sequential calls from one task on a,
//!   each timed alone from before the call to after the reply; median and 99th percentile
//!   (nearest rank). Each reply is checked.
//!
//! Each also has an untimed form ([`Mode::Counted`]: `n` casts until the last is counted, or
//! `n` calls, nothing else) for an instruction count on the current-thread runtimes. Those
//! counts repeat (each node's thread sleeps in `epoll_wait` when it has nothing to do, so
//! nothing spins), but they are **user space only**: the kernel's share — loopback TCP, the
//! system calls, the wake-ups of the other node's thread — is most of a call's time and is not
//! counted, and how many frames a `write` and a `read` carry depends on how the two threads
//! interleave, which valgrind changes by running one thread at a time. So they show what a
//! framework's own code costs per message, and the wall clock decides the budgets (see
//! `BENCHMARKS.md`, "Distribution").

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::harness::{percentile, warmup};
use crate::runtime::WORKER_THREADS;
use crate::{Metric, Mode, Runtime, Workload};

/// The number of calls of a full `remote_call` run (`--quick`: a tenth). A loopback round
/// trip takes tens of microseconds, a hundred times a local call, so a tenth of the local
/// workload's calls gives the same order of run time.
pub const CALLS: u64 = 10_000;

/// The one message of the remote workloads, for every framework that can carry it: a cast's
/// value, a call's request, a call's reply. A struct with a named field, as user messages are
/// encoded on otp-dist's wire (rmp-serde with field names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    /// The value.
    pub n: u64,
}

/// Which of the two nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Node a: the client, which casts and calls.
    A,
    /// Node b: the counter's node.
    B,
}

/// A framework's side of the remote workloads, seen from node a: a value of the implementing
/// type is node a's client of the counter on node b.
///
/// The counter on b has the local counter's behaviour: its state is a `u64` (0 at the start),
/// a cast of `n` adds `n` to it **and records `n` on the run's [`Arrivals`]**, a call with
/// request `r` replies `state + r`.
pub trait Remote: Sized + Send + Sync + 'static {
    /// What node b keeps while the workload runs (its node, listener, connection, counter);
    /// dropped, after [`Remote::stop`] on a, to shut b down.
    type NodeB: Send + 'static;

    /// Builds the runtime of node `side` from `builder` (its kind set, its drivers enabled).
    /// The default builds it as it is; a framework whose nodes are bound to their runtime's
    /// threads builds it through the node (otp-core's `Node::runtime`).
    fn runtime(
        side: Side,
        builder: &mut tokio::runtime::Builder,
    ) -> std::io::Result<tokio::runtime::Runtime> {
        let _ = side;
        builder.build()
    }

    /// On node b's runtime: starts node b listening on 127.0.0.1 (any free port) and its
    /// counter, which records every cast on `arrivals`. Resolves with node b and the address
    /// node a is to connect to. `workload` is the workload about to run, for a framework
    /// whose connection carries one kind of frame only (the raw baseline).
    fn start_b(
        workload: Workload,
        arrivals: Arc<Arrivals>,
    ) -> impl Future<Output = (Self::NodeB, String)> + Send;

    /// On node a's runtime: starts node a, connects it to node b at `address` and resolves
    /// with a's client of the counter, once a cast or call can be made.
    fn connect(address: String) -> impl Future<Output = Self> + Send;

    /// Casts `n` to the counter on b. Resolves once the cast is queued for sending (at once,
    /// unless the framework makes a sender wait for room in its outbound queue).
    fn cast(&self, n: u64) -> impl Future<Output = ()> + Send;

    /// Calls the counter on b with `request` and resolves with its reply, `state + request`.
    fn call(&self, request: u64) -> impl Future<Output = u64> + Send;

    /// The bytes a's side of the connection has written to its socket so far, every frame and
    /// frame header included, counted no later than the bytes are written; `None` if the
    /// framework does not say.
    fn written_bytes(&self) -> Option<u64> {
        None
    }

    /// Closes a's side; resolves once it is closed.
    fn stop(self) -> impl Future<Output = ()> + Send;
}

/// How many casts the counter on node b has counted, and the instant it reached a target:
/// how the `remote_cast` workload learns, in the same process, when the last cast was
/// decoded.
#[derive(Debug, Default)]
pub struct Arrivals {
    /// The sum of every recorded cast.
    count: AtomicU64,
    /// The target announced by [`Arrivals::expect`] and who waits for it.
    waiter: Mutex<Option<(u64, oneshot::Sender<Instant>)>>,
    /// The target, readable without the lock: `u64::MAX` while none is set.
    target: AtomicU64,
}

impl Arrivals {
    /// No cast recorded, no target.
    pub fn new() -> Self {
        Arrivals {
            count: AtomicU64::new(0),
            waiter: Mutex::new(None),
            target: AtomicU64::new(u64::MAX),
        }
    }

    /// Records a cast of `n`, on the counter's side. When the sum reaches the target set by
    /// [`Arrivals::expect`], notes the instant and wakes who waits for it.
    pub fn record(&self, n: u64) {
        // Sequentially consistent, with `expect`'s store of the target and load of the sum: one
        // of the two sees the other (on x86 these cost what relaxed ones do).
        let sum = self.count.fetch_add(n, Ordering::SeqCst) + n;
        if sum >= self.target.load(Ordering::SeqCst) {
            self.reached(sum, Instant::now());
        }
    }

    /// The sum of every cast recorded so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Sets the target to `total` and returns what resolves with the instant the sum of the
    /// casts reaches it (at once if it already has).
    pub fn expect(&self, total: u64) -> oneshot::Receiver<Instant> {
        let (tx, rx) = oneshot::channel();
        *self.waiter.lock().expect("arrivals lock poisoned") = Some((total, tx));
        self.target.store(total, Ordering::SeqCst);
        // A sum that reached the target before it was stored was not seen by `record`.
        if self.count() >= total {
            self.reached(total, Instant::now());
        }
        rx
    }

    fn reached(&self, sum: u64, at: Instant) {
        let mut waiter = self.waiter.lock().expect("arrivals lock poisoned");
        if waiter.as_ref().is_some_and(|(target, _)| *target <= sum) {
            let (_, tx) = waiter.take().expect("checked above");
            self.target.store(u64::MAX, Ordering::SeqCst);
            let _ = tx.send(at);
        }
    }
}

/// A fresh runtime builder of kind `runtime`, its drivers enabled.
fn builder(runtime: Runtime) -> tokio::runtime::Builder {
    let mut builder = match runtime {
        Runtime::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Runtime::MultiThread => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(WORKER_THREADS);
            builder
        }
    };
    builder.enable_all();
    builder
}

/// Runs the remote workload `workload` with `n` casts or calls on framework `R`, each node on
/// its own runtime of kind `runtime` and its own thread, timed or counted (which returns no
/// metrics); returns its metrics.
pub fn run<R: Remote>(
    workload: Workload,
    n: u64,
    runtime: Runtime,
    mode: Mode,
) -> Vec<(Metric, f64)> {
    assert!(n > 0, "a workload needs at least one iteration");
    assert!(workload.is_remote(), "{workload} is not a remote workload");
    let arrivals = Arc::new(Arrivals::new());
    let (address_tx, address_rx) = std_mpsc::channel();
    let (stop_b, b_stopped) = oneshot::channel::<()>();
    let node_b = {
        let arrivals = arrivals.clone();
        thread::Builder::new()
            .name("node-b".to_owned())
            .spawn(move || {
                let rt = R::runtime(Side::B, &mut builder(runtime))
                    .expect("failed to build node b's runtime");
                rt.block_on(async move {
                    let b = tokio::spawn(async move {
                        let (node, address) = R::start_b(workload, arrivals).await;
                        let _ = address_tx.send(address);
                        let _ = b_stopped.await;
                        drop(node);
                    });
                    b.await.expect("node b's task panicked");
                });
            })
            .expect("cannot start node b's thread")
    };
    let address = address_rx.recv().expect("node b ended before it listened");
    let rt = R::runtime(Side::A, &mut builder(runtime)).expect("failed to build node a's runtime");
    let metrics = rt.block_on(async move {
        tokio::spawn(async move {
            let client = R::connect(address).await;
            let metrics = match (workload, mode) {
                (Workload::RemoteCast, Mode::Timed) => remote_cast(&client, &arrivals, n).await,
                (Workload::RemoteCall, Mode::Timed) => remote_call(&client, n).await,
                (Workload::RemoteCast, Mode::Counted) => {
                    let reached = arrivals.expect(n);
                    for _ in 0..n {
                        client.cast(1).await;
                    }
                    reached.await.expect("casts lost");
                    Vec::new()
                }
                (Workload::RemoteCall, Mode::Counted) => {
                    for i in 0..n {
                        assert_eq!(client.call(black_box(i)).await, i, "wrong reply");
                    }
                    Vec::new()
                }
                (other, _) => unreachable!("{other} is not a remote workload"),
            };
            client.stop().await;
            metrics
        })
        .await
        .expect("the benchmark task panicked")
    });
    let _ = stop_b.send(());
    node_b.join().expect("node b's thread panicked");
    drop(rt);
    metrics
}

/// `n / 10` untimed casts, then `n` timed ones: casts per second until the last was counted
/// on b, and the bytes a wrote per cast.
async fn remote_cast<R: Remote>(client: &R, arrivals: &Arrivals, n: u64) -> Vec<(Metric, f64)> {
    let warm = warmup(n);
    if warm > 0 {
        let reached = arrivals.expect(warm);
        for _ in 0..warm {
            client.cast(1).await;
        }
        reached.await.expect("warm-up casts lost");
    }
    let reached = arrivals.expect(warm + n);
    let written_before = client.written_bytes();
    let started = Instant::now();
    for _ in 0..n {
        client.cast(black_box(1)).await;
    }
    let last = reached.await.expect("casts lost");
    let elapsed = last.duration_since(started);
    assert_eq!(arrivals.count(), warm + n, "casts counted twice");
    let mut metrics = vec![(Metric::RemoteCastPerS, n as f64 / elapsed.as_secs_f64())];
    if let (Some(before), Some(after)) = (written_before, client.written_bytes()) {
        metrics.push((Metric::WireBytesPerMsg, (after - before) as f64 / n as f64));
    }
    metrics
}

/// `n / 10` untimed calls, then `n` sequential ones, each timed alone: the median and 99th
/// percentile in nanoseconds.
async fn remote_call<R: Remote>(client: &R, n: u64) -> Vec<(Metric, f64)> {
    for i in 0..warmup(n) {
        assert_eq!(client.call(i).await, i, "wrong reply");
    }
    let mut samples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let started = Instant::now();
        let reply = client.call(black_box(i)).await;
        samples.push(started.elapsed().as_nanos() as u64);
        assert_eq!(reply, i, "wrong reply");
    }
    samples.sort_unstable();
    vec![
        (Metric::RemoteCallMedianNs, percentile(&samples, 0.5)),
        (Metric::RemoteCallP99Ns, percentile(&samples, 0.99)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_wake_at_the_target() {
        let arrivals = Arrivals::new();
        let mut reached = arrivals.expect(3);
        arrivals.record(1);
        arrivals.record(1);
        assert!(reached.try_recv().is_err(), "not yet");
        arrivals.record(1);
        assert!(reached.try_recv().is_ok());
        assert_eq!(arrivals.count(), 3);
        // A target already reached resolves at once.
        let mut reached = arrivals.expect(2);
        assert!(reached.try_recv().is_ok());
        // Casts past a reached target do not wake the next waiter early.
        let mut reached = arrivals.expect(5);
        arrivals.record(1);
        assert!(reached.try_recv().is_err());
        arrivals.record(1);
        assert!(reached.try_recv().is_ok());
    }
}
