//! The bridges: a producer as a `Stream` (GST-16), a producer of an iterator (GST-17), a
//! consumer into a bounded channel.

use std::time::Duration;

use futures_util::StreamExt;
use otp_core::process::ExitReason;
use otp_stage::{
    CancelMode, ChannelSink, Emit, FromIter, IterProducer, Nothing, ProducerOptions, Stage,
    StageContext, StageError, StageInit, StageRef, SubscribeOptions, SubscribeTo, from_iter,
    stream,
};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// An endless producer of 0, 1, 2, ... that reports each demand.
struct Numbers(u64, UnboundedSender<usize>);

impl Stage for Numbers {
    type Args = UnboundedSender<usize>;
    type In = Nothing;
    type Out = u64;
    type Call = ();
    type Reply = ();
    type Cast = ();

    async fn init(demands: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        StageInit::Producer(Numbers(0, demands), ProducerOptions::producer())
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<u64> {
        let _ = self.1.send(demand);
        let events = (self.0..self.0 + demand as u64).collect();
        self.0 += demand as u64;
        Emit::Events(events)
    }
}

/// GST-16: a stream asks `max_demand` first, then `max - min` each time that many were taken;
/// its events come in order. Asks the producer has not read yet reach its `handle_demand` as
/// one demand of their sum, so after the first (10) each demand is a multiple of 5.
#[tokio::test(start_paused = true)]
async fn gst16_stream_asks_max_then_max_minus_min() {
    let (tx, mut demands) = unbounded_channel();
    let producer = StageRef::<Numbers>::start(tx).await.unwrap();
    let options = SubscribeOptions::new().max_demand(10).min_demand(5);
    let events: Vec<u64> = stream(&producer, options)
        .await
        .unwrap()
        .take(25)
        .collect()
        .await;
    assert_eq!(events, (0..25).collect::<Vec<_>>());
    let mut asked = Vec::new();
    while let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(200), demands.recv()).await {
        asked.push(d);
    }
    assert_eq!(asked[0], 10, "max_demand first: {asked:?}");
    assert!(
        asked[1..].iter().all(|d| d % 5 == 0),
        "then max - min at a time: {asked:?}"
    );
    assert!(
        asked.iter().sum::<usize>() >= 25,
        "every event taken was asked for: {asked:?}"
    );
    assert!(
        asked.iter().sum::<usize>() <= 35,
        "never more than 10 ahead: {asked:?}"
    );
}

/// GST-16, GST-17: a stream of a finite producer ends when the producer exits `normal`; the
/// cancel mode says whether that counts as a failure; a dead producer is an error.
#[tokio::test(start_paused = true)]
async fn gst16_stream_ends_with_its_producer() {
    for (mode, failed) in [
        (CancelMode::Permanent, true),
        (CancelMode::Transient, false),
        (CancelMode::Temporary, false),
    ] {
        let producer = from_iter(0..7u32, false).await.unwrap();
        let options = SubscribeOptions::new().max_demand(3).cancel(mode);
        let mut s = stream(&producer, options).await.unwrap();
        let mut got = Vec::new();
        while let Some(e) = s.next().await {
            got.push(e);
        }
        assert_eq!(got, (0..7).collect::<Vec<_>>());
        assert_eq!(s.end(), Some(&ExitReason::Normal));
        assert_eq!(s.failed().is_some(), failed, "{mode:?}");
    }
    let dead = from_iter(0..1u32, false).await.unwrap();
    dead.stop(ExitReason::Shutdown).await.unwrap();
    assert!(matches!(
        stream(&dead, SubscribeOptions::new()).await,
        Err(StageError::NoProc)
    ));
}

/// GST-17: a producer of an iterator sends its items on demand and exits `normal` when they run
/// out, taking a permanent subscriber along after the last item.
#[tokio::test(start_paused = true)]
async fn gst17_from_iter_ends_normal() {
    let producer = from_iter((0..100u64).map(|i| i * 2), false).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    let to = SubscribeTo::new(&producer, SubscribeOptions::new().max_demand(10));
    let sink = StageRef::<ChannelSink<u64>>::start((tx, vec![to]))
        .await
        .unwrap();
    let mut got = Vec::new();
    while let Some(e) = rx.recv().await {
        got.push(e);
    }
    assert_eq!(got, (0..100).map(|i| i * 2).collect::<Vec<_>>());
    assert_eq!(producer.wait_exit().await, ExitReason::Normal);
    assert_eq!(sink.wait_exit().await, ExitReason::Normal);
}

/// GST-17: with `stop_when_unsubscribed` (`on_cancel: :stop`) the producer stops when its last
/// consumer leaves; without it, it stays.
#[tokio::test(start_paused = true)]
async fn gst17_on_cancel_stop() {
    for stop in [true, false] {
        let producer = StageRef::<IterProducer<std::ops::RangeFrom<u64>>>::start(FromIter {
            iter: 0..,
            stop_when_unsubscribed: stop,
        })
        .await
        .unwrap();
        let s = stream(&producer, SubscribeOptions::new().max_demand(4))
            .await
            .unwrap();
        let first: Vec<u64> = s.take(3).collect().await;
        assert_eq!(first, vec![0, 1, 2]);
        // The stream was dropped: its subscription is cancelled.
        if stop {
            assert_eq!(producer.wait_exit().await, ExitReason::Normal);
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert!(producer.is_alive());
        }
    }
}

/// A consumer into a bounded channel holds its producer when nobody reads: the producer is
/// asked only for what fits in the channel and the consumer's demand.
#[tokio::test(start_paused = true)]
async fn channel_sink_holds_its_producer() {
    let (tx, mut demands) = unbounded_channel();
    let producer = StageRef::<Numbers>::start(tx).await.unwrap();
    let (out, mut rx) = tokio::sync::mpsc::channel(4);
    let to = SubscribeTo::new(
        &producer,
        SubscribeOptions::new().max_demand(10).min_demand(5),
    );
    let _sink = StageRef::<ChannelSink<u64>>::start((out, vec![to]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut asked = 0;
    while let Ok(d) = demands.try_recv() {
        asked += d;
    }
    assert!(asked <= 15, "asked {asked} with a channel of 4 unread");
    for expected in 0..30 {
        assert_eq!(rx.recv().await, Some(expected));
    }
}

/// A producer of an async stream sends its items in order, pulls no more than was asked,
/// answers while the stream is slow, and exits `normal` when the stream ends.
#[tokio::test(start_paused = true)]
async fn from_stream_pulls_on_demand() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    // A finite stream, all at once.
    let producer = otp_stage::from_stream(futures_util::stream::iter(0..50u64))
        .await
        .unwrap();
    let s = stream(
        &producer,
        SubscribeOptions::new()
            .max_demand(8)
            .cancel(CancelMode::Temporary),
    )
    .await
    .unwrap();
    let got: Vec<u64> = s.collect().await;
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    assert_eq!(producer.wait_exit().await, ExitReason::Normal);

    // An endless, slow stream that counts what was pulled from it.
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = pulled.clone();
    let slow = futures_util::stream::unfold(0u64, move |n| {
        let counter = counter.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            counter.fetch_add(1, Ordering::Relaxed);
            Some((n, n + 1))
        }
    });
    let producer = otp_stage::from_stream(slow).await.unwrap();
    // Nobody reads this channel of 1: the sink holds, and so does its demand.
    let (tx, _rx) = tokio::sync::mpsc::channel(1);
    let to = SubscribeTo::new(
        &producer,
        SubscribeOptions::new().max_demand(10).min_demand(5),
    );
    let _sink = StageRef::<ChannelSink<u64>>::start((tx, vec![to]))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    // The producer answers while its feeder waits on the stream.
    assert_eq!(producer.estimate_buffered_count().await.unwrap(), 0);
    let n = pulled.load(Ordering::Relaxed);
    assert!(
        (10..=15).contains(&n),
        "pulled {n}: the demand was 10, then 5 more at most"
    );
}
