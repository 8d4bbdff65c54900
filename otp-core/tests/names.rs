//! Conformance tests for local names and sending: register / unregister / whereis,
//! registered(), release on exit, and P-22 (send).
//!
//! The name table is global to the test binary: every test uses its own names.

mod common;

use common::*;
use otp_core::name::{
    Dest, Name, RegisterError, SendError, register, registered, send, unregister, whereis,
};
use otp_core::process::{ExitReason, exit, process_info, spawn};

fn name_of(pid: otp_core::process::Pid) -> Option<Name> {
    process_info(pid).expect("alive").name
}

/// register, whereis, unregister; the name shows in process_info and registered().
#[tokio::test]
async fn register_whereis_unregister() {
    const NAME: &str = "names-basic";
    let p = spawn_idle();
    assert_eq!(register(NAME, p), Ok(()));
    assert_eq!(whereis(NAME), Some(p));
    assert_eq!(name_of(p), Some(Name::from(NAME)));
    assert!(registered().contains(&(Name::from(NAME), p)));

    assert!(unregister(NAME));
    assert_eq!(whereis(NAME), None);
    assert_eq!(name_of(p), None);
    assert!(!registered().iter().any(|(n, _)| n.as_str() == NAME));
    assert!(!unregister(NAME), "a second unregister found the name");

    // Once unregistered, the process may take a name again.
    assert_eq!(register("names-basic-again", p), Ok(()));
    assert_eq!(whereis("names-basic-again"), Some(p));
    exit(p, ExitReason::Kill);
    assert_eq!(exit_reason(p).await, ExitReason::Killed);
}

/// A process registers itself from inside.
#[tokio::test]
async fn process_registers_itself() {
    let p = Probe::plain();
    assert_eq!(p.with(|me| me.register("names-self")).await, Ok(()));
    assert_eq!(whereis("names-self"), Some(p.pid));
}

/// One name per process: a second name is refused with AlreadyNamed, naming the current one.
#[tokio::test]
async fn one_name_per_process() {
    let p = spawn_idle();
    register("names-first", p).unwrap();
    assert_eq!(
        register("names-second", p),
        Err(RegisterError::AlreadyNamed {
            pid: p,
            name: Name::from("names-first"),
        })
    );
    assert_eq!(whereis("names-second"), None);
    assert_eq!(whereis("names-first"), Some(p));
    // The same name again is refused too.
    assert!(register("names-first", p).is_err());
    assert_eq!(name_of(p), Some(Name::from("names-first")));
}

/// One process per name: a name held by a live process is refused with Taken, naming the
/// holder; once released, another process can take it.
#[tokio::test]
async fn one_process_per_name() {
    const NAME: &str = "names-taken";
    let holder = spawn_idle();
    let other = spawn_idle();
    register(NAME, holder).unwrap();
    assert_eq!(
        register(NAME, other),
        Err(RegisterError::Taken {
            name: Name::from(NAME),
            holder,
        })
    );
    assert_eq!(whereis(NAME), Some(holder));
    assert_eq!(name_of(other), None);
    assert!(unregister(NAME));
    assert_eq!(register(NAME, other), Ok(()));
    assert_eq!(whereis(NAME), Some(other));
}

/// A process that has ended cannot be registered.
#[tokio::test]
async fn register_dead_process_is_noproc() {
    let dead = dead_pid().await;
    assert_eq!(
        register("names-dead", dead),
        Err(RegisterError::NoProc(dead))
    );
    assert_eq!(whereis("names-dead"), None);
    let remote = remote_pid();
    assert_eq!(
        register("names-remote", remote),
        Err(RegisterError::NoProc(remote))
    );
}

/// A name is released when its process ends, however it ends, and can be taken again.
#[tokio::test]
async fn name_is_released_when_the_process_ends() {
    quiet_panics();
    for (i, reason) in [
        ExitReason::Normal,
        ExitReason::error("failed"),
        ExitReason::Panic("panicked".into()),
        ExitReason::Killed,
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("names-released-{i}");
        let r = reason.clone();
        let p = spawn(move |mut me| async move {
            let _ = me.recv().await;
            match r {
                ExitReason::Panic(m) => panic!("{m}"),
                ExitReason::Killed => std::future::pending().await,
                other => other,
            }
        });
        register(name.as_str(), p).unwrap();
        send(p, Go).unwrap();
        if reason == ExitReason::Killed {
            exit(p, ExitReason::Kill);
        }
        assert_eq!(exit_reason(p).await, reason);
        assert_eq!(whereis(name.as_str()), None, "{reason}");
        assert!(!registered().iter().any(|(n, _)| n.as_str() == name));
        let next = spawn_idle();
        assert_eq!(register(name.as_str(), next), Ok(()), "{reason}");
        exit(next, ExitReason::Kill);
    }
}

/// A process that gave up its name does not release it from its next holder when it ends.
#[tokio::test]
async fn ending_does_not_release_a_name_held_by_another() {
    const NAME: &str = "names-handed-over";
    let first = spawn_exit_on_message(ExitReason::Normal);
    register(NAME, first).unwrap();
    assert!(unregister(NAME));
    let second = spawn_idle();
    register(NAME, second).unwrap();
    send(first, Go).unwrap();
    assert_eq!(exit_reason(first).await, ExitReason::Normal);
    assert_eq!(whereis(NAME), Some(second));
}

/// registered() lists every name with its process, ordered by name.
#[tokio::test]
async fn registered_lists_names_in_order() {
    let b = spawn_idle();
    let a = spawn_idle();
    register("names-order-b", b).unwrap();
    register("names-order-a", a).unwrap();
    let all = registered();
    let ours: Vec<_> = all
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("names-order-"))
        .cloned()
        .collect();
    assert_eq!(
        ours,
        vec![
            (Name::from("names-order-a"), a),
            (Name::from("names-order-b"), b)
        ]
    );
    let names: Vec<&Name> = all.iter().map(|(n, _)| n).collect();
    assert!(
        names.windows(2).all(|w| w[0] <= w[1]),
        "not ordered by name"
    );
}

/// P-22: sending to a pid that has ended is not an error (the message is dropped); sending to a
/// name nobody holds is `NotRegistered`.
#[tokio::test]
async fn p22_send_to_dead_pid_is_ok_and_to_unregistered_name_is_an_error() {
    let dead = dead_pid().await;
    assert!(send(dead, 1u32).is_ok());
    assert!(send(remote_pid(), 1u32).is_ok());
    match send("names-p22-nobody", 1u32) {
        Err(SendError::NotRegistered(n)) => assert_eq!(n, Name::from("names-p22-nobody")),
        other => panic!("expected NotRegistered, got {other:?}"),
    }
    // A name whose holder ended is unregistered.
    let p = spawn_exit_on_message(ExitReason::Normal);
    register("names-p22-gone", p).unwrap();
    send("names-p22-gone", Go).unwrap();
    assert_eq!(exit_reason(p).await, ExitReason::Normal);
    assert!(matches!(
        send("names-p22-gone", 2u32),
        Err(SendError::NotRegistered(_))
    ));
}

/// Sending by name delivers to the holder, in order, with any form of the name.
#[tokio::test]
async fn send_by_name_delivers() {
    const NAME: &str = "names-send";
    let mut p = Probe::plain();
    register(NAME, p.pid).unwrap();
    send(NAME, 1u32).unwrap();
    send(String::from(NAME), 2u32).unwrap();
    let name = Name::from(NAME);
    send(&name, 3u32).unwrap();
    send(Dest::Name(name.clone()), 4u32).unwrap();
    send(name, 5u32).unwrap();
    send(Dest::Pid(p.pid), 6u32).unwrap();
    for i in 1..=6u32 {
        assert_eq!(expect_message::<u32>(p.next().await), i);
    }
}
