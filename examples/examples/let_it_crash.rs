//! Let it crash: an application whose workers crash, and a supervision tree that repairs them.
//!
//! The program is an `Application`: a supervision tree started from an application master,
//! stopped cleanly at the end, whose ending becomes the program's exit status. The tree:
//!
//! ```text
//! top         one_for_one   (at most 3 restarts in 5 s, the default)
//! ├── workers one_for_one   (at most 3 restarts in 5 s)
//! │   ├── steady   a worker that never crashes
//! │   └── flaky    a worker that crashes on a job it cannot handle
//! └── pipeline    rest_for_one
//!     ├── db       a worker everything after it depends on
//!     └── cache    a worker that depends on db
//! ```
//!
//! Each worker is a `#[derive(GenServer)]` server that divides numbers, and panics on a
//! division by zero: a bug nobody handled. Nobody handles it now either. The panic ends the
//! worker's process, and its supervisor restarts it from a clean state: one_for_one restarts
//! only the worker that crashed, rest_for_one also the workers started after it. When a
//! supervisor has to restart more than 3 times in 5 seconds, it gives up: it stops its other
//! children and exits, and its own supervisor restarts it, whole. That is escalation: a failure
//! that restarts cannot fix locally moves up the tree. At the end the application stops the
//! tree in reverse start order and the program exits with status 0.
//!
//! The story is told on stdout, step by step; the runtime's, the supervisors' and the
//! application's reports go to stderr through `tracing`.
//!
//! ```sh
//! cargo run -p otp-examples --example let_it_crash
//! ```

use std::process::ExitCode;

use otp::prelude::*;
use otp::supervisor::{ChildStatus, ChildType, SupervisorRef};
use tokio::sync::oneshot;

/// The panic of a division by zero (in debug and release builds alike).
const DIVIDE_BY_ZERO: &str = "attempt to divide by zero";

/// What the demo's steps return.
type Outcome<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A worker of the tree, registered under its name.
#[derive(GenServer)]
struct Worker {
    name: String,
    jobs: u64,
}

#[handlers]
impl Worker {
    /// Traps exits, so that when its supervisor stops it the stop arrives as a message and
    /// `terminate` runs (a worker that does not trap exits just ends).
    #[init]
    fn init(name: String, ctx: &mut Context<Self>) -> Self {
        ctx.trap_exit(true);
        println!("      [{name} {}] started", ctx.pid());
        Worker { name, jobs: 0 }
    }

    /// Divides `total` by `parts`. With 0 parts the division panics, and the worker crashes.
    #[call]
    fn split(&mut self, total: u64, parts: u64) -> u64 {
        self.jobs += 1;
        total / parts
    }

    /// The jobs done since this worker started.
    #[call]
    fn jobs(&self) -> u64 {
        self.jobs
    }

    /// Runs before the worker ends, whatever the reason.
    #[terminate]
    fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        println!(
            "      [{} {}] terminate: `{reason}`, after {} job(s)",
            self.name,
            ctx.pid(),
            self.jobs
        );
    }
}

/// The child spec of the worker `name`, registered under that name.
fn worker(name: &'static str) -> ChildSpec {
    ChildSpec::new(name, move || {
        Worker::start_link_with(name.to_owned(), StartOptions::new().name(name))
    })
}

/// Starts the tree; runs in the application master, which `start_link` links `top` to.
async fn start_tree() -> Result<Pid, otp::supervisor::SupervisorStartError> {
    let workers = Supervisor::child_spec(
        "workers",
        [worker("steady"), worker("flaky")],
        SupFlags::one_for_one(),
    );
    let pipeline = Supervisor::child_spec(
        "pipeline",
        [worker("db"), worker("cache")],
        SupFlags::rest_for_one(),
    );
    let top = Supervisor::start_link_with(
        [workers, pipeline],
        SupFlags::one_for_one(),
        StartOptions::new().name("top"),
    )
    .await?;
    Ok(top.pid())
}

/// The worker registered under `name`.
fn find(name: &str) -> Outcome<ServerRef<Worker>> {
    ServerRef::whereis(name).ok_or_else(|| format!("no worker named {name}").into())
}

/// The pid of the running child `id` of `sup`.
async fn child(sup: &SupervisorRef, id: &str) -> Outcome<Pid> {
    let children = sup.which_children().await?;
    children
        .iter()
        .find(|c| c.id == id)
        .and_then(|c| c.pid())
        .ok_or_else(|| format!("{id} is not running").into())
}

/// A child's status, to print.
fn status(status: ChildStatus) -> String {
    match status {
        ChildStatus::Running(pid) => pid.to_string(),
        ChildStatus::Restarting => "restarting".to_owned(),
        ChildStatus::NotRunning => "not running".to_owned(),
    }
}

/// Prints the tree, two levels deep, from the supervisors' `which_children` (which lists the
/// latest started first: reversed here, to show the start order).
async fn print_tree(top: &SupervisorRef) -> Outcome {
    println!("      top {}", top.pid());
    let children = top.which_children().await?;
    let last = children.len();
    for (i, c) in children.iter().rev().enumerate() {
        let (branch, indent) = if i + 1 == last {
            ("└──", "    ")
        } else {
            ("├──", "│   ")
        };
        let ChildStatus::Running(pid) = c.status else {
            println!("      {branch} {} {}", c.id, status(c.status));
            continue;
        };
        println!("      {branch} {} {pid}", c.id);
        if c.kind == ChildType::Supervisor {
            let grandchildren = SupervisorRef::from_pid(pid)?.which_children().await?;
            let last = grandchildren.len();
            for (j, g) in grandchildren.iter().rev().enumerate() {
                let branch = if j + 1 == last {
                    "└──"
                } else {
                    "├──"
                };
                println!("      {indent}{branch} {} {}", g.id, status(g.status));
            }
        }
    }
    Ok(())
}

/// Gives `name` a job it cannot handle, and waits until its exit signal has reached its
/// supervisor. Returns what the call gave: the error of a call to a server that exited.
async fn crash(name: &str) -> Outcome<String> {
    let worker = find(name)?;
    // Waiting for the worker's end, set up before it crashes, resolves once its exit signal
    // has reached its supervisor: calls made to the supervisor after it are answered once the
    // supervisor has handled the crash.
    let exited = otp::process::wait_exit(worker.pid());
    let answer = match worker.split(1, 0).await {
        Ok(value) => format!("it answered {value}"),
        Err(e) => e.to_string(),
    };
    exited.await;
    Ok(answer)
}

/// The demo: crashes, restarts, escalation. When it returns, the application stops the tree.
async fn story() -> Outcome {
    let top = SupervisorRef::whereis("top").ok_or("no supervisor named top")?;
    println!(
        "\n1. The tree is up. Each supervisor started its children in order, each start waiting \
         for the child's `init`:"
    );
    print_tree(&top).await?;

    let (steady, flaky) = (find("steady")?, find("flaky")?);
    println!(
        "\n2. The workers work: steady.split(10, 2) = {}, flaky.split(9, 3) = {}.",
        steady.split(10, 2).await?,
        flaky.split(9, 3).await?
    );

    println!("\n3. flaky gets a job it cannot handle: split(1, 0).");
    let answer = crash("flaky").await?;
    let workers = SupervisorRef::from_pid(child(&top, "workers").await?)?;
    let new_flaky = child(&workers, "flaky").await?;
    println!(
        "   The call failed ({answer}). The panic ended flaky's process, and only it: its \
         supervisor, workers (one_for_one), restarted it as {new_flaky}, from a clean state. \
         steady was not touched: still {}, with {} job done. (workers: 1 restart of the 3 \
         allowed in 5 s.)",
        steady.pid(),
        steady.jobs().await?
    );

    let pipeline = SupervisorRef::from_pid(child(&top, "pipeline").await?)?;
    println!("\n4. db crashes the same way.");
    crash("db").await?;
    println!(
        "   pipeline is rest_for_one: cache, started after db and \
         depending on it, was stopped, then both were started again, in order: db {}, cache \
         {}.",
        child(&pipeline, "db").await?,
        child(&pipeline, "cache").await?
    );
    let db = child(&pipeline, "db").await?;
    println!("   Then cache crashes.");
    crash("cache").await?;
    println!(
        "   Nothing depends on cache: only it was restarted, as {}; \
         db is still {db}.",
        child(&pipeline, "cache").await?
    );

    println!(
        "\n5. flaky crashes again and again. workers allows 3 restarts in 5 s, and has used 1."
    );
    for restart in 2..=3 {
        crash("flaky").await?;
        println!(
            "   workers restarted flaky as {} (restart {restart} of 3).",
            child(&workers, "flaky").await?
        );
    }
    // The next crash is one too many: workers gives up and exits, so wait for that too.
    let workers_exited = otp::process::wait_exit(workers.pid());
    println!("   flaky crashes once more.");
    crash("flaky").await?;
    let reason = workers_exited.await;
    let new_workers = child(&top, "workers").await?;
    println!(
        "   That would have been a 4th restart within 5 s, more than workers \
         allows: instead of restarting flaky, workers gave up. It stopped its other child, \
         steady, and exited with `{reason}`. Its own supervisor, top, restarted it as \
         {new_workers}, with a fresh steady and flaky: the failure was escalated up the tree, \
         and repaired one level higher. pipeline was not touched: db is still {db}."
    );
    println!("   The tree now:");
    print_tree(&top).await?;

    println!(
        "\n6. The demo is over. The application stops its tree: top stops its children in \
         reverse start order, each per its shutdown spec, and each supervisor does the same \
         with its own."
    );
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    // The runtime, the supervisors and the application report through `tracing`: on stderr.
    otp_examples::log_to_stderr();
    // The runtime already reports each worker's panic (the log on stderr); the default panic
    // hook would print it a second time. Keep it for any other panic.
    otp_examples::quiet_expected_panics(|message| message == DIVIDE_BY_ZERO);

    println!(
        "Let it crash: an application with a supervision tree, where workers crash and are \
         restarted.\n\nThe application starts its tree:"
    );
    // The demo runs once the tree has started; when it ends, the application stops the tree.
    // (`Application::run` would stop it on SIGINT or SIGTERM instead.) The stop future is
    // watched from the moment the start begins — a stop asked during the start cancels it — so
    // the demo first waits for the start to say the tree is up.
    let (told, outcome) = oneshot::channel();
    let (up, tree_is_up) = oneshot::channel();
    let start = move || async move {
        let top = start_tree().await?;
        let _ = up.send(());
        Ok::<_, otp::supervisor::SupervisorStartError>(top)
    };
    let ending = Application::new("let_it_crash")
        .run_until(start, async move {
            if tree_is_up.await.is_ok() {
                let _ = told.send(story().await);
            }
        })
        .await;

    println!(
        "\nThe application ended: {ending}. Exit status {}.",
        ending.status()
    );
    match outcome.await {
        Ok(Ok(())) => ending.exit_code(),
        Ok(Err(e)) => {
            eprintln!("The demo failed: {e}");
            ExitCode::FAILURE
        }
        // The demo was cut short: the tree ended by itself, and `ending` says how.
        Err(_) => ending.exit_code(),
    }
}
