//! The basic paths end to end, on the multi-thread runtime, through the API a user writes
//! against: a derived GenServer takes casts and calls in order; a panic in a handler ends it
//! and fails the call; a stopped server is gone; a process trapping exits hears of its linked
//! child's panic; and once all have ended, no process is left. Alone in its test binary: it
//! counts every process of the runtime.

use otp_core::gen_server::{CallError, GenServer, handlers};
use otp_core::process::{ExitReason, Info, process_count, processes, spawn, wait_exit};
use std::time::Duration;

#[derive(GenServer)]
struct Counter {
    n: u64,
}

#[handlers]
impl Counter {
    #[init]
    fn init(n: u64) -> Self {
        Counter { n }
    }

    /// The count plus `r`; panics for 999.
    #[call]
    fn add(&self, r: u64) -> u64 {
        assert_ne!(r, 999, "boom");
        self.n + r
    }

    #[cast]
    fn inc(&mut self, by: u64) {
        self.n += by;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_paths_leave_no_process_behind() {
    let c = Counter::start(1).await.unwrap();
    for _ in 0..1000 {
        c.inc(1).unwrap();
    }
    assert_eq!(c.add(0).await.unwrap(), 1001);
    assert!(matches!(
        c.add(999).await,
        Err(CallError::Exited(ExitReason::Panic(_)))
    ));
    assert!(matches!(c.add(1).await, Err(CallError::NoProc)));

    let c = Counter::start(0).await.unwrap();
    c.stop(ExitReason::Normal).await.unwrap();
    assert!(!c.is_alive());

    let (tx, rx) = tokio::sync::oneshot::channel();
    let parent = spawn(move |mut me| async move {
        me.trap_exit(true);
        let child = me.spawn_link(|_| async {
            let dies = true;
            if dies {
                panic!("child died");
            }
        });
        let heard = me.recv_timeout(Duration::from_secs(5)).await;
        let _ = tx.send((child, heard));
    });
    let (child, heard) = rx.await.unwrap();
    match heard {
        Some(Info::Exit(signal)) => {
            assert_eq!(signal.from(), Some(child));
            assert_eq!(signal.reason(), &ExitReason::Panic("child died".into()));
        }
        other => panic!("expected the child's exit, got {other:?}"),
    }
    // Each has ended (or is already gone) once its wait is over.
    wait_exit(child).await;
    wait_exit(parent).await;
    assert_eq!(process_count(), 0, "{:?}", processes());
}
