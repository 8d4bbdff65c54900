//! The supervisor process: a GenServer that traps exits, starts its children in order, restarts
//! them by its strategy, and stops them in reverse order.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

use super::backoff::{BackoffState, TryAgain};
use super::error::{SupervisorError, SupervisorStartError};
use super::flags::{AutoShutdown, Strategy, SupFlags};
use super::info::{ChildCounts, ChildInfo, ChildStatus};
use super::intensity::Intensity;
use super::report::{
    report_child_started, report_child_terminated, report_max_intensity, report_start_error,
};
use super::shutdown::{Stopping, stop_child, stop_in_order};
use super::spec::{ChildId, ChildSpec, ChildStartError, Restart};
use crate::exit::ExitReason;
use crate::gen_server::{Action, CallResult, Context, GenServer, Init};
use crate::message::Info;
use crate::pid::Pid;

/// What the supervisor process is started with.
pub(crate) struct SupArgs {
    pub(crate) flags: SupFlags,
    pub(crate) children: Vec<ChildSpec>,
    /// Where `init` leaves the reason a child failed to start, for the caller of `start`.
    pub(crate) failure: Arc<Mutex<Option<SupervisorStartError>>>,
}

/// The management calls.
pub(crate) enum SupCall {
    WhichChildren,
    CountChildren,
    StartChild(ChildSpec),
    TerminateChild(ChildId),
    RestartChild(ChildId),
    DeleteChild(ChildId),
    GetChildspec(ChildId),
}

/// Their replies, one variant per call.
pub(crate) enum SupReply {
    Children(Vec<ChildInfo>),
    Counts(ChildCounts),
    Started(Result<Option<Pid>, SupervisorError>),
    Done(Result<(), SupervisorError>),
    Spec(Result<ChildSpec, SupervisorError>),
}

/// What an event leaves the supervisor to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// Give up or auto-shut down: stop the remaining children and exit `shutdown`.
    Shutdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running(Pid),
    /// Waiting for the retry with this token.
    Restarting(u64),
    Stopped,
}

struct Child {
    spec: ChildSpec,
    state: State,
    backoff: BackoffState,
}

impl Child {
    fn stopping(&self) -> Option<Stopping> {
        match self.state {
            State::Running(pid) => Some(Stopping {
                id: self.spec.id().clone(),
                pid,
                restart: self.spec.restart_type(),
                shutdown: self.spec.shutdown_mode(),
            }),
            State::Restarting(_) | State::Stopped => None,
        }
    }

    fn status(&self) -> ChildStatus {
        match self.state {
            State::Running(pid) => ChildStatus::Running(pid),
            State::Restarting(_) => ChildStatus::Restarting,
            State::Stopped => ChildStatus::NotRunning,
        }
    }
}

/// The state of a supervisor: its children by start order, found by id and by pid.
///
/// Children are keyed by a sequence number given when they are added (`start_child` appends
/// at the end of the start order), so group restarts take ranges of keys, and lookups by id or
/// pid, adding and removing are all logarithmic or constant: a supervisor of many children
/// stays fast.
pub(crate) struct SupervisorServer {
    flags: SupFlags,
    children: BTreeMap<u64, Child>,
    by_id: FxHashMap<ChildId, u64>,
    /// The running children's pids.
    by_pid: FxHashMap<Pid, u64>,
    intensity: Intensity,
    next_seq: u64,
    next_token: u64,
}

impl SupervisorServer {
    /// A supervisor of `flags`, with room for `children` children.
    fn new(flags: SupFlags, children: usize) -> Self {
        SupervisorServer {
            flags,
            children: BTreeMap::new(),
            by_id: FxHashMap::with_capacity_and_hasher(children, Default::default()),
            by_pid: FxHashMap::with_capacity_and_hasher(children, Default::default()),
            intensity: Intensity::new(flags.intensity, flags.period),
            next_seq: 0,
            next_token: 0,
        }
    }

    /// Adds a child at the end of the start order.
    fn push(&mut self, spec: ChildSpec, state: State) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut backoff = BackoffState::default();
        if let State::Running(pid) = state {
            backoff.started();
            self.by_pid.insert(pid, seq);
        }
        self.by_id.insert(spec.id().clone(), seq);
        self.children.insert(
            seq,
            Child {
                spec,
                state,
                backoff,
            },
        );
    }

    fn remove(&mut self, seq: u64) {
        if let Some(child) = self.children.remove(&seq) {
            self.by_id.remove(child.spec.id());
            if let State::Running(pid) = child.state {
                self.by_pid.remove(&pid);
            }
        }
    }

    /// Sets a child's state, keeping the pid index right.
    fn set_state(&mut self, seq: u64, state: State) {
        let Some(child) = self.children.get_mut(&seq) else {
            return;
        };
        if let State::Running(old) = child.state {
            self.by_pid.remove(&old);
        }
        if let State::Running(pid) = state {
            self.by_pid.insert(pid, seq);
            child.backoff.started();
        }
        child.state = state;
    }

    fn state(&self, seq: u64) -> Option<State> {
        self.children.get(&seq).map(|c| c.state)
    }

    fn seq(&self, id: &ChildId) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// Stops every running child, in reverse start order (SUP-02).
    async fn stop_all(&mut self, ctx: &mut Context<Self>) {
        let stopping: Vec<Stopping> = self
            .children
            .values()
            .rev()
            .filter_map(Child::stopping)
            .collect();
        stop_in_order(ctx, &stopping).await;
        let seqs: Vec<u64> = self.children.keys().copied().collect();
        for seq in seqs {
            self.set_state(seq, State::Stopped);
        }
    }

    /// Stops the children `seqs` (in start order) in reverse order; temporary ones are
    /// removed, the others left not running (OTP's `terminate_children` in a group restart).
    async fn stop_group(&mut self, ctx: &mut Context<Self>, seqs: &[u64]) {
        let stopping: Vec<Stopping> = seqs
            .iter()
            .rev()
            .filter_map(|seq| self.children.get(seq).and_then(Child::stopping))
            .collect();
        stop_in_order(ctx, &stopping).await;
        for &seq in seqs {
            let temporary = self
                .children
                .get(&seq)
                .is_some_and(|c| c.spec.restart_type() == Restart::Temporary);
            if temporary {
                self.remove(seq);
            } else {
                self.set_state(seq, State::Stopped);
            }
        }
    }

    /// The children a restart of `seq` stops with it, by the strategy, in start order.
    fn dependents(&self, seq: u64) -> Vec<u64> {
        match self.flags.strategy {
            Strategy::OneForOne => Vec::new(),
            Strategy::OneForAll => self
                .children
                .keys()
                .copied()
                .filter(|&k| k != seq)
                .collect(),
            Strategy::RestForOne => self.children.range(seq + 1..).map(|(&k, _)| k).collect(),
        }
    }

    /// Starts one child from its spec: `Ok(Some(pid))`, `Ok(None)` if ignored, or the error.
    async fn start_spec(spec: &ChildSpec) -> Result<Option<Pid>, ChildStartError> {
        spec.start().await
    }

    /// Marks a child restarting and schedules the retry: at once (to the end of the mailbox),
    /// or after its backoff delay.
    fn schedule_retry(&mut self, ctx: &mut Context<Self>, seq: u64) {
        self.next_token += 1;
        let token = self.next_token;
        self.set_state(seq, State::Restarting(token));
        let Some(child) = self.children.get_mut(&seq) else {
            return;
        };
        TryAgain { seq, token }.schedule(ctx, child.spec.backoff_policy(), &mut child.backoff);
    }

    /// A child ended: restart it, or not, by its restart type and the reason (SUP-10).
    async fn child_exited(
        &mut self,
        ctx: &mut Context<Self>,
        seq: u64,
        pid: Pid,
        reason: ExitReason,
    ) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        let restart = child.spec.restart_type();
        let significant = child.spec.is_significant();
        report_child_terminated(ctx.pid(), child.spec.id(), pid, &reason);
        if restart.restarts_after(&reason) {
            return self.restart(ctx, seq).await;
        }
        if restart == Restart::Temporary {
            self.remove(seq);
        } else {
            self.set_state(seq, State::Stopped);
        }
        if significant {
            self.auto_shutdown()
        } else {
            Flow::Continue
        }
    }

    /// Whether a significant child's end shuts the supervisor down (SUP-30).
    fn auto_shutdown(&self) -> Flow {
        match self.flags.auto_shutdown {
            AutoShutdown::Never => Flow::Continue,
            AutoShutdown::AnySignificant => Flow::Shutdown,
            AutoShutdown::AllSignificant => {
                let any_left = self
                    .children
                    .values()
                    .any(|c| c.spec.is_significant() && c.state != State::Stopped);
                if any_left {
                    Flow::Continue
                } else {
                    Flow::Shutdown
                }
            }
        }
    }

    /// Restarts a child that ended: at once, or, with a backoff, after its delay (the
    /// children the strategy restarts with it are stopped now).
    async fn restart(&mut self, ctx: &mut Context<Self>, seq: u64) -> Flow {
        let delayed = self
            .children
            .get(&seq)
            .is_some_and(|c| c.spec.backoff_policy().is_some());
        if delayed {
            let dependents = self.dependents(seq);
            self.stop_group(ctx, &dependents).await;
            self.schedule_retry(ctx, seq);
            return Flow::Continue;
        }
        self.restart_now(ctx, seq).await
    }

    /// Counts a restart (SUP-04) and restarts by the strategy (SUP-06 to SUP-08); a child that
    /// fails to start is marked restarting and retried (SUP-12, SUP-13).
    async fn restart_now(&mut self, ctx: &mut Context<Self>, seq: u64) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        if !self.intensity.add_restart() {
            report_max_intensity(ctx.pid(), child.spec.id(), &self.flags);
            if child.spec.restart_type() == Restart::Temporary {
                self.remove(seq);
            } else {
                self.set_state(seq, State::Stopped);
            }
            return Flow::Shutdown;
        }
        let dependents = self.dependents(seq);
        self.stop_group(ctx, &dependents).await;
        self.set_state(seq, State::Stopped);
        let to_start: Vec<u64> = match self.flags.strategy {
            Strategy::OneForOne => vec![seq],
            Strategy::OneForAll => self.children.keys().copied().collect(),
            Strategy::RestForOne => self.children.range(seq..).map(|(&k, _)| k).collect(),
        };
        self.start_in_order(ctx, &to_start).await;
        Flow::Continue
    }

    /// Starts the children `seqs` in start order (all of them, as OTP's `start_children` does
    /// in a group restart). At the first that fails, stops: it is marked restarting and
    /// retried, the rest stay not running.
    async fn start_in_order(&mut self, ctx: &mut Context<Self>, seqs: &[u64]) {
        for &seq in seqs {
            let Some(child) = self.children.get(&seq) else {
                continue;
            };
            match Self::start_spec(&child.spec).await {
                Ok(Some(pid)) => {
                    report_child_started(ctx.pid(), child.spec.id(), pid, true);
                    self.set_state(seq, State::Running(pid));
                }
                Ok(None) if child.spec.restart_type() == Restart::Temporary => self.remove(seq),
                Ok(None) => self.set_state(seq, State::Stopped),
                Err(e) => {
                    report_start_error(ctx.pid(), child.spec.id(), &e);
                    self.schedule_retry(ctx, seq);
                    return;
                }
            }
        }
    }

    /// A retry is due: restart the child if it still waits for this retry.
    async fn try_again(&mut self, ctx: &mut Context<Self>, again: TryAgain) -> Flow {
        if self.state(again.seq) == Some(State::Restarting(again.token)) {
            self.restart_now(ctx, again.seq).await
        } else {
            Flow::Continue
        }
    }

    async fn start_child(
        &mut self,
        ctx: &mut Context<Self>,
        spec: ChildSpec,
    ) -> Result<Option<Pid>, SupervisorError> {
        spec.check(self.flags.auto_shutdown)
            .map_err(SupervisorError::InvalidSpec)?;
        if let Some(state) = self.seq(spec.id()).and_then(|seq| self.state(seq)) {
            return Err(match state {
                State::Running(pid) => SupervisorError::AlreadyStarted(pid),
                State::Restarting(_) | State::Stopped => SupervisorError::AlreadyPresent,
            });
        }
        let outcome = Self::start_spec(&spec).await;
        tracing::debug!(supervisor = %ctx.pid(), child = %spec.id(), ?outcome, "start_child");
        match outcome {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), spec.id(), pid, false);
                self.push(spec, State::Running(pid));
                Ok(Some(pid))
            }
            Ok(None) => {
                if spec.restart_type() != Restart::Temporary {
                    self.push(spec, State::Stopped);
                }
                Ok(None)
            }
            Err(e) => Err(SupervisorError::StartFailed(e)),
        }
    }

    async fn terminate_child(
        &mut self,
        ctx: &mut Context<Self>,
        id: &ChildId,
    ) -> Result<(), SupervisorError> {
        let seq = self.seq(id).ok_or(SupervisorError::NotFound)?;
        let Some(child) = self.children.get(&seq) else {
            return Err(SupervisorError::NotFound);
        };
        let temporary = child.spec.restart_type() == Restart::Temporary;
        if let Some(stopping) = child.stopping() {
            stop_child(ctx, &stopping).await;
        }
        if temporary {
            self.remove(seq);
        } else {
            self.set_state(seq, State::Stopped);
        }
        Ok(())
    }

    async fn restart_child(
        &mut self,
        ctx: &mut Context<Self>,
        id: &ChildId,
    ) -> Result<Option<Pid>, SupervisorError> {
        let seq = self.seq(id).ok_or(SupervisorError::NotFound)?;
        let Some(child) = self.children.get(&seq) else {
            return Err(SupervisorError::NotFound);
        };
        match child.state {
            State::Running(_) => return Err(SupervisorError::Running),
            State::Restarting(_) => return Err(SupervisorError::Restarting),
            State::Stopped => {}
        }
        let outcome = Self::start_spec(&child.spec).await;
        tracing::debug!(supervisor = %ctx.pid(), child = %id, ?outcome, "restart_child");
        match outcome {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), id, pid, false);
                self.set_state(seq, State::Running(pid));
                Ok(Some(pid))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(SupervisorError::StartFailed(e)),
        }
    }

    fn delete_child(&mut self, id: &ChildId) -> Result<(), SupervisorError> {
        let seq = self.seq(id).ok_or(SupervisorError::NotFound)?;
        match self.state(seq) {
            Some(State::Running(_)) => Err(SupervisorError::Running),
            Some(State::Restarting(_)) => Err(SupervisorError::Restarting),
            Some(State::Stopped) => {
                self.remove(seq);
                Ok(())
            }
            None => Err(SupervisorError::NotFound),
        }
    }

    fn get_childspec(&self, id: &ChildId) -> Result<ChildSpec, SupervisorError> {
        self.seq(id)
            .and_then(|seq| self.children.get(&seq))
            .map(|c| c.spec.clone())
            .ok_or(SupervisorError::NotFound)
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .values()
            .rev()
            .map(|c| ChildInfo::new(c.spec.id().clone(), c.status(), c.spec.child_type()))
            .collect()
    }

    fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for c in self.children.values() {
            let active = matches!(c.state, State::Running(pid) if crate::is_alive(pid));
            counts.add(c.spec.child_type(), active);
        }
        counts
    }
}

fn flow_action(flow: Flow) -> Action<SupervisorServer> {
    match flow {
        Flow::Continue => Action::NoReply,
        Flow::Shutdown => Action::Stop(ExitReason::Shutdown),
    }
}

impl GenServer for SupervisorServer {
    type Args = SupArgs;
    type Call = SupCall;
    type Reply = SupReply;
    type Cast = ();
    type Continue = ();

    /// Starts the children in order (SUP-01). If one fails, stops those started, in reverse
    /// order, and fails the start naming the child (SUP-19); the caller is unlinked first, so
    /// that the failure reaches it only as the start's error.
    async fn init(args: SupArgs, ctx: &mut Context<Self>) -> Init<Self> {
        ctx.trap_exit(true);
        let mut sup = SupervisorServer::new(args.flags, args.children.len());
        for spec in args.children {
            match Self::start_spec(&spec).await {
                Ok(Some(pid)) => {
                    report_child_started(ctx.pid(), spec.id(), pid, false);
                    sup.push(spec, State::Running(pid));
                }
                Ok(None) if spec.restart_type() == Restart::Temporary => {}
                Ok(None) => sup.push(spec, State::Stopped),
                Err(reason) => {
                    report_start_error(ctx.pid(), spec.id(), &reason);
                    sup.stop_all(ctx).await;
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
        }
        Init::Ok(sup)
    }

    async fn handle_call(&mut self, request: SupCall, ctx: &mut Context<Self>) -> CallResult<Self> {
        let reply = match request {
            SupCall::WhichChildren => SupReply::Children(self.which_children()),
            SupCall::CountChildren => SupReply::Counts(self.count_children()),
            SupCall::StartChild(spec) => SupReply::Started(self.start_child(ctx, spec).await),
            SupCall::TerminateChild(id) => SupReply::Done(self.terminate_child(ctx, &id).await),
            SupCall::RestartChild(id) => SupReply::Started(self.restart_child(ctx, &id).await),
            SupCall::DeleteChild(id) => SupReply::Done(self.delete_child(&id)),
            SupCall::GetChildspec(id) => SupReply::Spec(self.get_childspec(&id)),
        };
        CallResult::Reply(reply)
    }

    async fn handle_info(&mut self, info: Info, ctx: &mut Context<Self>) -> Action<Self> {
        match info {
            Info::Exit(signal) => match signal
                .from()
                .and_then(|pid| Some((pid, *self.by_pid.get(&pid)?)))
            {
                Some((pid, seq)) => {
                    let reason = signal.reason().clone();
                    flow_action(self.child_exited(ctx, seq, pid, reason).await)
                }
                // Not a child (any more): ignored, as OTP does.
                None => Action::NoReply,
            },
            Info::Message(m) => match m.downcast::<TryAgain>() {
                Ok(again) => flow_action(self.try_again(ctx, again).await),
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

    /// Stops the children in reverse start order, each per its shutdown (SUP-02): on `stop`,
    /// when the parent exits, and after giving up.
    async fn terminate(&mut self, _reason: &ExitReason, ctx: &mut Context<Self>) {
        self.stop_all(ctx).await;
    }
}
