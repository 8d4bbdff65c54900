//! Our otp-core `GenServer`.

use otp_core::{Action, CallResult, Context, ExitReason, GenServer, Init, ServerRef};

use crate::Server;

/// The counter as an otp-core `GenServer`.
pub struct Counter {
    n: u64,
}

impl GenServer for Counter {
    type Args = u64;
    type Call = u64;
    type Reply = u64;
    type Cast = u64;
    type Continue = ();

    async fn init(args: u64, _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Counter { n: args })
    }

    async fn handle_call(&mut self, request: u64, _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(self.n + request)
    }

    async fn handle_cast(&mut self, value: u64, _ctx: &mut Context<Self>) -> Action<Self> {
        self.n += value;
        Action::Noreply
    }
}

/// Handle to an otp-core counter: its `ServerRef`.
pub struct OtpServer(ServerRef<Counter>);

impl Server for OtpServer {
    /// `GenServer::start` (not linked), which returns once `init` has run.
    async fn start(initial: u64) -> Self {
        OtpServer(Counter::start(initial).await.expect("otp start failed"))
    }

    fn cast(&self, value: u64) {
        self.0.cast(value).expect("otp cast failed");
    }

    async fn call(&self, request: u64) -> u64 {
        self.0.call(request).await.expect("otp call failed")
    }

    /// `ServerRef::stop(ExitReason::Normal)`, which returns once the server has exited.
    async fn stop(self) {
        self.0
            .stop(ExitReason::Normal)
            .await
            .expect("otp stop failed");
    }
}
