//! A cluster: three nodes in three OS processes, a server called across them, and a
//! supervisor that repairs a worker when the node it depends on dies.
//!
//! One command starts everything. This process is node `a`; it launches nodes `b` and `c` as
//! child processes — its own binary again, with `--peer b` and `--peer c` — which listen on
//! free ports of 127.0.0.1 and report the names they bound over their stdout (the protocol is in
//! `otp_examples::cluster_peer`). The three connect into a full mesh, authenticated by a fresh
//! cookie. Then:
//!
//! ```text
//! node a (this process)             node b (child process)      node c (child process)
//! ├── supervisor  one_for_one       └── counter  "counter"      └── counter  "counter"
//! │   └── lookout ── monitors ──────────────────────────────────▶ c's counter
//! └── the story ── casts, calls ──▶ b's counter ◀── casts, calls ── c
//!                                   b's watcher ── monitors ────▶ c's counter
//! ```
//!
//! 1. The three nodes come up: `monitor_nodes` reports `NodeUp` on each, `nodes()` lists the
//!    others.
//! 2. Every peer runs a `Counter`, a `#[derive(GenServer)]` with `#[gen_server(remote)]`,
//!    registered as `"counter"`. Node a finds b's with `ServerRef::<Counter>::remote("counter",
//!    b)` and casts to it and calls it through the same generated client as a local server
//!    (`counter.add(1)`, `counter.get().await`); node c does the same; the value shows both
//!    nodes' casts.
//! 3. On a, a one_for_one supervisor runs `lookout`, a worker that depends on node c: it looks
//!    up c's counter and monitors it. On b, a process monitors c's counter too.
//! 4. Node a kills c's OS process with `kill -9`: nothing of c runs on its way out.
//! 5. The kernel closes the dead process's sockets, so a and b read the end of their streams
//!    at once: both report `NodeDown { node: c, reason: ConnectionClosed }` (the tick timeout,
//!    15 s by default, is for a node that hangs or a network that drops everything — see
//!    `tests/cluster_faults.rs`). Every monitor on a process of c fires once with
//!    `noconnection`: b's, and the lookout's, which exits with an error. Its supervisor
//!    restarts it; the new lookout finds c gone (its lookup fails: no connection) and keeps
//!    running without it rather than failing its start again and again until its supervisor
//!    gives up. b's counter, on a node that is still up, still answers.
//! 6. a stops its supervisor and tells b to stop; b exits with status 0, c was reaped when it
//!    was killed, and the program exits with status 0. If the story fails or panics half way,
//!    the peers are killed and reaped all the same (their handles kill them when dropped), and
//!    a peer whose parent died sees its stdin close and exits.
//!
//! The story is told on stdout, step by step; the nodes' logs (connections, the supervisor's
//! restart) go to stderr through `tracing`. Every wait has a deadline and a message that says
//! what did not come.
//!
//! ```sh
//! cargo run -p otp-examples --example cluster
//! cargo run -p otp-examples --example cluster -- --help   # and a peer's own options
//! ```

use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use otp::dist::{DistNode, NodeEvent};
use otp::name::Name;
use otp::node::Node;
use otp::prelude::*;
use otp::process::{Down, MonitorRef, RemoteCallError};
use otp_examples::cluster_peer::{
    ArgsError, Command, Event, Mode, Peer, PeerArgs, USAGE, parse_args,
};
use tokio::sync::mpsc;

/// What the story's steps return.
type Outcome<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The deadline of every wait: for a peer to start, for an event, for an answer.
const DEADLINE: Duration = Duration::from_secs(30);

/// The name every peer registers its counter under.
const COUNTER: &str = "counter";

// ---- the servers ----

/// A counter that other nodes call and cast to. Every peer runs one, registered as
/// `"counter"`; `remote` gives it a wire form, so that `ServerRef::<Counter>::remote` finds it
/// from another node and its generated client works there unchanged.
#[derive(GenServer, Default)]
#[gen_server(name = "counter", remote)]
struct Counter {
    count: u64,
    /// The callers of `wait_for`, with the count each waits for.
    waiting: Vec<(u64, ReplyTo<Self, u64>)>,
}

#[handlers]
impl Counter {
    /// Adds `by` to the count, and answers the callers waiting for a count now reached.
    #[cast]
    fn add(&mut self, by: u64) {
        self.count = self.count.saturating_add(by);
        let count = self.count;
        for (_, reply) in self.waiting.extract_if(.., |(target, _)| *target <= count) {
            reply.reply(count);
        }
    }

    /// The count.
    #[call]
    fn get(&self) -> u64 {
        self.count
    }

    /// Answers with the count once it reaches `target`: a call that can stay in flight.
    #[call]
    fn wait_for(&mut self, target: u64, reply: ReplyTo<Self, u64>) {
        if self.count >= target {
            reply.reply(self.count);
        } else {
            self.waiting.push((target, reply));
        }
    }

    /// How many `wait_for` calls wait.
    #[call]
    fn waiters(&self) -> u64 {
        self.waiting.len() as u64
    }
}

/// Why a process of another node could not be found by name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
enum LookupError {
    /// This node is not distributed (it has no router).
    #[error("this node is not distributed")]
    NotDistributed,
    /// Nothing is registered under the name there.
    #[error("nothing is registered as {name} on {node}")]
    NotRegistered {
        /// The name.
        name: String,
        /// The node.
        node: String,
    },
    /// The node could not be asked (no connection to it, no answer).
    #[error(transparent)]
    Remote(#[from] RemoteCallError),
}

/// The process registered as `name` on the node named `node`, asked of that node through this
/// node's router (Erlang's `rpc:call(Node, erlang, whereis, [Name])`); connects to it if needed.
async fn whereis(name: &str, node: &str) -> Result<Pid, LookupError> {
    let router = Node::current()
        .router()
        .cloned()
        .ok_or(LookupError::NotDistributed)?;
    match router.whereis(&Name::from(name), node).await? {
        Some((pid, _kind)) => Ok(pid),
        None => Err(LookupError::NotRegistered {
            name: name.to_owned(),
            node: node.to_owned(),
        }),
    }
}

/// What the lookout sees of the node it depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sight {
    /// It watches the counter of that node: this process.
    Watching(Pid),
    /// It could not find it: why.
    Gone(LookupError),
}

/// A worker that depends on another node: it monitors that node's counter, and exits with an
/// error when the monitor fires, so that its supervisor restarts it. A restarted lookout that
/// cannot find the counter runs without it (a real one would retry later, or wait for a
/// `NodeUp`): failing its start would only make its supervisor try again at once, and give up
/// after three tries in five seconds.
#[derive(GenServer)]
struct Lookout {
    node: String,
    sight: Sight,
    monitor: Option<MonitorRef>,
}

#[handlers]
impl Lookout {
    /// Looks up the counter of `node` and monitors it.
    #[init]
    async fn init(node: String, ctx: &mut Context<Self>) -> Self {
        match whereis(COUNTER, &node).await {
            Ok(counter) => Lookout {
                monitor: Some(ctx.monitor(counter)),
                sight: Sight::Watching(counter),
                node,
            },
            Err(error) => Lookout {
                node,
                sight: Sight::Gone(error),
                monitor: None,
            },
        }
    }

    /// What it sees.
    #[call]
    fn sight(&self) -> Sight {
        self.sight.clone()
    }

    /// The counter it depends on ended, or its node's connection was lost (`noconnection`):
    /// this worker cannot work, so it exits, with an error that its supervisor acts on.
    #[info]
    fn down(&mut self, down: Down) -> Action<Self> {
        if Some(down.reference()) != self.monitor {
            return Action::NoReply;
        }
        Action::Stop(ExitReason::error(format!(
            "the counter on {} it depends on went down: {}",
            self.node,
            down.reason()
        )))
    }
}

// ---- the story, told by node a ----

/// A fresh cookie for this run, from the standard library's per-process random hash keys: the
/// nodes of two runs never accept each other.
fn fresh_cookie() -> String {
    let part = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.finish()
    };
    format!("{:016x}{:016x}", part(), part())
}

/// The next event of a's `monitor_nodes` that `pick` accepts (the others are skipped).
async fn next_node_event<T>(
    events: &mut mpsc::UnboundedReceiver<NodeEvent>,
    what: &str,
    mut pick: impl FnMut(&NodeEvent) -> Option<T>,
) -> Outcome<T> {
    let wait = async {
        while let Some(event) = events.recv().await {
            if let Some(found) = pick(&event) {
                return Ok(found);
            }
        }
        Err(format!("a's node events ended before {what}"))
    };
    Ok(tokio::time::timeout(DEADLINE, wait)
        .await
        .map_err(|_| format!("no {what} on a within {DEADLINE:?}"))??)
}

/// Waits for a peer's `node-up` for each of `nodes`.
async fn expect_node_ups(peer: &mut Peer, nodes: [&str; 2]) -> Outcome {
    for node in nodes {
        peer.expect(&format!("node-up {node}"), DEADLINE, |e| {
            matches!(e, Event::NodeUp { node: n } if n == node).then_some(())
        })
        .await?;
    }
    Ok(())
}

/// A peer's `nodes()`.
async fn nodes_of(peer: &mut Peer) -> Outcome<Vec<String>> {
    Ok(peer
        .ask(&Command::Nodes, DEADLINE, |e| match e {
            Event::Nodes { nodes } => Some(nodes.clone()),
            _ => None,
        })
        .await?)
}

/// The three nodes as node a knows them: itself, its node events, and its two peers.
struct Cluster {
    a: DistNode,
    a_events: mpsc::UnboundedReceiver<NodeEvent>,
    b: Peer,
    c: Peer,
}

/// The story, step by step. The peers' handles kill and reap them if it returns early.
async fn story() -> Outcome {
    let cookie = fresh_cookie();
    let a = DistNode::builder("a@127.0.0.1:0")
        .cookie(&cookie)
        .start()
        .await?;
    // From here on, this thread's code (the story, outside any process) runs on node a; so do
    // the processes it starts.
    let _on_a = a.node().enter();
    println!(
        "Cluster: three nodes in three OS processes on 127.0.0.1; a server called across \
         them; a supervisor that repairs a worker when the node it depends on dies.\n"
    );
    let mut cluster = nodes_up(a, &cookie).await?;
    let counter = counter_on_b(&mut cluster).await?;
    let (sup, lookout) = lookout_on_a(&mut cluster).await?;
    // Waiting for the lookout's end, set up before the kill, resolves once its exit signal has
    // reached its supervisor: the supervisor answers calls made after it once it restarted it.
    let lookout_ended = otp::process::wait_exit(lookout);
    kill_c(&mut cluster).await?;
    c_is_gone(&mut cluster, &sup, lookout, lookout_ended, &counter).await?;
    the_end(cluster, &sup).await
}

/// Step 1: Node a launches b and c, the three connect into a full mesh, and each sees the others.
async fn nodes_up(a: DistNode, cookie: &str) -> Outcome<Cluster> {
    let program = std::env::current_exe()?;
    let mut a_events = a.monitor_nodes();
    let (b_args, c_args) = (PeerArgs::new("b", cookie), PeerArgs::new("c", cookie));
    let (b, c) = tokio::join!(
        Peer::launch(&program, &b_args, DEADLINE),
        Peer::launch(&program, &c_args, DEADLINE),
    );
    let (mut b, mut c) = (b?, c?);
    println!("1. The nodes start, each listening on a free port:");
    println!(
        "   a  {}  this process (pid {})",
        a.name(),
        std::process::id()
    );
    for peer in [&b, &c] {
        println!(
            "   {}  {}  a child process (pid {}): this program, run with `--peer {}`",
            peer.label(),
            peer.node(),
            peer.os_pid(),
            peer.label()
        );
    }
    let (a_name, b_name, c_name) = (
        a.name().to_owned(),
        b.node().to_owned(),
        c.node().to_owned(),
    );
    a.connect(&b_name).await?;
    a.connect(&c_name).await?;
    b.ask(
        &Command::Connect {
            node: c_name.clone(),
        },
        DEADLINE,
        |e| match e {
            Event::Connected { node } if *node == c_name => Some(Ok(())),
            Event::ConnectFailed { node, why } if *node == c_name => Some(Err(why.clone())),
            _ => None,
        },
    )
    .await?
    .map_err(|why| format!("b cannot connect to c: {why}"))?;
    println!(
        "   a connects to b and to c, b connects to c: a full mesh of three connections, \
         each authenticated with the cookie."
    );
    let mut ups = Vec::new();
    for _ in 0..2 {
        ups.push(
            next_node_event(&mut a_events, "NodeUp", |e| match e {
                NodeEvent::NodeUp { node } => Some(node.clone()),
                _ => None,
            })
            .await?,
        );
    }
    println!("   a's monitor_nodes: NodeUp {}, NodeUp {}", ups[0], ups[1]);
    expect_node_ups(&mut b, [&a_name, &c_name]).await?;
    println!("   b's monitor_nodes: NodeUp {a_name}, NodeUp {c_name}");
    expect_node_ups(&mut c, [&a_name, &b_name]).await?;
    println!("   c's monitor_nodes: NodeUp {a_name}, NodeUp {b_name}");
    println!("   a.nodes() = {:?}", a.nodes());
    println!("   b.nodes() = {:?}", nodes_of(&mut b).await?);
    println!("   c.nodes() = {:?}", nodes_of(&mut c).await?);
    Ok(Cluster { a, a_events, b, c })
}

/// Step 2: Nodes a and c cast to b's counter and call it, through its generated client.
async fn counter_on_b(cluster: &mut Cluster) -> Outcome<ServerRef<Counter>> {
    let b_name = cluster.b.node().to_owned();
    println!(
        "\n2. Each peer runs a counter server registered as \"counter\"; \
         #[gen_server(remote)] lets other nodes call it."
    );
    let counter = ServerRef::<Counter>::remote(COUNTER, &b_name).await?;
    println!(
        "   a: ServerRef::<Counter>::remote(\"counter\", b) = {}, a process of b",
        counter.pid()
    );
    counter.add(1)?;
    counter.add(2)?;
    println!(
        "   a casts add(1) and add(2), then calls get(): {}",
        counter.get().await?
    );
    let count = Command::Count {
        node: b_name.clone(),
        by: 10,
    };
    let seen_by_c = cluster
        .c
        .ask(&count, DEADLINE, |e| match e {
            Event::Count { node, value } if *node == b_name => Some(Ok(*value)),
            Event::CountFailed { node, why } if *node == b_name => Some(Err(why.clone())),
            _ => None,
        })
        .await?
        .map_err(|why| format!("c cannot count on b: {why}"))?;
    println!("   c does the same through its own ServerRef: add(10), then get(): {seen_by_c}");
    println!(
        "   a calls get() again: {}. b's counter holds the casts of both nodes.",
        counter.get().await?
    );
    Ok(counter)
}

/// Step 3: On a, a supervisor runs the lookout, which monitors c's counter; a process of b monitors
/// it too. Returns the supervisor and the lookout's pid.
async fn lookout_on_a(cluster: &mut Cluster) -> Outcome<(SupervisorRef, Pid)> {
    let c_name = cluster.c.node().to_owned();
    println!(
        "\n3. On a, a supervisor (one_for_one) runs lookout, a worker that depends on c: it \
         looks up c's counter and monitors it."
    );
    let c_for_lookout = c_name.clone();
    let sup = Supervisor::start_link(
        [ChildSpec::new("lookout", move || {
            Lookout::start_link(c_for_lookout.clone())
        })],
        SupFlags::one_for_one(),
    )
    .await?;
    let lookout = lookout_of(&sup).await?;
    let c_counter = match ServerRef::<Lookout>::from_pid(lookout)?.sight().await? {
        Sight::Watching(pid) => pid,
        Sight::Gone(error) => return Err(format!("the lookout cannot see c: {error}").into()),
    };
    println!("   lookout {lookout}: monitoring c's counter, {c_counter}");
    let monitor = Command::Monitor {
        node: c_name.clone(),
        name: COUNTER.into(),
    };
    let watched = cluster
        .b
        .ask(&monitor, DEADLINE, |e| match e {
            Event::Monitoring { node, pid, .. } if *node == c_name => Some(Ok(pid.clone())),
            Event::MonitorFailed { node, why, .. } if *node == c_name => Some(Err(why.clone())),
            _ => None,
        })
        .await?
        .map_err(|why| format!("b cannot monitor c's counter: {why}"))?;
    println!("   a process of b monitors c's counter too: {watched}");
    Ok((sup, lookout))
}

/// Step 4: Node a kills c's OS process.
async fn kill_c(cluster: &mut Cluster) -> Outcome {
    println!(
        "\n4. a kills c's OS process: kill -9 {} (SIGKILL: no code of c runs on its way out).",
        cluster.c.os_pid()
    );
    let status = cluster.c.kill(DEADLINE).await?;
    println!("   c is dead and reaped: {status}.");
    Ok(())
}

/// Step 5: a and b see c go down, their monitors fire, a's supervisor restarts the lookout, which
/// finds c gone; b's counter still answers.
async fn c_is_gone(
    cluster: &mut Cluster,
    sup: &SupervisorRef,
    lookout: Pid,
    lookout_ended: impl Future<Output = ExitReason>,
    counter: &ServerRef<Counter>,
) -> Outcome {
    let c_name = cluster.c.node().to_owned();
    println!("\n5. The connections to c are gone.");
    let reason = next_node_event(&mut cluster.a_events, "NodeDown of c", |e| match e {
        NodeEvent::NodeDown { node, reason } if *node == c_name => Some(reason.clone()),
        _ => None,
    })
    .await?;
    println!("   a's monitor_nodes: NodeDown {{ node: {c_name}, reason: {reason:?} }}");
    let b_reason = cluster
        .b
        .expect("node-down of c", DEADLINE, |e| match e {
            Event::NodeDown { node, reason } if *node == c_name => Some(reason.clone()),
            _ => None,
        })
        .await?;
    println!("   b's monitor_nodes: NodeDown {{ node: {c_name}, reason: {b_reason} }}");
    println!(
        "   The kernel closed the killed process's sockets, so both read the end of their \
         stream at once: the connection closed, no tick timeout needed (that one is for a \
         node that hangs, or a network that drops everything)."
    );
    let b_down = cluster
        .b
        .expect("b's Down for c's counter", DEADLINE, |e| match e {
            Event::Down { node, reason, .. } if *node == c_name => Some(reason.clone()),
            _ => None,
        })
        .await?;
    println!("   b's monitor on c's counter fired: Down, {b_down}.");
    let ended = tokio::time::timeout(DEADLINE, lookout_ended)
        .await
        .map_err(|_| format!("the lookout did not exit within {DEADLINE:?}"))?;
    println!("   a's lookout got its Down too, and exited: `{ended}`.");
    let restarted = lookout_of(sup).await?;
    if restarted == lookout {
        return Err("the supervisor did not restart the lookout".into());
    }
    let sight = ServerRef::<Lookout>::from_pid(restarted)?.sight().await?;
    let Sight::Gone(error) = sight else {
        return Err(format!("the new lookout still sees c: {sight:?}").into());
    };
    println!(
        "   a's supervisor restarted it as {restarted}. The new lookout looked c's counter \
         up again: c is gone ({error}); it runs without c instead of failing again."
    );
    println!("   a.nodes() = {:?}", cluster.a.nodes());
    println!("   b.nodes() = {:?}", nodes_of(&mut cluster.b).await?);
    println!(
        "   b's counter, on a node still up, still answers a's get(): {}",
        counter.get().await?
    );
    Ok(())
}

/// Step 6: Everything stops: the supervisor, then b; a's node shuts down.
async fn the_end(mut cluster: Cluster, sup: &SupervisorRef) -> Outcome {
    println!(
        "\n6. The story is over: a stops its supervisor, which stops the lookout; b is told \
         to stop."
    );
    sup.stop_timeout(ExitReason::Normal, DEADLINE).await?;
    let status = cluster.b.stop(DEADLINE).await?;
    if !status.success() {
        return Err(format!("b exited with {status}").into());
    }
    cluster.a.shutdown();
    println!(
        "   b stopped its node and exited ({status}); c was reaped after its kill: no child \
         process is left."
    );
    Ok(())
}

/// The pid of the running lookout.
async fn lookout_of(sup: &SupervisorRef) -> Outcome<Pid> {
    sup.which_children()
        .await?
        .iter()
        .find(|child| child.id == "lookout")
        .and_then(|child| child.pid())
        .ok_or_else(|| "the lookout is not running".into())
}

// ---- a peer node, driven over stdin ----

/// Runs a peer node (see `otp_examples::cluster_peer`): reports its name, then runs the
/// commands read on stdin until `stop` or the end of stdin, reporting events on stdout.
async fn peer(args: PeerArgs) -> ExitCode {
    let node = match DistNode::builder(args.node_name())
        .cookie(&args.cookie)
        .tick_time(args.tick)
        .start()
        .await
    {
        Ok(node) => node,
        Err(e) => {
            eprintln!("peer {}: cannot start its node: {e}", args.name);
            return ExitCode::FAILURE;
        }
    };
    // This thread's code runs on the peer's node; each command runs in a process of its own.
    let _on = node.node().enter();
    let mut node_events = node.monitor_nodes();
    let counter = match Counter::start().await {
        Ok(counter) => counter,
        Err(e) => {
            eprintln!("peer {}: cannot start its counter: {e}", args.name);
            return ExitCode::FAILURE;
        }
    };
    let (report, mut reports) = mpsc::unbounded_channel();
    let mut commands = stdin_lines();
    let mut told = say(&Event::Up {
        node: node.name().to_owned(),
    });
    // Until stdout or stdin closes (the parent is gone), or the parent says `stop`.
    while told {
        told = tokio::select! {
            line = commands.recv() => {
                let Some(line) = line else { break };
                match line.parse::<Command>() {
                    Ok(Command::Stop) => break,
                    Ok(command) => {
                        run(command, &node, &counter, report.clone());
                        true
                    }
                    Err(e) => say(&Event::Refused { why: e.to_string() }),
                }
            }
            Some(event) = node_events.recv() => node_event(event).is_none_or(|e| say(&e)),
            Some(event) = reports.recv() => say(&event),
        };
    }
    if let Err(e) = counter
        .stop_timeout(ExitReason::Shutdown, Duration::from_secs(5))
        .await
    {
        eprintln!("peer {}: its counter did not stop cleanly: {e}", args.name);
    }
    node.shutdown();
    ExitCode::SUCCESS
}

/// Writes an event on stdout, a line, flushed. Returns whether it could: not once the parent
/// is gone (a closed pipe, where `println!` would panic).
fn say(event: &Event) -> bool {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{event}")
        .and_then(|()| stdout.flush())
        .is_ok()
}

/// The lines of stdin, read by a thread (blocking reads); the channel ends with stdin.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let reader = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = reader {
        // No commands can come: the peer stops at once, as if its stdin had closed.
        eprintln!("cannot read stdin: {e}");
    }
    rx
}

/// A node event as the protocol reports it (`None`: a kind of event it does not know).
fn node_event(event: NodeEvent) -> Option<Event> {
    match event {
        NodeEvent::NodeUp { node } => Some(Event::NodeUp { node }),
        NodeEvent::NodeDown { node, reason } => Some(Event::NodeDown {
            node,
            reason: reason.kind().to_owned(),
        }),
        other => {
            eprintln!("a node event the protocol does not carry: {other:?}");
            None
        }
    }
}

/// Runs a command in a process of the peer's node, which reports what came of it.
fn run(
    command: Command,
    node: &DistNode,
    counter: &ServerRef<Counter>,
    report: mpsc::UnboundedSender<Event>,
) {
    let tell = move |event| {
        let _ = report.send(event);
    };
    match command {
        Command::Nodes => tell(Event::Nodes {
            nodes: node.nodes(),
        }),
        Command::Connect { node: to } => {
            let node = node.clone();
            spawn(async move |_me| {
                tell(match node.connect(&to).await {
                    Ok(()) => Event::Connected { node: to },
                    Err(e) => Event::ConnectFailed {
                        node: to,
                        why: e.to_string(),
                    },
                });
            });
        }
        Command::Count { node, by } => {
            spawn(async move |_me| {
                let counted = async {
                    let counter = ServerRef::<Counter>::remote(COUNTER, &node)
                        .await
                        .map_err(|e| e.to_string())?;
                    counter.add(by).map_err(|e| e.to_string())?;
                    counter.get().await.map_err(|e| e.to_string())
                };
                tell(match counted.await {
                    Ok(value) => Event::Count { node, value },
                    Err(why) => Event::CountFailed { node, why },
                });
            });
        }
        Command::WaitFor { node, target } => {
            spawn(async move |_me| {
                let counter = match ServerRef::<Counter>::remote(COUNTER, &node).await {
                    Ok(counter) => counter,
                    Err(e) => {
                        return tell(Event::WaitFailed {
                            node,
                            kind: "lookup".into(),
                            detail: e.to_string(),
                        });
                    }
                };
                let waited = counter
                    .with_timeout(Duration::from_secs(60))
                    .wait_for(target)
                    .await;
                tell(match waited {
                    Ok(value) => Event::Waited { node, value },
                    Err(e) => Event::WaitFailed {
                        node,
                        kind: e.kind().to_owned(),
                        detail: match e {
                            CallError::Exited(reason) => reason.to_string(),
                            other => other.to_string(),
                        },
                    },
                });
            });
        }
        Command::Waiters => {
            let counter = counter.clone();
            spawn(async move |_me| match counter.waiters().await {
                Ok(count) => tell(Event::Waiters { count }),
                Err(e) => tell(Event::Refused {
                    why: format!("waiters: {e}"),
                }),
            });
        }
        Command::Monitor { node, name } => {
            spawn(async move |mut me| {
                let target = match whereis(&name, &node).await {
                    Ok(pid) => pid,
                    Err(e) => {
                        return tell(Event::MonitorFailed {
                            node,
                            name,
                            why: e.to_string(),
                        });
                    }
                };
                let monitor = me.monitor(target);
                tell(Event::Monitoring {
                    node: node.clone(),
                    name: name.clone(),
                    pid: target.to_string(),
                });
                loop {
                    if let Info::Down(down) = me.recv().await
                        && down.reference() == monitor
                    {
                        return tell(Event::Down {
                            node,
                            name,
                            reason: down.reason().to_string(),
                        });
                    }
                }
            });
        }
        // Handled by the peer's loop.
        Command::Stop => {}
    }
}

/// The command line, as `String`s: an argument that is not Unicode is refused.
fn arguments() -> Result<Vec<String>, ArgsError> {
    std::env::args_os()
        .skip(1)
        .map(|arg| {
            arg.into_string()
                .map_err(|arg| ArgsError::Unknown(arg.to_string_lossy().into_owned()))
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mode = match arguments().and_then(parse_args) {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("cluster: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match mode {
        Mode::Help => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Mode::Peer(args) => {
            otp_examples::log_to_stderr();
            peer(args).await
        }
        Mode::Story => {
            otp_examples::log_to_stderr();
            match story().await {
                Ok(()) => {
                    println!("\nThe end. Exit status 0.");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("The story failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
