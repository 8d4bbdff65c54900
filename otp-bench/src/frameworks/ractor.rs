//! ractor 0.16: an `Actor` whose state is the counter; calls use ractor's RPC reply ports.
//!
//! ractor's core has supervision events but no restart strategies: a supervisor is an actor
//! that spawns its children with `spawn_linked` and decides in `handle_supervisor_evt` what to
//! do when one fails. [`Supervisor`] is such an actor written for the supervision workloads.

use ractor::rpc::CallResult;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use tokio::sync::mpsc;

use crate::harness::crash;
use crate::{CrashChild, Server, Supervision};

/// The counter's message type.
pub enum Msg {
    /// Add the value to the state.
    Add(u64),
    /// Reply `state + request` on the port.
    Get(u64, RpcReplyPort<u64>),
}

/// The ractor actor; the counter lives in its `State`.
pub struct Counter;

impl Actor for Counter {
    type Msg = Msg;
    type State = u64;
    type Arguments = u64;

    async fn pre_start(
        &self,
        _myself: ActorRef<Msg>,
        initial: u64,
    ) -> Result<u64, ActorProcessingErr> {
        Ok(initial)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Msg>,
        msg: Msg,
        state: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            Msg::Add(value) => *state += value,
            Msg::Get(request, reply) => {
                let _ = reply.send(*state + request);
            }
        }
        Ok(())
    }
}

/// Handle to a ractor counter: its `ActorRef`.
pub struct RactorServer(ActorRef<Msg>);

impl Server for RactorServer {
    /// `Actor::spawn` (unnamed, unsupervised), which returns once `pre_start` has run.
    async fn start(initial: u64) -> Self {
        let (actor, _task) = Actor::spawn(None, Counter, initial)
            .await
            .expect("ractor spawn failed");
        RactorServer(actor)
    }

    fn cast(&self, value: u64) {
        self.0.cast(Msg::Add(value)).expect("ractor cast failed");
    }

    async fn call(&self, request: u64) -> u64 {
        match self.0.call(|reply| Msg::Get(request, reply), None).await {
            Ok(CallResult::Success(value)) => value,
            Ok(_) => panic!("ractor call got no reply"),
            Err(error) => panic!("ractor call failed: {error}"),
        }
    }

    /// `stop_and_wait`, which returns once the actor has stopped.
    async fn stop(self) {
        self.0
            .stop_and_wait(None, None)
            .await
            .expect("ractor stop failed");
    }
}

/// A message to the crashing child of the `restart` workload.
pub enum ChildMsg {
    /// Panic.
    Crash,
    /// Reply `request` (the state is 0) on the port.
    Get(u64, RpcReplyPort<u64>),
}

/// The crashing child: its `pre_start` sends its handle on the channel it is started with.
pub struct Crasher;

impl Actor for Crasher {
    type Msg = ChildMsg;
    type State = ();
    type Arguments = mpsc::UnboundedSender<RactorChild>;

    async fn pre_start(
        &self,
        myself: ActorRef<ChildMsg>,
        running: Self::Arguments,
    ) -> Result<(), ActorProcessingErr> {
        let _ = running.send(RactorChild(myself));
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<ChildMsg>,
        msg: ChildMsg,
        _state: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ChildMsg::Crash => crash(),
            ChildMsg::Get(request, reply) => {
                let _ = reply.send(request);
            }
        }
        Ok(())
    }
}

/// Handle to the crashing child: its `ActorRef`.
pub struct RactorChild(ActorRef<ChildMsg>);

impl CrashChild for RactorChild {
    fn crash(&self) {
        self.0.cast(ChildMsg::Crash).expect("ractor child gone");
    }

    async fn call(&self, request: u64) -> u64 {
        match self
            .0
            .call(|reply| ChildMsg::Get(request, reply), None)
            .await
        {
            Ok(CallResult::Success(value)) => value,
            Ok(_) => panic!("ractor child call got no reply"),
            Err(error) => panic!("ractor child call failed: {error}"),
        }
    }
}

/// What a [`Supervisor`] supervises.
pub enum SupervisorArgs {
    /// One [`Crasher`], respawned whenever it fails.
    Restarting(mpsc::UnboundedSender<RactorChild>),
    /// This many counters, never restarted.
    Counters(u64),
}

/// A [`Supervisor`]'s children, in start order, and where a respawned crasher reports.
pub struct SupervisorState {
    running: Option<mpsc::UnboundedSender<RactorChild>>,
    children: Vec<ActorCell>,
}

/// A supervisor written for ractor: spawns its children linked to it in `pre_start`, one
/// after the other, each `spawn_linked` waiting for the child's `pre_start`; respawns a
/// [`Crasher`] that failed; stops its children in reverse start order in `post_stop`.
pub struct Supervisor;

/// Spawns a [`Crasher`] linked to `supervisor`.
async fn spawn_crasher(
    supervisor: &ActorRef<()>,
    running: &mpsc::UnboundedSender<RactorChild>,
) -> Result<ActorCell, ActorProcessingErr> {
    let (child, _task) =
        Actor::spawn_linked(None, Crasher, running.clone(), supervisor.get_cell()).await?;
    Ok(child.get_cell())
}

impl Actor for Supervisor {
    type Msg = ();
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<()>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        match args {
            SupervisorArgs::Restarting(running) => {
                let child = spawn_crasher(&myself, &running).await?;
                Ok(SupervisorState {
                    running: Some(running),
                    children: vec![child],
                })
            }
            SupervisorArgs::Counters(n) => {
                let mut children = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    let (child, _task) =
                        Actor::spawn_linked(None, Counter, 0, myself.get_cell()).await?;
                    children.push(child.get_cell());
                }
                Ok(SupervisorState {
                    running: None,
                    children,
                })
            }
        }
    }

    /// Respawns a crasher that failed; ignores every other event (ractor's default stops the
    /// supervisor when a child ends).
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<()>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        if let (SupervisionEvent::ActorFailed(..), Some(running)) = (&event, &state.running) {
            let child = spawn_crasher(&myself, running).await?;
            state.children = vec![child];
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<()>,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        for child in state.children.drain(..).rev() {
            child.stop_and_wait(None, None).await?;
        }
        Ok(())
    }
}

/// Handle to a ractor [`Supervisor`]: its `ActorRef`.
pub struct RactorSupervisor(ActorRef<()>);

impl RactorSupervisor {
    async fn spawn(args: SupervisorArgs) -> Self {
        let (supervisor, _task) = Actor::spawn(None, Supervisor, args)
            .await
            .expect("ractor supervisor spawn failed");
        RactorSupervisor(supervisor)
    }
}

impl Supervision for RactorSupervisor {
    type Child = RactorChild;
    type Children = u64;

    async fn start_restarting(running: mpsc::UnboundedSender<RactorChild>) -> Self {
        Self::spawn(SupervisorArgs::Restarting(running)).await
    }

    fn children(n: u64) -> u64 {
        n
    }

    /// `Actor::spawn` of the supervisor, which returns once its `pre_start` (which spawned
    /// every child) has run.
    async fn start_children(n: u64) -> Self {
        Self::spawn(SupervisorArgs::Counters(n)).await
    }

    /// `stop_and_wait`, which returns once the supervisor's `post_stop` has stopped every
    /// child.
    async fn stop(self) {
        self.0
            .stop_and_wait(None, None)
            .await
            .expect("ractor supervisor stop failed");
    }
}
