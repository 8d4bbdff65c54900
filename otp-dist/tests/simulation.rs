//! The whole stack in a simulated network (turmoil): each simulated host is a whole node —
//! its own otp-core node, processes and names, and otp-dist over turmoil's TCP — 3 to 7 of
//! them, with a fault chosen by the seed: a symmetric partition, a one-way partition, a short
//! hold and release, or a crash and restart (a new creation). Checked on every seed (DIST.md,
//! tier 2):
//!
//! - a node is declared down within [T − T/4, T + T/4] of simulated time after it falls silent
//!   (D-07), and only the nodes cut off go down;
//! - each link and monitor across a lost connection fires exactly once, with `noconnection`
//!   (P-13, P-19);
//! - nothing sent to a pid of an earlier boot reaches the new one;
//! - the messages from one process to another arrive in the order sent (P-01), with none lost
//!   while the connection stays up;
//! - every call returns (a reply or an error) within its timeout, whatever the network does.
//!
//! 32 seeds by default; `OTP_DIST_SIM_SEEDS=n` runs n, `OTP_DIST_SIM_SEED=s` runs seed s alone.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otp_core::gen_server::{CallResult, Context, GenServer, Init, RemoteServer, ServerRef, Wire};
use otp_core::name::{Dest, register, send};
use otp_core::node::Node;
use otp_core::process::{ExitReason, Info, Pid, spawn};
use otp_dist::transport::{BoxFuture, BoxStream, Listener, Transport};
use otp_dist::{DistNode, DownReason, NodeEvent};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The tick time of the simulated nodes.
const T: Duration = Duration::from_secs(2);
const PORT: u16 = 4370;

/// turmoil's TCP as a transport; `host` is the simulated host's name.
struct SimTcp {
    host: String,
}

struct SimListener {
    listener: turmoil::net::TcpListener,
    addr: String,
}

impl Listener for SimListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
            let (stream, _) = self.listener.accept().await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn local_addr(&self) -> io::Result<String> {
        Ok(self.addr.clone())
    }
}

impl Transport for SimTcp {
    fn bind<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let port: u16 = addr
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse().ok())
                .ok_or(io::ErrorKind::InvalidInput)?;
            let listener = turmoil::net::TcpListener::bind(("0.0.0.0", port)).await?;
            Ok(Box::new(SimListener {
                listener,
                addr: format!("{}:{port}", self.host),
            }) as Box<dyn Listener>)
        })
    }

    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<BoxStream>> {
        Box::pin(async move {
            let stream = turmoil::net::TcpStream::connect(addr.to_owned()).await?;
            Ok(Box::new(stream) as BoxStream)
        })
    }
}

/// A numbered message from one node's pinger to another's sink.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Seq {
    from: usize,
    /// The sender's boot (its node's creation).
    from_boot: u32,
    /// Whether it was sent to a pid (else to the name `sink`).
    by_pid: bool,
    /// The creation of the node the sender writes to, when it writes to a pid (0: to a name).
    to_creation: u32,
    n: u64,
}

/// A server each node runs, that the others call.
struct Echo;

impl GenServer for Echo {
    type Args = ();
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init((): (), _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Echo)
    }
    async fn handle_call(&mut self, n: u64, _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(n)
    }
}

impl RemoteServer for Echo {}

/// The timeout of the calls between nodes.
const CALL_TIMEOUT: Duration = Duration::from_secs(1);

/// What happened, in simulated time.
#[derive(Default)]
struct Log {
    /// (time, at node, about node, reason).
    downs: Vec<(Duration, usize, usize, DownReason)>,
    /// (watcher's node, watched node) -> reasons of the exit signals trapped.
    exits: HashMap<(usize, usize), Vec<ExitReason>>,
    /// (watcher's node, watched node) -> reasons of the `Down`s.
    monitors: HashMap<(usize, usize), Vec<ExitReason>>,
    /// (receiving node, its boot, sender node, its boot, sent to a pid) -> the numbers
    /// received, in order.
    received: HashMap<(usize, u32, usize, u32, bool), Vec<u64>>,
    /// Messages that reached a boot other than the one they were sent to.
    stale: usize,
    /// Boots of each node (their creations).
    boots: HashMap<usize, Vec<u32>>,
    /// Calls, in the order they started.
    calls: Vec<Call>,
}

/// A call between nodes: (caller's node, its boot, callee), when it started, and when it
/// returned and whether with the right answer.
type Call = ((usize, u32, usize), Duration, Option<(Duration, bool)>);

type Shared = Arc<Mutex<Log>>;

fn name(i: usize) -> String {
    format!("n{i}@n{i}:{PORT}")
}

fn index_of(node: &str) -> usize {
    node[1..node.find('@').unwrap_or(1)]
        .parse()
        .unwrap_or(usize::MAX)
}

fn spawn_on<F, Fut>(node: Node, f: F) -> Pid
where
    F: FnOnce(otp_core::process::Process) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: otp_core::process::IntoExitReason,
{
    let _on = node.enter();
    spawn(f)
}

/// The software of host `i` among `n`.
async fn host(i: usize, n: usize, log: Shared) -> Result<(), Box<dyn std::error::Error>> {
    let dist = DistNode::builder(name(i))
        .cookie("sim")
        .tick_time(T)
        .transport(SimTcp {
            host: format!("n{i}"),
        })
        .message::<Seq>()
        .start()
        .await?;
    let node = dist.node();
    let creation = node.creation();
    log.lock()
        .unwrap()
        .boots
        .entry(i)
        .or_default()
        .push(creation);
    // Node events, in simulated time.
    let mut events = dist.monitor_nodes();
    let events_log = log.clone();
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            if let NodeEvent::NodeDown { node, reason } = event {
                let at = turmoil::sim_elapsed().unwrap_or_default();
                events_log
                    .lock()
                    .unwrap()
                    .downs
                    .push((at, i, index_of(&node), reason));
            }
        }
    });
    // The anchor, that the others link to and monitor, and the sink, that the others' pingers
    // write to.
    spawn_on(node, async move |mut me| -> () {
        // It traps exits: the links of the others end with `noconnection` when a connection is
        // lost, which would otherwise end it and travel on to every node.
        me.trap_exit(true);
        register("anchor", me.pid()).unwrap();
        loop {
            me.recv().await;
        }
    });
    spawn_on(node, async move |_me| -> () {
        let echo = Echo::start(()).await.expect("echo starts");
        register("echo", echo.pid()).unwrap();
        std::future::pending::<()>().await;
    });
    let sink_log = log.clone();
    spawn_on(node, async move |mut me| -> () {
        register("sink", me.pid()).unwrap();
        loop {
            if let Info::Message(m) = me.recv().await
                && let Ok(seq) = m.downcast::<Seq>()
            {
                let mut log = sink_log.lock().unwrap();
                if seq.to_creation != 0 && seq.to_creation != creation {
                    log.stale += 1;
                }
                log.received
                    .entry((i, creation, seq.from, seq.from_boot, seq.by_pid))
                    .or_default()
                    .push(seq.n);
            }
        }
    });
    for j in (0..n).filter(|&j| j != i) {
        // Find j's anchor (retrying until j is up), then link to and monitor it, trapping exits.
        let router = node.router().expect("distributed").clone();
        let mut found = Vec::new();
        for registered in ["anchor", "sink"] {
            found.push(loop {
                match router.whereis(&registered.into(), &name(j)).await {
                    Ok(Some((pid, _))) => break pid,
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            });
        }
        let (anchor, sink) = (found[0], found[1]);
        let watch_log = log.clone();
        spawn_on(node, async move |mut me| -> () {
            me.trap_exit(true);
            me.link(anchor).unwrap();
            let reference = me.monitor(anchor);
            loop {
                match me.recv().await {
                    Info::Exit(e) if e.from() == Some(anchor) => {
                        let mut log = watch_log.lock().unwrap();
                        log.exits
                            .entry((i, j))
                            .or_default()
                            .push(e.reason().clone());
                    }
                    Info::Down(d) if d.reference() == reference => {
                        let mut log = watch_log.lock().unwrap();
                        log.monitors
                            .entry((i, j))
                            .or_default()
                            .push(d.reason().clone());
                    }
                    _ => {}
                }
            }
        });
        // The pinger: a numbered message to j's sink every 50 ms, addressed by name (it follows
        // j across a restart) and told which boot it believes it writes to.
        spawn_on(node, async move |_me| -> () {
            let mut n = 0;
            loop {
                let sent = send(
                    Dest::remote("sink", name(j)),
                    Seq {
                        from: i,
                        from_boot: creation,
                        by_pid: false,
                        to_creation: 0,
                        n,
                    },
                );
                if sent.is_ok() {
                    n += 1;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        // A caller: a call to j's echo every 100 ms, each recorded when it starts and when it
        // returns.
        let call_log = log.clone();
        spawn_on(node, async move |_me| -> () {
            let now = || turmoil::sim_elapsed().unwrap_or_default();
            for n in 0.. {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let Ok(echo) = ServerRef::<Echo>::remote("echo", &name(j)).await else {
                    continue;
                };
                let index = {
                    let mut log = call_log.lock().unwrap();
                    log.calls.push(((i, creation, j), now(), None));
                    log.calls.len() - 1
                };
                let answer = echo.call_timeout(n, CALL_TIMEOUT).await;
                call_log.lock().unwrap().calls[index].2 = Some((now(), answer == Ok(n)));
            }
        });
        // And one message to the sink's pid every 100 ms, numbered apart: after j restarts,
        // these are for a pid of an earlier boot.
        spawn_on(node, async move |_me| -> () {
            for k in 0.. {
                let seq = Seq {
                    from: i,
                    from_boot: creation,
                    by_pid: true,
                    to_creation: sink.creation(),
                    n: k,
                };
                let _ = send(sink, seq);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
    }
    std::future::pending::<()>().await;
    Ok(())
}

/// The fault of a seed.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The pair cannot talk either way.
    Partition(usize, usize),
    /// What the first sends to the second is lost.
    OneWay(usize, usize),
    /// The pair's traffic is held for less than T/2, then released: nothing goes down.
    Hold(usize, usize),
    /// The node crashes; it is started again 2T later, with a new creation.
    Crash(usize),
}

fn host_name(i: usize) -> String {
    format!("n{i}")
}

fn run_seed(seed: u64) -> Result<(), String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = rng.random_range(3..=7);
    let a = rng.random_range(0..n);
    let b = (a + rng.random_range(1..n)) % n;
    let fault = match seed % 4 {
        0 => Fault::Partition(a, b),
        1 => Fault::OneWay(a, b),
        2 => Fault::Hold(a, b),
        _ => Fault::Crash(a),
    };
    let log: Shared = Arc::default();
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .simulation_duration(Duration::from_secs(120))
        .tick_duration(Duration::from_millis(10))
        .max_message_latency(Duration::from_millis(20))
        .build();
    for i in 0..n {
        let log = log.clone();
        sim.host(host_name(i), move || host(i, n, log.clone()));
    }
    let run_until = |sim: &mut turmoil::Sim<'_>, until: Duration| -> Result<(), String> {
        while sim.elapsed() < until {
            sim.step().map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    // Everyone up and connected, links and monitors set.
    let warm = Duration::from_secs(5);
    run_until(&mut sim, warm)?;
    {
        let log = log.lock().unwrap();
        let set = log.exits.len() + log.monitors.len();
        // Dials made before their peer listens fail: only those.
        let failed_dials = |r: &DownReason| matches!(r, DownReason::HandshakeFailed(_));
        if log.downs.iter().any(|d| !failed_dials(&d.3)) || set != 0 {
            return Err(format!(
                "before the fault: downs {:?}, fired {set}",
                log.downs
            ));
        }
    }
    let fault_at = sim.elapsed();
    match fault {
        Fault::Partition(a, b) => sim.partition(host_name(a), host_name(b)),
        Fault::OneWay(a, b) => sim.partition_oneway(host_name(a), host_name(b)),
        Fault::Hold(a, b) => sim.hold(host_name(a), host_name(b)),
        Fault::Crash(a) => sim.crash(host_name(a)),
    }
    match fault {
        Fault::Hold(a, b) => {
            run_until(&mut sim, fault_at + T / 4)?;
            sim.release(host_name(a), host_name(b));
        }
        Fault::Crash(a) => {
            run_until(&mut sim, fault_at + 2 * T)?;
            sim.bounce(host_name(a));
        }
        Fault::Partition(..) | Fault::OneWay(..) => {}
    }
    run_until(&mut sim, fault_at + 3 * T)?;
    if let Fault::Partition(a, b) | Fault::OneWay(a, b) = fault {
        sim.repair(host_name(a), host_name(b));
    }
    run_until(&mut sim, fault_at + 6 * T)?;
    check(&log.lock().unwrap(), n, fault, fault_at)
}

fn check(log: &Log, n: usize, fault: Fault, fault_at: Duration) -> Result<(), String> {
    let window = (T - T / 4, T + T / 4);
    // Which pairs must go down (each side of the pair records the other), and which side must
    // detect it by silence.
    let cut: Vec<(usize, usize)> = match fault {
        Fault::Partition(a, b) | Fault::OneWay(a, b) => vec![(a, b), (b, a)],
        Fault::Hold(..) => vec![],
        Fault::Crash(k) => (0..n).filter(|&i| i != k).map(|i| (i, k)).collect(),
    };
    for &(at, about) in &cut {
        let down = log
            .downs
            .iter()
            .find(|(time, i, j, reason)| {
                (*i, *j) == (at, about)
                    && *time >= fault_at
                    && !matches!(reason, DownReason::HandshakeFailed(_))
            })
            .ok_or_else(|| {
                format!(
                    "n{at} never saw n{about} go down ({fault:?}); downs {:?}",
                    log.downs
                )
            })?;
        let after = down.0.saturating_sub(fault_at);
        let silent = match fault {
            Fault::Partition(..) => true,
            Fault::OneWay(_, to) => at == to,
            _ => false,
        };
        if silent {
            if down.3 != DownReason::TickTimeout || after < window.0 || after > window.1 {
                return Err(format!(
                    "n{at} saw n{about} down after {after:?} ({:?}); expected a tick timeout within {window:?}",
                    down.3
                ));
            }
        } else if after > window.1 {
            return Err(format!(
                "n{at} saw n{about} down after {after:?}, over {:?}",
                window.1
            ));
        }
    }
    // Nothing else goes down (a crashed node's own record is lost with it; a dial that fails,
    // to a node cut off or not yet listening, is no node going down).
    for (time, at, about, reason) in &log.downs {
        if matches!(reason, DownReason::HandshakeFailed(_)) {
            continue;
        }
        let expected = cut.contains(&(*at, *about)) || matches!(fault, Fault::Crash(k) if *at == k);
        if !expected {
            return Err(format!(
                "n{at} saw n{about} down at {time:?} ({reason}), not cut off"
            ));
        }
    }
    // Each link and monitor across a lost connection fired once, noconnection; no other fired.
    for (kind, table) in [("link", &log.exits), ("monitor", &log.monitors)] {
        for (&(at, about), reasons) in table {
            let cut_off = cut.contains(&(at, about));
            let crashed_self = matches!(fault, Fault::Crash(k) if at == k);
            if crashed_self {
                continue;
            }
            if !cut_off || reasons.as_slice() != [ExitReason::NoConnection] {
                return Err(format!("the {kind} of n{at} on n{about} fired {reasons:?}"));
            }
        }
        for &(at, about) in &cut {
            if !table.contains_key(&(at, about)) {
                return Err(format!("the {kind} of n{at} on n{about} never fired"));
            }
        }
    }
    // Nothing reached another boot than the one it was sent to.
    if log.stale != 0 {
        return Err(format!("{} messages reached a later boot", log.stale));
    }
    // In order, always; and with nothing lost where the connection never dropped.
    for (&(to, boot, from, _, _), numbers) in &log.received {
        if numbers.windows(2).any(|w| w[0] >= w[1]) {
            return Err(format!(
                "n{from} -> n{to} (boot {boot}) out of order: {numbers:?}"
            ));
        }
        let dropped =
            cut.contains(&(to, from)) || matches!(fault, Fault::Crash(k) if k == to || k == from);
        if !dropped && numbers.windows(2).any(|w| w[1] != w[0] + 1) {
            return Err(format!(
                "n{from} -> n{to} lost messages while connected: {numbers:?}"
            ));
        }
    }
    // Every call returned within its timeout (and a little: the answer travels), but those
    // of a node that crashed, gone with it, and those started too late to end.
    let end = fault_at + 6 * T;
    let mut answered = 0;
    let first_boot = |k: usize| log.boots.get(&k).and_then(|b| b.first()).copied();
    for &((caller, boot, callee), start, returned) in &log.calls {
        let crashed =
            matches!(fault, Fault::Crash(k) if k == caller && Some(boot) == first_boot(k));
        match returned {
            Some((at, ok)) => {
                if at - start > CALL_TIMEOUT + T / 4 {
                    return Err(format!(
                        "a call n{caller} -> n{callee} took {:?}",
                        at - start
                    ));
                }
                answered += usize::from(ok);
            }
            None if crashed || start + CALL_TIMEOUT + T / 4 > end => {}
            None => {
                return Err(format!(
                    "a call n{caller} -> n{callee} at {start:?} never returned"
                ));
            }
        }
    }
    if answered == 0 {
        return Err("no call was answered".into());
    }
    // After a crash, the restarted node is reached again.
    if let Fault::Crash(k) = fault {
        let boots = log.boots.get(&k).map_or(0, Vec::len);
        let new_boot = log.boots.get(&k).and_then(|b| b.last()).copied();
        let reached = log
            .received
            .keys()
            .any(|&(to, boot, ..)| to == k && Some(boot) == new_boot);
        if boots != 2 || !reached {
            return Err(format!(
                "n{k} restarted {boots} times; reached after: {reached}"
            ));
        }
    }
    Ok(())
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("OTP_DIST_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count = std::env::var("OTP_DIST_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    (0..count).collect()
}

#[test]
fn d07_p13_p19_seed_sweep_of_partitions_holds_and_crashes() {
    let mut failed = Vec::new();
    for seed in seeds() {
        if let Err(why) = run_seed(seed) {
            eprintln!(
                "seed {seed} failed: {why}\n  rerun: OTP_DIST_SIM_SEED={seed} cargo test -p otp-dist --test simulation"
            );
            failed.push(seed);
        }
    }
    assert!(failed.is_empty(), "failing seeds: {failed:?}");
}
