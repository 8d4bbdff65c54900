//! The seam to other nodes (`otp_core::process::remote`), driven by a router that joins two
//! nodes of this test process directly (what otp-dist does over a connection): the process
//! behaviours hold for a pid of another node as for a local one (P-04 to P-07, P-12, P-15,
//! P-16), and a lost connection fires each link and monitor across it once, `noconnection`.

mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use common::{expect_down, expect_exit, within};
use otp_core::name::{Dest, Name, register, send};
use otp_core::node::Node;
use otp_core::process::{
    ExitReason, Info, Message, MonitorRef, Pid, RouteError, Router, exit, process_info, spawn,
    wait_exit,
};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Joins two nodes: what one sends through it is delivered into the other, as long as the
/// "connection" is up. Keeps the links and monitors that cross, to fire them when it is cut.
struct Loopback {
    nodes: [Node; 2],
    state: Mutex<State>,
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

    /// Cuts the connection: every link and monitor across it fires once, `noconnection`.
    fn cut(&self) {
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

/// A process that forwards what it receives to the test, trapping exits if asked, and links to
/// or monitors `peer` first, as `tie` says.
fn recorder(trap: bool, tie: Tie, out: mpsc::UnboundedSender<Info>) -> Pid {
    spawn(async move |mut me| -> () {
        me.trap_exit(trap);
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
