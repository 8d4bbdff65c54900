//! The process of a [`DynamicSupervisor`](super::DynamicSupervisor): a GenServer that traps
//! exits, starts children on demand and restarts them one for one.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::options::DynamicOptions;
use crate::exit::ExitReason;
use crate::gen_server::{Action, CallResult, Context, GenServer, Init};
use crate::message::Info;
use crate::pid::Pid;
use crate::supervisor::backoff::{BackoffState, TryAgain};
use crate::supervisor::error::{SpecError, SupervisorError};
use crate::supervisor::flags::{AutoShutdown, SupFlags};
use crate::supervisor::info::{ChildCounts, ChildInfo, ChildStatus};
use crate::supervisor::intensity::Intensity;
use crate::supervisor::report::{
    report_child_started, report_child_terminated, report_max_intensity, report_start_error,
};
use crate::supervisor::server::Flow;
use crate::supervisor::shutdown::{Stopping, stop_child, stop_concurrently};
use crate::supervisor::spec::ChildSpec;

/// The management calls of a dynamic supervisor.
pub(crate) enum DynCall<A> {
    WhichChildren,
    CountChildren,
    StartChild(ChildSpec<A>),
    TerminateChild(Pid),
}

/// Their replies.
pub(crate) enum DynReply {
    Children(Vec<ChildInfo>),
    Counts(ChildCounts),
    Started(Result<Option<Pid>, SupervisorError>),
    Done(Result<(), SupervisorError>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DynState {
    Running,
    Restarting(u64),
}

struct DynChild<A> {
    spec: ChildSpec<A>,
    /// The child's pid if it runs, its last pid while it is being restarted: how it is known
    /// to `terminate_child` (as Elixir keys a restarting child by its old pid).
    key: Pid,
    state: DynState,
    backoff: BackoffState,
}

/// The state of a dynamic supervisor.
pub(crate) struct DynamicServer<A> {
    extra: A,
    max_children: Option<usize>,
    flags: SupFlags,
    intensity: Intensity,
    /// The children by order of first start.
    children: BTreeMap<u64, DynChild<A>>,
    by_pid: FxHashMap<Pid, u64>,
    next_seq: u64,
    next_token: u64,
}

impl<A: Clone + Send + 'static> DynamicServer<A> {
    fn remove(&mut self, seq: u64) {
        if let Some(child) = self.children.remove(&seq) {
            self.by_pid.remove(&child.key);
        }
    }

    fn stopping(child: &DynChild<A>) -> Option<Stopping> {
        match child.state {
            DynState::Running => Some(Stopping {
                id: child.spec.id().clone(),
                pid: child.key,
                restart: child.spec.restart_type(),
                shutdown: child.spec.shutdown_mode(),
            }),
            DynState::Restarting(_) => None,
        }
    }

    fn schedule_retry(&mut self, ctx: &mut Context<Self>, seq: u64) {
        self.next_token += 1;
        let token = self.next_token;
        let Some(child) = self.children.get_mut(&seq) else {
            return;
        };
        child.state = DynState::Restarting(token);
        TryAgain { seq, token }.schedule(ctx, child.spec.backoff_policy(), &mut child.backoff);
    }

    async fn child_exited(
        &mut self,
        ctx: &mut Context<Self>,
        seq: u64,
        reason: ExitReason,
    ) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        report_child_terminated(ctx.pid(), child.spec.id(), child.key, &reason);
        if !child.spec.restart_type().restarts_after(&reason) {
            self.remove(seq);
            return Flow::Continue;
        }
        if child.spec.backoff_policy().is_some() {
            self.schedule_retry(ctx, seq);
            return Flow::Continue;
        }
        self.restart_now(ctx, seq).await
    }

    /// Counts a restart and restarts the child (DS-04).
    async fn restart_now(&mut self, ctx: &mut Context<Self>, seq: u64) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        if !self.intensity.add_restart() {
            report_max_intensity(ctx.pid(), child.spec.id(), &self.flags);
            self.remove(seq);
            return Flow::Shutdown;
        }
        let outcome = child.spec.start_with(self.extra.clone()).await;
        match outcome {
            Ok(Some(pid)) => {
                if let Some(child) = self.children.get_mut(&seq) {
                    report_child_started(ctx.pid(), child.spec.id(), pid, true);
                    let old = std::mem::replace(&mut child.key, pid);
                    child.state = DynState::Running;
                    child.backoff.started();
                    self.by_pid.remove(&old);
                    self.by_pid.insert(pid, seq);
                }
            }
            // A restart that is ignored removes the child (SUP-21).
            Ok(None) => self.remove(seq),
            Err(e) => {
                if let Some(child) = self.children.get(&seq) {
                    report_start_error(ctx.pid(), child.spec.id(), &e);
                }
                self.schedule_retry(ctx, seq);
            }
        }
        Flow::Continue
    }

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
        spec.check(AutoShutdown::Never)
            .map_err(SupervisorError::InvalidSpec)?;
        if self
            .max_children
            .is_some_and(|max| self.children.len() >= max)
        {
            return Err(SupervisorError::MaxChildren);
        }
        match spec.start_with(self.extra.clone()).await {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), spec.id(), pid, false);
                let seq = self.next_seq;
                self.next_seq += 1;
                let mut backoff = BackoffState::default();
                backoff.started();
                self.children.insert(
                    seq,
                    DynChild {
                        spec,
                        key: pid,
                        state: DynState::Running,
                        backoff,
                    },
                );
                self.by_pid.insert(pid, seq);
                Ok(Some(pid))
            }
            // An ignored start stores nothing (DS-02).
            Ok(None) => Ok(None),
            Err(e) => Err(SupervisorError::StartFailed(e)),
        }
    }

    async fn terminate_child(
        &mut self,
        ctx: &mut Context<Self>,
        pid: Pid,
    ) -> Result<(), SupervisorError> {
        let seq = *self.by_pid.get(&pid).ok_or(SupervisorError::NotFound)?;
        if let Some(stopping) = self.children.get(&seq).and_then(Self::stopping) {
            stop_child(ctx, &stopping).await;
        }
        self.remove(seq);
        Ok(())
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .values()
            .map(|c| {
                let status = match c.state {
                    DynState::Running => ChildStatus::Running(c.key),
                    DynState::Restarting(_) => ChildStatus::Restarting,
                };
                ChildInfo::new(c.spec.id().clone(), status, c.spec.child_type())
            })
            .collect()
    }

    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for c in self.children.values() {
            let active = c.state == DynState::Running && crate::is_alive(c.key);
            counts.add(c.spec.child_type(), active);
        }
        counts
    }
}

fn flow_action<A: Clone + Send + 'static>(flow: Flow) -> Action<DynamicServer<A>> {
    match flow {
        Flow::Continue => Action::NoReply,
        Flow::Shutdown => Action::Stop(ExitReason::Shutdown),
    }
}

impl<A: Clone + Send + 'static> GenServer for DynamicServer<A> {
    type Args = DynamicOptions<A>;
    type Call = DynCall<A>;
    type Reply = DynReply;
    type Cast = ();
    type Continue = ();

    async fn init(options: DynamicOptions<A>, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(true);
        Init::Ok(DynamicServer {
            extra: options.extra,
            max_children: options.max_children,
            flags: options.flags,
            intensity: Intensity::new(options.flags.intensity, options.flags.period),
            children: BTreeMap::new(),
            by_pid: FxHashMap::default(),
            next_seq: 0,
            next_token: 0,
        })
    }

    async fn handle_call(
        &mut self,
        request: DynCall<A>,
        ctx: &mut Context<Self>,
    ) -> CallResult<Self> {
        let reply = match request {
            DynCall::WhichChildren => DynReply::Children(self.which_children()),
            DynCall::CountChildren => DynReply::Counts(self.count_children()),
            DynCall::StartChild(spec) => DynReply::Started(self.start_child(ctx, spec).await),
            DynCall::TerminateChild(pid) => DynReply::Done(self.terminate_child(ctx, pid).await),
        };
        CallResult::Reply(reply)
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        match info {
            Info::Exit(signal) => {
                let from = signal.from();
                match self.by_pid.get(&from).copied() {
                    Some(seq)
                        if self
                            .children
                            .get(&seq)
                            .is_some_and(|c| c.state == DynState::Running) =>
                    {
                        let flow = self.child_exited(ctx, seq, signal.reason().clone()).await;
                        flow_action(flow)
                    }
                    _ => Action::NoReply,
                }
            }
            Info::Message(m) => match m.downcast::<TryAgain>() {
                Ok(again) => {
                    let due = self
                        .children
                        .get(&again.seq)
                        .is_some_and(|c| c.state == DynState::Restarting(again.token));
                    if due {
                        flow_action(self.restart_now(ctx, again.seq).await)
                    } else {
                        Action::NoReply
                    }
                }
                Err(m) => {
                    crate::gen_server::unexpected_info::<Self>(ctx.pid(), &Info::Message(m));
                    Action::NoReply
                }
            },
            other => {
                crate::gen_server::unexpected_info::<Self>(ctx.pid(), &other);
                Action::NoReply
            }
        }
    }

    /// Stops every child at once, each per its shutdown (DS-07).
    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut Context<Self>) {
        let stopping: Vec<Stopping> = self.children.values().filter_map(Self::stopping).collect();
        stop_concurrently(ctx, &stopping).await;
        self.children.clear();
        self.by_pid.clear();
    }
}
