//! `#[call]` handlers of derived servers: sync and async, with and without the context, zero
//! or several arguments, values and `Result`s, deferred replies, stopping after the reply,
//! timeouts (GS-05, GS-06, GS-09, GS-10, GS-11).

use std::collections::HashMap;
use std::time::Duration;

use otp::prelude::*;

#[derive(GenServer, Default)]
struct Store {
    values: HashMap<String, i64>,
    waiting: Vec<(String, ReplyTo<Self, i64>)>,
}

#[derive(Debug, PartialEq, Eq)]
enum StoreError {
    Missing(String),
}

#[handlers]
impl Store {
    /// How many keys are stored.
    #[call]
    fn len(&self) -> usize {
        self.values.len()
    }

    /// How many callers wait for a key.
    #[call]
    fn waiting(&self) -> usize {
        self.waiting.len()
    }

    #[call]
    fn put(&mut self, key: String, value: i64) -> Option<i64> {
        let old = self.values.insert(key.clone(), value);
        for (_, reply) in self.waiting.extract_if(.., |(k, _)| *k == key) {
            reply.reply(value);
        }
        old
    }

    #[call]
    async fn get(&self, key: String) -> Result<i64, StoreError> {
        tokio::task::yield_now().await;
        self.values
            .get(&key)
            .copied()
            .ok_or(StoreError::Missing(key))
    }

    #[call]
    fn add3(&mut self, a: i64, b: i64, c: i64, ctx: &mut Context<Self>) -> (i64, Pid) {
        (a + b + c, ctx.pid())
    }

    /// Replies once `key` is put (GS-11).
    #[call]
    fn wait_for(&mut self, key: String, reply: ReplyTo<Self, i64>) {
        match self.values.get(&key) {
            Some(v) => {
                reply.reply(*v);
            }
            None => self.waiting.push((key, reply)),
        }
    }

    /// Replies with the count of keys, then stops (GS-10).
    #[call]
    fn close(&mut self) -> ReplyThen<usize, Self> {
        ReplyThen(self.values.len(), Action::Stop(ExitReason::Normal))
    }

    #[call]
    async fn nap(&self, ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// Misuses the raw reply handle: answers with the reply of another call.
    #[call]
    fn confused(&self, ctx: &mut Context<Self>) -> usize {
        if let Some(raw) = ctx.defer_reply() {
            raw.reply(StoreReply::Len(99));
        }
        0
    }

    #[call]
    fn crash(&self) {
        if true {
            panic!("asked to crash");
        }
    }
}

#[tokio::test]
async fn sync_and_async_calls_with_and_without_context() {
    let store = Store::start().await.unwrap();
    assert_eq!(store.len().await, Ok(0));
    assert_eq!(store.put("a".into(), 1).await, Ok(None));
    assert_eq!(store.put("a".into(), 2).await, Ok(Some(1)));
    assert_eq!(store.get("a".into()).await, Ok(Ok(2)));
    assert_eq!(
        store.get("b".into()).await,
        Ok(Err(StoreError::Missing("b".into())))
    );
    assert_eq!(store.add3(1, 2, 3).await, Ok((6, store.pid())));
}

/// GS-11: a deferred reply, answered from another handler.
#[tokio::test]
async fn deferred_reply_is_answered_later() {
    let store = Store::start().await.unwrap();
    let waiter = {
        let store = store.clone();
        tokio::spawn(async move { store.wait_for("k".into()).await })
    };
    while store.waiting().await != Ok(1) {
        tokio::task::yield_now().await;
    }
    assert_eq!(store.put("k".into(), 7).await, Ok(None));
    assert_eq!(waiter.await.unwrap(), Ok(7));
    assert_eq!(store.wait_for("k".into()).await, Ok(7));
}

/// GS-10: reply, then stop.
#[tokio::test]
async fn reply_then_stop() {
    let store = Store::start().await.unwrap();
    store.put("x".into(), 1).await.unwrap();
    assert_eq!(store.close().await, Ok(1));
    assert_eq!(store.wait_exit().await, ExitReason::Normal);
    assert_eq!(store.len().await, Err(CallError::NoProc));
}

/// GS-05 / GS-06: the default timeout, and a timeout given with `with_timeout`.
#[tokio::test(start_paused = true)]
async fn timeouts_default_and_per_call() {
    let store = Store::start().await.unwrap();
    assert_eq!(
        store.with_timeout(Duration::from_millis(10)).nap(50).await,
        Err(CallError::Timeout)
    );
    assert_eq!(store.nap(4_000).await, Ok(()));
    assert_eq!(store.nap(6_000).await, Err(CallError::Timeout));
    assert_eq!(
        store.with_timeout(Duration::from_secs(20)).nap(6_000).await,
        Ok(())
    );
}

/// GS-09: the server dies during the call.
#[tokio::test]
async fn server_panics_during_call() {
    let store = Store::start().await.unwrap();
    match store.crash().await {
        Err(CallError::Exited(ExitReason::Panic(m))) => assert!(m.contains("asked to crash")),
        other => panic!("unexpected {other:?}"),
    }
}

/// A reply of the wrong kind, sent through the raw handle, is an error to the caller, not a
/// panic.
#[tokio::test]
async fn wrong_reply_is_an_error() {
    let store = Store::start().await.unwrap();
    assert_eq!(store.confused().await, Err(CallError::WrongReply));
    assert_eq!(store.len().await, Ok(0));
}
