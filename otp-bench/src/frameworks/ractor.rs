//! ractor 0.16: an `Actor` whose state is the counter; calls use ractor's RPC reply ports.

use ractor::rpc::CallResult;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use crate::Server;

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
