//! What several test files share: an endless producer.

use otp_stage::{Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit};

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
