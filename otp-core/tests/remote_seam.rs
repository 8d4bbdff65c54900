//! The seam to other nodes (`otp_core::process::remote`), driven by a router that joins two
//! nodes of this test process directly (what otp-dist does over a connection): the process
//! behaviours hold for a pid of another node as for a local one (P-04 to P-07, P-12, P-15,
//! P-16), and a lost connection fires each link and monitor across it once, `noconnection`.
//!
//! The router also carries typed servers' calls, casts, stops and lookups in their wire form
//! (`Encode`, what otp-dist writes into its frames): a `#[gen_server(remote)]` server of one node is called,
//! cast to and stopped from the other through a `ServerRef` and its generated client, with the
//! failures a remote call adds as typed errors.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{expect_down, expect_exit, within};
use otp_core::gen_server::{
    Action, CallError, CallResult, CastError, GenServer, Init, RefError, ReplyTo, ServerRef,
    StopError, Wire, handlers,
};
use otp_core::name::{Dest, Name, register, send};
use otp_core::node::Node;
use otp_core::process::{
    DeliverError, Encode, ExitReason, Info, LocalTarget, Message, MonitorRef, Pid, ProcessStatus,
    RemoteCallError, RemoteLookup, RemoteReply, RemoteStop, RemoteTarget, ReplySink, RouteError,
    Router, ServerRouter, SpawnOptions, exit, process_info, spawn, spawn_opt, wait_exit,
};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, watch};

/// Joins two nodes: what one sends through it is delivered into the other, as long as the
/// "connection" is up. Keeps the links and monitors that cross, to fire them when it is cut.
struct Loopback {
    nodes: [Node; 2],
    state: Mutex<State>,
    /// Turns true when the connection is cut: the calls in flight end with `NoConnection`.
    cut_signal: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    cut: bool,
    /// (a pid of one node, a pid of the other), each pair once.
    links: HashSet<(Pid, Pid)>,
    /// (watcher, reference) of monitors across.
    monitors: HashSet<(Pid, MonitorRef)>,
}

impl Loopback {
    fn node_of(&self, pid: Pid) -> Option<Node> {
        self.nodes.iter().copied().find(|n| n.owns(pid))
    }

    fn pair(a: Pid, b: Pid) -> (Pid, Pid) {
        (a.min(b), a.max(b))
    }

    /// Cuts the connection: every link and monitor across it fires once, `noconnection`, and
    /// the calls in flight end with `NoConnection`.
    fn cut(&self) {
        self.cut_signal.send_replace(true);
        let (links, monitors) = {
            let mut st = self.state.lock().unwrap();
            st.cut = true;
            (
                std::mem::take(&mut st.links),
                std::mem::take(&mut st.monitors),
            )
        };
        for (a, b) in links {
            for (from, to) in [(a, b), (b, a)] {
                if let Some(node) = self.node_of(to) {
                    node.deliver_exit(Some(from), to, ExitReason::NoConnection, true);
                }
            }
        }
        for (watcher, reference) in monitors {
            if let Some(node) = self.node_of(watcher) {
                node.deliver_down(watcher, reference, ExitReason::NoConnection);
            }
        }
    }

    fn up(&self) -> bool {
        !self.state.lock().unwrap().cut
    }

    /// The node a call, cast or stop aims at, and the process there.
    fn target<'t>(&self, to: RemoteTarget<'t>) -> Option<(Node, LocalTarget<'t>)> {
        match to {
            RemoteTarget::Pid(pid) => Some((self.node_of(pid)?, LocalTarget::Pid(pid))),
            RemoteTarget::Name { name, node } => {
                let node = self.nodes.iter().copied().find(|n| n.name() == node)?;
                Some((node, LocalTarget::Name(name)))
            }
        }
    }
}

/// A value as it crosses the loopback: its wire form.
fn encode(value: &dyn Encode) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    value.encode(&mut bytes)?;
    Ok(bytes)
}

/// The way back to a caller of the other node: the reply, encoded, on a channel.
struct Sink(oneshot::Sender<Result<Vec<u8>, String>>);

impl ReplySink for Sink {
    fn reply(self: Box<Self>, reply: &dyn Encode) -> bool {
        self.0.send(encode(reply)).is_ok()
    }

    fn is_open(&self) -> bool {
        !self.0.is_closed()
    }
}

/// A future that is ready at once.
fn ready<T: Send + 'static>(value: T) -> std::pin::Pin<Box<dyn Future<Output = T> + Send>> {
    Box::pin(std::future::ready(value))
}

/// Waits for `pid`, a process of `node`, to end, starting now.
fn exit_of(node: Node, pid: Pid) -> impl Future<Output = ExitReason> + Send + 'static {
    let _node = node.enter();
    wait_exit(pid)
}

impl ServerRouter for Loopback {
    fn cast(&self, to: RemoteTarget<'_>, message: &dyn Encode) -> Result<(), RouteError> {
        let message = encode(message).map_err(RouteError::Encode)?;
        if self.up()
            && let Some((node, target)) = self.target(to)
        {
            // As in Erlang, a cast reports nothing of its fate there (the node logs a refusal).
            let _ = node.deliver_cast(target, &message);
        }
        Ok(())
    }

    /// The request is delivered at once; the reply comes on a channel, within `timeout`. The
    /// call ends early if the server ends first (its exit reason) or the connection is cut.
    fn call(
        &self,
        _from: Option<Pid>,
        to: RemoteTarget<'_>,
        request: &dyn Encode,
        timeout: Duration,
    ) -> RemoteReply {
        let request = match encode(request) {
            Ok(request) => request,
            Err(why) => return ready(Err(RemoteCallError::Encode(why))),
        };
        let Some((node, target)) = self.target(to).filter(|_| self.up()) else {
            return ready(Err(RemoteCallError::NoConnection));
        };
        // The wait for the server's end starts before the call is delivered (as otp-dist's
        // monitor is set before the call is sent), so that an end during the call is seen.
        let Some((server, _kind)) = node.kind_of(target) else {
            return ready(Err(RemoteCallError::NoProc));
        };
        let exited = exit_of(node, server);
        let (tx, rx) = oneshot::channel();
        if let Err(e) = node.deliver_call(LocalTarget::Pid(server), &request, Box::new(Sink(tx))) {
            return ready(Err(e.into()));
        }
        let mut cut = self.cut_signal.subscribe();
        Box::pin(async move {
            let answer = async {
                tokio::select! {
                    biased;
                    reply = rx => match reply {
                        Ok(Ok(reply)) => Ok(reply),
                        Ok(Err(why)) => Err(RemoteCallError::Encode(why)),
                        // Dropped unanswered: only the server's end tells the caller.
                        Err(_) => Err(RemoteCallError::Exited(exited.await)),
                    },
                    () = async { drop(cut.wait_for(|cut| *cut).await) } => {
                        Err(RemoteCallError::NoConnection)
                    }
                }
            };
            tokio::time::timeout(timeout, answer)
                .await
                .unwrap_or(Err(RemoteCallError::Timeout))
        })
    }

    fn stop(&self, to: Pid, reason: ExitReason, timeout: Duration) -> RemoteStop {
        let Some(node) = self.node_of(to).filter(|_| self.up()) else {
            return ready(Err(RemoteCallError::NoConnection));
        };
        let exited = exit_of(node, to);
        if let Err(e) = node.deliver_stop(to, reason) {
            return ready(Err(e.into()));
        }
        Box::pin(async move {
            tokio::time::timeout(timeout, exited)
                .await
                .map_err(|_| RemoteCallError::Timeout)
        })
    }

    fn whereis(&self, name: &Name, node: &str) -> RemoteLookup {
        let node = self.nodes.iter().copied().find(|n| n.name() == node);
        let found = match node.filter(|_| self.up()) {
            Some(node) => Ok(node.kind_of(LocalTarget::Name(name))),
            None => Err(RemoteCallError::NoConnection),
        };
        ready(found)
    }
}

impl Router for Loopback {
    fn send(&self, _from: Option<Pid>, to: Pid, message: Message) -> Result<(), RouteError> {
        if self.up()
            && let Some(node) = self.node_of(to)
        {
            node.deliver_message(to, message);
        }
        Ok(())
    }

    fn send_named(
        &self,
        _from: Option<Pid>,
        name: &Name,
        node: &str,
        message: Message,
    ) -> Result<(), RouteError> {
        if self.up()
            && let Some(node) = self.nodes.iter().find(|n| n.name() == node)
        {
            node.deliver_named(name, message);
        }
        Ok(())
    }

    fn link(&self, from: Pid, to: Pid) {
        let (Some(here), Some(there)) = (self.node_of(from), self.node_of(to)) else {
            return;
        };
        if !self.up() {
            here.deliver_exit(Some(to), from, ExitReason::NoConnection, true);
            return;
        }
        self.state
            .lock()
            .unwrap()
            .links
            .insert(Self::pair(from, to));
        there.deliver_link(from, to);
    }

    fn unlink(&self, from: Pid, to: Pid) {
        self.state
            .lock()
            .unwrap()
            .links
            .remove(&Self::pair(from, to));
        if let Some(there) = self.node_of(to) {
            there.deliver_unlink(from, to);
        }
    }

    fn exit(&self, from: Option<Pid>, to: Pid, reason: ExitReason, link: bool) {
        if let Some(from) = from
            && link
        {
            self.state
                .lock()
                .unwrap()
                .links
                .remove(&Self::pair(from, to));
        }
        if self.up()
            && let Some(there) = self.node_of(to)
        {
            there.deliver_exit(from, to, reason, link);
        }
    }

    fn monitor(&self, watcher: Pid, target: Pid, reference: MonitorRef) {
        let (Some(here), Some(there)) = (self.node_of(watcher), self.node_of(target)) else {
            return;
        };
        if !self.up() {
            here.deliver_down(watcher, reference, ExitReason::NoConnection);
            return;
        }
        self.state
            .lock()
            .unwrap()
            .monitors
            .insert((watcher, reference));
        there.deliver_monitor(watcher, target, reference);
    }

    fn demonitor(&self, watcher: Pid, target: Pid, reference: MonitorRef) {
        self.state
            .lock()
            .unwrap()
            .monitors
            .remove(&(watcher, reference));
        if let Some(there) = self.node_of(target) {
            there.deliver_demonitor(target, reference);
        }
    }

    fn down(&self, watcher: Pid, _target: Pid, reference: MonitorRef, reason: ExitReason) {
        let known = self
            .state
            .lock()
            .unwrap()
            .monitors
            .remove(&(watcher, reference));
        if known && let Some(here) = self.node_of(watcher) {
            here.deliver_down(watcher, reference, reason);
        }
    }
}

/// Two nodes, each on its own runtime, joined by a `Loopback`.
struct Cluster {
    a: Node,
    b: Node,
    on_a: Runtime,
    on_b: Runtime,
    router: Arc<Loopback>,
}

fn cluster() -> Cluster {
    let runtime = |node: Node| {
        node.runtime(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all(),
        )
        .unwrap()
    };
    let (a, b) = (Node::new("a@seam"), Node::new("b@seam"));
    let router = Arc::new(Loopback {
        nodes: [a, b],
        state: Mutex::default(),
        cut_signal: watch::Sender::new(false),
    });
    a.set_router(router.clone()).map_err(|_| ()).unwrap();
    b.set_router(router.clone()).map_err(|_| ()).unwrap();
    Cluster {
        on_a: runtime(a),
        on_b: runtime(b),
        a,
        b,
        router,
    }
}

impl Cluster {
    /// Runs `future` on node a.
    fn on_a<F: Future>(&self, future: F) -> F::Output {
        self.a.block_on(&self.on_a, future)
    }

    /// Runs `future` on node b.
    fn on_b<F: Future>(&self, future: F) -> F::Output {
        self.b.block_on(&self.on_b, future)
    }
}

/// A wait for the end of `pid`, a process of `node`, started now.
fn waiting(node: Node, pid: Pid) -> impl Future<Output = ExitReason> {
    let _node = node.enter();
    wait_exit(pid)
}

/// Waits until `done` holds, checking every millisecond (a guard against hangs: ten seconds).
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    panic!("timed out waiting for {what}");
}

/// A process that forwards what it receives to the test, trapping exits if asked (from its
/// start, so that an exit signal that comes before its body runs is trapped too), and links to
/// or monitors `peer` first, as `tie` says.
fn recorder(trap: bool, tie: Tie, out: mpsc::UnboundedSender<Info>) -> Pid {
    let options = SpawnOptions::new().trap_exit(trap);
    spawn_opt(options, async move |mut me| -> () {
        match tie {
            Tie::None => {}
            Tie::Link(peer) => me.link(peer).unwrap(),
            Tie::Monitor(peer) => {
                me.monitor(peer);
            }
        }
        loop {
            let info = me.recv().await;
            if out.send(info).is_err() {
                return;
            }
        }
    })
}

#[derive(Clone, Copy)]
enum Tie {
    None,
    Link(Pid),
    Monitor(Pid),
}

/// A process that ends with the `ExitReason` it is sent.
fn ends_on_message() -> Pid {
    spawn(async |mut me| -> ExitReason {
        loop {
            if let Info::Message(m) = me.recv().await
                && let Ok(reason) = m.downcast::<ExitReason>()
            {
                return reason;
            }
        }
    })
}

/// The links of `pid` on `node`, read through that node.
fn links(c: &Cluster, node: Node, pid: Pid) -> Vec<Pid> {
    let read = async move { process_info(pid).map(|i| i.links).unwrap_or_default() };
    if node == c.a {
        c.on_a(read)
    } else {
        c.on_b(read)
    }
}

fn monitored_by(c: &Cluster, node: Node, pid: Pid) -> Vec<Pid> {
    let read = async move {
        process_info(pid)
            .map(|i| i.monitored_by)
            .unwrap_or_default()
    };
    if node == c.a {
        c.on_a(read)
    } else {
        c.on_b(read)
    }
}

#[test]
fn messages_reach_pids_and_names_of_the_other_node() {
    let c = cluster();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let on_b = c.on_b(async {
        let pid = recorder(false, Tie::None, tx);
        register("inbox", pid).unwrap();
        pid
    });
    c.on_a(async {
        send(on_b, "by pid").unwrap();
        send(Dest::remote("inbox", "b@seam"), "by name").unwrap();
    });
    c.on_b(async {
        for expected in ["by pid", "by name"] {
            match within("a message", rx.recv()).await {
                Some(Info::Message(m)) => assert_eq!(m.downcast::<&str>().unwrap(), expected),
                other => panic!("expected {expected:?}, got {other:?}"),
            }
        }
    });
}

/// P-04, P-05: a process linked to a process of the other node dies with its reason when it
/// ends; P-06: one that traps exits gets `{'EXIT', From, Reason}` with the remote pid.
#[test]
fn p05_p06_links_across_nodes_carry_the_exit_reason() {
    let c = cluster();
    let [far, far_too] = c.on_b(async { [ends_on_message(), ends_on_message()] });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (plain, trapping) = c.on_a(async {
        let plain = spawn(move |me| async move {
            me.link(far).unwrap();
            std::future::pending::<()>().await
        });
        (plain, recorder(true, Tie::Link(far_too), tx))
    });
    eventually("both links on b", || {
        links(&c, c.b, far) == [plain] && links(&c, c.b, far_too) == [trapping]
    });
    let plain_ended = waiting(c.a, plain);
    c.on_b(async {
        send(far, ExitReason::error("far away")).unwrap();
        send(far_too, ExitReason::shutdown_with("bye")).unwrap();
    });
    c.on_a(async {
        assert_eq!(
            within("the plain process", plain_ended).await,
            ExitReason::error("far away")
        );
        let (from, reason) = expect_exit(within("the exit message", rx.recv()).await.unwrap());
        assert_eq!(
            (from, reason),
            (Some(far_too), ExitReason::shutdown_with("bye"))
        );
    });
}

/// P-07: `exit(pid, kill)` sent to a process of the other node kills it (`killed`), and its
/// links there and here get `killed`.
#[test]
fn p07_kill_across_nodes() {
    let c = cluster();
    let far = c.on_b(async { ends_on_message() });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let watcher = c.on_a(async { recorder(true, Tie::Link(far), tx) });
    eventually("the link on b", || links(&c, c.b, far) == [watcher]);
    let far_ended = waiting(c.b, far);
    c.on_a(async { exit(far, ExitReason::Kill) });
    c.on_b(async { assert_eq!(within("b's process", far_ended).await, ExitReason::Killed) });
    c.on_a(async {
        let (from, reason) = expect_exit(within("the exit message", rx.recv()).await.unwrap());
        assert_eq!((from, reason), (Some(far), ExitReason::Killed));
    });
}

/// P-12: a link to a process of the other node that does not exist gives a trapping process an
/// exit message `noproc` from it.
#[test]
fn p12_link_to_a_missing_process_of_the_other_node() {
    let c = cluster();
    let never = Pid::from_parts(c.b.id(), u64::MAX - 1, c.b.creation());
    let (tx, mut rx) = mpsc::unbounded_channel();
    c.on_a(async move {
        recorder(true, Tie::Link(never), tx);
        let (from, reason) = expect_exit(within("the exit message", rx.recv()).await.unwrap());
        assert_eq!((from, reason), (Some(never), ExitReason::NoProc));
    });
}

/// P-15, P-16: a monitor on a process of the other node delivers its `Down` with the reason; on
/// one that does not exist, `noproc` at once.
#[test]
fn p15_p16_monitors_across_nodes() {
    let c = cluster();
    let far = c.on_b(async { ends_on_message() });
    let never = Pid::from_parts(c.b.id(), u64::MAX - 1, c.b.creation());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let watcher = c.on_a(async {
        recorder(false, Tie::Monitor(never), tx2);
        recorder(false, Tie::Monitor(far), tx)
    });
    c.on_a(async {
        let down = expect_down(within("the noproc down", rx2.recv()).await.unwrap());
        assert_eq!(
            (down.pid(), down.reason()),
            (Some(never), &ExitReason::NoProc)
        );
    });
    eventually("the monitor on b", || {
        monitored_by(&c, c.b, far) == [watcher]
    });
    c.on_b(async { send(far, ExitReason::error("gone")).unwrap() });
    c.on_a(async {
        let down = expect_down(within("the down", rx.recv()).await.unwrap());
        assert_eq!(
            (down.pid(), down.reason()),
            (Some(far), &ExitReason::error("gone"))
        );
    });
}

/// P-13: a lost connection fires every link and monitor across it once, with `noconnection`, on both
/// sides; nothing comes after.
#[test]
fn a_lost_connection_fires_each_link_and_monitor_once() {
    let c = cluster();
    let (tx_b, mut rx_b) = mpsc::unbounded_channel();
    let (tx_link, mut rx_link) = mpsc::unbounded_channel();
    let (tx_mon, mut rx_mon) = mpsc::unbounded_channel();
    let far = c.on_b(async { recorder(true, Tie::None, tx_b) });
    let (linked, monitoring) = c.on_a(async {
        (
            recorder(true, Tie::Link(far), tx_link),
            recorder(false, Tie::Monitor(far), tx_mon),
        )
    });
    eventually("the link and monitor on b", || {
        links(&c, c.b, far) == [linked] && monitored_by(&c, c.b, far) == [monitoring]
    });
    c.router.cut();
    c.on_a(async {
        let (from, reason) = expect_exit(within("a's exit", rx_link.recv()).await.unwrap());
        assert_eq!((from, reason), (Some(far), ExitReason::NoConnection));
        let down = expect_down(within("a's down", rx_mon.recv()).await.unwrap());
        assert_eq!(down.reason(), &ExitReason::NoConnection);
    });
    c.on_b(async {
        let (from, reason) = expect_exit(within("b's exit", rx_b.recv()).await.unwrap());
        assert_eq!((from, reason), (Some(linked), ExitReason::NoConnection));
    });
    // Once: ending the processes afterwards sends nothing more across.
    c.on_b(async { exit(far, ExitReason::Kill) });
    c.on_a(async {
        exit(linked, ExitReason::Kill);
        tokio::task::yield_now().await;
        assert!(rx_mon.try_recv().is_err(), "a second down");
    });
    assert!(links(&c, c.a, monitoring).is_empty());
}

/// P-14, P-17 across nodes: after `unlink` and `demonitor`, the end of the other node's process
/// reaches nobody.
#[test]
fn unlink_and_demonitor_across_nodes() {
    let c = cluster();
    let far = c.on_b(async { ends_on_message() });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (undone, all_undone) = tokio::sync::oneshot::channel();
    let me = c.on_a(async {
        let me = spawn(async move |mut me| -> () {
            me.trap_exit(true);
            me.link(far).unwrap();
            let reference = me.monitor(far);
            me.unlink(far);
            let _ = undone.send(me.demonitor(reference));
            let _ = tx.send(me.recv().await);
        });
        assert!(
            within("the demonitor", all_undone).await.unwrap(),
            "the monitor was active"
        );
        me
    });
    eventually("no link nor monitor left on b", || {
        links(&c, c.b, far).is_empty() && monitored_by(&c, c.b, far).is_empty()
    });
    let far_ended = waiting(c.b, far);
    c.on_b(async {
        send(far, ExitReason::error("unheard")).unwrap();
        assert_eq!(far_ended.await, ExitReason::error("unheard"));
    });
    c.on_a(async {
        send(me, "the only message").unwrap();
        match within("a message", rx.recv()).await {
            Some(Info::Message(m)) => assert_eq!(m.downcast::<&str>().unwrap(), "the only message"),
            other => panic!("expected the message, got {other:?}"),
        }
    });
}

// ---- Typed servers across nodes ----

/// A counter that other nodes may call: it counts, answers later on request, crashes on
/// request, and tells its witness when it terminates.
#[derive(GenServer)]
#[gen_server(remote)]
struct Counter {
    count: u64,
    parked: Vec<ReplyTo<Self, u64>>,
    witness: mpsc::UnboundedSender<ExitReason>,
}

#[handlers]
impl Counter {
    #[init]
    fn init(witness: mpsc::UnboundedSender<ExitReason>) -> Self {
        Counter {
            count: 0,
            parked: Vec::new(),
            witness,
        }
    }

    #[call]
    fn get(&self) -> u64 {
        self.count
    }

    #[cast]
    fn add(&mut self, by: u64) {
        self.count += by;
    }

    /// Answers with the count at the next `release`.
    #[call]
    fn later(&mut self, reply: ReplyTo<Self, u64>) {
        self.parked.push(reply);
    }

    #[cast]
    fn release(&mut self) {
        for reply in self.parked.drain(..) {
            reply.reply(self.count);
        }
    }

    #[call]
    fn crash(&self) -> u64 {
        panic!("asked to crash")
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason) {
        let _ = self.witness.send(reason.clone());
    }
}

/// Another server other nodes may call, whose messages differ from `Counter`'s: its `get`
/// replies with a string, it has no `add`.
#[derive(GenServer, Default)]
#[gen_server(remote)]
struct Echo {
    notes: Vec<String>,
}

#[handlers]
impl Echo {
    #[call]
    fn get(&self) -> String {
        "echo".to_owned()
    }

    #[call]
    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    #[cast]
    fn note(&mut self, text: String) {
        self.notes.push(text);
    }
}

/// A server without a wire form: other nodes cannot call it.
#[derive(GenServer, Default)]
struct Quiet;

#[handlers]
impl Quiet {
    #[call]
    fn get(&self) -> u64 {
        0
    }
}

const B: &str = "b@seam";

/// A `Counter` on node b, registered as `name`, and what its `terminate` reports.
fn counter_on_b(c: &Cluster, name: &str) -> (Pid, mpsc::UnboundedReceiver<ExitReason>) {
    let (witness, terminated) = mpsc::unbounded_channel();
    let pid = c.on_b(async {
        let counter = Counter::start(witness).await.unwrap();
        register(name, counter.pid()).unwrap();
        counter.pid()
    });
    (pid, terminated)
}

/// GS-23: a server of the other node is found by `{name, node}` and checked to be of the
/// type asked for; the same `call`, `cast` and generated client then reach it there.
#[test]
fn gs23_a_server_of_the_other_node_by_name_and_its_client() {
    let c = cluster();
    let (on_b, _terminated) = counter_on_b(&c, "counter");
    c.on_a(async {
        let counter = ServerRef::<Counter>::remote("counter", B).await.unwrap();
        assert!(counter.is_remote());
        assert_eq!(counter.pid(), on_b);
        counter.add(2).unwrap();
        counter.cast(CounterCast::Add(3)).unwrap();
        assert_eq!(within("a call", counter.get()).await, Ok(5));
        let reply = within("a raw call", counter.call(CounterCall::Get)).await;
        assert!(matches!(reply, Ok(CounterReply::Get(5))), "{reply:?}");
        let patient = counter.with_timeout(Duration::MAX);
        assert_eq!(within("a call without limit", patient.get()).await, Ok(5));
        assert!(counter.is_alive());
        assert_eq!(counter.mailbox_len(), 0, "not readable from another node");
        // The same pid, taken on trust, reaches the same server.
        let by_pid = ServerRef::<Counter>::from_remote_pid(on_b);
        assert_eq!(by_pid, counter);
        assert_eq!(within("a call by pid", by_pid.get()).await, Ok(5));
    });
}

/// A server of this node, asked for by `{name, this node}` or by its pid, is the local one.
#[test]
fn a_server_of_this_node_by_name_and_node_is_local() {
    let c = cluster();
    let (witness, _terminated) = mpsc::unbounded_channel();
    c.on_a(async {
        let counter = Counter::start(witness).await.unwrap();
        register("here", counter.pid()).unwrap();
        let by_name = ServerRef::<Counter>::remote("here", "a@seam")
            .await
            .unwrap();
        let by_pid = ServerRef::<Counter>::from_remote_pid(counter.pid());
        for local in [&by_name, &by_pid] {
            assert!(!local.is_remote());
            local.add(1).unwrap();
        }
        assert_eq!(counter.get().await, Ok(2));
        assert_eq!(counter.mailbox_len(), 0);
        assert!(matches!(
            ServerRef::<Counter>::remote("nobody", "a@seam").await,
            Err(RefError::NotRegistered { .. })
        ));
    });
}

/// A remote reference taken to the server's own node acts there as a local one: calls,
/// casts, the wait and the stop reach the server without the router.
#[test]
fn a_remote_reference_used_on_its_servers_node_acts_locally() {
    let c = cluster();
    let (on_b, mut terminated) = counter_on_b(&c, "counter");
    let (quiet, dead) = c.on_b(async {
        let quiet = Quiet::start().await.unwrap().pid();
        (quiet, common::dead_pid().await)
    });
    let (far, not_counter, gone) = c.on_a(async {
        (
            ServerRef::<Counter>::from_remote_pid(on_b),
            ServerRef::<Counter>::from_remote_pid(quiet),
            ServerRef::<Counter>::from_remote_pid(dead),
        )
    });
    c.router.cut();
    c.on_b(async {
        assert!(far.is_remote(), "made on a");
        far.add(3).unwrap();
        assert_eq!(far.get().await, Ok(3));
        assert!(far.is_alive());
        assert_eq!(gone.get().await, Err(CallError::NoProc));
        assert!(
            gone.add(1).is_ok(),
            "dropped, as a cast to a server that has ended"
        );
        assert!(matches!(not_counter.get().await, Err(CallError::Decode(_))));
        let mut exited = Box::pin(far.wait_exit());
        assert!(futures_util::FutureExt::now_or_never(&mut exited).is_none());
        assert_eq!(far.stop(ExitReason::Normal).await, Ok(()));
        assert_eq!(within("the wait", exited).await, ExitReason::Normal);
        assert_eq!(terminated.recv().await, Some(ExitReason::Normal));
        assert!(!far.is_alive());
    });
}

/// GS-11: a call from the other node answered later through its `ReplyTo`.
#[test]
fn gs11_a_deferred_reply_reaches_the_other_node() {
    let c = cluster();
    let (on_b, _terminated) = counter_on_b(&c, "counter");
    c.on_a(async {
        let counter = ServerRef::<Counter>::from_remote_pid(on_b);
        let mut later = Box::pin(counter.later());
        // The first poll sends the call; the casts are queued after it.
        assert!(futures_util::FutureExt::now_or_never(&mut later).is_none());
        counter.add(4).unwrap();
        counter.release().unwrap();
        assert_eq!(within("the deferred reply", later).await, Ok(4));
    });
}

/// GS-09: a server that ends during a call from the other node makes the call fail with its
/// exit reason; its `terminate` ran; the reference learned that it ended.
#[test]
fn gs09_a_server_that_crashes_during_a_remote_call() {
    common::quiet_panics();
    let c = cluster();
    let (on_b, mut terminated) = counter_on_b(&c, "counter");
    c.on_a(async {
        let counter = ServerRef::<Counter>::from_remote_pid(on_b);
        match within("the call", counter.crash()).await {
            Err(CallError::Exited(ExitReason::Panic(why))) => {
                assert!(why.contains("asked to crash"))
            }
            other => panic!("expected the panic as the exit reason, got {other:?}"),
        }
        assert!(!counter.is_alive());
    });
    let reason = c.on_b(async { within("terminate", terminated.recv()).await });
    assert!(matches!(reason, Some(ExitReason::Panic(_))), "{reason:?}");
}

/// GS-07: a call from the other node to a server that has ended is `noproc`; once the
/// connection is cut, a call in flight ends at once with `noconnection`, as do new calls and
/// waits; a cast is dropped, as in Erlang.
#[test]
fn gs07_remote_calls_to_a_dead_server_or_across_a_cut_connection() {
    let c = cluster();
    let (on_b, _terminated) = counter_on_b(&c, "counter");
    let (gone, _gone_terminated) = counter_on_b(&c, "gone");
    c.on_b(async {
        let gone = ServerRef::<Counter>::from_pid(gone).unwrap();
        gone.stop(ExitReason::Normal).await.unwrap();
    });
    c.on_a(async {
        let gone = ServerRef::<Counter>::from_remote_pid(gone);
        assert_eq!(
            within("a call to the dead", gone.get()).await,
            Err(CallError::NoProc)
        );
        assert!(!gone.is_alive());

        let counter = ServerRef::<Counter>::from_remote_pid(on_b);
        let mut later = Box::pin(counter.later());
        assert!(futures_util::FutureExt::now_or_never(&mut later).is_none());
        c.router.cut();
        let lost = Err(CallError::Exited(ExitReason::NoConnection));
        assert_eq!(within("the call in flight", later).await, lost);
        assert_eq!(within("a new call", counter.get()).await, lost);
        assert!(
            counter.add(1).is_ok(),
            "a cast to an unreachable node is dropped"
        );
        assert_eq!(
            within("the wait", counter.wait_exit()).await,
            ExitReason::NoConnection
        );
        assert!(
            counter.is_alive(),
            "noconnection says nothing of the server's end"
        );
        assert_eq!(
            ServerRef::<Counter>::remote("counter", B).await,
            Err(RefError::Remote(RemoteCallError::NoConnection))
        );
    });
}

/// GS-19: a stop from the other node runs `terminate` there and returns once the server has
/// exited with the reason; a second stop is `noproc`; a wait started before sees the reason.
#[test]
fn gs19_a_remote_stop_runs_terminate() {
    let c = cluster();
    let (on_b, mut terminated) = counter_on_b(&c, "counter");
    let bye = ExitReason::shutdown_with("bye");
    c.on_a(async {
        let counter = ServerRef::<Counter>::remote("counter", B).await.unwrap();
        let mut exited = Box::pin(counter.wait_exit());
        // The first poll sets the monitor.
        assert!(futures_util::FutureExt::now_or_never(&mut exited).is_none());
        assert_eq!(within("the stop", counter.stop(bye.clone())).await, Ok(()));
        assert_eq!(within("the wait", exited).await, bye);
        assert!(!counter.is_alive());
        assert_eq!(
            within("a second stop", counter.stop(ExitReason::Normal)).await,
            Err(StopError::NoProc)
        );
    });
    assert_eq!(c.on_b(async { terminated.recv().await }), Some(bye));
    assert!(!c.on_b(async move { otp_core::process::is_alive(on_b) }));
}

/// What the other node refuses, as typed errors: no such name, a process of another type, a
/// process other nodes cannot call (a plain one, a server without a wire form), a node that
/// is not there.
#[test]
fn remote_refusals_are_typed_errors() {
    let c = cluster();
    let (counter, _terminated) = counter_on_b(&c, "counter");
    let (plain, quiet) = c.on_b(async {
        let plain = common::spawn_idle();
        register("plain", plain).unwrap();
        let quiet = Quiet::start().await.unwrap();
        (plain, quiet.pid())
    });
    c.on_a(async {
        assert_eq!(
            ServerRef::<Counter>::remote("nobody", B).await,
            Err(RefError::NotRegistered {
                name: Name::from("nobody"),
                node: B.to_owned(),
            })
        );
        match ServerRef::<Echo>::remote("counter", B).await {
            Err(RefError::WrongRemoteType {
                pid,
                actual,
                expected,
            }) => {
                assert_eq!(pid, counter);
                assert_eq!(actual, std::any::type_name::<Counter>());
                assert_eq!(expected, std::any::type_name::<Echo>());
            }
            other => panic!("expected WrongRemoteType, got {other:?}"),
        }
        assert!(matches!(
            ServerRef::<Counter>::remote("plain", B).await,
            Err(RefError::WrongRemoteType { actual, .. }) if actual == "process"
        ));
        assert_eq!(
            ServerRef::<Counter>::remote("counter", "z@seam").await,
            Err(RefError::Remote(RemoteCallError::NoConnection))
        );
        // Taken on trust, the pids fail at the first call.
        let plain = ServerRef::<Counter>::from_remote_pid(plain);
        assert_eq!(
            within("a call to a plain process", plain.get()).await,
            Err(CallError::NotRemote("process".to_owned()))
        );
        assert_eq!(
            within("a stop of a plain process", plain.stop(ExitReason::Normal)).await,
            Err(StopError::Remote(RemoteCallError::NotRemote(
                "process".to_owned()
            )))
        );
        let quiet = ServerRef::<Counter>::from_remote_pid(quiet);
        assert_eq!(
            within("a call to a server without a wire form", quiet.get()).await,
            Err(CallError::NotRemote(
                std::any::type_name::<Quiet>().to_owned()
            ))
        );
        assert!(quiet.add(1).is_ok(), "dropped there, and logged");
    });
    // The server without a wire form is unaffected, and can still be stopped from afar.
    c.on_a(async {
        let quiet = ServerRef::<Counter>::from_remote_pid(quiet);
        assert!(quiet.is_alive());
        assert_eq!(
            within("the stop", quiet.stop(ExitReason::Normal)).await,
            Ok(())
        );
    });
}

/// Two nodes that disagree on a server's messages: a request that does not decode there, or a
/// reply that does not decode here, is a typed error; a cast that does not decode is dropped
/// there; the server goes on.
#[test]
fn a_decode_mismatch_is_a_typed_error_and_the_server_survives() {
    let c = cluster();
    let echo = c.on_b(async { Echo::start().await.unwrap().pid() });
    c.on_a(async {
        let wrong = ServerRef::<Counter>::from_remote_pid(echo);
        // `later` is no call of `Echo`'s: the request does not decode there.
        assert!(matches!(
            within("an unknown request", wrong.later()).await,
            Err(CallError::Decode(_))
        ));
        // `get` is one, but its reply is a string, not a number: it does not decode here.
        assert!(matches!(
            within("a foreign reply", wrong.get()).await,
            Err(CallError::Decode(_))
        ));
        assert!(wrong.add(1).is_ok(), "dropped there, and logged");
        let echo = ServerRef::<Echo>::from_remote_pid(echo);
        echo.note("still here".to_owned()).unwrap();
        assert_eq!(
            within("the notes", echo.notes()).await,
            Ok(vec!["still here".to_owned()])
        );
        assert!(echo.is_alive());
    });
}

/// A server other nodes may call, with a mailbox of one message (policy `Wait`), which each
/// `hold` cast keeps busy until the gate lets it through.
#[derive(GenServer)]
#[gen_server(remote, mailbox = 1)]
struct Gated {
    entered: mpsc::UnboundedSender<()>,
    gate: Arc<tokio::sync::Semaphore>,
}

#[handlers]
impl Gated {
    #[init]
    fn init(entered: mpsc::UnboundedSender<()>, gate: Arc<tokio::sync::Semaphore>) -> Self {
        Gated { entered, gate }
    }

    #[cast]
    async fn hold(&mut self) {
        let _ = self.entered.send(());
        if let Ok(pass) = self.gate.acquire().await {
            pass.forget();
        }
    }

    #[call]
    fn hello(&self) -> String {
        "hello".to_owned()
    }
}

/// A full bounded mailbox on the other node refuses a call — even with policy `Wait`: a
/// delivery does not wait — which the caller gets as `MailboxFull`; the server goes on.
#[test]
fn a_full_mailbox_on_the_other_node_refuses_a_call() {
    let c = cluster();
    let (entered_tx, mut entered) = mpsc::unbounded_channel();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let opener = gate.clone();
    let busy = c.on_b(async { Gated::start(entered_tx, gate).await.unwrap().pid() });
    let busy = c.on_a(async move {
        let busy = ServerRef::<Gated>::from_remote_pid(busy);
        busy.hold().unwrap();
        busy
    });
    c.on_b(async { within("the first hold", entered.recv()).await });
    c.on_a(async {
        // The server is held with an empty mailbox: one more message fills it.
        busy.hold().unwrap();
        assert_eq!(
            within("a call to a full mailbox", busy.hello()).await,
            Err(CallError::MailboxFull)
        );
        // Both holds go through; once the second is taken, there is room again.
        opener.add_permits(2);
    });
    c.on_b(async { within("the second hold", entered.recv()).await });
    c.on_a(async {
        assert_eq!(within("a call", busy.hello()).await, Ok("hello".to_owned()));
    });
}

/// A node that is not distributed cannot reach another: a typed error for a lookup, a call, a
/// cast (the message handed back) and a stop; a wait resolves with `noconnection` at once.
#[test]
fn a_node_without_distribution_reaches_no_other() {
    let c = cluster();
    let (on_b, _terminated) = counter_on_b(&c, "counter");
    let alone = Node::new("alone@seam");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    alone.block_on(&runtime, async {
        assert_eq!(
            ServerRef::<Counter>::remote("counter", B).await,
            Err(RefError::NotDistributed)
        );
        let counter = ServerRef::<Counter>::from_remote_pid(on_b);
        assert_eq!(counter.get().await, Err(CallError::NotDistributed));
        match counter.add(7) {
            Err(CastError::NotDistributed(CounterCast::Add(7))) => {}
            other => panic!("expected the cast handed back, got {other:?}"),
        }
        assert_eq!(
            counter.stop(ExitReason::Normal).await,
            Err(StopError::Remote(RemoteCallError::NotDistributed))
        );
        assert_eq!(
            within("the wait", counter.wait_exit()).await,
            ExitReason::NoConnection
        );
    });
}

/// The local path is the same as ever beside remote references: a local server's calls, casts,
/// `CallingSelf` and stop.
#[tokio::test]
async fn local_servers_are_unaffected() {
    let (witness, mut terminated) = mpsc::unbounded_channel();
    let counter = Counter::start(witness).await.unwrap();
    assert!(!counter.is_remote());
    counter.add(2).unwrap();
    assert_eq!(counter.get().await, Ok(2));
    let me = counter.clone();
    let own = otp_core::process::spawn(async move |_me| -> () {
        // Not the server's own process: no CallingSelf.
        let _ = me.get().await;
    });
    assert_eq!(common::exit_reason(own).await, ExitReason::Normal);
    counter.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(terminated.recv().await, Some(ExitReason::Normal));
    assert_eq!(counter.get().await, Err(CallError::NoProc));
}

/// A burst of casts from the other node, delivered through `Deliveries` (what a connection's
/// reader holds): each reaches the server as `deliver_cast` would, the server found once; a
/// cast that does not decode, or to a process without a wire form, is refused; once the
/// server has ended, a cast to it is `NoProc` even though it was the last one reached.
#[test]
fn deliveries_reach_a_server_in_a_burst_and_never_one_that_ended() {
    let c = cluster();
    let (on_b, mut terminated) = counter_on_b(&c, "counter");
    let quiet = c.on_b(async { Quiet::start().await.unwrap().pid() });
    let mut add_two = Vec::new();
    CounterCast::Add(2).encode(&mut add_two).unwrap();
    let mut deliveries = c.b.deliveries();
    for _ in 0..3 {
        assert_eq!(deliveries.cast(on_b, &add_two), Ok(()));
    }
    assert!(matches!(
        deliveries.cast(on_b, &[0xc1]),
        Err(DeliverError::Decode(_))
    ));
    assert!(matches!(
        deliveries.cast(quiet, &add_two),
        Err(DeliverError::NotRemote(_))
    ));
    assert_eq!(deliveries.cast(on_b, &add_two), Ok(()));
    let counter = c.on_b(async { ServerRef::<Counter>::from_pid(on_b).unwrap() });
    c.on_b(async {
        assert_eq!(within("a call", counter.get()).await, Ok(8));
        assert_eq!(counter.stop(ExitReason::Normal).await, Ok(()));
    });
    assert_eq!(
        c.on_b(async { terminated.recv().await }),
        Some(ExitReason::Normal)
    );
    assert_eq!(deliveries.cast(on_b, &add_two), Err(DeliverError::NoProc));
    deliveries.forget();
    assert_eq!(deliveries.cast(on_b, &add_two), Err(DeliverError::NoProc));
}

/// Holds node b's one worker thread until `let_go` is dropped or sent to: a process that
/// blocks the thread, so that no other process of b runs meanwhile.
fn hold_b(c: &Cluster) -> std::sync::mpsc::Sender<()> {
    let (let_go, held) = std::sync::mpsc::channel::<()>();
    let (holding, started) = std::sync::mpsc::channel();
    c.on_b(async move {
        spawn(async move |_| {
            holding.send(()).unwrap();
            let _ = held.recv();
        });
    });
    started.recv().unwrap();
    let_go
}

/// Casts `message` `n` times to `to` through `deliveries`, as one run; whether they woke it.
fn cast_run(
    deliveries: &mut otp_core::process::remote::Deliveries,
    to: Pid,
    message: &[u8],
    n: usize,
) -> bool {
    deliveries.casts(to, &mut |sink| {
        for _ in 0..n {
            sink(message).unwrap();
        }
    })
}

/// A connection's reader that wakes a waiting server with a run of casts waits, through
/// `Deliveries::taken`, until the server has taken them — and only that long: the wait holds
/// while the server cannot run and ends as soon as it has taken the run (before it handles
/// it); a run to a server already woken wakes nothing and has nothing to wait for; a server
/// that ends while waited for ends the wait.
#[test]
fn deliveries_wait_for_the_server_they_woke_to_take_its_casts() {
    let c = cluster();
    let (on_b, _terminated) = counter_on_b(&c, "counter");
    let mut add_two = Vec::new();
    CounterCast::Add(2).encode(&mut add_two).unwrap();
    let status = || c.on_b(async { process_info(on_b).map(|i| i.status) });
    eventually("the counter waits", || {
        status() == Some(ProcessStatus::Waiting)
    });
    let mut deliveries = c.b.deliveries();

    let let_go = hold_b(&c);
    assert!(
        cast_run(&mut deliveries, on_b, &add_two, 3),
        "it waited: woken"
    );
    // Woken already: the next run wakes nothing.
    assert!(!cast_run(&mut deliveries, on_b, &add_two, 2));
    let mut taken = Box::pin(deliveries.taken());
    assert!(
        futures_util::FutureExt::now_or_never(&mut taken).is_none(),
        "the counter cannot run yet"
    );
    drop(let_go);
    c.on_b(within("the counter to take its casts", taken));
    let counter = c.on_b(async { ServerRef::<Counter>::from_pid(on_b).unwrap() });
    assert_eq!(c.on_b(within("a call", counter.get())), Ok(10));

    // Ended while waited for.
    eventually("the counter waits", || {
        status() == Some(ProcessStatus::Waiting)
    });
    let let_go = hold_b(&c);
    assert!(cast_run(&mut deliveries, on_b, &add_two, 1));
    let mut taken = Box::pin(deliveries.taken());
    assert!(futures_util::FutureExt::now_or_never(&mut taken).is_none());
    c.on_b(async { exit(on_b, ExitReason::Kill) });
    drop(let_go);
    c.on_b(within("the end of the wait", taken));
    eventually("the counter ends", || status().is_none());
    // Nothing to wait for once it has ended.
    let woke = deliveries.casts(on_b, &mut |sink| {
        assert_eq!(sink(&add_two), Err(DeliverError::NoProc));
    });
    assert!(!woke);
    assert!(futures_util::FutureExt::now_or_never(deliveries.taken()).is_some());
}

/// A server whose receive times out and whose timeout code then waits (a long
/// `handle_info(Timeout)`).
struct Napper {
    entered: mpsc::UnboundedSender<()>,
    wake: Arc<tokio::sync::Notify>,
    casts: u64,
}

impl GenServer for Napper {
    type Args = (mpsc::UnboundedSender<()>, Arc<tokio::sync::Notify>);
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init(
        (entered, wake): Self::Args,
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> Init<Self> {
        Init::Ok(Napper {
            entered,
            wake,
            casts: 0,
        })
    }

    async fn handle_call(
        &mut self,
        (): (),
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> CallResult<Self> {
        CallResult::Reply(self.casts)
    }

    async fn handle_cast(
        &mut self,
        _: u64,
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> Action<Self> {
        self.casts += 1;
        // Naps if nothing comes within a millisecond.
        Action::Timeout(Duration::from_millis(1))
    }

    async fn handle_info(
        &mut self,
        info: Info,
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> Action<Self> {
        if matches!(info, Info::Timeout) {
            let _ = self.entered.send(());
            self.wake.notified().await;
        }
        Action::NoReply
    }
}

impl otp_core::gen_server::RemoteServer for Napper {}

/// A server that runs its timeout's code (after `Action::Timeout`) is not waiting for
/// messages, even though its receive was the last thing it did: a run of casts to it wakes
/// nothing, and the reader does not wait for it to take them (which it would only do once its
/// timeout code is done) — the connection goes on meanwhile.
#[test]
fn a_server_in_its_timeout_code_is_not_waited_for() {
    let c = cluster();
    let (entered, mut entering) = mpsc::unbounded_channel();
    let wake = Arc::new(tokio::sync::Notify::new());
    let napper = c.on_b(async { Napper::start((entered, wake.clone())).await.unwrap() });
    let mut one = Vec::new();
    1u64.encode(&mut one).unwrap();
    let mut deliveries = c.b.deliveries();
    assert!(deliveries.cast(napper.pid(), &one).is_ok());
    c.on_b(within("the nap", entering.recv()));
    assert!(!cast_run(&mut deliveries, napper.pid(), &one, 3));
    wake.notify_one();
    let casts = c.on_b(within("a call", napper.call(()))).unwrap();
    assert_eq!(casts, 4);
}
