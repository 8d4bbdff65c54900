//! `#[init]` and the struct-level options of derived servers: what init returns (GS-02),
//! start arguments one by one, the state from `Default` when there is no `#[init]`, a
//! registered name (GS-04), the call timeout (GS-05), the start timeout (GS-03), a bounded
//! mailbox.

use std::time::Duration;

use otp::gen_server::StartError;
use otp::prelude::*;
use otp::process::{MailboxBound, Overflow};

#[derive(GenServer)]
struct Pair {
    left: String,
    right: u32,
}

#[handlers]
impl Pair {
    /// Fails on an empty left; sleeps first if asked.
    #[init]
    async fn init(left: String, right: u32, ctx: &mut Context<Self>) -> Result<Self, ExitReason> {
        assert_eq!(otp::process::current_pid(), Some(ctx.pid()));
        if right == 999 {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        if left.is_empty() {
            return Err(ExitReason::error("left is empty"));
        }
        Ok(Pair { left, right })
    }

    #[call]
    fn show(&self) -> String {
        format!("{}:{}", self.left, self.right)
    }
}

/// GS-02: `Ok` starts the server with the arguments given one by one; `Err` fails the start
/// with the reason.
#[tokio::test]
async fn init_result_ok_and_err() {
    let pair = Pair::start("a".into(), 1).await.unwrap();
    assert_eq!(pair.show().await.as_deref(), Ok("a:1"));
    assert_eq!(
        Pair::start(String::new(), 1).await.unwrap_err(),
        StartError::Stopped(ExitReason::error("left is empty"))
    );
}

/// GS-03: a start timeout given through `start_with`.
#[tokio::test(start_paused = true)]
async fn start_timeout_through_start_with() {
    let options = StartOptions::new().timeout(Duration::from_secs(1));
    assert_eq!(
        Pair::start_with("a".into(), 999, options)
            .await
            .unwrap_err(),
        StartError::Timeout
    );
}

#[derive(GenServer)]
struct Gate;

#[handlers]
impl Gate {
    #[init]
    fn init(open: bool) -> Init<Self> {
        if open { Init::Ok(Gate) } else { Init::Ignore }
    }
}

/// GS-02: `Init::Ignore`.
#[tokio::test]
async fn init_returning_init_can_ignore() {
    assert!(Gate::start(true).await.is_ok());
    assert_eq!(Gate::start(false).await.unwrap_err(), StartError::Ignored);
}

/// Without `#[init]`, the state is the struct's `Default` and `start` takes no argument.
#[derive(GenServer, Default)]
#[gen_server(
    name = "macro_tests_registered",
    call_timeout = 50,
    mailbox = 2,
    overflow = "error"
)]
struct Registered {
    hits: u32,
}

#[handlers]
impl Registered {
    #[call]
    fn hit(&mut self) -> u32 {
        self.hits += 1;
        self.hits
    }

    #[call]
    async fn slow(&self) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    #[cast]
    async fn block(&self, ms: u64) {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// GS-04, GS-05 and a bounded mailbox, all from `#[gen_server(...)]`.
#[tokio::test(start_paused = true)]
async fn struct_options_name_call_timeout_mailbox() {
    assert_eq!(Registered::CALL_TIMEOUT, Duration::from_millis(50));
    let server = Registered::start().await.unwrap();
    // The name.
    assert_eq!(
        otp::name::whereis("macro_tests_registered"),
        Some(server.pid())
    );
    assert_eq!(
        ServerRef::<Registered>::whereis("macro_tests_registered"),
        Some(server.clone())
    );
    assert_eq!(
        Registered::start().await.unwrap_err(),
        StartError::AlreadyStarted(server.pid())
    );
    assert_eq!(server.hit().await, Ok(1));
    // The call timeout: 50 ms, unless given otherwise.
    assert_eq!(server.slow().await, Err(CallError::Timeout));
    assert_eq!(
        server.with_timeout(Duration::from_secs(1)).slow().await,
        Ok(())
    );
    // The mailbox: two messages, then an error that hands the message back.
    server.block(1_000).unwrap();
    tokio::task::yield_now().await;
    server.block(1).unwrap();
    server.block(2).unwrap();
    match server.block(3) {
        Err(otp::gen_server::CastError::MailboxFull(m)) => {
            assert_eq!(format!("{m:?}"), "RegisteredCast::Block(..)")
        }
        other => panic!("expected a full mailbox, got {other:?}"),
    }
    // `start_with` replaces the options: another name, no bound.
    let other = Registered::start_with(StartOptions::new().name("macro_tests_other").mailbox(
        MailboxBound::new(std::num::NonZeroUsize::MIN, Overflow::Wait),
    ))
    .await
    .unwrap();
    assert_eq!(otp::name::whereis("macro_tests_other"), Some(other.pid()));
}

#[derive(GenServer, Default)]
#[gen_server(call_timeout = "infinity", hibernate_after = 10)]
struct Patient;

#[handlers]
impl Patient {
    #[call]
    async fn wait(&self, secs: u64) -> u64 {
        tokio::time::sleep(Duration::from_secs(secs)).await;
        secs
    }
}

/// `call_timeout = "infinity"`, and `hibernate_after`.
#[tokio::test(start_paused = true)]
async fn infinite_call_timeout_and_hibernate_after() {
    assert_eq!(Patient::CALL_TIMEOUT, Duration::MAX);
    let p = Patient::start_link().await.unwrap();
    assert_eq!(p.wait(3_600).await, Ok(3_600));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let info = otp::process::process_info(p.pid()).unwrap();
    assert_eq!(info.status, otp::process::ProcessStatus::Hibernating);
}
