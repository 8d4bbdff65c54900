//! Starting a [`Supervisor`], and the typed handle to a running one.

use std::fmt;
use std::sync::{Arc, Mutex};

use super::check::{SpecError, check_flags, check_spec};
use super::error::{SupervisorError, SupervisorStartError};
use super::flags::SupFlags;
use super::management::sealed::Handle;
use super::management::{Call, SupervisorHandle, ask, inherent_handle_methods};
use super::server::{OwnCall, SupArgs, SupervisorServer};
use super::spec::{ChildId, ChildSpec};
use crate::gen_server::{GenServer, ServerRef, StartOptions};
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
    check_flags(flags)?;
    let mut seen =
        rustc_hash::FxHashSet::with_capacity_and_hasher(children.len(), Default::default());
    for spec in children {
        check_spec(spec, flags.auto_shutdown)?;
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
/// Cheap to clone. The calls common to every supervisor — `pid`, `which_children`,
/// `count_children`, `terminate_child` (by id), `stop`... — are those of
/// [`SupervisorHandle`], which it implements (and has as its own methods, so that calling them
/// needs no import); the calls below are a static supervisor's own. They wait without a time
/// limit, as Elixir's do (SUP-31); a call to a supervisor that is not running returns
/// [`SupervisorError::NoProc`].
#[derive(Clone, PartialEq, Eq)]
pub struct SupervisorRef {
    server: ServerRef<SupervisorServer>,
}

impl fmt::Debug for SupervisorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SupervisorRef{}", self.pid())
    }
}

impl Handle for SupervisorRef {
    type Server = SupervisorServer;

    fn server(&self) -> &ServerRef<SupervisorServer> {
        &self.server
    }

    fn from_server(server: ServerRef<SupervisorServer>) -> Self {
        SupervisorRef { server }
    }
}

/// Children are named by id.
impl SupervisorHandle for SupervisorRef {
    type Child = ChildId;
}

inherent_handle_methods!(SupervisorRef);

impl SupervisorRef {
    /// Adds a child at the end of the start order and starts it (SUP-22). `Ok(Some(pid))`
    /// once started; `Ok(None)` if its start was ignored (the spec is kept, not running,
    /// unless the child is temporary, SUP-21).
    ///
    /// Errors: [`AlreadyStarted`](SupervisorError::AlreadyStarted) if a child with this id
    /// runs, [`AlreadyPresent`](SupervisorError::AlreadyPresent) if one exists not running,
    /// [`StartFailed`](SupervisorError::StartFailed) if the start function failed (nothing is
    /// kept), [`InvalidSpec`](SupervisorError::InvalidSpec).
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, SupervisorError> {
        ask(&self.server, |answer| Call::StartChild(spec, answer)).await?
    }

    /// Starts a child that is not running (SUP-24). `Ok(Some(pid))`, or `Ok(None)` if its start
    /// was ignored. Errors: [`Running`](SupervisorError::Running),
    /// [`Restarting`](SupervisorError::Restarting), [`NotFound`](SupervisorError::NotFound),
    /// [`StartFailed`](SupervisorError::StartFailed) (the child stays not running).
    pub async fn restart_child(
        &self,
        id: impl Into<ChildId>,
    ) -> Result<Option<Pid>, SupervisorError> {
        let id = id.into();
        ask(&self.server, |answer| {
            Call::Own(OwnCall::RestartChild(id, answer))
        })
        .await?
    }

    /// Removes the spec of a child that is not running (SUP-25). Errors:
    /// [`Running`](SupervisorError::Running), [`Restarting`](SupervisorError::Restarting),
    /// [`NotFound`](SupervisorError::NotFound).
    pub async fn delete_child(&self, id: impl Into<ChildId>) -> Result<(), SupervisorError> {
        let id = id.into();
        ask(&self.server, |answer| {
            Call::Own(OwnCall::DeleteChild(id, answer))
        })
        .await?
    }

    /// A child's spec, with its defaults filled in (SUP-28). Error:
    /// [`NotFound`](SupervisorError::NotFound).
    pub async fn get_childspec(
        &self,
        id: impl Into<ChildId>,
    ) -> Result<ChildSpec, SupervisorError> {
        let id = id.into();
        ask(&self.server, |answer| {
            Call::Own(OwnCall::GetChildspec(id, answer))
        })
        .await?
    }
}
