//! Our otp-core `GenServer`, and our `Supervisor` for the supervision workloads.

use otp_core::gen_server::{Action, CallResult, Context, GenServer, Init, ServerRef};
use otp_core::process::ExitReason;
use otp_core::supervisor::{ChildSpec, SupFlags, Supervisor, SupervisorRef};
use tokio::sync::mpsc;

use crate::harness::crash;
use crate::{CrashChild, Server, Supervision};

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
        Action::NoReply
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

/// The flags of the supervisors: one-for-one, and a restart intensity (`u32::MAX` restarts in
/// the default 5 s) that the `restart` workload never reaches.
pub fn sup_flags() -> SupFlags {
    SupFlags::one_for_one().intensity(u32::MAX)
}

/// The crashing child of the `restart` workload: its `init` sends its handle on the channel it
/// is started with; a call with request `r` replies `r`; a cast panics.
pub struct Crasher;

impl GenServer for Crasher {
    type Args = mpsc::UnboundedSender<OtpChild>;
    type Call = u64;
    type Reply = u64;
    type Cast = ();
    type Continue = ();

    async fn init(running: Self::Args, ctx: &mut Context<Self>) -> Init<Self> {
        let _ = running.send(OtpChild(ctx.server_ref()));
        Init::Ok(Crasher)
    }

    async fn handle_call(&mut self, request: u64, _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(request)
    }

    async fn handle_cast(&mut self, (): (), _ctx: &mut Context<Self>) -> Action<Self> {
        crash()
    }
}

/// Handle to the crashing child: its `ServerRef`.
pub struct OtpChild(ServerRef<Crasher>);

impl CrashChild for OtpChild {
    fn crash(&self) {
        self.0.cast(()).expect("otp child gone");
    }

    async fn call(&self, request: u64) -> u64 {
        self.0.call(request).await.expect("otp child call failed")
    }
}

/// Handle to an otp-core `Supervisor`: its `SupervisorRef`.
pub struct OtpSupervisor(SupervisorRef);

impl Supervision for OtpSupervisor {
    type Child = OtpChild;
    type Children = Vec<ChildSpec>;

    /// `Supervisor::start_link` with one child, `Crasher::start_link(running.clone())`.
    async fn start_restarting(running: mpsc::UnboundedSender<OtpChild>) -> Self {
        let child = ChildSpec::new("crasher", move || Crasher::start_link(running.clone()));
        OtpSupervisor(
            Supervisor::start_link([child], sup_flags())
                .await
                .expect("otp supervisor start failed"),
        )
    }

    /// `ChildSpec::new("c<i>", || Counter::start_link(0))` for each child.
    fn children(n: u64) -> Vec<ChildSpec> {
        (0..n)
            .map(|i| ChildSpec::new(format!("c{i}"), || Counter::start_link(0)))
            .collect()
    }

    /// `Supervisor::start_link`, which returns once every child's `init` has run.
    async fn start_children(children: Vec<ChildSpec>) -> Self {
        OtpSupervisor(
            Supervisor::start_link(children, sup_flags())
                .await
                .expect("otp supervisor start failed"),
        )
    }

    /// `SupervisorRef::stop`, which stops the children in reverse start order (each with
    /// `exit(child, shutdown)`, waiting for it to end) and returns once the supervisor has
    /// exited.
    async fn stop(self) {
        self.0.stop().await.expect("otp supervisor stop failed");
    }
}
