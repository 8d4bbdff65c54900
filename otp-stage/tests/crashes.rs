//! Crash cases between stages: a consumer that crashes, a producer that crashes under each
//! cancel mode, and a consumer that outlives its producer and subscribes again to the one its
//! supervisor restarted.

use std::time::Duration;

use otp_core::gen_server::StartOptions;
use otp_core::process::{ExitReason, Info, Pid, exit};
use otp_core::supervisor::{SupFlags, Supervisor};
use otp_stage::{
    Cancel, CancelMode, Emit, Ended, Nothing, ProducerOptions, Stage, StageContext, StageInit,
    StageRef, SubscribeOptions, SubscribeTo, Subscription,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

mod common;

use common::{Numbers, Seen, batches, collector, until_cancelled};

/// An endless producer of 0, 1, 2, ... that reports each consumer it loses, and why.
struct Watched {
    next: u64,
    lost: UnboundedSender<(Pid, Cancel)>,
}

impl Stage for Watched {
    type Args = UnboundedSender<(Pid, Cancel)>;
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(lost: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(Watched { next: 0, lost }, ProducerOptions::producer())
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let events = (self.next..self.next + demand as u64).collect();
        self.next += demand as u64;
        Emit::Events(events)
    }

    async fn handle_cancel(
        &mut self,
        ended: Ended<'_, Nothing>,
        why: &Cancel,
        _: &mut StageContext<Self>,
    ) -> Emit<u64> {
        if let Ended::Consumer(consumer) = ended {
            let _ = self.lost.send((consumer.pid, why.clone()));
        }
        Emit::none()
    }
}

/// The events of the next `n` batches a collector reports (a cancel in between fails the test).
async fn events(rx: &mut UnboundedReceiver<Seen>, n: usize) -> Vec<u64> {
    batches(rx, n).await.concat()
}

/// GST-19, GST-09: a consumer that crashes, whatever its subscription's cancel mode, is a
/// `Down` with its reason for its producer's `handle_cancel`; the producer goes on, and its
/// other consumer keeps receiving events, in order.
#[tokio::test]
async fn gst19_a_crashed_consumer_is_a_down_and_the_others_keep_receiving() {
    for mode in [
        CancelMode::Permanent,
        CancelMode::Transient,
        CancelMode::Temporary,
    ] {
        let (tx, mut lost) = unbounded_channel();
        let producer = StageRef::<Watched>::start(tx).await.unwrap();
        let options = SubscribeOptions::new().max_demand(4).min_demand(2);
        let (steady, mut steady_rx) =
            collector(vec![SubscribeTo::new(&producer, options.clone())]).await;
        let (crasher, mut crasher_rx) =
            collector(vec![SubscribeTo::new(&producer, options.cancel(mode))]).await;
        // Both receive before the crash.
        let _ = events(&mut steady_rx, 1).await;
        let _ = events(&mut crasher_rx, 1).await;
        let crash = ExitReason::error("consumer crash");
        exit(crasher.pid(), crash.clone());
        assert_eq!(crasher.wait_exit().await, crash, "{mode:?}");
        assert_eq!(
            lost.recv().await,
            Some((crasher.pid(), Cancel::Down(crash))),
            "{mode:?}"
        );
        // The other consumer goes on: more batches than were ever in flight, in order.
        let after = events(&mut steady_rx, 20).await;
        assert!(after.windows(2).all(|w| w[0] < w[1]), "{mode:?}: {after:?}");
        assert!(producer.is_alive() && steady.is_alive(), "{mode:?}");
        steady.stop(ExitReason::Shutdown).await.unwrap();
        producer.stop(ExitReason::Shutdown).await.unwrap();
    }
}

/// GST-09: a producer that crashes takes a permanent consumer with it, and a transient one,
/// both with its reason; a temporary consumer stays, told in `handle_cancel` (a `Down` with the
/// reason). Each is first seen receiving.
#[tokio::test]
async fn gst09_a_crashed_producer_under_each_cancel_mode() {
    for (mode, exits) in [
        (CancelMode::Permanent, true),
        (CancelMode::Transient, true),
        (CancelMode::Temporary, false),
    ] {
        let producer = StageRef::<Numbers>::start(()).await.unwrap();
        let options = SubscribeOptions::new().max_demand(4).cancel(mode);
        let (consumer, mut rx) = collector(vec![SubscribeTo::new(&producer, options)]).await;
        let _ = events(&mut rx, 1).await;
        let crash = ExitReason::error("producer crash");
        exit(producer.pid(), crash.clone());
        assert_eq!(producer.wait_exit().await, crash);
        if exits {
            assert_eq!(consumer.wait_exit().await, crash, "{mode:?}");
        } else {
            let (_, why) = until_cancelled(&mut rx).await;
            assert_eq!(why, Cancel::Down(crash));
            assert!(consumer.is_alive(), "{mode:?}");
            consumer.stop(ExitReason::Shutdown).await.unwrap();
        }
    }
}

const PRODUCER: &str = "crashes-restarted-numbers";

/// Sent to itself by [`Faithful`] to look for its producer again.
struct Retry;

/// A consumer with a temporary subscription to the producer named [`PRODUCER`]: when it loses
/// it, it looks for the producer again (every 10 ms of the paused clock) and subscribes to the
/// one it finds, from its own callback, with `async_subscribe`.
struct Faithful(UnboundedSender<Seen>);

impl Faithful {
    fn subscribe(ctx: &mut StageContext<Self>) {
        match StageRef::<Numbers>::whereis(PRODUCER) {
            Some(producer) => StageRef::<Self>::of(ctx.server_ref())
                .async_subscribe(&producer, Self::options())
                .expect("the options are good"),
            None => {
                ctx.send_after(Retry, Duration::from_millis(10));
            }
        }
    }

    fn options() -> SubscribeOptions {
        SubscribeOptions::new()
            .max_demand(4)
            .min_demand(2)
            .cancel(CancelMode::Temporary)
    }
}

impl Stage for Faithful {
    type Args = UnboundedSender<Seen>;
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(out: Self::Args, ctx: &mut StageContext<Self>) -> StageInit<Self> {
        Self::subscribe(ctx);
        StageInit::Consumer(Faithful(out), Vec::new())
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let _ = self.0.send(Seen::Batch(events));
        Emit::none()
    }

    async fn handle_cancel(
        &mut self,
        _: Ended<'_, u64>,
        why: &Cancel,
        ctx: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        let _ = self.0.send(Seen::Cancelled(why.clone()));
        Self::subscribe(ctx);
        Emit::none()
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut StageContext<Self>) -> Emit<Nothing> {
        if info.take::<Retry>().is_ok() {
            Self::subscribe(ctx);
        }
        Emit::none()
    }
}

/// GST-10, GST-09: a temporary consumer outlives its producer's crash and, from
/// `handle_cancel`, subscribes again (`async_subscribe`) to the producer its supervisor
/// restarted, found by name: events flow again, from the new producer's first. The consumer is
/// the same process throughout.
#[tokio::test(start_paused = true)]
async fn gst10_a_temporary_consumer_resubscribes_to_its_restarted_producer() {
    let sup = Supervisor::start_link(
        [StageRef::<Numbers>::child_spec_with(
            "producer",
            || (),
            StartOptions::new().name(PRODUCER),
        )],
        SupFlags::one_for_one(),
    )
    .await
    .unwrap();
    let (tx, mut rx) = unbounded_channel();
    let consumer = StageRef::<Faithful>::start(tx).await.unwrap();
    assert_eq!(events(&mut rx, 2).await, vec![0, 1, 2, 3]);
    let first = StageRef::<Numbers>::whereis(PRODUCER).unwrap();
    let crash = ExitReason::error("producer crash");
    exit(first.pid(), crash.clone());
    let (_, why) = until_cancelled(&mut rx).await;
    assert_eq!(why, Cancel::Down(crash));
    // The restarted producer counts from 0 again.
    assert_eq!(events(&mut rx, 2).await, vec![0, 1, 2, 3]);
    let restarted = StageRef::<Numbers>::whereis(PRODUCER).unwrap();
    assert_ne!(restarted.pid(), first.pid());
    assert!(consumer.is_alive());
    consumer.stop(ExitReason::Shutdown).await.unwrap();
    sup.stop().await.unwrap();
}
