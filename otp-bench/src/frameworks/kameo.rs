//! kameo 0.22: an `Actor` with one `Message` impl per message type, spawned with an unbounded
//! mailbox.
//!
//! kameo has built-in supervision: a supervisor actor spawns children with `Spawn::supervise`,
//! each with a restart policy and a restart limit, and restarts them by its
//! `supervision_strategy`; a restarted child keeps its `ActorRef` and mailbox, and its
//! `on_start` runs again with a clone of its arguments. [`Supervisor`] uses it.

use std::time::Duration;

use kameo::Actor;
use kameo::actor::{ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};
use kameo::supervision::{RestartPolicy, SupervisionStrategy};
use tokio::sync::mpsc;

use crate::harness::crash;
use crate::{CrashChild, Server, Supervision};

/// The counter as a kameo actor.
pub struct Counter {
    n: u64,
}

impl Actor for Counter {
    type Args = u64;
    type Error = Infallible;

    async fn on_start(initial: u64, _actor_ref: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Counter { n: initial })
    }
}

/// Cast: add the value to the state.
pub struct Add(pub u64);

/// Call: reply `state + request`.
pub struct Get(pub u64);

impl Message<Add> for Counter {
    type Reply = ();

    async fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self, ()>) {
        self.n += value;
    }
}

impl Message<Get> for Counter {
    type Reply = u64;

    async fn handle(&mut self, Get(request): Get, _ctx: &mut Context<Self, u64>) -> u64 {
        self.n + request
    }
}

/// Handle to a kameo counter: its `ActorRef`.
pub struct KameoServer(ActorRef<Counter>);

impl Server for KameoServer {
    /// `Spawn::spawn_with_mailbox` with an unbounded mailbox; returns before `on_start` ran.
    async fn start(initial: u64) -> Self {
        KameoServer(Counter::spawn_with_mailbox(initial, mailbox::unbounded()))
    }

    fn cast(&self, value: u64) {
        self.0
            .tell(Add(value))
            .try_send()
            .unwrap_or_else(|_| panic!("kameo tell failed"));
    }

    async fn call(&self, request: u64) -> u64 {
        self.0
            .ask(Get(request))
            .await
            .unwrap_or_else(|_| panic!("kameo ask failed"))
    }

    /// `stop_gracefully`, then `wait_for_shutdown`, which returns once the mailbox is closed.
    async fn stop(self) {
        self.0.stop_gracefully().await.expect("kameo stop failed");
        self.0.wait_for_shutdown().await;
    }
}

/// The crashing child of the `restart` workload: its `on_start` (run again at every restart)
/// sends its handle on the channel it is started with.
pub struct Crasher;

impl Actor for Crasher {
    type Args = mpsc::UnboundedSender<KameoChild>;
    type Error = Infallible;

    async fn on_start(running: Self::Args, actor_ref: ActorRef<Self>) -> Result<Self, Infallible> {
        let _ = running.send(KameoChild(actor_ref));
        Ok(Crasher)
    }
}

/// Crash: the handler panics.
pub struct Crash;

impl Message<Crash> for Crasher {
    type Reply = ();

    async fn handle(&mut self, _: Crash, _ctx: &mut Context<Self, ()>) {
        crash()
    }
}

impl Message<Get> for Crasher {
    type Reply = u64;

    /// Replies `request` (the state is 0).
    async fn handle(&mut self, Get(request): Get, _ctx: &mut Context<Self, u64>) -> u64 {
        request
    }
}

/// Handle to the crashing child: its `ActorRef` (the same for every incarnation).
pub struct KameoChild(ActorRef<Crasher>);

impl CrashChild for KameoChild {
    fn crash(&self) {
        self.0
            .tell(Crash)
            .try_send()
            .unwrap_or_else(|_| panic!("kameo child tell failed"));
    }

    async fn call(&self, request: u64) -> u64 {
        self.0
            .ask(Get(request))
            .await
            .unwrap_or_else(|_| panic!("kameo child ask failed"))
    }
}

/// What a [`Supervisor`] supervises.
pub enum SupervisorArgs {
    /// One [`Crasher`], restarted whenever it panics.
    Restarting(mpsc::UnboundedSender<KameoChild>),
    /// This many counters.
    Counters(u64),
}

/// A kameo supervisor (strategy one-for-one) whose `on_start` spawns its children with
/// `Spawn::supervise` (restart policy permanent, an unbounded mailbox, a restart limit it never
/// reaches), one after the other, waiting for each child's `on_start`.
pub struct Supervisor;

/// The restart limit of the children: `u32::MAX` restarts in 5 s, never reached.
const RESTART_LIMIT: (u32, Duration) = (u32::MAX, Duration::from_secs(5));

impl Actor for Supervisor {
    type Args = SupervisorArgs;
    type Error = Infallible;

    fn supervision_strategy() -> SupervisionStrategy {
        SupervisionStrategy::OneForOne
    }

    async fn on_start(args: SupervisorArgs, actor_ref: ActorRef<Self>) -> Result<Self, Infallible> {
        let (restarts, within) = RESTART_LIMIT;
        match args {
            SupervisorArgs::Restarting(running) => {
                let child = Crasher::supervise(&actor_ref, running)
                    .restart_policy(RestartPolicy::Permanent)
                    .restart_limit(restarts, within)
                    .spawn_with_mailbox(mailbox::unbounded())
                    .await;
                child.wait_for_startup().await;
            }
            SupervisorArgs::Counters(n) => {
                for _ in 0..n {
                    let child = Counter::supervise(&actor_ref, 0)
                        .restart_policy(RestartPolicy::Permanent)
                        .restart_limit(restarts, within)
                        .spawn_with_mailbox(mailbox::unbounded())
                        .await;
                    child.wait_for_startup().await;
                }
            }
        }
        Ok(Supervisor)
    }
}

/// Handle to a kameo [`Supervisor`]: its `ActorRef`.
pub struct KameoSupervisor(ActorRef<Supervisor>);

impl KameoSupervisor {
    /// Spawns the supervisor and waits until its `on_start` (which started every child) ran.
    async fn spawn(args: SupervisorArgs) -> Self {
        let supervisor = Supervisor::spawn_with_mailbox(args, mailbox::unbounded());
        supervisor.wait_for_startup().await;
        KameoSupervisor(supervisor)
    }
}

impl Supervision for KameoSupervisor {
    type Child = KameoChild;
    type Children = u64;

    async fn start_restarting(running: mpsc::UnboundedSender<KameoChild>) -> Self {
        Self::spawn(SupervisorArgs::Restarting(running)).await
    }

    fn children(n: u64) -> u64 {
        n
    }

    async fn start_children(n: u64) -> Self {
        Self::spawn(SupervisorArgs::Counters(n)).await
    }

    /// `stop_gracefully`, then `wait_for_shutdown`: kameo stops a supervisor's children
    /// (all at once, not in order) and waits for them before the supervisor is gone.
    async fn stop(self) {
        self.0
            .stop_gracefully()
            .await
            .expect("kameo supervisor stop failed");
        self.0.wait_for_shutdown().await;
    }
}
