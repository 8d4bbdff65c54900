//! A randomized test of supervision trees (SUP-04, SUP-05, SUP-06, SUP-10): a three-level tree
//! — a top supervisor, 10 middle supervisors, 100 leaf supervisors — of 1,000 workers, with
//! random crashes for many rounds on tokio's paused clock.
//!
//! A model replays every crash: which workers restart (SUP-10: permanent always, transient
//! unless the reason is clean), each leaf supervisor's restart times on the virtual clock with
//! OTP's intensity algorithm (SUP-04), and so exactly when a leaf gives up (SUP-05) — after
//! which its middle supervisor starts it again, and with it all its workers. At the end, every
//! worker's start count and every leaf's start count must match the model, every permanent
//! worker must run, and every worker the model says is down must be down.
//!
//! Every assertion names the seed; rerun a seed with its test.

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use otp_core::process::spawn_link;
use otp_core::process::{ExitReason, Info, Pid};
use otp_core::supervisor::{
    ChildSpec, ChildStatus, Restart, Shutdown, SupFlags, Supervisor, SupervisorRef,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::{Instant, sleep};

use common::supervision::{Die, counts, kill_child, pid_of, settle};

const MIDDLES: usize = 10;
const LEAVES_PER_MIDDLE: usize = 10;
const WORKERS_PER_LEAF: usize = 10;
const LEAVES: usize = MIDDLES * LEAVES_PER_MIDDLE;
const WORKERS: usize = LEAVES * WORKERS_PER_LEAF;
const ROUNDS: usize = 25;
const CRASHES_PER_ROUND: usize = 40;
/// The leaves' intensity: 3 restarts in 5 s (the defaults).
const LEAF_INTENSITY: usize = 3;
const LEAF_PERIOD: Duration = Duration::from_secs(5);

/// Start counters, shared with the start functions.
struct Counters {
    workers: Vec<AtomicUsize>,
    leaves: Vec<AtomicUsize>,
}

/// A worker: a plain process that ends with the reason of a `Die` message.
fn worker_spec(index: usize, transient: bool, counters: &Arc<Counters>) -> ChildSpec {
    let counters = counters.clone();
    ChildSpec::new(format!("w{index}"), move || {
        counters.workers[index].fetch_add(1, Ordering::SeqCst);
        async {
            spawn_link(|mut me| async move {
                loop {
                    if let Info::Message(m) = me.recv().await
                        && let Ok(Die(reason)) = m.downcast::<Die>()
                    {
                        return reason;
                    }
                }
            })
        }
    })
    .restart(if transient {
        Restart::Transient
    } else {
        Restart::Permanent
    })
    .shutdown(Shutdown::BrutalKill)
}

fn leaf_spec(leaf: usize, transient: &[bool], counters: &Arc<Counters>) -> ChildSpec {
    let workers: Vec<ChildSpec> = (0..WORKERS_PER_LEAF)
        .map(|k| {
            let w = leaf * WORKERS_PER_LEAF + k;
            worker_spec(w, transient[w], counters)
        })
        .collect();
    let counters = counters.clone();
    ChildSpec::supervisor(format!("leaf{leaf}"), move || {
        counters.leaves[leaf].fetch_add(1, Ordering::SeqCst);
        Supervisor::start_link(workers.clone(), SupFlags::one_for_one())
    })
}

/// The model of one leaf supervisor.
#[derive(Default)]
struct LeafModel {
    /// Restart times within the window (OTP's `add_restart`).
    restarts: VecDeque<Instant>,
    starts: usize,
}

impl LeafModel {
    /// Counts a restart; whether the leaf gives up.
    fn add_restart(&mut self, now: Instant) -> bool {
        while let Some(&t) = self.restarts.front() {
            if now.duration_since(t) > LEAF_PERIOD {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        self.restarts.push_back(now);
        self.restarts.len() > LEAF_INTENSITY
    }
}

/// The live tree: the leaf supervisors, found again after they are restarted.
struct Tree {
    middles: Vec<SupervisorRef>,
}

impl Tree {
    async fn leaf(&self, leaf: usize) -> SupervisorRef {
        let middle = &self.middles[leaf / LEAVES_PER_MIDDLE];
        let pid = pid_of(middle, &format!("leaf{leaf}")).await;
        SupervisorRef::from_pid(pid).unwrap()
    }

    async fn worker_status(&self, w: usize) -> ChildStatus {
        let leaf = self.leaf(w / WORKERS_PER_LEAF).await;
        let id = format!("w{w}");
        leaf.which_children()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.id == id.as_str())
            .unwrap()
            .status
    }
}

async fn run(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let counters = Arc::new(Counters {
        workers: (0..WORKERS).map(|_| AtomicUsize::new(0)).collect(),
        leaves: (0..LEAVES).map(|_| AtomicUsize::new(0)).collect(),
    });
    // One worker in five is transient.
    let transient: Vec<bool> = (0..WORKERS).map(|_| rng.random_ratio(1, 5)).collect();
    let middle_flags = SupFlags::one_for_one()
        .intensity(10_000)
        .period(Duration::from_secs(1));
    let middles: Vec<ChildSpec> = (0..MIDDLES)
        .map(|m| {
            let leaves = (0..LEAVES_PER_MIDDLE)
                .map(|l| leaf_spec(m * LEAVES_PER_MIDDLE + l, &transient, &counters));
            Supervisor::child_spec(format!("middle{m}"), leaves, middle_flags)
        })
        .collect();
    let top = Supervisor::start_link(middles, SupFlags::one_for_one())
        .await
        .unwrap();
    let mut tree = Tree {
        middles: Vec::new(),
    };
    for m in 0..MIDDLES {
        let pid = pid_of(&top, &format!("middle{m}")).await;
        tree.middles.push(SupervisorRef::from_pid(pid).unwrap());
    }

    // The model.
    let mut worker_starts = vec![1usize; WORKERS];
    let mut worker_up = vec![true; WORKERS];
    let mut leaves: Vec<LeafModel> = (0..LEAVES)
        .map(|_| LeafModel {
            starts: 1,
            ..LeafModel::default()
        })
        .collect();
    let mut give_ups = 0;

    for round in 0..ROUNDS {
        sleep(Duration::from_millis(rng.random_range(0..3000))).await;
        for _ in 0..CRASHES_PER_ROUND {
            let w = rng.random_range(0..WORKERS);
            if !worker_up[w] {
                continue;
            }
            let leaf_index = w / WORKERS_PER_LEAF;
            let leaf = tree.leaf(leaf_index).await;
            let pid: Pid = match tree.worker_status(w).await {
                ChildStatus::Running(pid) => pid,
                other => panic!("seed {seed}, round {round}: w{w} is {other:?}"),
            };
            let reason = match rng.random_range(0..4) {
                0 => ExitReason::Normal,
                1 => ExitReason::Shutdown,
                _ => ExitReason::Error("crash".into()),
            };
            let restarts = !transient[w] || !reason.is_clean();
            kill_child(pid, reason).await;
            settle(&leaf).await;
            let gives_up = restarts && leaves[leaf_index].add_restart(Instant::now());
            assert_eq!(
                !leaf.is_alive(),
                gives_up,
                "seed {seed}, round {round}: leaf{leaf_index} gave up or not against the model"
            );
            if gives_up {
                give_ups += 1;
                leaf.wait_exit().await;
                settle(&tree.middles[leaf_index / LEAVES_PER_MIDDLE]).await;
                // A new leaf, with all its workers started again.
                let model = &mut leaves[leaf_index];
                model.starts += 1;
                model.restarts.clear();
                for k in 0..WORKERS_PER_LEAF {
                    let x = leaf_index * WORKERS_PER_LEAF + k;
                    worker_starts[x] += 1;
                    worker_up[x] = true;
                }
            } else if restarts {
                worker_starts[w] += 1;
            } else {
                worker_up[w] = false;
            }
        }
    }

    eprintln!("seed {seed}: {give_ups} leaf supervisors gave up");
    assert!(give_ups > 0, "seed {seed}: no leaf ever gave up");
    for (w, expected) in worker_starts.iter().enumerate() {
        assert_eq!(
            counters.workers[w].load(Ordering::SeqCst),
            *expected,
            "seed {seed}: starts of w{w}"
        );
        let status = tree.worker_status(w).await;
        if worker_up[w] {
            assert!(
                matches!(status, ChildStatus::Running(p) if otp_core::process::is_alive(p)),
                "seed {seed}: w{w} should run, is {status:?}"
            );
        } else {
            assert!(transient[w], "seed {seed}: a permanent w{w} is down");
            assert_eq!(status, ChildStatus::NotRunning, "seed {seed}: w{w}");
        }
    }
    for (l, model) in leaves.iter().enumerate() {
        assert_eq!(
            counters.leaves[l].load(Ordering::SeqCst),
            model.starts,
            "seed {seed}: starts of leaf{l}"
        );
    }
    assert_eq!(
        counts(&top).await,
        [MIDDLES, MIDDLES, MIDDLES, 0],
        "seed {seed}"
    );
    top.stop().await.unwrap();
}

/// SUP-04, SUP-05, SUP-06, SUP-10: seed 1.
#[tokio::test(start_paused = true)]
async fn random_tree_seed_1() {
    run(1).await;
}

/// SUP-04, SUP-05, SUP-06, SUP-10: seed 2.
#[tokio::test(start_paused = true)]
async fn random_tree_seed_2() {
    run(2).await;
}

/// SUP-04, SUP-05, SUP-06, SUP-10: seed 3.
#[tokio::test(start_paused = true)]
async fn random_tree_seed_3() {
    run(3).await;
}
