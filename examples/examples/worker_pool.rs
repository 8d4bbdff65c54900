//! A pool of workers under a `DynamicSupervisor`: workers started at run time, jobs dispatched
//! round-robin, a crash repaired by a restart, a worker stopped by its pid.
//!
//! A dynamic supervisor starts with no children and starts them on demand, each from a
//! `ChildSpec`; from then on a child is known by its pid. This one allows at most 4 children
//! (`max_children`) and holds the pool's settings as its *extra argument*: every worker's start
//! function receives a clone of them, at its first start and at every restart, so whoever
//! adds a worker need not know them. The workers are `#[derive(GenServer)]` servers. Each child
//! is restarted or not by its own restart type, one for one: a permanent worker that crashes
//! comes back with a new pid and a fresh state, a temporary one is gone for good.
//!
//! The story is told on stdout; the runtime's and the supervisor's reports of the crashes go
//! to stderr through `tracing`.
//!
//! ```sh
//! cargo run -p otp-examples --example worker_pool
//! ```

use std::time::{Duration, Instant};

use otp::prelude::*;
use otp::supervisor::{ChildId, ChildStatus, DynamicSupervisorRef};

/// How long each job takes.
const JOB_TIME: Duration = Duration::from_millis(100);

/// The panic of a job of 0 (a division by zero, in debug and release builds alike).
const DIVIDE_BY_ZERO: &str = "attempt to divide by zero";

/// The pool's settings: the supervisor's extra argument, given to every worker it starts.
#[derive(Clone, Debug)]
struct Settings {
    /// How long a job takes.
    job_time: Duration,
}

/// A worker of the pool: runs jobs, one at a time, and counts them.
#[derive(GenServer)]
struct PoolWorker {
    number: u32,
    settings: Settings,
    done: u64,
}

#[handlers]
impl PoolWorker {
    /// Started by the pool with its settings (the extra argument) and the worker's number
    /// (from its child spec).
    #[init]
    fn init(settings: Settings, number: u32, ctx: &mut Context<Self>) -> Self {
        println!(
            "   [worker {number} {}] init, with the pool's settings {settings:?}",
            ctx.pid()
        );
        PoolWorker {
            number,
            settings,
            done: 0,
        }
    }

    /// Runs a job: divides 1,000,000 by it. A job of 0 is a bug nobody handled: the division
    /// panics, and the worker crashes.
    #[call]
    async fn run(&mut self, job: u64) -> u64 {
        tokio::time::sleep(self.settings.job_time).await;
        self.done += 1;
        1_000_000 / job
    }

    /// The jobs done since this worker started.
    #[call]
    fn done(&self) -> u64 {
        self.done
    }

    /// The worker's number.
    #[call]
    fn number(&self) -> u32 {
        self.number
    }
}

/// The spec of worker `number`: its start function takes the pool's settings from the
/// supervisor. (Without an extra argument, the `PoolWorker::child_spec(..)` the derive
/// generates would do.)
fn worker_spec(number: u32) -> ChildSpec<Settings> {
    ChildSpec::with_arg(format!("worker-{number}"), move |settings: Settings| {
        PoolWorker::start_link(settings, number)
    })
}

/// The pool's workers, as its supervisor lists them (in the order they were first started).
async fn workers(
    pool: &DynamicSupervisorRef<Settings>,
) -> Result<Vec<(ChildId, ServerRef<PoolWorker>)>, Box<dyn std::error::Error>> {
    let mut workers = Vec::new();
    for child in pool.which_children().await? {
        if let Some(pid) = child.pid() {
            workers.push((child.id, ServerRef::from_pid(pid)?));
        }
    }
    Ok(workers)
}

/// What a call gave, to print.
fn outcome(result: Result<u64, CallError>) -> String {
    match result {
        Ok(value) => format!("it answered {value}"),
        Err(e) => e.to_string(),
    }
}

/// Prints the pool's children and counts.
async fn show(pool: &DynamicSupervisorRef<Settings>) -> Result<(), Box<dyn std::error::Error>> {
    let children = pool.which_children().await?;
    let listed: Vec<String> = children
        .iter()
        .map(|c| match c.status {
            ChildStatus::Running(pid) => format!("{} {pid}", c.id),
            ChildStatus::Restarting => format!("{} restarting", c.id),
            ChildStatus::NotRunning => format!("{} not running", c.id),
        })
        .collect();
    let counts = pool.count_children().await?;
    println!(
        "   which_children: [{}]\n   count_children: {} specs, {} active, {} workers, {} supervisors",
        listed.join(", "),
        counts.specs,
        counts.active,
        counts.workers,
        counts.supervisors
    );
    Ok(())
}

/// Dispatches the jobs round-robin over the workers, all at once, and prints the results in
/// job order.
async fn dispatch(
    jobs: &[u64],
    workers: &[(ChildId, ServerRef<PoolWorker>)],
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let running: Vec<_> = jobs
        .iter()
        .zip(workers.iter().cycle())
        .map(|(&job, (id, worker))| {
            let (id, worker) = (id.clone(), worker.clone());
            tokio::spawn(async move { (job, id, worker.run(job).await) })
        })
        .collect();
    for handle in running {
        let (job, id, result) = handle.await?;
        println!("   job {job:>3} -> {id}: 1000000 / {job} = {}", result?);
    }
    println!(
        "   {} jobs of {} ms on {} workers took {} ms: the workers run in parallel, each one \
         job at a time.",
        jobs.len(),
        JOB_TIME.as_millis(),
        workers.len(),
        started.elapsed().as_millis()
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    otp_examples::log_to_stderr();
    // The runtime reports a worker's panic itself (the log on stderr); the default panic hook
    // would print it a second time. Keep it for any other panic.
    otp_examples::quiet_expected_panics(|message| message == DIVIDE_BY_ZERO);

    println!("A pool of workers under a DynamicSupervisor.\n");

    let settings = Settings { job_time: JOB_TIME };
    let pool =
        DynamicSupervisor::start(DynamicOptions::new().max_children(4).extra_arg(settings)).await?;
    println!(
        "1. Started the pool, a dynamic supervisor {} allowing at most 4 children, holding the \
         pool's settings as the extra argument of every worker it starts. It has no children yet:",
        pool.pid()
    );
    show(&pool).await?;

    println!("\n2. Started 3 permanent workers and a temporary one, at run time:");
    for number in 1..=3 {
        pool.start_child(worker_spec(number)).await?;
    }
    pool.start_child(worker_spec(4).restart(Restart::Temporary))
        .await?;
    match pool.start_child(worker_spec(5)).await {
        Err(e) => println!("   A fifth is refused: {e}."),
        Ok(pid) => return Err(format!("a fifth worker started: {pid:?}").into()),
    }

    println!("\n3. Dispatched 8 jobs round-robin over the 4 workers:");
    let pool_workers = workers(&pool).await?;
    dispatch(&[1, 2, 3, 4, 5, 6, 7, 8], &pool_workers).await?;

    let (id, worker) = pool_workers[1].clone();
    println!(
        "\n4. Sent job 0 to {id} {}, a permanent worker, which had done {} jobs:",
        worker.pid(),
        worker.done().await?
    );
    // Waiting for the worker's end, set up before it crashes, resolves once its exit signal has
    // reached the pool; the pool answers the calls that follow once it has handled it.
    let exited = otp::process::wait_exit(worker.pid());
    let failed = worker.run(0).await;
    exited.await;
    let now = workers(&pool).await?;
    let (_, restarted) = now
        .iter()
        .find(|(i, _)| *i == id)
        .ok_or("the permanent worker was not restarted")?;
    println!(
        "   The call failed ({}): the worker crashed. The pool restarted {id} with the same spec \
         and the same settings: worker {} is now {} (was {}), starting fresh with {} jobs done. \
         The other workers were not touched.",
        outcome(failed),
        restarted.number().await?,
        restarted.pid(),
        worker.pid(),
        restarted.done().await?
    );

    let (id, worker) = pool_workers[3].clone();
    println!(
        "\n5. Sent job 0 to {id} {}, the temporary worker:",
        worker.pid()
    );
    let exited = otp::process::wait_exit(worker.pid());
    let failed = worker.run(0).await;
    exited.await;
    println!(
        "   The call failed ({}): the worker crashed. A temporary child is never restarted: the \
         pool forgot it.",
        outcome(failed)
    );
    show(&pool).await?;

    let (id, worker) = pool_workers[2].clone();
    pool.terminate_child(worker.pid()).await?;
    println!(
        "\n6. terminate_child({}) stopped {id} (it ended with `{}`), and the pool forgot it: \
         a child stopped on purpose is not restarted, whatever its restart type.",
        worker.pid(),
        worker.wait_exit().await
    );
    show(&pool).await?;

    println!("\n7. Dispatched 4 more jobs round-robin over the workers left:");
    let pool_workers = workers(&pool).await?;
    dispatch(&[10, 20, 30, 40], &pool_workers).await?;
    for (id, worker) in &pool_workers {
        println!(
            "   {id} {} has done {} jobs.",
            worker.pid(),
            worker.done().await?
        );
    }

    let exits: Vec<_> = pool_workers.iter().map(|(_, w)| w.wait_exit()).collect();
    pool.stop().await?;
    let mut reasons = Vec::new();
    for exit in exits {
        reasons.push(format!("`{}`", exit.await));
    }
    println!(
        "\n8. Stopped the pool: it stopped its workers, all at once (they ended with {}), then \
         itself. Processes still alive: {}.",
        reasons.join(" and "),
        otp::process::process_count()
    );
    Ok(())
}
