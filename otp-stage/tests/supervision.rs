//! Stages under a supervisor: a producer and its consumer restarted together, the consumer
//! finding the new producer by name.

use otp_core::process::{ExitReason, exit};
use otp_core::supervisor::{SupFlags, Supervisor};
use otp_stage::{
    Emit, Nothing, Stage, StageContext, StageInit, StageRef, SubscribeOptions, SubscribeTo,
    Subscription,
};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

mod common;

use common::Numbers;

const PRODUCER: &str = "supervised-numbers";

/// A consumer that subscribes to the producer by name and reports `(its pid, batch)`.
struct Named(UnboundedSender<(otp_core::process::Pid, Vec<u64>)>);

impl Stage for Named {
    type Args = UnboundedSender<(otp_core::process::Pid, Vec<u64>)>;
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(out: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        let Some(producer) = StageRef::<Numbers>::whereis(PRODUCER) else {
            return StageInit::Stop(ExitReason::NoProc);
        };
        let options = SubscribeOptions::new().max_demand(4).min_demand(2);
        StageInit::Consumer(Named(out), vec![SubscribeTo::new(&producer, options)])
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        ctx: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let _ = self.0.send((ctx.pid(), events));
        Emit::none()
    }
}

/// A producer that crashes takes its (permanent) consumer with it; the supervisor restarts
/// both, and events flow again from the new producer to the new consumer, from 0.
#[tokio::test]
async fn a_supervised_pipeline_recovers_from_a_producer_crash() {
    let (tx, mut rx) = unbounded_channel();
    let children = [
        StageRef::<Numbers>::child_spec_with(
            "producer",
            || (),
            otp_core::gen_server::StartOptions::new().name(PRODUCER),
        ),
        StageRef::<Named>::child_spec("consumer", move || tx.clone()),
    ];
    let sup = Supervisor::start_link(children, SupFlags::rest_for_one())
        .await
        .unwrap();
    let (first_consumer, batch) = rx.recv().await.unwrap();
    assert_eq!(batch, vec![0, 1]);
    let producer = StageRef::<Numbers>::whereis(PRODUCER).unwrap();
    exit(producer.pid(), ExitReason::error("crash"));
    // The new consumer's first batch starts again from 0.
    loop {
        let (consumer, batch) = rx.recv().await.unwrap();
        if consumer != first_consumer {
            assert_eq!(batch, vec![0, 1]);
            break;
        }
    }
    let restarted = StageRef::<Numbers>::whereis(PRODUCER).unwrap();
    assert_ne!(restarted.pid(), producer.pid());
    sup.stop().await.unwrap();
}
