//! Starting a [`DynamicSupervisor`], and the typed handle to a running one.

use std::fmt;

use super::options::DynamicOptions;
use super::server::DynamicServer;
use crate::gen_server::{GenServer, ServerRef};
use crate::pid::Pid;
use crate::supervisor::error::{SupervisorError, SupervisorStartError};
use crate::supervisor::management::sealed::Handle;
use crate::supervisor::management::{Call, SupervisorHandle, ask, inherent_handle_methods};
use crate::supervisor::spec::{ChildId, ChildSpec};

/// A supervisor of children started at run time (DS-01 to DS-07), as Elixir's `DynamicSupervisor`:
/// start one with [`DynamicSupervisor::start_link`], add children through the returned
/// [`DynamicSupervisorRef`].
///
/// A dynamic supervisor starts with no children; [`DynamicSupervisorRef::start_child`] starts
/// one from a [`ChildSpec`] and returns its pid, and the pid is how the child is known from then
/// on ([`terminate_child`](DynamicSupervisorRef::terminate_child) takes it). Ids are not used
/// and need not be unique. Restarts follow the child's restart type, one for one, with the same
/// restart intensity as a [`Supervisor`](crate::supervisor::Supervisor); on shutdown all children are
/// stopped at once, each with its own shutdown time.
///
/// **Extra arguments.** Elixir's `extra_arguments` are values the supervisor holds and prepends
/// to the arguments of every child it starts (DS-03). Here the supervisor holds one value of a
/// type `A` of your choice, given with [`DynamicOptions::extra_arg`]; children are started from
/// a [`ChildSpec<A>`] made with [`ChildSpec::with_arg`], whose start function receives a clone
/// of it on every start and restart. The caller of `start_child` need not know the value (a
/// pool's configuration, a connection handle). Most supervisors need none: `A` defaults to
/// `()`, and [`ChildSpec::new`] makes a `ChildSpec<()>`.
///
/// ```
/// use otp_core::process::spawn_link;
/// use otp_core::supervisor::{ChildSpec, DynamicOptions, DynamicSupervisor};
/// use otp_core::process::{ExitReason, Pid};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// // Every worker of this pool gets the pool's name.
/// let pool = DynamicSupervisor::start(DynamicOptions::new().extra_arg("pool-a").max_children(10))
///     .await
///     .unwrap();
/// let worker = ChildSpec::with_arg("worker", |pool: &'static str| async move {
///     Ok::<Pid, ExitReason>(spawn_link(move |mut me| async move {
///         let _ = (pool, me.recv().await);
///     }))
/// });
/// let pid = pool.start_child(worker.clone()).await.unwrap().unwrap();
/// assert_eq!(pool.count_children().await.unwrap().active, 1);
/// pool.terminate_child(pid).await.unwrap();
/// pool.stop().await.unwrap();
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct DynamicSupervisor;

async fn start<A: Clone + Send + 'static>(
    options: DynamicOptions<A>,
    link: bool,
) -> Result<DynamicSupervisorRef<A>, SupervisorStartError> {
    options.check()?;
    let start_options = options.start.clone().supervisor();
    let started = if link {
        DynamicServer::start_link_with(options, start_options).await
    } else {
        DynamicServer::start_with(options, start_options).await
    };
    started
        .map(|server| DynamicSupervisorRef { server })
        .map_err(SupervisorStartError::from_start)
}

impl DynamicSupervisor {
    /// Starts a dynamic supervisor linked to the calling process, with no children. Fails with
    /// [`SupervisorStartError::InvalidSpec`] for options it does not support (a strategy other
    /// than one-for-one, an auto-shutdown, a zero period or `max_children`).
    pub fn start_link<A: Clone + Send + 'static>(
        options: DynamicOptions<A>,
    ) -> impl Future<Output = Result<DynamicSupervisorRef<A>, SupervisorStartError>> + Send {
        start(options, true)
    }

    /// Starts a dynamic supervisor not linked to the caller.
    pub fn start<A: Clone + Send + 'static>(
        options: DynamicOptions<A>,
    ) -> impl Future<Output = Result<DynamicSupervisorRef<A>, SupervisorStartError>> + Send {
        start(options, false)
    }

    /// The child spec of a dynamic supervisor with these options, to nest it under another
    /// supervisor: [`ChildType::Supervisor`](crate::supervisor::ChildType::Supervisor), shutdown infinity,
    /// permanent.
    pub fn child_spec<A: Clone + Send + Sync + 'static>(
        id: impl Into<ChildId>,
        options: DynamicOptions<A>,
    ) -> ChildSpec {
        ChildSpec::supervisor(id, move || DynamicSupervisor::start_link(options.clone()))
    }
}

/// A typed handle to a running [`DynamicSupervisor`] whose children take an extra argument of
/// type `A` (`()` unless set with [`DynamicOptions::extra_arg`]).
///
/// Cheap to clone. The calls common to every supervisor — `pid`, `which_children`,
/// `count_children`, `terminate_child` (by pid), `stop`... — are those of
/// [`SupervisorHandle`], which it implements (and has as its own methods, so that calling them
/// needs no import); [`start_child`](Self::start_child) is a dynamic supervisor's own. The
/// calls wait without a time limit; a call to a supervisor that is not running returns
/// [`SupervisorError::NoProc`].
pub struct DynamicSupervisorRef<A: Clone + Send + 'static = ()> {
    server: ServerRef<DynamicServer<A>>,
}

impl<A: Clone + Send + 'static> Clone for DynamicSupervisorRef<A> {
    fn clone(&self) -> Self {
        DynamicSupervisorRef {
            server: self.server.clone(),
        }
    }
}

impl<A: Clone + Send + 'static> PartialEq for DynamicSupervisorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.server == other.server
    }
}

impl<A: Clone + Send + 'static> Eq for DynamicSupervisorRef<A> {}

impl<A: Clone + Send + 'static> fmt::Debug for DynamicSupervisorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynamicSupervisorRef{}", self.server.pid())
    }
}

impl<A: Clone + Send + 'static> Handle for DynamicSupervisorRef<A> {
    type Server = DynamicServer<A>;

    fn server(&self) -> &ServerRef<DynamicServer<A>> {
        &self.server
    }

    fn from_server(server: ServerRef<DynamicServer<A>>) -> Self {
        DynamicSupervisorRef { server }
    }
}

/// Children are named by pid; `from_pid` also checks the extra argument's type.
impl<A: Clone + Send + 'static> SupervisorHandle for DynamicSupervisorRef<A> {
    type Child = Pid;
}

inherent_handle_methods!(<A> DynamicSupervisorRef<A> where A: Clone + Send + 'static);

impl<A: Clone + Send + 'static> DynamicSupervisorRef<A> {
    /// Starts a child from `spec`, its start function given a clone of the supervisor's extra
    /// argument (DS-02, DS-03). `Ok(Some(pid))` once started; `Ok(None)` if the start was
    /// ignored (nothing is kept). The supervisor does nothing else while the child starts.
    ///
    /// Errors: [`MaxChildren`](SupervisorError::MaxChildren),
    /// [`StartFailed`](SupervisorError::StartFailed) (with
    /// [`ChildStartError::AlreadyStarted`](crate::supervisor::ChildStartError::AlreadyStarted)
    /// for a name clash), [`InvalidSpec`](SupervisorError::InvalidSpec) (a significant child, a
    /// start-once child that is not temporary, a bad backoff).
    pub async fn start_child(&self, spec: ChildSpec<A>) -> Result<Option<Pid>, SupervisorError> {
        ask(&self.server, |answer| Call::StartChild(spec, answer)).await?
    }
}
