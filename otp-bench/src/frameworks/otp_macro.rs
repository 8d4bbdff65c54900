//! Our otp-core `GenServer`, written with `#[derive(GenServer)]` and `#[handlers]`: the same
//! counter as [`otp`](super::otp), to show what the macros cost (nothing, they should).

use otp_core::{ExitReason, GenServer, ServerRef};

use crate::Server;

/// The counter, derived.
#[derive(GenServer)]
#[gen_server(crate = "otp_core")]
pub struct Counter {
    n: u64,
}

#[otp_core::handlers]
impl Counter {
    #[init]
    fn init(n: u64) -> Self {
        Counter { n }
    }

    /// `state + request`.
    #[call]
    fn add(&self, request: u64) -> u64 {
        self.n + request
    }

    /// Adds `value` to the state.
    #[cast]
    fn inc(&mut self, value: u64) {
        self.n += value;
    }
}

/// Handle to a derived counter: its `ServerRef`, used through the generated client.
pub struct OtpMacroServer(ServerRef<Counter>);

impl Server for OtpMacroServer {
    /// The generated `Counter::start`.
    async fn start(initial: u64) -> Self {
        OtpMacroServer(Counter::start(initial).await.expect("otp start failed"))
    }

    fn cast(&self, value: u64) {
        self.0.inc(value).expect("otp cast failed");
    }

    async fn call(&self, request: u64) -> u64 {
        self.0.add(request).await.expect("otp call failed")
    }

    async fn stop(self) {
        self.0
            .stop(ExitReason::Normal)
            .await
            .expect("otp stop failed");
    }
}
