//! The end of a process, seen from outside: waits that start while it cleans up (P-04: its name
//! is released and its links and monitors are told before it is gone).

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use common::*;
use otp_core::gen_server::ServerRef;
use otp_core::name::send;
use otp_core::process::{ExitReason, Pid, is_alive, process_info, wait_exit};
use otp_core::telemetry::PROCESS_EXIT;
use otp_telemetry::{PidValue, attach, detach};
use tokio::sync::mpsc;

static NEXT_HANDLER: AtomicU64 = AtomicU64::new(0);

/// Calls `during` from inside the clean-up of `target`: from a handler of its `exit` event,
/// which runs after the process has ended and before its links, monitors and waiters are told.
fn on_clean_up<T: Send + 'static>(
    target: Pid,
    during: impl Fn(Pid) -> T + Send + Sync + 'static,
) -> (String, mpsc::UnboundedReceiver<T>) {
    let id = format!(
        "process-end-{}",
        NEXT_HANDLER.fetch_add(1, Ordering::Relaxed)
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let tx = Mutex::new(tx);
    attach(&id, PROCESS_EXIT, move |event| {
        if event.meta("pid").and_then(|p| p.as_pid()) == Some(PidValue::from(target)) {
            let _ = tx.lock().unwrap().send(during(target));
        }
    })
    .unwrap();
    (id, rx)
}

/// A wait for the exit that starts while the process cleans up waits for the exit and resolves
/// with its reason; it used to find no process (`NoProc`) once the process had left the table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_exit_during_the_clean_up_resolves_with_the_reason() {
    for reason in [ExitReason::error("done"), ExitReason::Normal] {
        let target = spawn_exit_on_message(reason.clone());
        let (id, mut waits) = on_clean_up(target, wait_exit);
        send(target, Go).unwrap();
        let waiting = within("the clean-up", waits.recv()).await.unwrap();
        assert_eq!(within("the wait", waiting).await, reason);
        detach(&id).unwrap();
        // Once the wait resolved, the process is gone for good.
        assert_eq!(wait_exit(target).await, ExitReason::NoProc);
        assert!(!is_alive(target));
        assert!(process_info(target).is_none());
    }
}

/// During the clean-up the process is not alive for anyone: it cannot be turned into a typed
/// reference, it has no process info, and it is not alive.
#[tokio::test]
async fn an_ending_process_is_not_alive() {
    let target = spawn_exit_on_message(ExitReason::Normal);
    let (id, mut seen) = on_clean_up(target, |pid| {
        (
            is_alive(pid),
            process_info(pid).is_none(),
            ServerRef::<NoServer>::from_pid(pid).is_err(),
        )
    });
    send(target, Go).unwrap();
    assert_eq!(
        within("the clean-up", seen.recv()).await,
        Some((false, true, true))
    );
    detach(&id).unwrap();
}

/// A server type for `from_pid`, never started.
struct NoServer;

impl otp_core::gen_server::GenServer for NoServer {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = ();
    type Continue = ();

    async fn init(
        (): (),
        _ctx: &mut otp_core::gen_server::Context<Self>,
    ) -> otp_core::gen_server::Init<Self> {
        otp_core::gen_server::Init::Ok(NoServer)
    }
}
