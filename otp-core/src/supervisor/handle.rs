//! Starting a supervisor, and the typed handle to a running one.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::error::{SpecError, SupervisorError, SupervisorStartError};
use super::flags::SupFlags;
use super::info::{ChildCounts, ChildInfo};
use super::server::{SupArgs, SupCall, SupReply, SupervisorServer};
use super::spec::{ChildId, ChildSpec, ChildStartError, IntoChildStart};
use crate::exit::ExitReason;
use crate::gen_server::{GenServer, RefError, ServerRef, StartOptions, StopError};
use crate::message::Name;
use crate::pid::Pid;

/// A supervisor with a fixed list of children: start one with [`Supervisor::start_link`],
/// manage it through the returned [`SupervisorRef`]. See the [module docs](super).
///
/// (`Supervisor` only names the start functions; the supervisor's process and state are
/// internal.)
#[derive(Debug)]
#[non_exhaustive]
pub struct Supervisor;

/// Checks the flags and specs before anything starts (SUP-29).
fn check(flags: &SupFlags, children: &[ChildSpec]) -> Result<(), SpecError> {
    flags.check()?;
    let mut seen =
        rustc_hash::FxHashSet::with_capacity_and_hasher(children.len(), Default::default());
    for spec in children {
        spec.check(flags.auto_shutdown)?;
        if !seen.insert(spec.id().clone()) {
            return Err(SpecError::DuplicateId(spec.id().clone()));
        }
    }
    Ok(())
}

async fn start(
    children: Vec<ChildSpec>,
    flags: SupFlags,
    options: StartOptions,
    link: bool,
) -> Result<SupervisorRef, SupervisorStartError> {
    check(&flags, &children)?;
    let failure = Arc::new(Mutex::new(None));
    let args = SupArgs {
        flags,
        children,
        failure: failure.clone(),
    };
    let options = options.supervisor();
    let started = if link {
        SupervisorServer::start_link_with(args, options).await
    } else {
        SupervisorServer::start_with(args, options).await
    };
    match started {
        Ok(server) => Ok(SupervisorRef { server }),
        Err(e) => {
            let detail = failure.lock().ok().and_then(|mut slot| slot.take());
            Err(detail.unwrap_or_else(|| SupervisorStartError::from_start(e)))
        }
    }
}

impl Supervisor {
    /// Starts a supervisor linked to the calling process, with these children (started in
    /// this order, SUP-01) and flags. Returns once every child has started.
    ///
    /// Fails, with nothing left running, if the flags or a spec are invalid
    /// ([`SupervisorStartError::InvalidSpec`]: a zero period, duplicate ids, a significant
    /// child without auto-shutdown…) or if a child fails to start
    /// ([`SupervisorStartError::ChildFailed`], SUP-19: those started before it are stopped in
    /// reverse order). A failed start sends the caller no exit signal.
    pub fn start_link(
        children: impl IntoIterator<Item = ChildSpec>,
        flags: SupFlags,
    ) -> impl Future<Output = Result<SupervisorRef, SupervisorStartError>> + Send {
        start(
            children.into_iter().collect(),
            flags,
            StartOptions::new(),
            true,
        )
    }

    /// Starts a supervisor not linked to the caller. See [`start_link`](Self::start_link).
    pub fn start(
        children: impl IntoIterator<Item = ChildSpec>,
        flags: SupFlags,
    ) -> impl Future<Output = Result<SupervisorRef, SupervisorStartError>> + Send {
        start(
            children.into_iter().collect(),
            flags,
            StartOptions::new(),
            false,
        )
    }

    /// Starts a linked supervisor with options: a name (a name held by another process fails
    /// the start with [`SupervisorStartError::AlreadyStarted`]), a start timeout.
    pub fn start_link_with(
        children: impl IntoIterator<Item = ChildSpec>,
        flags: SupFlags,
        options: StartOptions,
    ) -> impl Future<Output = Result<SupervisorRef, SupervisorStartError>> + Send {
        start(children.into_iter().collect(), flags, options, true)
    }

    /// Starts a supervisor not linked to the caller, with options.
    pub fn start_with(
        children: impl IntoIterator<Item = ChildSpec>,
        flags: SupFlags,
        options: StartOptions,
    ) -> impl Future<Output = Result<SupervisorRef, SupervisorStartError>> + Send {
        start(children.into_iter().collect(), flags, options, false)
    }

    /// The child spec of a supervisor with these children and flags, to nest it under another
    /// supervisor: [`ChildType::Supervisor`](super::ChildType::Supervisor), shutdown infinity,
    /// permanent.
    pub fn child_spec(
        id: impl Into<ChildId>,
        children: impl IntoIterator<Item = ChildSpec>,
        flags: SupFlags,
    ) -> ChildSpec {
        let children: Vec<ChildSpec> = children.into_iter().collect();
        ChildSpec::supervisor(id, move || Supervisor::start_link(children.clone(), flags))
    }
}

/// A typed handle to a running [`Supervisor`]: its management calls, and a way to stop it.
///
/// Cheap to clone. The management calls wait without a time limit, as Elixir's do (SUP-31); a
/// call to a supervisor that is not running returns [`SupervisorError::NoProc`].
#[derive(Clone, PartialEq, Eq)]
pub struct SupervisorRef {
    server: ServerRef<SupervisorServer>,
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SupervisorRef{}", self.pid())
    }
}

impl SupervisorRef {
    /// The supervisor's pid, for links, monitors and exit signals.
    pub fn pid(&self) -> Pid {
        self.server.pid()
    }

    /// Recovers the handle from a pid, checking that it is a live supervisor.
    pub fn from_pid(pid: Pid) -> Result<Self, RefError> {
        ServerRef::from_pid(pid).map(|server| SupervisorRef { server })
    }

    /// The supervisor registered under a local name, if it is one.
    pub fn whereis(name: impl Into<Name>) -> Option<Self> {
        ServerRef::whereis(name).map(|server| SupervisorRef { server })
    }

    /// Whether the supervisor is alive.
    pub fn is_alive(&self) -> bool {
        self.server.is_alive()
    }

    async fn call(&self, request: SupCall) -> Result<SupReply, SupervisorError> {
        Ok(self.server.call_timeout(request, Duration::MAX).await?)
    }

    /// The children, latest started first (SUP-26), each with its id, its status (a pid,
    /// restarting, or not running) and its kind.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        match self.call(SupCall::WhichChildren).await? {
            SupReply::Children(children) => Ok(children),
            _ => unreachable!("the supervisor answers which_children with the children"),
        }
    }

    /// How many children there are: all, active, supervisors, workers (SUP-27).
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        match self.call(SupCall::CountChildren).await? {
            SupReply::Counts(counts) => Ok(counts),
            _ => unreachable!("the supervisor answers count_children with the counts"),
        }
    }

    /// Adds a child at the end of the start order and starts it (SUP-22). `Ok(Some(pid))`
    /// once started; `Ok(None)` if its start was ignored (the spec is kept, not running,
    /// unless the child is temporary, SUP-21).
    ///
    /// Errors: [`AlreadyStarted`](SupervisorError::AlreadyStarted) if a child with this id
    /// runs, [`AlreadyPresent`](SupervisorError::AlreadyPresent) if one exists not running,
    /// [`StartFailed`](SupervisorError::StartFailed) if the start function failed (nothing is
    /// kept), [`InvalidSpec`](SupervisorError::InvalidSpec).
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, SupervisorError> {
        match self.call(SupCall::StartChild(spec)).await? {
            SupReply::Started(started) => started,
            _ => unreachable!("the supervisor answers start_child with the start"),
        }
    }

    /// Stops a child per its shutdown spec and waits until it has ended (SUP-23). Its spec
    /// is kept, not running, unless it is temporary. A child that is not running is fine; one
    /// being restarted stops being restarted. Stopping a significant child this way does not
    /// trigger the auto-shutdown. Error: [`NotFound`](SupervisorError::NotFound).
    pub async fn terminate_child(&self, id: impl Into<ChildId>) -> Result<(), SupervisorError> {
        match self.call(SupCall::TerminateChild(id.into())).await? {
            SupReply::Done(done) => done,
            _ => unreachable!("the supervisor answers terminate_child with its outcome"),
        }
    }

    /// Starts a child that is not running (SUP-24). `Ok(Some(pid))`, or `Ok(None)` if its start
    /// was ignored. Errors: [`Running`](SupervisorError::Running),
    /// [`Restarting`](SupervisorError::Restarting), [`NotFound`](SupervisorError::NotFound),
    /// [`StartFailed`](SupervisorError::StartFailed) (the child stays not running).
    pub async fn restart_child(
        &self,
        id: impl Into<ChildId>,
    ) -> Result<Option<Pid>, SupervisorError> {
        match self.call(SupCall::RestartChild(id.into())).await? {
            SupReply::Started(started) => started,
            _ => unreachable!("the supervisor answers restart_child with the start"),
        }
    }

    /// Removes the spec of a child that is not running (SUP-25). Errors:
    /// [`Running`](SupervisorError::Running), [`Restarting`](SupervisorError::Restarting),
    /// [`NotFound`](SupervisorError::NotFound).
    pub async fn delete_child(&self, id: impl Into<ChildId>) -> Result<(), SupervisorError> {
        match self.call(SupCall::DeleteChild(id.into())).await? {
            SupReply::Done(done) => done,
            _ => unreachable!("the supervisor answers delete_child with its outcome"),
        }
    }

    /// A child's spec, with its defaults filled in (SUP-28). Error:
    /// [`NotFound`](SupervisorError::NotFound).
    pub async fn get_childspec(
        &self,
        id: impl Into<ChildId>,
    ) -> Result<ChildSpec, SupervisorError> {
        match self.call(SupCall::GetChildspec(id.into())).await? {
            SupReply::Spec(spec) => spec,
            _ => unreachable!("the supervisor answers get_childspec with the spec"),
        }
    }

    /// Stops the supervisor with reason `normal` and waits, without a time limit, until it has
    /// ended (Elixir's `Supervisor.stop/1`): its children are stopped first, in reverse start
    /// order, each per its shutdown spec.
    pub async fn stop(&self) -> Result<(), StopError> {
        self.server.stop(ExitReason::Normal).await
    }

    /// Stops the supervisor with `reason`, waiting at most `timeout` (`Duration::MAX`: no
    /// limit) until it has ended.
    pub async fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<(), StopError> {
        self.server.stop_timeout(reason, timeout).await
    }

    /// Resolves with the supervisor's exit reason once it has ended.
    pub async fn wait_exit(&self) -> ExitReason {
        self.server.wait_exit().await
    }
}

impl IntoChildStart for Result<SupervisorRef, SupervisorStartError> {
    fn into_child_start(self) -> Result<Option<Pid>, ChildStartError> {
        match self {
            Ok(sup) => Ok(Some(sup.pid())),
            Err(SupervisorStartError::AlreadyStarted(pid)) => {
                Err(ChildStartError::AlreadyStarted(pid))
            }
            Err(e) => Err(ChildStartError::Failed(e.to_exit_reason())),
        }
    }
}
