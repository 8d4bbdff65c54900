//! What several test files share: an endless producer, and a consumer that reports what it
//! sees. Each test file uses a part of it.
#![allow(dead_code)]

use otp_stage::{
    Cancel, Emit, Ended, Nothing, ProducerOptions, Stage, StageCallResult, StageContext, StageInit,
    StageRef, SubscribeTo, Subscription,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// An endless producer of 0, 1, 2, ...
pub struct Numbers(u64);

impl Stage for Numbers {
    type Args = ();
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(Numbers(0), ProducerOptions::producer())
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let events = (self.0..self.0 + demand as u64).collect();
        self.0 += demand as u64;
        Emit::Events(events)
    }
}

/// What a collector saw.
#[derive(Debug, PartialEq)]
pub enum Seen {
    Batch(Vec<u64>),
    Cancelled(Cancel),
    Info(Marker),
}

/// An info message sent through a producer (GST-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker(pub u32);

/// A consumer that reports each batch it handles, and each cancel.
pub struct Collector {
    out: UnboundedSender<Seen>,
}

impl Stage for Collector {
    type Args = (Vec<SubscribeTo<u64>>, UnboundedSender<Seen>);
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((to, out): Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Consumer(Collector { out }, to)
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let _ = self.out.send(Seen::Batch(events));
        Emit::none()
    }

    async fn handle_cancel(
        &mut self,
        _: Ended<'_, u64>,
        why: &Cancel,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let _ = self.out.send(Seen::Cancelled(why.clone()));
        Emit::none()
    }

    async fn handle_info(
        &mut self,
        info: otp_core::process::Info,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        if let Ok(marker) = info.take::<Marker>() {
            let _ = self.out.send(Seen::Info(marker));
        }
        Emit::none()
    }

    async fn handle_call(&mut self, (): (), _: &mut StageContext<Self>) -> StageCallResult<Self> {
        StageCallResult::Reply((), Vec::new())
    }
}

/// Starts a [`Collector`] subscribed to `to`; its reports come on the receiver.
pub async fn collector(
    to: Vec<SubscribeTo<u64>>,
) -> (StageRef<Collector>, UnboundedReceiver<Seen>) {
    let (tx, rx) = unbounded_channel();
    (StageRef::start((to, tx)).await.unwrap(), rx)
}

/// The next `n` batches a collector reports (anything else in between fails the test).
pub async fn batches(rx: &mut UnboundedReceiver<Seen>, n: usize) -> Vec<Vec<u64>> {
    let mut out = Vec::new();
    while out.len() < n {
        match rx.recv().await.expect("the collector ended") {
            Seen::Batch(b) => out.push(b),
            other => panic!("expected a batch, got {other:?}"),
        }
    }
    out
}

/// The batches a collector reports up to its next cancel, and that cancel (anything else in
/// between fails the test).
pub async fn until_cancelled(rx: &mut UnboundedReceiver<Seen>) -> (Vec<Vec<u64>>, Cancel) {
    let mut out = Vec::new();
    loop {
        match rx.recv().await.expect("the collector ended") {
            Seen::Batch(b) => out.push(b),
            Seen::Cancelled(why) => return (out, why),
            other => panic!("expected a batch or a cancel, got {other:?}"),
        }
    }
}
