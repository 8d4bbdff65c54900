//! The restart engine, one for both supervisors: a supervisor's children and what happens to
//! them — started, restarted by the strategy within the restart intensity and after any backoff,
//! stopped per their shutdown — with the reports and telemetry events of each step.
//!
//! A [`Supervisor`](super::Supervisor) and a [`DynamicSupervisor`](super::DynamicSupervisor) are
//! two GenServers around one [`Engine`]: each serves its own calls, and hands the engine its
//! children's exit signals, its retries and its own end. They differ only where OTP's two
//! supervisors differ, as the engine's [`Kind`] says.
//!
//! Children are kept by a sequence number given when they are added, in start order, so a group
//! restart takes a range of keys; they are found by pid (and, under a static supervisor, by id)
//! through indexes, so that lookups, additions and removals stay fast with many children.

use std::collections::BTreeMap;
use std::ops::Bound;

use rustc_hash::FxHashMap;

use super::backoff::{RestartState, TryAgain};
use super::error::SupervisorError;
use super::flags::{AutoShutdown, Strategy, SupFlags};
use super::info::{ChildCounts, ChildInfo, ChildStatus};
use super::intensity::Intensity;
use super::report::{
    report_child_started, report_child_terminated, report_max_intensity, report_start_error,
};
use super::shutdown::{Stopping, stop_child, stop_concurrently, stop_in_order};
use super::spec::{ChildId, ChildSpec, ChildStartError, Restart};
use crate::exit::ExitReason;
use crate::gen_server::{Action, Context, GenServer, unexpected_info};
use crate::message::Info;
use crate::pid::Pid;

/// Which supervisor runs the engine: where OTP's static and dynamic supervisors differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A [`Supervisor`](super::Supervisor): children are known by their ids, which are unique;
    /// a child that is not running keeps its spec (unless it is temporary) until deleted; they
    /// are stopped one at a time in reverse start order, and listed latest first.
    Static,
    /// A [`DynamicSupervisor`](super::DynamicSupervisor): children are known by their pids (a
    /// child being restarted by its last one), ids mean nothing; a child that is not running is
    /// forgotten; they are stopped all at once, and listed in start order.
    Dynamic,
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
    /// Waiting for a retry (its [`RestartState`] knows which). `last` is the pid it ran with,
    /// if it ran just before: a dynamic supervisor still knows it by that pid.
    Restarting {
        last: Option<Pid>,
    },
    Stopped,
}

impl State {
    /// The pid the child is found by, if any.
    fn key(self) -> Option<Pid> {
        match self {
            State::Running(pid) => Some(pid),
            State::Restarting { last, .. } => last,
            State::Stopped => None,
        }
    }
}

struct Child<A> {
    spec: ChildSpec<A>,
    state: State,
    restarts: RestartState,
}

impl<A> Child<A> {
    /// How to stop it, if it runs.
    fn stopping(&self) -> Option<Stopping> {
        match self.state {
            State::Running(pid) => Some(Stopping {
                id: self.spec.id().clone(),
                pid,
                restart: self.spec.restart_type(),
                shutdown: self.spec.shutdown_mode(),
            }),
            State::Restarting { .. } | State::Stopped => None,
        }
    }

    fn status(&self) -> ChildStatus {
        match self.state {
            State::Running(pid) => ChildStatus::Running(pid),
            State::Restarting { .. } => ChildStatus::Restarting,
            State::Stopped => ChildStatus::NotRunning,
        }
    }

    fn info(&self) -> ChildInfo {
        ChildInfo::new(
            self.spec.id().clone(),
            self.status(),
            self.spec.child_type(),
        )
    }
}

/// A supervisor's children and its restart intensity; `A` is the extra argument given to
/// every start function (`()` for a static supervisor).
pub(crate) struct Engine<A> {
    kind: Kind,
    flags: SupFlags,
    extra: A,
    /// The children by start order.
    children: BTreeMap<u64, Child<A>>,
    /// The children by pid: running ones, and those being restarted right after running.
    by_pid: FxHashMap<Pid, u64>,
    /// The children by id (a static supervisor's only).
    by_id: FxHashMap<ChildId, u64>,
    intensity: Intensity,
    next_seq: u64,
}

impl<A: Clone + Send + 'static> Engine<A> {
    /// An engine without children, with room for `capacity` of them.
    pub(crate) fn new(kind: Kind, flags: SupFlags, extra: A, capacity: usize) -> Self {
        let by_id = match kind {
            Kind::Static => FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
            Kind::Dynamic => FxHashMap::default(),
        };
        Engine {
            kind,
            flags,
            extra,
            children: BTreeMap::new(),
            by_pid: FxHashMap::with_capacity_and_hasher(capacity, Default::default()),
            by_id,
            intensity: Intensity::new(flags.intensity, flags.period),
            next_seq: 0,
        }
    }

    pub(crate) fn flags(&self) -> &SupFlags {
        &self.flags
    }

    /// How many children there are, running or not.
    pub(crate) fn len(&self) -> usize {
        self.children.len()
    }

    /// The child with this id (under a static supervisor).
    pub(crate) fn find_id(&self, id: &ChildId) -> Option<u64> {
        self.by_id.get(id).copied()
    }

    /// The child with this pid, or being restarted after running with it.
    pub(crate) fn find_pid(&self, pid: Pid) -> Option<u64> {
        self.by_pid.get(&pid).copied()
    }

    /// Where a child is.
    pub(crate) fn status(&self, seq: u64) -> Option<ChildStatus> {
        self.children.get(&seq).map(Child::status)
    }

    /// A child's spec.
    pub(crate) fn spec(&self, seq: u64) -> Option<&ChildSpec<A>> {
        self.children.get(&seq).map(|c| &c.spec)
    }

    /// Adds a child at the end of the start order.
    fn insert(&mut self, spec: ChildSpec<A>, state: State) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if let Some(pid) = state.key() {
            self.by_pid.insert(pid, seq);
        }
        if self.kind == Kind::Static {
            self.by_id.insert(spec.id().clone(), seq);
        }
        let mut restarts = RestartState::default();
        if matches!(state, State::Running(_)) && spec.backoff_policy().is_some() {
            restarts.started();
        }
        self.children.insert(
            seq,
            Child {
                spec,
                state,
                restarts,
            },
        );
    }

    fn remove(&mut self, seq: u64) {
        if let Some(child) = self.children.remove(&seq) {
            if let Some(pid) = child.state.key() {
                self.by_pid.remove(&pid);
            }
            if self.kind == Kind::Static {
                self.by_id.remove(child.spec.id());
            }
        }
    }

    /// Sets a child's state, keeping the pid index right.
    fn set_state(&mut self, seq: u64, state: State) {
        let Some(child) = self.children.get_mut(&seq) else {
            return;
        };
        if let Some(old) = child.state.key() {
            self.by_pid.remove(&old);
        }
        if let Some(pid) = state.key() {
            self.by_pid.insert(pid, seq);
        }
        // The start time matters only to a backoff.
        if matches!(state, State::Running(_)) && child.spec.backoff_policy().is_some() {
            child.restarts.started();
        }
        child.state = state;
    }

    /// Whether the supervisor keeps the spec of a child that is not running.
    fn keeps(&self, spec: &ChildSpec<A>) -> bool {
        self.kind == Kind::Static && spec.restart_type() != Restart::Temporary
    }

    /// A child is not running any more and will not be restarted: a static supervisor keeps it,
    /// not running, unless it is temporary; a dynamic one forgets it.
    fn retire(&mut self, seq: u64) {
        let keep = self.children.get(&seq).is_some_and(|c| self.keeps(&c.spec));
        if keep {
            self.set_state(seq, State::Stopped);
        } else {
            self.remove(seq);
        }
    }

    /// Starts a new child from `spec` and adds it at the end of the start order: `Ok(Some(pid))`
    /// once started; `Ok(None)` if its start was ignored (it is kept not running, if the
    /// supervisor keeps such children); the spec back, with the error, if the start failed
    /// (nothing is kept).
    pub(crate) async fn start_child<S: GenServer>(
        &mut self,
        ctx: &mut Context<S>,
        spec: ChildSpec<A>,
    ) -> Result<Option<Pid>, (ChildSpec<A>, ChildStartError)> {
        match spec.start_with(self.extra.clone()).await {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), spec.id(), pid, false);
                self.insert(spec, State::Running(pid));
                Ok(Some(pid))
            }
            Ok(None) => {
                if self.keeps(&spec) {
                    self.insert(spec, State::Stopped);
                }
                Ok(None)
            }
            Err(e) => Err((spec, e)),
        }
    }

    /// Starts a child that is not running (SUP-24): `Ok(Some(pid))`, or `Ok(None)` if its
    /// start was ignored; it stays not running if its start failed.
    pub(crate) async fn restart_child<S: GenServer>(
        &mut self,
        ctx: &mut Context<S>,
        seq: u64,
    ) -> Result<Option<Pid>, SupervisorError> {
        let Some(child) = self.children.get(&seq) else {
            return Err(SupervisorError::NotFound);
        };
        match child.state {
            State::Running(_) => return Err(SupervisorError::Running),
            State::Restarting { .. } => return Err(SupervisorError::Restarting),
            State::Stopped => {}
        }
        let outcome = child.spec.start_with(self.extra.clone()).await;
        tracing::debug!(supervisor = %ctx.pid(), child = %child.spec.id(), ?outcome, "restart_child");
        match outcome {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), child.spec.id(), pid, false);
                self.set_state(seq, State::Running(pid));
                Ok(Some(pid))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(SupervisorError::StartFailed(e)),
        }
    }

    /// Stops a child, if it runs, per its shutdown spec and waits until it has ended (SUP-23,
    /// DS-06); it is then retired, not restarted.
    pub(crate) async fn terminate_child<S: GenServer>(&mut self, ctx: &mut Context<S>, seq: u64) {
        let Some(child) = self.children.get(&seq) else {
            return;
        };
        if let Some(stopping) = child.stopping() {
            stop_child(ctx, &stopping).await;
        }
        self.retire(seq);
    }

    /// Removes a child that is not running (SUP-25).
    pub(crate) fn delete_child(&mut self, seq: u64) -> Result<(), SupervisorError> {
        match self.children.get(&seq).map(|c| c.state) {
            Some(State::Running(_)) => Err(SupervisorError::Running),
            Some(State::Restarting { .. }) => Err(SupervisorError::Restarting),
            Some(State::Stopped) => {
                self.remove(seq);
                Ok(())
            }
            None => Err(SupervisorError::NotFound),
        }
    }

    /// The children, in the order the supervisor lists them (SUP-26, DS-05).
    pub(crate) fn which_children(&self) -> Vec<ChildInfo> {
        match self.kind {
            Kind::Static => self.children.values().rev().map(Child::info).collect(),
            Kind::Dynamic => self.children.values().map(Child::info).collect(),
        }
    }

    /// The counts of the children (SUP-27, DS-05).
    pub(crate) fn count_children(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for c in self.children.values() {
            let active = matches!(c.state, State::Running(pid) if crate::process::is_alive(pid));
            counts.add(c.spec.child_type(), active);
        }
        counts
    }

    /// Stops every running child (on the supervisor's stop, on giving up, when its start
    /// fails): a static supervisor one at a time in reverse start order (SUP-02), keeping
    /// their specs; a dynamic one all at once (DS-07), forgetting them.
    pub(crate) async fn stop_all<S: GenServer>(&mut self, ctx: &mut Context<S>) {
        match self.kind {
            Kind::Static => {
                let stopping: Vec<Stopping> = self
                    .children
                    .values()
                    .rev()
                    .filter_map(Child::stopping)
                    .collect();
                stop_in_order(ctx, &stopping).await;
                for child in self.children.values_mut() {
                    child.state = State::Stopped;
                }
                self.by_pid.clear();
            }
            Kind::Dynamic => {
                let stopping: Vec<Stopping> =
                    self.children.values().filter_map(Child::stopping).collect();
                stop_concurrently(ctx, &stopping).await;
                self.children.clear();
                self.by_pid.clear();
            }
        }
    }

    /// Serves what reaches a supervisor outside calls: its children's exit signals, and its
    /// own retries of restarts (SUP-12). Other messages are logged and dropped.
    pub(crate) async fn handle_info<S: GenServer>(
        &mut self,
        info: Info,
        ctx: &mut Context<S>,
    ) -> Action<S> {
        let flow = match info {
            Info::Exit(signal) => match signal.from() {
                Some(pid) => match self.find_pid(pid) {
                    Some(seq) if self.state(seq) == Some(State::Running(pid)) => {
                        let reason = signal.reason().clone();
                        self.child_exited(ctx, seq, pid, reason).await
                    }
                    // Not a running child (any more): ignored, as OTP does.
                    _ => Flow::Continue,
                },
                // An `exit` called outside any process: not from a child.
                None => Flow::Continue,
            },
            Info::Message(m) => match m.downcast::<TryAgain>() {
                Ok(again) => self.try_again(ctx, again).await,
                Err(m) => {
                    unexpected_info::<S>(ctx.pid(), &Info::Message(m));
                    Flow::Continue
                }
            },
            other => {
                unexpected_info::<S>(ctx.pid(), &other);
                Flow::Continue
            }
        };
        match flow {
            Flow::Continue => Action::NoReply,
            Flow::Shutdown => Action::Stop(ExitReason::Shutdown),
        }
    }

    fn state(&self, seq: u64) -> Option<State> {
        self.children.get(&seq).map(|c| c.state)
    }

    /// A child ended: restart it, or not, by its restart type and the reason (SUP-10, DS-04).
    async fn child_exited<S: GenServer>(
        &mut self,
        ctx: &mut Context<S>,
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
        self.retire(seq);
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
    async fn restart<S: GenServer>(&mut self, ctx: &mut Context<S>, seq: u64) -> Flow {
        let delayed = self
            .children
            .get(&seq)
            .is_some_and(|c| c.spec.backoff_policy().is_some());
        if delayed {
            self.stop_dependents(ctx, seq).await;
            self.schedule_retry(ctx, seq);
            return Flow::Continue;
        }
        self.restart_now(ctx, seq).await
    }

    /// Counts a restart (SUP-04) and restarts by the strategy (SUP-06 to SUP-08); a child that
    /// fails to start is marked restarting and retried (SUP-12, SUP-13).
    async fn restart_now<S: GenServer>(&mut self, ctx: &mut Context<S>, seq: u64) -> Flow {
        let Some(child) = self.children.get(&seq) else {
            return Flow::Continue;
        };
        if !self.intensity.add_restart() {
            report_max_intensity(ctx.pid(), child.spec.id(), &self.flags);
            self.retire(seq);
            return Flow::Shutdown;
        }
        let from = match self.flags.strategy {
            Strategy::OneForOne => {
                self.start_again(ctx, seq).await;
                return Flow::Continue;
            }
            Strategy::OneForAll => Bound::Unbounded,
            Strategy::RestForOne => Bound::Included(seq),
        };
        self.stop_dependents(ctx, seq).await;
        self.set_state(seq, State::Stopped);
        self.start_in_order(ctx, from).await;
        Flow::Continue
    }

    /// Stops the children a restart of `seq` stops with it, by the strategy (none for
    /// one-for-one), in reverse start order; temporary ones are removed, the others left not
    /// running (OTP's `terminate_children` in a group restart).
    async fn stop_dependents<S: GenServer>(&mut self, ctx: &mut Context<S>, seq: u64) {
        let dependents: Vec<u64> = match self.flags.strategy {
            Strategy::OneForOne => return,
            Strategy::OneForAll => self
                .children
                .keys()
                .copied()
                .filter(|&k| k != seq)
                .collect(),
            Strategy::RestForOne => self.children.range(seq + 1..).map(|(&k, _)| k).collect(),
        };
        let stopping: Vec<Stopping> = dependents
            .iter()
            .rev()
            .filter_map(|seq| self.children.get(seq).and_then(Child::stopping))
            .collect();
        stop_in_order(ctx, &stopping).await;
        for seq in dependents {
            self.retire(seq);
        }
    }

    /// Starts the children from `from` on, in start order (all of them, as OTP's
    /// `start_children` does in a group restart). At the first that fails, stops: it is marked
    /// restarting and retried, the rest stay not running.
    async fn start_in_order<S: GenServer>(&mut self, ctx: &mut Context<S>, from: Bound<u64>) {
        let mut from = from;
        while let Some(seq) = self
            .children
            .range((from, Bound::Unbounded))
            .next()
            .map(|(&seq, _)| seq)
        {
            from = Bound::Excluded(seq);
            if !self.start_again(ctx, seq).await {
                return;
            }
        }
    }

    /// Starts a child again. Ignored, it is retired; failed, it is marked restarting and
    /// retried, and this returns `false`.
    async fn start_again<S: GenServer>(&mut self, ctx: &mut Context<S>, seq: u64) -> bool {
        let Some(child) = self.children.get(&seq) else {
            return true;
        };
        match child.spec.start_with(self.extra.clone()).await {
            Ok(Some(pid)) => {
                report_child_started(ctx.pid(), child.spec.id(), pid, true);
                self.set_state(seq, State::Running(pid));
                true
            }
            // A restart that is ignored retires the child (SUP-21).
            Ok(None) => {
                self.retire(seq);
                true
            }
            Err(e) => {
                report_start_error(ctx.pid(), child.spec.id(), &e);
                self.schedule_retry(ctx, seq);
                false
            }
        }
    }

    /// Marks a child restarting and schedules the retry: at once (to the end of the mailbox),
    /// or after its backoff delay.
    fn schedule_retry<S: GenServer>(&mut self, ctx: &mut Context<S>, seq: u64) {
        let Some(last) = self.state(seq).map(State::key) else {
            return;
        };
        self.set_state(seq, State::Restarting { last });
        if let Some(child) = self.children.get_mut(&seq) {
            let policy = child.spec.backoff_policy();
            child.restarts.schedule_retry(ctx, seq, policy);
        }
    }

    /// A retry is due: restart the child if it still waits for this retry.
    async fn try_again<S: GenServer>(&mut self, ctx: &mut Context<S>, again: TryAgain) -> Flow {
        let due = self.children.get(&again.seq).is_some_and(|c| {
            matches!(c.state, State::Restarting { .. }) && c.restarts.is_due(&again)
        });
        if due {
            self.restart_now(ctx, again.seq).await
        } else {
            Flow::Continue
        }
    }
}
