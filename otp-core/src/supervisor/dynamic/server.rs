//! The process of a [`DynamicSupervisor`](super::DynamicSupervisor): a GenServer that traps
//! exits, starts children on demand, and leaves restarts and stops to its [`Engine`].

use std::convert::Infallible;

use super::options::DynamicOptions;
use crate::exit::ExitReason;
use crate::gen_server::{Action, CallResult, Context, GenServer, Init};
use crate::message::Info;
use crate::pid::Pid;
use crate::supervisor::check::{SpecError, check_spec};
use crate::supervisor::engine::{Engine, Kind};
use crate::supervisor::error::SupervisorError;
use crate::supervisor::flags::AutoShutdown;
use crate::supervisor::management::{Call, Reply, sealed::Supervises};
use crate::supervisor::spec::ChildSpec;

/// The state of a dynamic supervisor: its children, in its engine, and their limit.
pub struct DynamicServer<A> {
    engine: Engine<A>,
    max_children: Option<usize>,
}

impl<A: Clone + Send + 'static> DynamicServer<A> {
    /// Starts a child and adds it (DS-02, DS-03).
    async fn start_child(
        &mut self,
        ctx: &mut Context<Self>,
        spec: ChildSpec<A>,
    ) -> Result<Option<Pid>, SupervisorError> {
        if spec.is_significant() {
            return Err(SupervisorError::InvalidSpec(SpecError::DynamicSignificant(
                spec.id().clone(),
            )));
        }
        check_spec(&spec, AutoShutdown::Never).map_err(SupervisorError::InvalidSpec)?;
        if self
            .max_children
            .is_some_and(|max| self.engine.len() >= max)
        {
            return Err(SupervisorError::MaxChildren);
        }
        // An ignored start stores nothing (DS-02).
        self.engine
            .start_child(ctx, spec)
            .await
            .map_err(|(_, e)| SupervisorError::StartFailed(e))
    }

    /// Stops the child `pid` and forgets it (DS-06); a child being restarted is known by its
    /// last pid.
    async fn terminate_child(
        &mut self,
        ctx: &mut Context<Self>,
        pid: Pid,
    ) -> Result<(), SupervisorError> {
        let seq = self.engine.find_pid(pid).ok_or(SupervisorError::NotFound)?;
        self.engine.terminate_child(ctx, seq).await;
        Ok(())
    }
}

impl<A: Clone + Send + 'static> Supervises for DynamicServer<A> {
    type Key = Pid;
    type Spec = ChildSpec<A>;
    type Own = Infallible;
}

impl<A: Clone + Send + 'static> GenServer for DynamicServer<A> {
    type Args = DynamicOptions<A>;
    type Call = Call<Pid, ChildSpec<A>, Infallible>;
    type Reply = Reply;
    type Cast = ();
    type Continue = ();

    async fn init(options: DynamicOptions<A>, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(true);
        Init::Ok(DynamicServer {
            engine: Engine::new(Kind::Dynamic, options.flags, options.extra, 0),
            max_children: options.max_children,
        })
    }

    async fn handle_call(&mut self, call: Self::Call, ctx: &mut Context<Self>) -> CallResult<Self> {
        let reply = match call {
            Call::WhichChildren(answer) => answer.reply(self.engine.which_children()),
            Call::CountChildren(answer) => answer.reply(self.engine.count_children()),
            Call::StartChild(spec, answer) => answer.reply(self.start_child(ctx, spec).await),
            Call::TerminateChild(pid, answer) => answer.reply(self.terminate_child(ctx, pid).await),
            Call::Own(never) => match never {},
        };
        CallResult::Reply(reply)
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        self.engine.handle_info(info, ctx).await
    }

    /// Stops every child at once, each per its shutdown (DS-07).
    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut Context<Self>) {
        self.engine.stop_all(ctx).await;
    }
}
