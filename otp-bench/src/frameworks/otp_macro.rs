//! Our otp-core `GenServer`, written with `#[derive(GenServer)]` and `#[handlers]`: the same
//! counter as [`otp`](super::otp), to show what the macros cost (nothing, they should). Under
//! the supervisor, the derived servers' generated `child_spec` describes the children.

use otp_core::gen_server::{Context, GenServer, ServerRef};
use otp_core::process::ExitReason;
use otp_core::supervisor::{ChildSpec, Supervisor, SupervisorRef};
use tokio::sync::mpsc;

use super::otp::sup_flags;
use crate::harness::crash;
use crate::{CrashChild, Server, Supervision};

/// The counter, derived.
#[derive(GenServer)]
pub struct Counter {
    n: u64,
}

#[otp_core::gen_server::handlers]
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

/// The crashing child of the `restart` workload, derived: the same as
/// [`otp::Crasher`](super::otp::Crasher).
#[derive(GenServer)]
pub struct Crasher;

#[otp_core::gen_server::handlers]
impl Crasher {
    /// Sends the new child's handle on `running`.
    #[init]
    fn init(running: mpsc::UnboundedSender<OtpMacroChild>, ctx: &mut Context<Self>) -> Self {
        let _ = running.send(OtpMacroChild(ctx.server_ref()));
        Crasher
    }

    /// Replies `request` (the state is 0).
    #[call]
    fn echo(&self, request: u64) -> u64 {
        request
    }

    /// Panics.
    #[cast]
    fn explode(&mut self) {
        crash()
    }
}

/// Handle to the derived crashing child, used through its generated client.
pub struct OtpMacroChild(ServerRef<Crasher>);

impl CrashChild for OtpMacroChild {
    fn crash(&self) {
        self.0.explode().expect("otp child gone");
    }

    async fn call(&self, request: u64) -> u64 {
        self.0.echo(request).await.expect("otp child call failed")
    }
}

/// The otp-core `Supervisor` with derived children, described by their generated
/// `child_spec`.
pub struct OtpMacroSupervisor(SupervisorRef);

impl Supervision for OtpMacroSupervisor {
    type Child = OtpMacroChild;
    type Children = Vec<ChildSpec>;

    /// `Supervisor::start_link` with one child, `Crasher::child_spec(running)`.
    async fn start_restarting(running: mpsc::UnboundedSender<OtpMacroChild>) -> Self {
        OtpMacroSupervisor(
            Supervisor::start_link([Crasher::child_spec(running)], sup_flags())
                .await
                .expect("otp supervisor start failed"),
        )
    }

    /// `Counter::child_spec(0).with_id("c<i>")` for each child.
    fn children(n: u64) -> Vec<ChildSpec> {
        (0..n)
            .map(|i| Counter::child_spec(0).with_id(format!("c{i}")))
            .collect()
    }

    async fn start_children(children: Vec<ChildSpec>) -> Self {
        OtpMacroSupervisor(
            Supervisor::start_link(children, sup_flags())
                .await
                .expect("otp supervisor start failed"),
        )
    }

    async fn stop(self) {
        self.0.stop().await.expect("otp supervisor stop failed");
    }
}
