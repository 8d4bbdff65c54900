//! The process of a [`Supervisor`](super::Supervisor): a GenServer that traps exits, starts its
//! children in order, serves the management calls, and leaves restarts and stops to its
//! [`Engine`].

use std::sync::{Arc, Mutex};

use super::check::check_spec;
use super::engine::{Engine, Kind};
use super::error::{SupervisorError, SupervisorStartError};
use super::flags::SupFlags;
use super::info::ChildStatus;
use super::management::{Answer, Call, Reply, sealed::Supervises};
use super::report::report_start_error;
use super::spec::{ChildId, ChildSpec};
use crate::exit::ExitReason;
use crate::gen_server::{Action, CallResult, Context, GenServer, Init};
use crate::message::Info;
use crate::pid::Pid;

/// What the supervisor process is started with.
pub struct SupArgs {
    pub(crate) flags: SupFlags,
    pub(crate) children: Vec<ChildSpec>,
    /// Where `init` leaves the reason a child failed to start, for the caller of `start`.
    pub(crate) failure: Arc<Mutex<Option<SupervisorStartError>>>,
}

/// The calls only a static supervisor serves.
pub enum OwnCall {
    /// `restart_child`.
    RestartChild(ChildId, Answer<Result<Option<Pid>, SupervisorError>>),
    /// `delete_child`.
    DeleteChild(ChildId, Answer<Result<(), SupervisorError>>),
    /// `get_childspec`.
    GetChildspec(ChildId, Answer<Result<ChildSpec, SupervisorError>>),
}

/// The state of a supervisor: its children, in its engine.
pub struct SupervisorServer {
    engine: Engine<()>,
}

impl SupervisorServer {
    /// Adds a child at the end of the start order and starts it (SUP-22).
    async fn start_child(
        &mut self,
        ctx: &mut Context<Self>,
        spec: ChildSpec,
    ) -> Result<Option<Pid>, SupervisorError> {
        check_spec(&spec, self.engine.flags().auto_shutdown)
            .map_err(SupervisorError::InvalidSpec)?;
        if let Some(status) = self
            .engine
            .find_id(spec.id())
            .and_then(|seq| self.engine.status(seq))
        {
            return Err(match status {
                ChildStatus::Running(pid) => SupervisorError::AlreadyStarted(pid),
                ChildStatus::Restarting | ChildStatus::NotRunning => {
                    SupervisorError::AlreadyPresent
                }
            });
        }
        let id = spec.id().clone();
        let outcome = self.engine.start_child(ctx, spec).await.map_err(|(_, e)| e);
        tracing::debug!(supervisor = %ctx.pid(), child = %id, ?outcome, "start_child");
        outcome.map_err(SupervisorError::StartFailed)
    }

    fn seq(&self, id: &ChildId) -> Result<u64, SupervisorError> {
        self.engine.find_id(id).ok_or(SupervisorError::NotFound)
    }

    /// Stops a child and keeps its spec, not running, unless it is temporary (SUP-23).
    async fn terminate_child(
        &mut self,
        ctx: &mut Context<Self>,
        id: &ChildId,
    ) -> Result<(), SupervisorError> {
        let seq = self.seq(id)?;
        self.engine.terminate_child(ctx, seq).await;
        Ok(())
    }

    /// Starts a child that is not running (SUP-24).
    async fn restart_child(
        &mut self,
        ctx: &mut Context<Self>,
        id: &ChildId,
    ) -> Result<Option<Pid>, SupervisorError> {
        let seq = self.seq(id)?;
        self.engine.restart_child(ctx, seq).await
    }

    /// Removes a child that is not running (SUP-25).
    fn delete_child(&mut self, id: &ChildId) -> Result<(), SupervisorError> {
        let seq = self.seq(id)?;
        self.engine.delete_child(seq)
    }

    /// A child's spec (SUP-28).
    fn get_childspec(&self, id: &ChildId) -> Result<ChildSpec, SupervisorError> {
        let seq = self.seq(id)?;
        self.engine
            .spec(seq)
            .cloned()
            .ok_or(SupervisorError::NotFound)
    }
}

impl Supervises for SupervisorServer {
    type Key = ChildId;
    type Spec = ChildSpec;
    type Own = OwnCall;
}

impl GenServer for SupervisorServer {
    type Args = SupArgs;
    type Call = Call<ChildId, ChildSpec, OwnCall>;
    type Reply = Reply;
    type Cast = ();
    type Continue = ();

    /// Starts the children in order (SUP-01). If one fails, stops those started, in reverse
    /// order, and fails the start naming the child (SUP-19); the caller is unlinked first, so
    /// that the failure reaches it only as the start's error.
    async fn init(args: SupArgs, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(true);
        let mut engine = Engine::new(Kind::Static, args.flags, (), args.children.len());
        for spec in args.children {
            if let Err((spec, reason)) = engine.start_child(ctx, spec).await {
                report_start_error(ctx.pid(), spec.id(), &reason);
                engine.stop_all(ctx).await;
                if let Some(parent) = ctx.parent() {
                    ctx.unlink(parent);
                }
                let failure = SupervisorStartError::ChildFailed {
                    id: spec.id().clone(),
                    reason,
                };
                let exit = failure.to_exit_reason();
                if let Ok(mut slot) = args.failure.lock() {
                    *slot = Some(failure);
                }
                return Init::Stop(exit);
            }
        }
        Init::Ok(SupervisorServer { engine })
    }

    async fn handle_call(&mut self, call: Self::Call, ctx: &mut Context<Self>) -> CallResult<Self> {
        let reply = match call {
            Call::WhichChildren(answer) => answer.reply(self.engine.which_children()),
            Call::CountChildren(answer) => answer.reply(self.engine.count_children()),
            Call::StartChild(spec, answer) => answer.reply(self.start_child(ctx, spec).await),
            Call::TerminateChild(id, answer) => answer.reply(self.terminate_child(ctx, &id).await),
            Call::Own(OwnCall::RestartChild(id, answer)) => {
                answer.reply(self.restart_child(ctx, &id).await)
            }
            Call::Own(OwnCall::DeleteChild(id, answer)) => answer.reply(self.delete_child(&id)),
            Call::Own(OwnCall::GetChildspec(id, answer)) => answer.reply(self.get_childspec(&id)),
        };
        CallResult::Reply(reply)
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        self.engine.handle_info(info, ctx).await
    }

    /// Stops the children in reverse start order, each per its shutdown (SUP-02): on `stop`,
    /// when the parent exits, and after giving up.
    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut Context<Self>) {
        self.engine.stop_all(ctx).await;
    }
}
