//! The telemetry events of stages: subscribe, cancel, demand, dropped buffer events.

use std::sync::{Arc, Mutex};

use otp_core::process::ExitReason;
use otp_stage::events::{BUFFER_DROPPED, CANCEL, DEMAND, SUBSCRIBE};
use otp_stage::{
    Emit, Nothing, ProducerOptions, Stage, StageContext, StageInit, StageRef, SubscribeOptions,
    SubscribeTo, Subscription,
};
use otp_telemetry::{OwnedEvent, OwnedValue, PidValue};

struct Numbers(u64);

impl Stage for Numbers {
    type Args = ();
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = usize;

    async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(Numbers(0), ProducerOptions::producer().buffer_size(Some(2)))
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let events = (self.0..self.0 + demand as u64).collect();
        self.0 += demand as u64;
        Emit::Events(events)
    }

    async fn handle_cast(&mut self, n: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let events = (self.0..self.0 + n as u64).collect();
        self.0 += n as u64;
        Emit::Events(events)
    }
}

struct Sink(tokio::sync::mpsc::UnboundedSender<u64>);

impl Stage for Sink {
    type Args = (SubscribeTo<u64>, tokio::sync::mpsc::UnboundedSender<u64>);
    type In = u64;
    type Out = Nothing;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init((to, out): Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Consumer(Sink(out), vec![to])
    }

    async fn handle_events(
        &mut self,
        events: Vec<u64>,
        _: &Subscription<u64>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        for e in events {
            let _ = self.0.send(e);
        }
        Emit::none()
    }
}

fn is_pid(v: Option<&OwnedValue>, pid: PidValue) -> bool {
    matches!(v, Some(OwnedValue::Pid(p)) if *p == pid)
}

/// Subscribe, demand, dropped buffer events and cancel are each reported with their figures.
#[tokio::test]
async fn stages_report_subscribe_demand_drops_and_cancel() {
    let seen: Arc<Mutex<Vec<OwnedEvent>>> = Arc::default();
    let sink = seen.clone();
    otp_telemetry::attach_many(
        "otp-stage-telemetry-test",
        &[SUBSCRIBE, CANCEL, DEMAND, BUFFER_DROPPED],
        move |e| sink.lock().unwrap().push(e.to_owned_event()),
    )
    .unwrap();

    let producer = StageRef::<Numbers>::start(()).await.unwrap();
    let me = PidValue::from(producer.pid());
    producer.cast(10).unwrap();
    assert_eq!(producer.estimate_buffered_count().await.unwrap(), 2);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let to = SubscribeTo::new(&producer, SubscribeOptions::new().max_demand(5));
    let consumer = StageRef::<Sink>::start((to, tx)).await.unwrap();
    // The two buffered events (8, 9), then three from handle_demand (10, 11, 12).
    for expected in [8, 9, 10, 11, 12] {
        assert_eq!(rx.recv().await, Some(expected));
    }
    let consumer_pid = PidValue::from(consumer.pid());
    consumer.stop(ExitReason::Shutdown).await.unwrap();
    // The producer handles the consumer's DOWN soon after; the bound only turns a lost event
    // into a failure below instead of a hang.
    let cancelled = || seen.lock().unwrap().iter().any(|e| e.name == CANCEL);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while !cancelled() {
            let _ = producer.estimate_buffered_count().await;
            tokio::task::yield_now().await;
        }
    })
    .await;
    otp_telemetry::detach("otp-stage-telemetry-test").unwrap();

    let seen = seen.lock().unwrap();
    let mine: Vec<&OwnedEvent> = seen
        .iter()
        .filter(|e| is_pid(e.meta("pid"), me) || is_pid(e.meta("producer"), me))
        .collect();
    let dropped = mine.iter().find(|e| e.name == BUFFER_DROPPED).unwrap();
    assert_eq!(dropped.measurement("dropped"), Some(8.0));
    let subscribe = mine.iter().find(|e| e.name == SUBSCRIBE).unwrap();
    assert_eq!(subscribe.measurement("max_demand"), Some(5.0));
    assert!(is_pid(subscribe.meta("consumer"), consumer_pid));
    let demand = mine.iter().find(|e| e.name == DEMAND).unwrap();
    assert_eq!(
        demand.measurement("demand"),
        Some(3.0),
        "5 asked, 2 from the buffer"
    );
    let cancel = mine.iter().find(|e| e.name == CANCEL).unwrap();
    assert!(matches!(cancel.meta("how"), Some(OwnedValue::Str(s)) if s == "down"));
    assert!(matches!(cancel.meta("reason"), Some(OwnedValue::Str(s)) if s == "shutdown"));
}
