//! kameo 0.22: an `Actor` with one `Message` impl per message type, spawned with an unbounded
//! mailbox.

use kameo::Actor;
use kameo::actor::{ActorRef, Spawn};
use kameo::error::Infallible;
use kameo::mailbox;
use kameo::message::{Context, Message};

use crate::Server;

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
