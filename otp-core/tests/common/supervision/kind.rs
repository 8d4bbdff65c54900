//! [`Kind`]: a kind of supervisor a test can start with test children, so that a test of what
//! holds for every kind — restarts, giving up, shutdowns — is written once, generic over it.

use otp_core::process::Pid;
use otp_core::supervisor::{
    ChildId, ChildSpec, DynamicOptions, DynamicSupervisor, DynamicSupervisorRef, SupFlags,
    Supervisor, SupervisorHandle, SupervisorRef,
};

/// A kind of supervisor: a [`SupervisorRef`] (static: children from a list of specs, kept by
/// id) or a [`DynamicSupervisorRef`] (children added one by one, known by pid).
pub trait Kind: SupervisorHandle {
    /// The kind, as test messages name it.
    const NAME: &'static str;

    /// Whether a child that ended and is not restarted keeps its spec, not running (a static
    /// supervisor), or is forgotten (a dynamic one).
    const KEEPS_ENDED_CHILDREN: bool;

    /// Starts a supervisor of this kind, linked to the caller, with these flags (one_for_one
    /// only for a dynamic one), then these children, in order.
    fn start_with(flags: SupFlags, children: Vec<ChildSpec>) -> impl Future<Output = Self> + Send;

    /// How [`terminate_child`](SupervisorHandle::terminate_child) names the child `id` running
    /// as `pid`: by id under a static supervisor, by pid under a dynamic one.
    fn child(id: &'static str, pid: Pid) -> Self::Child;
}

impl Kind for SupervisorRef {
    const NAME: &'static str = "Supervisor";
    const KEEPS_ENDED_CHILDREN: bool = true;

    async fn start_with(flags: SupFlags, children: Vec<ChildSpec>) -> Self {
        Supervisor::start_link(children, flags).await.unwrap()
    }

    fn child(id: &'static str, _: Pid) -> ChildId {
        id.into()
    }
}

impl Kind for DynamicSupervisorRef {
    const NAME: &'static str = "DynamicSupervisor";
    const KEEPS_ENDED_CHILDREN: bool = false;

    async fn start_with(flags: SupFlags, children: Vec<ChildSpec>) -> Self {
        let sup = DynamicSupervisor::start_link(DynamicOptions::new().flags(flags))
            .await
            .unwrap();
        for child in children {
            sup.start_child(child).await.unwrap();
        }
        sup
    }

    fn child(_: &'static str, pid: Pid) -> Pid {
        pid
    }
}
