//! Quick end-to-end checks of the basic paths.
use otp_core::gen_server::*;
use otp_core::process::*;
use std::time::Duration;

struct Counter(u64);
impl GenServer for Counter {
    type Args = u64;
    type Call = u64;
    type Reply = u64;
    type Cast = u64;
    type Continue = ();
    async fn init(a: u64, _: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Counter(a))
    }
    async fn handle_call(&mut self, r: u64, _: &mut Context<Self>) -> CallResult<Self> {
        if r == 999 {
            panic!("boom");
        }
        CallResult::Reply(self.0 + r)
    }
    async fn handle_cast(&mut self, m: u64, _: &mut Context<Self>) -> Action<Self> {
        self.0 += m;
        Action::NoReply
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke() {
    let c = Counter::start(1).await.unwrap();
    for _ in 0..1000 {
        c.cast(1).unwrap();
    }
    assert_eq!(c.call(0).await.unwrap(), 1001);
    assert!(matches!(
        c.call(999).await,
        Err(CallError::Exited(ExitReason::Panic(_)))
    ));
    assert!(matches!(c.call(1).await, Err(CallError::NoProc)));
    let c = Counter::start(0).await.unwrap();
    c.stop(ExitReason::Normal).await.unwrap();
    assert!(!c.is_alive());
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawn(move |mut me| async move {
        me.trap_exit(true);
        let child = me.spawn_link(|_| async {
            if true {
                panic!("child died")
            }
        });
        let m = me.recv_timeout(Duration::from_secs(5)).await;
        let _ = tx.send(match m {
            Some(Info::Exit(s)) => (s.from() == Some(child), s.reason().clone()),
            _ => (false, ExitReason::Normal),
        });
    });
    let (ok, reason) = rx.await.unwrap();
    assert!(ok);
    assert_eq!(reason, ExitReason::Panic("child died".into()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(process_count(), 0, "{:?}", processes());
}
