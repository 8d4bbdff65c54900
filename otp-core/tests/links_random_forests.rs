//! Randomized conformance test of the exit-reason matrix on forests of linked processes.
//!
//! 10,000 plain processes are linked in random trees; some trap exits. Each round injects random
//! failures — `exit(pid, Kill)` (P-07), `exit(pid, reason)` with other reasons (P-05, P-06,
//! P-09), panics and bodies returning a reason, `Kill` among them (P-02, P-08) — into parts of the
//! forest that cannot interfere, so the outcome of each is unambiguous. A model of the exit-reason
//! matrix predicts who dies and with which reason (P-04, P-05: non-trapping linked processes die
//! with the same reason, `Normal` does not propagate), and which `Exit` messages each trapping
//! survivor receives (P-06). The test then awaits every predicted death, checks each reason, checks
//! that every other process is alive, received exactly the predicted messages, and holds exactly
//! the links the model says remain.
//!
//! Every assertion names the seed; rerun a seed with its test.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use otp_core::name::send;
use otp_core::process::{
    ExitReason, Info, Pid, Process, SpawnOptions, exit, is_alive, process_info, spawn_opt,
    wait_exit,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio::sync::{mpsc, oneshot};

const PROCESSES: usize = 10_000;
const ROUNDS: usize = 6;
const INJECTIONS_PER_ROUND: usize = 400;
/// A guard against hangs only: nothing here is expected to take more than a fraction of it.
const HANG_GUARD: Duration = Duration::from_secs(120);
/// Injected panic messages start with this, so the panic hook can stay quiet about them.
const PANIC_MARK: &str = "injected panic";
/// The sender of an exit signal sent from outside any process.
const NO_PROCESS: Option<Pid> = None;

/// Exit messages a process received: (from, reason).
type Received = Vec<(Option<Pid>, ExitReason)>;

/// What a test process can be told to do.
enum Cmd {
    /// Panic with this message.
    Panic(String),
    /// Return this exit reason from the body.
    Return(ExitReason),
    /// Act on pending signals, then send back the exit messages received since the last sync.
    Sync(oneshot::Sender<Received>),
}

/// The body of every process of the forest. It links to its parent, says it is ready, then
/// records the exit messages it gets (only a trapping process gets any) and obeys commands.
async fn node(
    mut me: Process,
    parent: Option<Pid>,
    ready: mpsc::UnboundedSender<()>,
) -> ExitReason {
    if let Some(parent) = parent
        && let Err(e) = me.link(parent)
    {
        return ExitReason::error(format!("could not link to the parent: {e}"));
    }
    let _ = ready.send(());
    let mut received = Received::new();
    loop {
        match me.recv().await {
            Info::Exit(signal) => received.push((signal.from(), signal.reason().clone())),
            Info::Message(m) => match m.downcast::<Cmd>() {
                Ok(Cmd::Panic(msg)) => panic!("{msg}"),
                Ok(Cmd::Return(reason)) => return reason,
                Ok(Cmd::Sync(reply)) => {
                    // The process task acts on pending exit signals each time it is polled:
                    // yielding once turns every signal sent before this sync into a message
                    // (or ends the process), and the loop below takes those messages.
                    tokio::task::yield_now().await;
                    while let Some(info) = me.try_recv() {
                        match info {
                            Info::Exit(s) => received.push((s.from(), s.reason().clone())),
                            other => {
                                return ExitReason::error(format!("unexpected {other:?} in sync"));
                            }
                        }
                    }
                    let _ = reply.send(std::mem::take(&mut received));
                }
                Err(m) => return ExitReason::error(format!("unexpected message {m:?}")),
            },
            other => return ExitReason::error(format!("unexpected {other:?}")),
        }
    }
}

/// One failure to inject.
#[derive(Clone, Debug)]
enum Injection {
    /// `exit(pid, Kill)`.
    Kill,
    /// `exit(pid, reason)`, `reason` not `Kill`.
    Signal(ExitReason),
    /// The process panics.
    Panic(String),
    /// The process's body returns this reason.
    Return(ExitReason),
}

/// What the model predicts for one injection.
struct Effect {
    /// Processes that end, all with `reason`.
    dying: Vec<usize>,
    reason: ExitReason,
    /// Exit messages to surviving trapping processes: (receiver, from, reason).
    messages: Vec<(usize, Option<Pid>, ExitReason)>,
}

/// The model of the forest: who is alive, who traps exits, who is linked to whom.
struct Model {
    pids: Vec<Pid>,
    trapping: Vec<bool>,
    alive: Vec<bool>,
    links: Vec<HashSet<usize>>,
}

impl Model {
    /// The effect of `injection` on process `target`, following the exit-reason matrix.
    fn effect(&self, target: usize, injection: &Injection) -> Effect {
        match injection {
            // P-07: untrappable, the target ends `Killed`, which its links get.
            Injection::Kill => self.propagate(target, ExitReason::Killed),
            // P-06: a trapping target gets the signal as a message from the sender.
            Injection::Signal(r) if self.trapping[target] => Effect {
                dying: Vec::new(),
                reason: r.clone(),
                messages: vec![(target, NO_PROCESS, r.clone())],
            },
            // P-09: `exit(pid, Normal)` does not end another, non-trapping process.
            Injection::Signal(ExitReason::Normal) => Effect {
                dying: Vec::new(),
                reason: ExitReason::Normal,
                messages: Vec::new(),
            },
            // P-05: any other reason ends a non-trapping target with that reason.
            Injection::Signal(r) => self.propagate(target, r.clone()),
            // P-02: a panic is the process's own end, trapping or not.
            Injection::Panic(msg) => self.propagate(target, ExitReason::Panic(msg.clone())),
            // P-02, P-08: the body's return value is the reason, `Kill` included (then it
            // travels through links as `Kill`, trappable).
            Injection::Return(r) => self.propagate(target, r.clone()),
        }
    }

    /// `target` ends with `reason`; the reason travels through links (P-04): non-trapping
    /// processes end with the same reason unless it is `Normal` (P-05), trapping ones get a
    /// message and stay (P-06).
    fn propagate(&self, target: usize, reason: ExitReason) -> Effect {
        let mut dying = vec![target];
        let mut seen = HashSet::from([target]);
        let mut messages = Vec::new();
        let mut next = 0;
        while next < dying.len() {
            let x = dying[next];
            next += 1;
            for &y in &self.links[x] {
                if seen.contains(&y) {
                    continue;
                }
                if self.trapping[y] {
                    messages.push((y, Some(self.pids[x]), reason.clone()));
                } else if reason != ExitReason::Normal {
                    seen.insert(y);
                    dying.push(y);
                }
            }
        }
        Effect {
            dying,
            reason,
            messages,
        }
    }

    /// Removes the links of a process that ended.
    fn bury(&mut self, dead: usize) {
        self.alive[dead] = false;
        for other in std::mem::take(&mut self.links[dead]) {
            self.links[other].remove(&dead);
        }
    }
}

/// A random injection, with reasons that name the round and the injection so that a reason
/// arriving at the wrong place would show.
fn random_injection(rng: &mut StdRng, tag: &str) -> Injection {
    match rng.random_range(0..100) {
        0..25 => Injection::Kill,
        25..55 => Injection::Signal(match rng.random_range(0..5) {
            0 => ExitReason::Normal,
            1 => ExitReason::Shutdown,
            2 => ExitReason::shutdown_with(tag),
            3 => ExitReason::Killed,
            _ => ExitReason::error(tag),
        }),
        55..75 => Injection::Panic(format!("{PANIC_MARK} {tag}")),
        _ => Injection::Return(match rng.random_range(0..5) {
            0 => ExitReason::Normal,
            1 => ExitReason::Kill,
            2 => ExitReason::Shutdown,
            3 => ExitReason::shutdown_with(tag),
            _ => ExitReason::error(tag),
        }),
    }
}

/// Counts of each (from, reason), to compare message lists regardless of order (no order is
/// guaranteed between different senders, P-01).
fn multiset(
    messages: impl IntoIterator<Item = (Option<Pid>, ExitReason)>,
) -> HashMap<(Option<Pid>, ExitReason), usize> {
    let mut counts = HashMap::new();
    for m in messages {
        *counts.entry(m).or_insert(0) += 1;
    }
    counts
}

/// The variant of a reason, for statistics.
fn kind(reason: &ExitReason) -> &'static str {
    match reason {
        ExitReason::Normal => "Normal",
        ExitReason::Shutdown => "Shutdown",
        ExitReason::ShutdownWith(_) => "ShutdownWith",
        ExitReason::Kill => "Kill",
        ExitReason::Killed => "Killed",
        ExitReason::Panic(_) => "Panic",
        ExitReason::Error(_) => "Error",
        _ => "other",
    }
}

async fn guarded<T>(seed: u64, what: &str, f: impl Future<Output = T>) -> T {
    match tokio::time::timeout(HANG_GUARD, f).await {
        Ok(v) => v,
        Err(_) => panic!("seed {seed}: hung while {what}"),
    }
}

/// Builds a random forest of `PROCESSES` linked processes.
async fn build_forest(seed: u64, rng: &mut StdRng) -> Model {
    let mut model = Model {
        pids: Vec::with_capacity(PROCESSES),
        trapping: Vec::with_capacity(PROCESSES),
        alive: vec![true; PROCESSES],
        links: vec![HashSet::new(); PROCESSES],
    };
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let mut tree_start = 0;
    for i in 0..PROCESSES {
        let parent = if i == tree_start || rng.random_bool(0.01) {
            tree_start = i;
            None
        } else if rng.random_bool(0.3) {
            // Chains make deep trees.
            Some(i - 1)
        } else {
            Some(rng.random_range(tree_start..i))
        };
        let trapping = rng.random_bool(0.2);
        let parent_pid = parent.map(|p| model.pids[p]);
        let ready = ready_tx.clone();
        let pid = spawn_opt(SpawnOptions::new().trap_exit(trapping), move |me| {
            node(me, parent_pid, ready)
        });
        model.pids.push(pid);
        model.trapping.push(trapping);
        if let Some(p) = parent {
            model.links[i].insert(p);
            model.links[p].insert(i);
        }
    }
    drop(ready_tx);
    guarded(seed, "building the forest", async {
        for _ in 0..PROCESSES {
            ready_rx
                .recv()
                .await
                .expect("every process says it is ready");
        }
    })
    .await;
    model
}

/// Checks every surviving process: alive, the predicted exit messages and no other, and exactly
/// the links of the model.
async fn check_survivors(seed: u64, round: usize, model: &Model, expected: &[Received]) {
    let mut syncs = Vec::new();
    for (i, &pid) in model.pids.iter().enumerate() {
        if model.alive[i] {
            let (tx, rx) = oneshot::channel();
            send(pid, Cmd::Sync(tx)).expect("sending to a pid never fails");
            syncs.push((i, rx));
        }
    }
    for (i, rx) in syncs {
        let pid = model.pids[i];
        let received = match guarded(seed, "syncing", rx).await {
            Ok(r) => r,
            Err(_) => panic!(
                "seed {seed} round {round}: {pid} (trapping: {}) should be alive but exited with {}",
                model.trapping[i],
                wait_exit(pid).await
            ),
        };
        assert_eq!(
            multiset(received.clone()),
            multiset(expected[i].clone()),
            "seed {seed} round {round}: exit messages of {pid} (trapping: {}): got {received:?}, \
             expected {:?}",
            model.trapping[i],
            expected[i]
        );
        assert!(
            is_alive(pid),
            "seed {seed} round {round}: {pid} should be alive"
        );
        let info = process_info(pid)
            .unwrap_or_else(|| panic!("seed {seed} round {round}: no process_info for {pid}"));
        let mut links: Vec<Pid> = model.links[i].iter().map(|&j| model.pids[j]).collect();
        links.sort_unstable();
        assert_eq!(
            info.links, links,
            "seed {seed} round {round}: links of {pid}"
        );
        assert_eq!(
            info.trap_exit, model.trapping[i],
            "seed {seed} round {round}: trap_exit of {pid}"
        );
    }
}

async fn run(seed: u64) {
    common::quiet_panics();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = build_forest(seed, &mut rng).await;
    check_survivors(seed, 0, &model, &vec![Received::new(); PROCESSES]).await;

    let mut deaths_by_reason: HashMap<&'static str, usize> = HashMap::new();
    let mut trapped_messages = 0;
    let mut injected = 0;
    for round in 1..=ROUNDS {
        // Pick injections whose effects cannot interfere: no process is touched by two of them,
        // and no process that dies is linked to one that dies for another injection (else which
        // reason reaches it first would be a race).
        let mut candidates: Vec<usize> = (0..PROCESSES).filter(|&i| model.alive[i]).collect();
        candidates.shuffle(&mut rng);
        let mut touched: HashSet<usize> = HashSet::new();
        let mut near_death: HashSet<usize> = HashSet::new();
        let mut accepted = Vec::new();
        for (n, &target) in candidates.iter().take(INJECTIONS_PER_ROUND).enumerate() {
            let injection = random_injection(&mut rng, &format!("s{seed}-r{round}-i{n}"));
            let effect = model.effect(target, &injection);
            let conflict = touched.contains(&target)
                || effect
                    .dying
                    .iter()
                    .any(|d| touched.contains(d) || near_death.contains(d));
            if conflict {
                continue;
            }
            touched.insert(target);
            for &d in &effect.dying {
                touched.insert(d);
                near_death.insert(d);
                near_death.extend(model.links[d].iter().copied());
            }
            accepted.push((target, injection, effect));
        }
        assert!(
            !accepted.is_empty(),
            "seed {seed} round {round}: nothing to inject"
        );
        injected += accepted.len();

        // The waits start before the injections, so every exit reason is seen.
        let mut exits = Vec::new();
        for (_, _, effect) in &accepted {
            let waits: Vec<_> = effect
                .dying
                .iter()
                .map(|&d| wait_exit(model.pids[d]))
                .collect();
            exits.push(waits);
        }
        for (target, injection, _) in &accepted {
            let pid = model.pids[*target];
            match injection {
                Injection::Kill => exit(pid, ExitReason::Kill),
                Injection::Signal(r) => exit(pid, r.clone()),
                Injection::Panic(msg) => send(pid, Cmd::Panic(msg.clone())).unwrap(),
                Injection::Return(r) => send(pid, Cmd::Return(r.clone())).unwrap(),
            }
        }

        // Every predicted death, with exactly the predicted reason.
        let mut expected = vec![Received::new(); PROCESSES];
        for ((target, injection, effect), waits) in accepted.iter().zip(exits) {
            for (&d, exited) in effect.dying.iter().zip(waits) {
                let pid = model.pids[d];
                let reason = guarded(seed, "waiting for an exit", exited).await;
                assert_eq!(
                    reason, effect.reason,
                    "seed {seed} round {round}: {pid} (trapping: {}) after {injection:?} on {}",
                    model.trapping[d], model.pids[*target]
                );
                assert!(!is_alive(pid), "seed {seed} round {round}: {pid} ended");
                *deaths_by_reason.entry(kind(&reason)).or_insert(0) += 1;
            }
            for (to, from, reason) in &effect.messages {
                expected[*to].push((*from, reason.clone()));
                trapped_messages += 1;
            }
        }
        for (_, _, effect) in &accepted {
            for &d in &effect.dying {
                model.bury(d);
            }
        }
        check_survivors(seed, round, &model, &expected).await;
    }

    // The randomness must have exercised the matrix: deaths of several kinds, and trapped exits.
    for kind in [
        "Killed",
        "Kill",
        "Shutdown",
        "ShutdownWith",
        "Panic",
        "Error",
        "Normal",
    ] {
        assert!(
            deaths_by_reason.contains_key(kind),
            "seed {seed}: no death with reason {kind}: {deaths_by_reason:?}"
        );
    }
    assert!(trapped_messages > 0, "seed {seed}: no trapped exit");
    eprintln!(
        "seed {seed}: {injected} injections, deaths by reason {deaths_by_reason:?}, \
         {trapped_messages} trapped exits"
    );

    // Clean up: no process of this test is left running.
    let survivors: Vec<Pid> = (0..PROCESSES)
        .filter(|&i| model.alive[i])
        .map(|i| model.pids[i])
        .collect();
    for &pid in &survivors {
        exit(pid, ExitReason::Kill);
    }
    for pid in survivors {
        guarded(seed, "killing the survivors", wait_exit(pid)).await;
    }
}

/// P-02, P-04 to P-09: the exit-reason matrix on a random forest (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_forest_seed_1() {
    run(1).await;
}

/// P-02, P-04 to P-09: the exit-reason matrix on a random forest (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_forest_seed_0x5eed() {
    run(0x5eed).await;
}

/// P-02, P-04 to P-09: the exit-reason matrix on a random forest (see the module docs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_forest_seed_20240611() {
    run(20_240_611).await;
}
