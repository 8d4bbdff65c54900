//! Nothing outlives its process: after 100,000 processes have spawned and ended, holding every
//! resource a process can hold, the runtime holds nothing.
//!
//! One test only: it asserts global counts (the process table, the name table, the tokio
//! runtime's tasks), which another test running alongside in this binary would disturb.
//!
//! The processes register local names, link to and monitor a long-lived hub (and are monitored
//! by it), start timers (`send_after` and `send_interval` an hour away, so they are still pending
//! when their destination ends; some aimed at the hub), register in unique and duplicate
//! [`Registry`]s, spawn linked children that monitor them; GenServers are started named (local
//! and `via`), ignored, failed, timed out, refused for a taken name, stopped, panicked and
//! killed. Each ends its own way: return, error, panic, `exit(pid, Kill)`, `exit(pid, Shutdown)`,
//! stop. After each batch the hub holds no link or monitor (its links and monitors are released
//! at exit, P-04, P-15), only its own name is registered (names are released at exit, P-04),
//! the registries are empty (REG-03), and the only tokio tasks alive are the hub's and the timers
//! aimed at it (timers are cancelled with their destination). At the end, with the hub gone,
//! nothing at all is left.

mod common;

use std::time::Duration;

use otp_core::gen_server::{
    Action, CallError, CallResult, Context, GenServer, Init, ServerRef, StartError, StartOptions,
};
use otp_core::name::{register, registered, send};
use otp_core::process::{
    ExitReason, Info, Pid, Process, SpawnOptions, exit, process_count, process_info, processes,
    spawn, spawn_opt, wait_exit,
};
use otp_core::registry::{Keys, Registry};
use otp_core::timer::send_after;
use tokio::sync::oneshot;

/// How many processes must have spawned and ended, at least.
const TOTAL: usize = 100_000;
/// Items per batch (an item is one to three processes).
const BATCH: usize = 2_800;
/// Far enough that no timer of this test ever fires.
const LATER: Duration = Duration::from_secs(3_600);
/// Injected panic messages start with this, so the panic hook can stay quiet about them.
const PANIC_MARK: &str = "injected panic";

/// A timer message; never delivered in this test.
#[derive(Clone)]
struct Tick;

/// What the hub counted since it started.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct HubStats {
    exits: usize,
    downs: usize,
    ticks: usize,
}

enum HubCmd {
    /// Monitor this process.
    Monitor(Pid),
    /// Act on pending signals, take what is queued, then report.
    Sync(oneshot::Sender<HubStats>),
    /// End normally.
    Stop,
}

fn count(stats: &mut HubStats, info: Info) -> Option<HubCmd> {
    match info {
        Info::Exit(_) => stats.exits += 1,
        Info::Down(_) => stats.downs += 1,
        Info::Message(m) => match m.downcast::<HubCmd>() {
            Ok(cmd) => return Some(cmd),
            Err(m) if m.is::<Tick>() => stats.ticks += 1,
            Err(m) => panic!("hub: unexpected message {m:?}"),
        },
        other => panic!("hub: unexpected {other:?}"),
    }
    None
}

/// The long-lived hub: traps exits, counts the exits and downs it gets, monitors on request.
async fn hub_body(mut me: Process) {
    let mut stats = HubStats::default();
    loop {
        let info = me.recv().await;
        match count(&mut stats, info) {
            None => {}
            Some(HubCmd::Monitor(pid)) => {
                me.monitor(pid);
            }
            Some(HubCmd::Sync(reply)) => {
                // The process task acts on pending exit signals each time it is polled: after
                // one yield, every signal sent before this sync is a queued message.
                tokio::task::yield_now().await;
                while let Some(info) = me.try_recv() {
                    if count(&mut stats, info).is_some() {
                        panic!("hub: a command arrived during a sync");
                    }
                }
                let _ = reply.send(stats);
            }
            Some(HubCmd::Stop) => return,
        }
    }
}

/// Everything a worker or server uses.
#[derive(Clone)]
struct Shared {
    hub: Pid,
    unique: Registry<u64, u64>,
    duplicate: Registry<&'static str, u64>,
    servers: Registry<u64>,
}

/// How a plain worker ends.
#[derive(Clone, Copy, Debug)]
enum End {
    Return,
    Error,
    Panic,
    Kill,
    Shutdown,
}

/// Sent to a worker to make it end by itself.
struct EndNow;

/// A plain process holding one of everything: a name, a link and a monitor to the hub, a
/// monitor from the hub, timers, registry entries, and a linked child that monitors it.
async fn worker(
    mut me: Process,
    i: u64,
    end: End,
    shared: Shared,
    ready: oneshot::Sender<Pid>,
) -> Result<(), String> {
    if i.is_multiple_of(2) {
        me.register(format!("w{i}")).map_err(|e| e.to_string())?;
    }
    me.link(shared.hub).map_err(|e| e.to_string())?;
    me.monitor(shared.hub);
    send(shared.hub, HubCmd::Monitor(me.pid())).map_err(|e| e.to_string())?;
    me.send_after(Tick, LATER);
    me.send_interval(Tick, LATER);
    shared.unique.register(i, i).map_err(|e| e.to_string())?;
    shared
        .duplicate
        .register("all", i)
        .map_err(|e| e.to_string())?;
    shared
        .duplicate
        .register("all", i + 1)
        .map_err(|e| e.to_string())?;
    let parent = me.pid();
    let (child_ready_tx, child_ready) = oneshot::channel();
    let child = me.spawn_link(move |mut c| async move {
        c.monitor(parent);
        c.send_after(Tick, LATER);
        let _ = child_ready_tx.send(());
        loop {
            if let Info::Down(_) = c.recv().await {
                return;
            }
        }
    });
    child_ready.await.map_err(|e| e.to_string())?;
    let _ = ready.send(child);
    loop {
        if let Info::Message(m) = me.recv().await
            && m.is::<EndNow>()
        {
            match end {
                End::Error => return Err(format!("w{i}")),
                End::Panic => panic!("{PANIC_MARK} w{i}"),
                _ => return Ok(()),
            }
        }
    }
}

/// How a server's `init` goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InitMode {
    Ok,
    Ignore,
    Stop,
    Hang,
}

/// A server holding the same kinds of resources as a worker.
struct Srv;

enum SrvCall {
    Get,
    Panic,
    ReplyThenStop,
}

#[derive(Debug)]
enum SrvCast {
    Stop(ExitReason),
}

impl GenServer for Srv {
    type Args = (u64, InitMode, Shared);
    type Call = SrvCall;
    type Reply = u64;
    type Cast = SrvCast;
    type Continue = ();

    async fn init((i, mode, shared): Self::Args, ctx: &mut Context<Self>) -> Init<Self> {
        if ctx.link(shared.hub).is_err() {
            return Init::Stop(ExitReason::error("hub gone"));
        }
        ctx.monitor(shared.hub);
        if send(shared.hub, HubCmd::Monitor(ctx.pid())).is_err() {
            return Init::Stop(ExitReason::error("hub gone"));
        }
        ctx.send_after(Tick, LATER);
        // Keys far from the workers' keys.
        let key = 1_000_000_000 + i;
        if shared.unique.register(key, i).is_err()
            || shared.duplicate.register("servers", i).is_err()
        {
            return Init::Stop(ExitReason::error("registry"));
        }
        match mode {
            InitMode::Ok => Init::Ok(Srv),
            InitMode::Ignore => Init::Ignore,
            InitMode::Stop => Init::Stop(ExitReason::error("init refused")),
            InitMode::Hang => std::future::pending().await,
        }
    }

    async fn handle_call(
        &mut self,
        request: SrvCall,
        _ctx: &mut Context<Self>,
    ) -> CallResult<Self> {
        match request {
            SrvCall::Get => CallResult::Reply(7),
            SrvCall::Panic => panic!("{PANIC_MARK} in a call"),
            SrvCall::ReplyThenStop => {
                CallResult::ReplyThen(8, Action::Stop(ExitReason::shutdown_with("done")))
            }
        }
    }

    async fn handle_cast(
        &mut self,
        SrvCast::Stop(reason): SrvCast,
        _ctx: &mut Context<Self>,
    ) -> Action<Self> {
        Action::Stop(reason)
    }

    async fn handle_info(&mut self, info: Info, _ctx: &mut Context<Self>) -> Action<Self> {
        match info {
            Info::Message(m) if m.is::<Tick>() => panic!("a timer of this test fired"),
            _ => Action::NoReply,
        }
    }
}

/// The processes of one batch that must end, with the reason each must end with.
#[derive(Default)]
struct Batch {
    /// How many processes this batch spawned (including any that never ran).
    spawned: usize,
    /// Processes linked to the hub (each sends the hub one exit message when it ends).
    linked_to_hub: usize,
    /// Monitor requests sent to the hub (each gives the hub one `Down`).
    hub_monitors: usize,
    /// Timers aimed at the hub: pending until the hub ends.
    hub_timers: usize,
    /// Plain workers and their children, with how they end.
    workers: Vec<(Pid, Pid, End)>,
    /// Servers still running, with what ends them.
    servers: Vec<(ServerRef<Srv>, usize)>,
}

fn expected_reason(end: End, i: Pid) -> ExitReason {
    match end {
        End::Return => ExitReason::Normal,
        End::Error => ExitReason::Error(format!("w{}", i.serial())),
        End::Panic => ExitReason::Panic(format!("{PANIC_MARK} w{}", i.serial())),
        End::Kill => ExitReason::Killed,
        End::Shutdown => ExitReason::Shutdown,
    }
}

/// Starts the processes of one batch; servers whose start fails are checked here.
async fn start_batch(first: u64, shared: &Shared) -> Batch {
    let mut batch = Batch::default();
    let mut readies = Vec::new();
    for n in 0..BATCH as u64 {
        let i = first + n;
        match n % 14 {
            v @ 0..5 => {
                let end = [
                    End::Return,
                    End::Error,
                    End::Panic,
                    End::Kill,
                    End::Shutdown,
                ][v as usize];
                let (tx, rx) = oneshot::channel();
                let s = shared.clone();
                let hub_timer = n.is_multiple_of(50);
                // Worker keys (and names, errors, panics) use the worker's pid serial: unique.
                let pid = spawn(move |me| {
                    let key = me.pid().serial();
                    worker(me, key, end, s, tx)
                });
                if hub_timer {
                    send_after(shared.hub, Tick, LATER);
                    batch.hub_timers += 1;
                }
                readies.push((pid, end, rx));
                batch.spawned += 2;
                batch.linked_to_hub += 1;
                batch.hub_monitors += 1;
            }
            v @ 5..10 => {
                let options = match i % 3 {
                    0 => StartOptions::new().name(format!("s{i}")),
                    1 => StartOptions::new().name(shared.servers.via(i).unwrap()),
                    _ => StartOptions::new(),
                };
                let server = Srv::start_with((i, InitMode::Ok, shared.clone()), options)
                    .await
                    .expect("the server starts");
                assert_eq!(server.call(SrvCall::Get).await, Ok(7));
                batch.servers.push((server, v as usize - 5));
                batch.spawned += 1;
                batch.linked_to_hub += 1;
                batch.hub_monitors += 1;
            }
            10 => {
                let options = StartOptions::new().name(format!("s{i}"));
                let r = Srv::start_with((i, InitMode::Ignore, shared.clone()), options).await;
                assert_eq!(r.err(), Some(StartError::Ignored));
                batch.spawned += 1;
                batch.linked_to_hub += 1;
                batch.hub_monitors += 1;
            }
            11 => {
                let options = StartOptions::new().name(shared.servers.via(i).unwrap());
                let r = Srv::start_with((i, InitMode::Stop, shared.clone()), options).await;
                assert_eq!(
                    r.err(),
                    Some(StartError::Stopped(ExitReason::error("init refused")))
                );
                batch.spawned += 1;
                batch.linked_to_hub += 1;
                batch.hub_monitors += 1;
            }
            12 if n == 12 => {
                // Once per batch: a start that times out; the server is killed.
                let options = StartOptions::new()
                    .name(format!("s{i}"))
                    .timeout(Duration::from_millis(5));
                let r = Srv::start_with((i, InitMode::Hang, shared.clone()), options).await;
                assert_eq!(r.err(), Some(StartError::Timeout));
                batch.spawned += 1;
                batch.linked_to_hub += 1;
                batch.hub_monitors += 1;
            }
            _ => {
                // A name that is taken: the second start is refused before `init`.
                let name = if i.is_multiple_of(2) {
                    StartOptions::new().name(format!("s{i}"))
                } else {
                    StartOptions::new().name(shared.servers.via(i).unwrap())
                };
                let first = Srv::start_with((i, InitMode::Ok, shared.clone()), name.clone())
                    .await
                    .expect("the first server starts");
                let second = Srv::start_with((i, InitMode::Ok, shared.clone()), name).await;
                assert_eq!(second.err(), Some(StartError::AlreadyStarted(first.pid())));
                batch.servers.push((first, 0));
                batch.spawned += 2;
                batch.linked_to_hub += 1;
                batch.hub_monitors += 1;
            }
        }
    }
    for (pid, end, rx) in readies {
        let child = rx.await.expect("the worker is ready");
        batch.workers.push((pid, child, end));
    }
    batch
}

/// Ends every process of the batch and checks each ended with the expected reason.
async fn end_batch(batch: &Batch) {
    // Waits start before the ends, so every reason is seen.
    let worker_exits: Vec<_> = batch
        .workers
        .iter()
        .map(|&(pid, child, end)| (pid, end, wait_exit(pid), wait_exit(child)))
        .collect();
    for &(pid, _, end) in &batch.workers {
        match end {
            End::Kill => exit(pid, ExitReason::Kill),
            End::Shutdown => exit(pid, ExitReason::Shutdown),
            _ => send(pid, EndNow).unwrap(),
        }
    }
    for (server, how) in &batch.servers {
        let exited = server.wait_exit();
        let expected = match how {
            0 => {
                assert_eq!(server.stop(ExitReason::Normal).await, Ok(()));
                ExitReason::Normal
            }
            1 => {
                let expected = ExitReason::Panic(format!("{PANIC_MARK} in a call"));
                assert_eq!(
                    server.call(SrvCall::Panic).await,
                    Err(CallError::Exited(expected.clone()))
                );
                expected
            }
            2 => {
                server.cast(SrvCast::Stop(ExitReason::Shutdown)).unwrap();
                ExitReason::Shutdown
            }
            3 => {
                exit(server.pid(), ExitReason::Kill);
                ExitReason::Killed
            }
            _ => {
                assert_eq!(server.call(SrvCall::ReplyThenStop).await, Ok(8));
                ExitReason::shutdown_with("done")
            }
        };
        assert_eq!(exited.await, expected, "server {:?}", server.pid());
    }
    for (pid, end, worker_exit, child_exit) in worker_exits {
        let expected = expected_reason(end, pid);
        assert_eq!(worker_exit.await, expected, "worker {pid}");
        // The child is linked (dies with any reason but `Normal`) and monitors the worker
        // (ends normally on the `Down`).
        assert_eq!(child_exit.await, expected, "child of worker {pid}");
    }
}

/// Waits for the runtime to drop the tasks of ended processes and cancelled timers, then checks
/// how many are alive. The wait is bounded; no duration is asserted.
async fn assert_alive_tasks(expected: usize, when: &str) {
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..10_000 {
        if metrics.num_alive_tasks() == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(
        metrics.num_alive_tasks(),
        expected,
        "tokio tasks alive {when}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_left_after_100k_processes() {
    common::quiet_panics();
    let hub = spawn_opt(SpawnOptions::new().trap_exit(true), hub_body);
    register("hub", hub).unwrap();
    let shared = Shared {
        hub,
        unique: Registry::new(Keys::Unique),
        duplicate: Registry::new(Keys::Duplicate),
        servers: Registry::new(Keys::Unique),
    };
    let sync_hub = || async {
        let (tx, rx) = oneshot::channel();
        send(hub, HubCmd::Sync(tx)).unwrap();
        rx.await.expect("the hub is alive")
    };

    let mut spawned = 0;
    let mut expected_hub = HubStats::default();
    let mut hub_timers = 0;
    let mut first = 0;
    while spawned < TOTAL {
        let batch = start_batch(first, &shared).await;
        first += BATCH as u64;
        end_batch(&batch).await;
        spawned += batch.spawned;
        expected_hub.exits += batch.linked_to_hub;
        expected_hub.downs += batch.hub_monitors;
        hub_timers += batch.hub_timers;

        let when = format!("after {spawned} processes");
        assert_eq!(sync_hub().await, expected_hub, "hub counts {when}");
        assert_eq!(
            process_count(),
            1,
            "only the hub is alive {when}: {:?}",
            processes()
        );
        let info = process_info(hub).expect("the hub is alive");
        assert!(info.links.is_empty(), "hub links {when}: {:?}", info.links);
        assert!(
            info.monitors.is_empty(),
            "hub monitors {when}: {:?}",
            info.monitors
        );
        assert!(
            info.monitored_by.is_empty(),
            "hub monitored by {when}: {:?}",
            info.monitored_by
        );
        assert_eq!(info.mailbox_len, 0, "hub mailbox {when}");
        assert_eq!(registered(), vec![("hub".into(), hub)], "names {when}");
        assert_eq!(shared.unique.count(), 0, "unique registry {when}");
        assert_eq!(shared.duplicate.count(), 0, "duplicate registry {when}");
        assert_eq!(shared.servers.count(), 0, "server registry {when}");
        // The hub, and the timers aimed at it; every other task ended with its process.
        assert_alive_tasks(1 + hub_timers, &when).await;
    }
    assert!(spawned >= TOTAL);
    assert!(hub_timers > 0);

    let hub_exit = wait_exit(hub);
    send(hub, HubCmd::Stop).unwrap();
    assert_eq!(hub_exit.await, ExitReason::Normal);
    assert_eq!(process_count(), 0, "{:?}", processes());
    assert!(processes().is_empty());
    assert!(registered().is_empty(), "{:?}", registered());
    assert_eq!(shared.unique.count(), 0);
    assert_eq!(shared.duplicate.count(), 0);
    assert_eq!(shared.servers.count(), 0);
    // The timers aimed at the hub were cancelled when it ended.
    assert_alive_tasks(0, "at the end").await;
}
