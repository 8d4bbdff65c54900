//! Registry conformance: REG-01 (kinds), REG-02 (register), REG-03 (clean-up and unregister), REG-05 (lookup),
//! REG-04 (exact key comparison), REG-06 (dispatch), REG-07 (`via` names for servers), REG-08 (update_value), REG-09 (queries),
//! and operations that act for the caller outside any process.

mod common;

use common::Probe;
use otp_core::gen_server::{
    CallResult, Context, GenServer, Init, ServerRef, StartError, StartOptions,
};
use otp_core::name::send;
use otp_core::process::{ExitReason, Pid, exit, wait_exit};
use otp_core::registry::{Keys, Registry, RegistryError};

type Reg = Registry<&'static str, u32>;

/// Ends the probe with `reason` and waits until it has ended.
async fn end(probe: Probe, reason: ExitReason) -> ExitReason {
    let ended = wait_exit(probe.pid);
    exit(probe.pid, reason);
    let got = ended.await;
    drop(probe);
    got
}

/// Registers `probe` under each key with its value.
async fn register_as(probe: &Probe, reg: &Reg, entries: &'static [(&'static str, u32)]) {
    let r = reg.clone();
    probe
        .with(move |_| {
            for &(key, value) in entries {
                r.register(key, value).unwrap();
            }
        })
        .await;
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// REG-02: in a unique registry, registering a key held by another live process fails with
/// `AlreadyRegistered(holder)`.
#[tokio::test]
async fn reg02_unique_key_held_by_another_process() {
    let reg = Reg::new(Keys::Unique);
    let a = Probe::plain();
    let b = Probe::plain();
    let r = reg.clone();
    assert_eq!(a.with(move |_| r.register("k", 1)).await, Ok(()));
    let r = reg.clone();
    assert_eq!(
        b.with(move |_| r.register("k", 2)).await,
        Err(RegistryError::AlreadyRegistered(a.pid))
    );
    assert_eq!(reg.lookup(&"k"), vec![(a.pid, 1)]);
}

/// REG-02: also when the key is held by the caller itself.
#[tokio::test]
async fn reg02_unique_key_held_by_self() {
    let reg = Reg::new(Keys::Unique);
    let a = Probe::plain();
    let r = reg.clone();
    let (first, second) = a
        .with(move |_| (r.register("k", 1), r.register("k", 2)))
        .await;
    assert_eq!(first, Ok(()));
    assert_eq!(second, Err(RegistryError::AlreadyRegistered(a.pid)));
    assert_eq!(reg.lookup(&"k"), vec![(a.pid, 1)]);
}

/// REG-02: once the holder has ended, the key can be registered by another process.
#[tokio::test]
async fn reg02_unique_key_free_again_after_the_holder_ends() {
    let reg = Reg::new(Keys::Unique);
    let a = Probe::plain();
    let r = reg.clone();
    a.with(move |_| r.register("k", 1)).await.unwrap();
    end(a, ExitReason::Kill).await;
    let b = Probe::plain();
    let r = reg.clone();
    assert_eq!(b.with(move |_| r.register("k", 2)).await, Ok(()));
    assert_eq!(reg.lookup(&"k"), vec![(b.pid, 2)]);
}

/// REG-02: in a duplicate registry, the same process may register the same key repeatedly,
/// and other processes too.
#[tokio::test]
async fn reg02_duplicate_same_key_repeatedly() {
    let reg = Reg::new(Keys::Duplicate);
    let a = Probe::plain();
    let b = Probe::plain();
    let r = reg.clone();
    let results = a
        .with(move |_| [r.register("t", 1), r.register("t", 2), r.register("t", 1)])
        .await;
    assert_eq!(results, [Ok(()), Ok(()), Ok(())]);
    let r = reg.clone();
    assert_eq!(b.with(move |_| r.register("t", 3)).await, Ok(()));
    assert_eq!(reg.count_key(&"t"), 4);
    assert_eq!(
        sorted(reg.lookup(&"t")),
        sorted(vec![(a.pid, 1), (a.pid, 2), (a.pid, 1), (b.pid, 3)])
    );
    assert_eq!(sorted(reg.values(&"t", a.pid)), vec![1, 1, 2]);
    assert_eq!(reg.keys(a.pid), vec!["t"]);
}

/// REG-03: a process's entries are removed when it ends, and this is observable as soon as
/// `wait_exit` has resolved — for a kill, a normal end and a crash.
#[tokio::test]
async fn reg03_entries_removed_when_the_process_ends() {
    common::quiet_panics();
    for kind in [Keys::Unique, Keys::Duplicate] {
        for how in 0..3 {
            let reg = Reg::new(kind);
            let a = Probe::plain();
            let b = Probe::plain();
            let r = reg.clone();
            a.with(move |_| {
                r.register("x", 1).unwrap();
                r.register("y", 2).unwrap();
            })
            .await;
            let r = reg.clone();
            b.with(move |_| r.register("z", 3).unwrap()).await;
            let pid = a.pid;
            let ended = wait_exit(pid);
            match how {
                0 => exit(pid, ExitReason::Kill),
                1 => drop(a),
                _ => {
                    let _ = a
                        .try_with(|_| {
                            if true {
                                panic!("registered process crashes")
                            }
                        })
                        .await;
                }
            }
            ended.await;
            assert!(reg.lookup(&"x").is_empty(), "{kind:?} {how}");
            assert!(reg.lookup(&"y").is_empty(), "{kind:?} {how}");
            assert!(reg.keys(pid).is_empty(), "{kind:?} {how}");
            assert_eq!(reg.whereis(&"x"), None);
            assert_eq!(reg.count(), 1, "{kind:?} {how}");
            assert_eq!(reg.lookup(&"z"), vec![(b.pid, 3)]);
        }
    }
}

/// REG-03: `unregister` removes the caller's entries under the key, and only those.
#[tokio::test]
async fn reg03_unregister_removes_the_callers_entries() {
    let reg = Reg::new(Keys::Duplicate);
    let a = Probe::plain();
    let b = Probe::plain();
    register_as(&a, &reg, &[("t", 1), ("t", 2), ("u", 3)]).await;
    register_as(&b, &reg, &[("t", 4)]).await;

    let r = reg.clone();
    assert_eq!(a.with(move |_| r.unregister(&"t")).await, Ok(()));
    assert_eq!(reg.lookup(&"t"), vec![(b.pid, 4)]);
    assert_eq!(reg.keys(a.pid), vec!["u"]);
    // Unregistering a key not held is fine.
    let r = reg.clone();
    assert_eq!(a.with(move |_| r.unregister(&"nope")).await, Ok(()));

    let reg = Reg::new(Keys::Unique);
    let r = reg.clone();
    a.with(move |_| r.register("k", 1).unwrap()).await;
    // Another process cannot unregister the holder's key.
    let r = reg.clone();
    assert_eq!(b.with(move |_| r.unregister(&"k")).await, Ok(()));
    assert_eq!(reg.whereis(&"k"), Some(a.pid));
    let r = reg.clone();
    a.with(move |_| r.unregister(&"k").unwrap()).await;
    assert_eq!(reg.whereis(&"k"), None);
    let r = reg.clone();
    assert_eq!(b.with(move |_| r.register("k", 2)).await, Ok(()));
}

/// REG-05: `lookup` returns every `(pid, value)` under the key; nothing for an unknown key.
#[tokio::test]
async fn reg05_lookup() {
    let unique = Reg::new(Keys::Unique);
    let dup = Reg::new(Keys::Duplicate);
    let a = Probe::plain();
    let b = Probe::plain();
    let (u, d) = (unique.clone(), dup.clone());
    a.with(move |_| {
        u.register("k", 10).unwrap();
        d.register("t", 1).unwrap();
    })
    .await;
    let d = dup.clone();
    b.with(move |_| d.register("t", 2).unwrap()).await;

    assert_eq!(unique.lookup(&"k"), vec![(a.pid, 10)]);
    assert_eq!(unique.whereis(&"k"), Some(a.pid));
    assert!(unique.lookup(&"missing").is_empty());
    assert_eq!(unique.whereis(&"missing"), None);
    assert_eq!(sorted(dup.lookup(&"t")), vec![(a.pid, 1), (b.pid, 2)]);
    assert!(dup.lookup(&"missing").is_empty());
}

/// REG-06: `dispatch` calls the function once with all the entries under the key, in the
/// calling task; it is not called when there are none.
#[tokio::test]
async fn reg06_dispatch() {
    let reg = Reg::new(Keys::Duplicate);
    let mut subscribers = Vec::new();
    for value in 0..3 {
        let p = Probe::plain();
        let r = reg.clone();
        p.with(move |_| r.register("topic", value).unwrap()).await;
        subscribers.push(p);
    }
    let mut calls = 0;
    let mut got = Vec::new();
    let called = reg.dispatch(&"topic", |entries| {
        calls += 1;
        got = entries.to_vec();
        for (pid, value) in entries {
            send(*pid, *value).unwrap();
        }
    });
    assert!(called);
    assert_eq!(calls, 1);
    let mut want: Vec<(Pid, u32)> = subscribers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.pid, i as u32))
        .collect();
    want.sort();
    assert_eq!(sorted(got), want);
    // Each subscriber got its own value.
    for (i, p) in subscribers.iter_mut().enumerate() {
        assert_eq!(common::expect_message::<u32>(p.next().await), i as u32);
    }

    let mut called_for_none = false;
    assert!(!reg.dispatch(&"nobody", |_| called_for_none = true));
    assert!(!called_for_none);
}

/// A server to be named through a registry.
struct Named;

impl GenServer for Named {
    type Args = bool;
    type Call = ();
    type Reply = Pid;
    type Cast = ();
    type Continue = ();

    /// Starts, or fails if asked.
    async fn init(fail: bool, _: &mut Context<Self>) -> Init<Self> {
        if fail {
            Init::Stop(ExitReason::error("init failed"))
        } else {
            Init::Ok(Named)
        }
    }

    async fn handle_call(&mut self, _: (), ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(ctx.pid())
    }
}

/// REG-07: a server started under `registry.via(key)` is registered under the key; a second
/// start with the same key → `AlreadyStarted(pid)`; the key is free once the server dies.
#[tokio::test]
async fn reg07_via_names_a_server() {
    let reg: Registry<String, u32> = Registry::new(Keys::Unique);
    let name = reg.via("srv".to_owned()).unwrap();
    let server = Named::start_with(false, StartOptions::new().name(name.clone()))
        .await
        .unwrap();
    let pid = server.pid();
    assert_eq!(reg.whereis(&"srv".to_owned()), Some(pid));
    assert_eq!(reg.lookup(&"srv".to_owned()), vec![(pid, 0)]);
    assert_eq!(name.whereis(), Some(pid));
    let found = ServerRef::<Named>::from_pid(name.whereis().unwrap()).unwrap();
    assert_eq!(found.call(()).await.unwrap(), pid);

    let again = Named::start_with(
        false,
        StartOptions::new().name(reg.via("srv".to_owned()).unwrap()),
    )
    .await;
    assert_eq!(again.unwrap_err(), StartError::AlreadyStarted(pid));
    assert_eq!(reg.count(), 1);

    exit(pid, ExitReason::Kill);
    assert_eq!(server.wait_exit().await, ExitReason::Killed);
    assert_eq!(reg.whereis(&"srv".to_owned()), None);
    assert_eq!(name.whereis(), None);

    // The key can name a new server.
    let next = Named::start_with(false, StartOptions::new().name(name.clone()))
        .await
        .unwrap();
    assert_eq!(name.whereis(), Some(next.pid()));
}

/// REG-07: `via_with` stores the value; a server whose `init` fails leaves the key free.
#[tokio::test]
async fn reg07_via_with_value_and_failed_init() {
    let reg: Registry<&'static str, u32> = Registry::new(Keys::Unique);
    let server = Named::start_with(
        false,
        StartOptions::new().name(reg.via_with("valued", 42).unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(reg.lookup(&"valued"), vec![(server.pid(), 42)]);

    let failed =
        Named::start_with(true, StartOptions::new().name(reg.via("failing").unwrap())).await;
    assert_eq!(
        failed.unwrap_err(),
        StartError::Stopped(ExitReason::error("init failed"))
    );
    assert_eq!(reg.whereis(&"failing"), None);
    assert_eq!(reg.count_key(&"failing"), 0);
}

/// REG-07: `via` needs a unique registry.
#[tokio::test]
async fn reg07_via_on_a_duplicate_registry_is_not_unique() {
    let reg = Reg::new(Keys::Duplicate);
    assert_eq!(reg.via("x").unwrap_err(), RegistryError::NotUnique);
    assert_eq!(reg.via_with("x", 1).unwrap_err(), RegistryError::NotUnique);
}

/// REG-08: `update_value` replaces the caller's own value and returns `(new, old)`; `None` for
/// a key the caller does not hold; only for unique registries.
#[tokio::test]
async fn reg08_update_value() {
    let reg = Reg::new(Keys::Unique);
    let a = Probe::plain();
    let b = Probe::plain();
    let r = reg.clone();
    let updated = a
        .with(move |_| {
            r.register("k", 1).unwrap();
            r.update_value(&"k", |v| v + 1)
        })
        .await;
    assert_eq!(updated, Ok(Some((2, 1))));
    assert_eq!(reg.lookup(&"k"), vec![(a.pid, 2)]);

    // Not the caller's key: nothing changes.
    let r = reg.clone();
    assert_eq!(
        b.with(move |_| r.update_value(&"k", |_| 99)).await,
        Ok(None)
    );
    let r = reg.clone();
    assert_eq!(
        b.with(move |_| r.update_value(&"none", |_| 99)).await,
        Ok(None)
    );
    assert_eq!(reg.lookup(&"k"), vec![(a.pid, 2)]);

    let dup = Reg::new(Keys::Duplicate);
    let d = dup.clone();
    let result = a
        .with(move |_| {
            d.register("k", 1).unwrap();
            d.update_value(&"k", |v| v + 1)
        })
        .await;
    assert_eq!(result, Err(RegistryError::NotUnique));
    assert_eq!(dup.lookup(&"k"), vec![(a.pid, 1)]);
}

/// REG-09: `keys`, `values`, `count`, `count_key`, `match_entries`, `unregister_match`.
#[tokio::test]
async fn reg09_queries() {
    let reg = Reg::new(Keys::Duplicate);
    let a = Probe::plain();
    let b = Probe::plain();
    register_as(&a, &reg, &[("t", 1), ("t", 5), ("u", 2)]).await;
    register_as(&b, &reg, &[("t", 7)]).await;

    assert_eq!(sorted(reg.keys(a.pid)), vec!["t", "u"]);
    assert_eq!(reg.keys(b.pid), vec!["t"]);
    assert_eq!(sorted(reg.values(&"t", a.pid)), vec![1, 5]);
    assert_eq!(reg.values(&"u", b.pid), Vec::<u32>::new());
    assert_eq!(reg.count(), 4);
    assert_eq!(reg.count_key(&"t"), 3);
    assert_eq!(reg.count_key(&"none"), 0);
    assert_eq!(
        sorted(reg.match_entries(&"t", |v| *v > 2)),
        sorted(vec![(a.pid, 5), (b.pid, 7)])
    );
    assert!(reg.match_entries(&"none", |_| true).is_empty());

    // unregister_match removes only the caller's matching entries.
    let r = reg.clone();
    a.with(move |_| r.unregister_match(&"t", |v| *v >= 5).unwrap())
        .await;
    assert_eq!(
        sorted(reg.lookup(&"t")),
        sorted(vec![(a.pid, 1), (b.pid, 7)])
    );
    let r = reg.clone();
    a.with(move |_| r.unregister_match(&"t", |_| true).unwrap())
        .await;
    assert_eq!(reg.lookup(&"t"), vec![(b.pid, 7)]);
    assert_eq!(reg.keys(a.pid), vec!["u"]);
    assert_eq!(reg.count(), 2);

    let unique = Reg::new(Keys::Unique);
    let u = unique.clone();
    a.with(move |_| {
        u.register("a", 1).unwrap();
        u.register("b", 2).unwrap();
    })
    .await;
    assert_eq!(sorted(unique.keys(a.pid)), vec!["a", "b"]);
    assert_eq!(unique.count(), 2);
}

/// Operations that act for the caller fail with `NotInProcess` outside any process.
#[tokio::test]
async fn register_outside_a_process_is_not_in_process() {
    let reg = Reg::new(Keys::Unique);
    assert_eq!(reg.register("k", 1), Err(RegistryError::NotInProcess));
    assert_eq!(reg.unregister(&"k"), Err(RegistryError::NotInProcess));
    assert_eq!(
        reg.unregister_match(&"k", |_| true),
        Err(RegistryError::NotInProcess)
    );
    assert_eq!(
        reg.update_value(&"k", |v| *v),
        Err(RegistryError::NotInProcess)
    );
    assert_eq!(reg.count(), 0);
    let dup = Reg::new(Keys::Duplicate);
    assert_eq!(dup.register("k", 1), Err(RegistryError::NotInProcess));
}

/// REG-01: a registry has a kind, unique or duplicate, and starts empty.
#[tokio::test]
async fn reg01_kinds() {
    let unique = Reg::new(Keys::Unique);
    let duplicate = Reg::new(Keys::Duplicate);
    assert_eq!(unique.kind(), Keys::Unique);
    assert_eq!(duplicate.kind(), Keys::Duplicate);
    assert_eq!((unique.count(), duplicate.count()), (0, 0));
}

/// A key type whose values Elixir would compare with `==` but not with `===`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Num {
    Int(i64),
    /// A float, by its bits.
    Float(u64),
}

/// REG-04: keys are compared exactly (Elixir's `===`): `1` and `1.0` are different keys.
#[tokio::test]
async fn reg04_keys_compare_exactly() {
    let reg: Registry<Num, ()> = Registry::new(Keys::Unique);
    let a = Probe::plain();
    let r = reg.clone();
    let one_float = Num::Float(1.0f64.to_bits());
    let k = one_float.clone();
    let got = a
        .with(move |_| (r.register(Num::Int(1), ()), r.register(k, ())))
        .await;
    assert_eq!(got, (Ok(()), Ok(())));
    assert_eq!(reg.count(), 2);
    assert_eq!(reg.whereis(&Num::Int(1)), Some(a.pid));
    assert_eq!(reg.whereis(&one_float), Some(a.pid));
    assert_eq!(reg.whereis(&Num::Int(2)), None);
}
