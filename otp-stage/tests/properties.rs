//! Properties of the demand protocol over random topologies, demands and consumer speeds: a
//! consumer never receives more than it asked for; no event is lost or duplicated; each
//! producer → consumer pair keeps its order; a partition dispatcher sends every event to its
//! partition's consumer. (GST-04, GST-06, GST-13, GST-14, GST-15.)

use std::sync::{Arc, Mutex};
use std::time::Duration;

use otp_stage::{
    Demand, Dispatch, Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit, StageRef,
    SubscribeOptions, SubscribeTo, Subscription,
};
use proptest::prelude::*;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// A producer of `0..n` that emits what it is asked for, fewer at the end.
struct Finite {
    next: u64,
    n: u64,
}

impl Stage for Finite {
    type Args = (u64, ProducerOptions<u64>);
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((n, options): Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(Finite { next: 0, n }, options)
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let end = (self.next + demand as u64).min(self.n);
        let events = (self.next..end).collect();
        self.next = end;
        Emit::Events(events)
    }
}

/// What a consumer saw, checked as it goes.
#[derive(Default, Debug)]
struct Log {
    events: Vec<u64>,
    asked: usize,
    /// Set if more events ever arrived than were asked.
    excess: bool,
}

/// A consumer with manual demand: it asks `asks[i % len]` after each batch, and sleeps
/// `pause` (of simulated time) per batch.
struct Manual {
    asks: Vec<usize>,
    next_ask: usize,
    pause: Duration,
    log: Arc<Mutex<Log>>,
    done: UnboundedSender<()>,
}

impl Manual {
    fn ask(&mut self, sub: &Subscription<u64>) {
        let n = self.asks[self.next_ask % self.asks.len()];
        self.next_ask += 1;
        self.log.lock().unwrap().asked += n;
        sub.ask(n).unwrap();
    }
}

type ManualArgs = (
    SubscribeTo<u64>,
    Vec<usize>,
    Duration,
    Arc<Mutex<Log>>,
    UnboundedSender<()>,
);

impl Stage for Manual {
    type Args = ManualArgs;
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(
        (to, asks, pause, log, done): ManualArgs,
        _: &mut StageContext<Self>,
    ) -> StageInit<Self> {
        StageInit::Consumer(
            Manual {
                asks,
                next_ask: 0,
                pause,
                log,
                done,
            },
            vec![to],
        )
    }

    async fn handle_subscribe_producer(
        &mut self,
        producer: &Subscription<u64>,
        _: &SubscribeOptions,
        _: &mut StageContext<Self>,
    ) -> Demand {
        self.ask(producer);
        Demand::Manual
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        from: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        {
            let mut log = self.log.lock().unwrap();
            log.events.extend(events);
            if log.events.len() > log.asked {
                log.excess = true;
            }
        }
        let _ = self.done.send(());
        if !self.pause.is_zero() {
            tokio::time::sleep(self.pause).await;
        }
        self.ask(from);
        Emit::none()
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Demand,
    Broadcast,
    Partition,
}

fn run(kind: Kind, n: u64, consumers: Vec<(Vec<usize>, u64)>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let k = consumers.len();
    let logs: Vec<Arc<Mutex<Log>>> = (0..k).map(|_| Arc::default()).collect();
    let result = rt.block_on(async {
        let dispatch = match kind {
            Kind::Demand => Dispatch::demand(),
            Kind::Broadcast => Dispatch::broadcast(),
            Kind::Partition => {
                Dispatch::partition(k, move |e: &u64| Some((*e % k as u64) as usize))
            }
        };
        // A broadcast's consumers all subscribe before any event flows (a late subscriber
        // misses the events sent before it): the producer accumulates demand until then
        // (GST-08), as GenStage's documentation advises.
        let mode = match kind {
            Kind::Broadcast => otp_stage::DemandMode::Accumulate,
            _ => otp_stage::DemandMode::Forward,
        };
        let options = ProducerOptions::producer()
            .dispatcher(dispatch)
            .demand(mode);
        let producer = StageRef::<Finite>::start((n, options)).await.unwrap();
        let (done_tx, mut done) = unbounded_channel();
        let mut stages = Vec::new();
        for (i, (asks, pause_ms)) in consumers.into_iter().enumerate() {
            let mut to = SubscribeTo::new(&producer, SubscribeOptions::new());
            if let Kind::Partition = kind {
                to = to.partition(i);
            }
            let args = (
                to,
                asks,
                Duration::from_millis(pause_ms),
                logs[i].clone(),
                done_tx.clone(),
            );
            stages.push(StageRef::<Manual>::start(args).await.unwrap());
        }
        producer.demand(otp_stage::DemandMode::Forward).unwrap();
        let total = || {
            logs.iter()
                .map(|l| l.lock().unwrap().events.len() as u64)
                .sum::<u64>()
        };
        let expected = match kind {
            Kind::Broadcast => n * k as u64,
            _ => n,
        };
        // Wait (in simulated time) until everything arrived; a lost event shows as a timeout.
        let _ = tokio::time::timeout(Duration::from_secs(3600), async {
            while total() < expected {
                done.recv().await;
            }
        })
        .await;
        // Let any excess arrive before checking.
        tokio::time::sleep(Duration::from_secs(1)).await;
        for s in stages {
            let _ = s.stop(otp_core::process::ExitReason::Shutdown).await;
        }
        let _ = producer.stop(otp_core::process::ExitReason::Shutdown).await;
        total()
    });
    let mut all = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let log = log.lock().unwrap();
        prop_assert!(!log.excess, "consumer {i} received more than it asked");
        prop_assert!(
            log.events.windows(2).all(|w| w[0] < w[1]),
            "consumer {i}'s events out of order: {:?}",
            log.events
        );
        match kind {
            Kind::Broadcast => prop_assert_eq!(&log.events, &(0..n).collect::<Vec<_>>()),
            Kind::Partition => prop_assert!(
                log.events.iter().all(|e| (*e % k as u64) as usize == i),
                "consumer {i} got another partition's event"
            ),
            Kind::Demand => {}
        }
        all.extend(log.events.iter().copied());
    }
    if !matches!(kind, Kind::Broadcast) {
        all.sort_unstable();
        prop_assert_eq!(all, (0..n).collect::<Vec<_>>(), "lost or duplicated events");
    }
    prop_assert!(result >= n);
    Ok(())
}

fn consumers() -> impl Strategy<Value = Vec<(Vec<usize>, u64)>> {
    prop::collection::vec((prop::collection::vec(1usize..20, 1..5), 0u64..5), 1..5)
}

proptest! {
    // 48 cases each by default; `PROPTEST_CASES` for more.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    /// GST-13: the demand dispatcher.
    #[test]
    fn gst13_demand_dispatcher_never_exceeds_loses_or_reorders(n in 0u64..400, c in consumers()) {
        run(Kind::Demand, n, c)?;
    }

    /// GST-14: the broadcast dispatcher.
    #[test]
    fn gst14_broadcast_dispatcher_never_exceeds_loses_or_reorders(n in 0u64..200, c in consumers()) {
        run(Kind::Broadcast, n, c)?;
    }

    /// GST-15: the partition dispatcher.
    #[test]
    fn gst15_partition_dispatcher_sends_each_event_to_its_partition(n in 0u64..400, c in consumers()) {
        run(Kind::Partition, n, c)?;
    }
}
