//! Generic servers, where-clauses, the `crate` option, and visibility: the generated enums and
//! client follow the struct, and are used from another module through the client trait.

use std::hash::Hash;

mod cache {
    use std::collections::HashMap;
    use std::fmt::Debug;
    use std::hash::Hash;

    // The `crate` option: the runtime named through a re-export (the facade's `core`), as a
    // crate that reaches it through a re-export of its own would name it.
    use otp::core::gen_server::{Action, Context, GenServer, ReplyThen, ReplyTo, handlers};

    /// A generic key-value cache. It keeps reply handles, which name the server, so the
    /// struct carries the bounds its `GenServer` impl needs.
    #[derive(GenServer)]
    #[gen_server(crate = "otp::core")]
    pub(crate) struct Cache<K, V>
    where
        K: Eq + Hash + Clone + Debug + Send + 'static,
        V: Clone + Send + 'static,
    {
        map: HashMap<K, V>,
        capacity: usize,
        pending: Vec<(K, ReplyTo<Self, V>)>,
    }

    #[handlers]
    impl<K, V> Cache<K, V>
    where
        K: Eq + Hash + Clone + Debug + Send + 'static,
        V: Clone + Send + 'static,
    {
        #[init]
        fn init(capacity: usize) -> Self {
            Cache {
                map: HashMap::new(),
                capacity,
                pending: Vec::new(),
            }
        }

        /// The value of `key`, if any.
        #[call]
        fn get(&self, key: K) -> Option<V> {
            self.map.get(&key).cloned()
        }

        /// Stores `value` under `key` unless the cache is full; answers whoever waits for it.
        #[call]
        fn put(&mut self, key: K, value: V) -> Result<(), (K, V)> {
            if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
                return Err((key, value));
            }
            for (_, reply) in self.pending.extract_if(.., |(k, _)| *k == key) {
                reply.reply(value.clone());
            }
            self.map.insert(key, value);
            Ok(())
        }

        /// Waits until `key` has a value.
        #[call]
        fn await_key(&mut self, key: K, reply: ReplyTo<Self, V>) {
            match self.map.get(&key) {
                Some(v) => {
                    reply.reply(v.clone());
                }
                None => self.pending.push((key, reply)),
            }
        }

        /// How many callers wait.
        #[call]
        fn waiting(&self) -> usize {
            self.pending.len()
        }

        #[cast]
        fn evict(&mut self, key: K, ctx: &mut Context<Self>) -> Action<Self> {
            self.map.remove(&key);
            let _ = ctx.pid();
            Action::NoReply
        }

        /// Drops everything and stops, replying with how many entries there were.
        #[call]
        fn clear_and_stop(&mut self) -> ReplyThen<usize, Self> {
            let n = self.map.len();
            self.map.clear();
            ReplyThen(n, Action::Stop(otp::process::ExitReason::Normal))
        }
    }
}

use cache::{Cache, CacheClient};
use otp::prelude::*;

async fn cache<K, V>(capacity: usize) -> ServerRef<Cache<K, V>>
where
    K: Eq + Hash + Clone + std::fmt::Debug + Send + 'static,
    V: Clone + Send + 'static,
{
    Cache::start(capacity).await.unwrap()
}

#[tokio::test]
async fn generic_server_with_where_clauses() {
    let c = cache::<String, Vec<u8>>(2).await;
    assert_eq!(c.get("a".into()).await, Ok(None));
    assert_eq!(c.put("a".into(), vec![1]).await, Ok(Ok(())));
    assert_eq!(c.put("b".into(), vec![2]).await, Ok(Ok(())));
    assert_eq!(
        c.put("c".into(), vec![3]).await,
        Ok(Err(("c".into(), vec![3])))
    );
    c.evict("a".into()).unwrap();
    assert_eq!(c.get("a".into()).await, Ok(None));
    assert_eq!(c.get("b".into()).await, Ok(Some(vec![2])));

    // Another instantiation of the same server, in the same program.
    let numbers = cache::<u32, u64>(10).await;
    assert_eq!(numbers.put(1, 10).await, Ok(Ok(())));
    assert_eq!(numbers.get(1).await, Ok(Some(10)));
    assert_eq!(numbers.clear_and_stop().await, Ok(1));
    assert_eq!(numbers.wait_exit().await, ExitReason::Normal);
}

/// GS-11: a deferred reply through a generic `ReplyTo<Self, V>`.
#[tokio::test]
async fn generic_deferred_reply() {
    let c = cache::<u8, String>(4).await;
    let waiter = {
        let c = c.clone();
        tokio::spawn(async move { c.await_key(7).await })
    };
    while c.waiting().await != Ok(1) {
        tokio::task::yield_now().await;
    }
    assert_eq!(c.put(7, "seven".into()).await, Ok(Ok(())));
    assert_eq!(waiter.await.unwrap(), Ok("seven".to_owned()));
    assert_eq!(c.waiting().await, Ok(0));
}

/// The generated enums have the struct's visibility (`pub(crate)`): usable from this module.
#[test]
fn generated_enums_are_visible_where_the_struct_is() {
    let request: cache::CacheCall<u8, u8> = cache::CacheCall::Get(1);
    assert_eq!(format!("{request:?}"), "CacheCall::Get(..)");
}

/// A generic server whose impl does not say `T: Send + 'static`: the derive adds it where the
/// `GenServer` impl needs it.
mod unbounded {
    use otp::prelude::*;

    #[derive(GenServer)]
    pub struct Echo<T> {
        last: Option<T>,
    }

    #[handlers]
    impl<T: Clone> Echo<T> {
        #[init]
        fn init() -> Self {
            Echo { last: None }
        }

        /// Replies with the previous value.
        #[call]
        fn swap(&mut self, value: T) -> Option<T> {
            self.last.replace(value)
        }
    }
}

#[tokio::test]
async fn generic_impl_without_send_bounds() {
    use unbounded::{Echo, EchoClient};
    let echo = Echo::<String>::start().await.unwrap();
    assert_eq!(echo.swap("a".into()).await, Ok(None));
    assert_eq!(echo.swap("b".into()).await, Ok(Some("a".into())));
}
