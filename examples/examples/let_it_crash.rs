//! Let it crash: a panicking process is isolated, and the processes that care are told.
//!
//! A worker server panics on a "poison pill". The panic is caught at the process boundary and
//! becomes the worker's exit reason; nothing else crashes. A supervisor-like process linked to
//! the worker traps exits, so it gets the exit signal as a message (`{'EXIT', Pid, Reason}`) and
//! starts a fresh worker; a watcher that monitors the worker gets a `DOWN` message; an unrelated
//! server keeps answering calls. The story is told on stdout, step by step; the runtime's own
//! logs go to stderr.
//!
//! The two servers are written with `#[derive(GenServer)]` and `#[handlers]`, which generate
//! their typed client methods (`worker.work()`, `worker.done()`); the supervisor-like process
//! and the watcher are plain processes.
//!
//! ```sh
//! cargo run -p otp-examples --example let_it_crash
//! ```

use otp::prelude::*;
use tokio::sync::{mpsc, oneshot};

/// The panic message of the poison pill.
const POISON: &str = "poison pill";

/// A worker: counts the jobs it has done, and panics on poison. Without an `#[init]` handler,
/// its state starts as `Default` and `Worker::start_link()` takes no argument.
#[derive(GenServer, Default)]
struct Worker {
    done: u64,
}

#[handlers]
impl Worker {
    /// How many jobs were done.
    #[call]
    fn done(&self) -> u64 {
        self.done
    }

    /// Does some work.
    #[cast]
    fn work(&mut self) {
        self.done += 1;
    }

    /// Panics.
    #[cast]
    fn poison(&mut self) {
        panic!("{POISON}");
    }

    #[terminate]
    fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        println!(
            "   (worker {}: `terminate` runs with reason `{reason}`; then its state, with {} \
             job(s) done, is dropped)",
            ctx.pid(),
            self.done
        );
    }
}

/// A server unrelated to the worker: it answers every call with 42.
#[derive(GenServer, Default)]
struct Oracle;

#[handlers]
impl Oracle {
    /// The answer.
    #[call]
    fn answer(&self) -> u64 {
        42
    }
}

/// What the supervisor-like process reports to `main`.
enum Report {
    /// It started a worker.
    Started(ServerRef<Worker>),
    /// A worker it was linked to exited; it started a new one.
    Restarted {
        crashed: Pid,
        reason: ExitReason,
        new: ServerRef<Worker>,
    },
}

/// Tells the supervisor-like process to stop its worker and end.
struct ShutDown;

/// The supervisor-like process: traps exits, starts a worker linked to itself, and starts a new
/// one whenever the worker exits.
async fn keeper(mut me: Process, reports: mpsc::UnboundedSender<Report>) -> Result<(), String> {
    me.trap_exit(true);
    let mut worker = Worker::start_link().await.map_err(|e| e.to_string())?;
    let _ = reports.send(Report::Started(worker.clone()));
    loop {
        match me.recv().await {
            Info::Exit(signal) if signal.from() == worker.pid() => {
                let reason = signal.reason().clone();
                worker = Worker::start_link().await.map_err(|e| e.to_string())?;
                let _ = reports.send(Report::Restarted {
                    crashed: signal.from(),
                    reason,
                    new: worker.clone(),
                });
            }
            Info::Message(m) if m.is::<ShutDown>() => {
                worker
                    .stop(ExitReason::Shutdown)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(());
            }
            _ => {}
        }
    }
}

/// The watcher: monitors `target` and reports its `DOWN`.
async fn watcher(
    mut me: Process,
    target: Pid,
    ready: oneshot::Sender<()>,
    down: oneshot::Sender<(Pid, ExitReason)>,
) {
    let monitor = me.monitor(target);
    let _ = ready.send(());
    loop {
        if let Info::Down(d) = me.recv().await
            && d.reference() == monitor
        {
            let _ = down.send((d.pid(), d.reason().clone()));
            return;
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The runtime logs crashes through `tracing`: show them on stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // The runtime already reports the panic (the log line on stderr); the default panic hook
    // would print it a second time, with a backtrace hint. Keep it for any other panic.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<String>().map(String::as_str) != Some(POISON) {
            default_hook(info);
        }
    }));

    println!("Let it crash: a panic in one process, isolated and reported.\n");

    let oracle = Oracle::start().await?;
    println!(
        "1. Started the oracle server {}. It has nothing to do with the worker; it answers every \
         call with {}.",
        oracle.pid(),
        oracle.answer().await?
    );

    let (reports_tx, mut reports) = mpsc::unbounded_channel();
    let keeper_pid = spawn(move |me| keeper(me, reports_tx));
    let Some(Report::Started(worker)) = reports.recv().await else {
        return Err("the supervisor-like process did not start its worker".into());
    };
    println!(
        "2. Started a supervisor-like process {keeper_pid}. It traps exits, then starts the worker \
         server {} with start_link: the two are linked.",
        worker.pid()
    );

    let (ready_tx, ready) = oneshot::channel();
    let (down_tx, down) = oneshot::channel();
    let target = worker.pid();
    let watcher_pid = spawn(move |me| watcher(me, target, ready_tx, down_tx));
    let watcher_exit = otp::wait_exit(watcher_pid);
    ready.await?;
    println!(
        "3. Started a watcher process {watcher_pid} that monitors the worker. A monitor is \
         one-way: the watcher will be told when the worker ends, and is not affected by it."
    );

    for _ in 0..3 {
        worker.work()?;
    }
    println!(
        "4. The worker serves: 3 jobs cast, and a call says {} done.",
        worker.done().await?
    );

    println!(
        "5. Casting the poison pill to the worker {}...",
        worker.pid()
    );
    worker.poison()?;
    let reason = worker.wait_exit().await;
    println!(
        "6. The worker {} panicked with \"{POISON}\". The panic was caught at the boundary of \
         its process and became its exit reason, `{reason}`. Only that process ended (alive: {}).",
        worker.pid(),
        worker.is_alive()
    );

    let Some(Report::Restarted {
        crashed,
        reason,
        new,
    }) = reports.recv().await
    else {
        return Err("the supervisor-like process did not report the crash".into());
    };
    println!(
        "7. Through the link, the supervisor-like process got EXIT from {crashed} with reason \
         `{reason}`. Because it traps exits, the exit signal arrived as a message instead of \
         killing it, and it started a fresh worker {}.",
        new.pid()
    );

    let (down_pid, down_reason) = down.await?;
    println!(
        "8. Through the monitor, the watcher got DOWN for {down_pid} with reason `{down_reason}`. \
         A monitor only reports: the crash did not touch the watcher, which now ends on its \
         own, normally."
    );

    println!(
        "9. The oracle, which was never linked to the worker, still answers: {}.",
        oracle.answer().await?
    );

    new.work()?;
    println!(
        "10. The fresh worker serves from a clean state: {} job done.",
        new.done().await?
    );

    // Shut everything down in order, and check that nothing is left.
    let keeper_exit = otp::wait_exit(keeper_pid);
    otp::send(keeper_pid, ShutDown)?;
    let keeper_reason = keeper_exit.await;
    oracle.stop(ExitReason::Normal).await?;
    let watcher_reason = watcher_exit.await;
    println!(
        "11. Shut down: the supervisor-like process stopped its worker and ended (`{keeper_reason}`), \
         the watcher had ended after reporting (`{watcher_reason}`), the oracle was stopped. \
         Processes still alive: {}.",
        otp::process_count()
    );
    Ok(())
}
