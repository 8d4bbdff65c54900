//! actix 0.13 on an actix-rt `System`: an `Actor` with one `Handler` per message type.
//!
//! An actix-rt `System` runs everything on one thread (a tokio current-thread runtime with a
//! `LocalSet`): actors and the benchmark's sender share it.
//!
//! actix has no stop that waits for the actor to be gone: an actor stops itself from a handler
//! (`ctx.stop()`) or when every address is dropped, and nothing tells a caller when it is done.
//! Here, stop sends a `Stop` message whose handler calls `ctx.stop()`, and waits for its reply;
//! the actor's context finishes on the thread's next turn.

use std::future::Future;

use actix::{Actor, ActorContext, Addr, Context, Handler, Message};

use crate::{Runtime, Server};

/// The counter as an actix actor.
pub struct Counter {
    n: u64,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

/// Cast: add the value to the state.
pub struct Add(pub u64);

/// Call: reply `state + request`.
pub struct Get(pub u64);

/// Stop the actor.
pub struct Stop;

impl Message for Add {
    type Result = ();
}

impl Message for Get {
    type Result = u64;
}

impl Message for Stop {
    type Result = ();
}

impl Handler<Add> for Counter {
    type Result = ();

    fn handle(&mut self, Add(value): Add, _ctx: &mut Context<Self>) {
        self.n += value;
    }
}

impl Handler<Get> for Counter {
    type Result = u64;

    fn handle(&mut self, Get(request): Get, _ctx: &mut Context<Self>) -> u64 {
        self.n + request
    }
}

impl Handler<Stop> for Counter {
    type Result = ();

    fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

/// Handle to an actix counter: its `Addr`.
pub struct ActixServer(Addr<Counter>);

impl Server for ActixServer {
    /// `Actor::start`, which returns before the actor first ran.
    async fn start(initial: u64) -> Self {
        ActixServer(Counter { n: initial }.start())
    }

    /// `Addr::do_send`, which ignores the mailbox capacity (unbounded, like the others).
    fn cast(&self, value: u64) {
        self.0.do_send(Add(value));
    }

    async fn call(&self, request: u64) -> u64 {
        self.0.send(Get(request)).await.expect("actix send failed")
    }

    /// Sends `Stop` and waits for the handler's reply (see the module docs).
    async fn stop(self) {
        self.0.send(Stop).await.expect("actix stop failed");
    }

    /// Runs `future` on a fresh actix-rt `System`: a tokio current-thread runtime with a
    /// `LocalSet`, so [`Runtime::CurrentThread`] is the only runtime actix runs on
    /// ([`Framework::runs_on`](crate::Framework::runs_on)). As on tokio's runtimes, `future`
    /// is spawned (onto the `LocalSet`), so that the benchmark runs as a task beside the
    /// actors, not as the future `block_on` drives.
    fn block_on<F>(runtime: Runtime, future: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        assert_eq!(
            runtime,
            Runtime::CurrentThread,
            "actix runs on its own one-thread System"
        );
        actix_rt::System::new().block_on(async move {
            actix_rt::spawn(future)
                .await
                .expect("the benchmark task panicked")
        })
    }
}
