//! What the tests do to a running supervisor, of any kind: each helper takes any
//! [`SupervisorHandle`] — a [`SupervisorRef`](otp_core::supervisor::SupervisorRef), a
//! [`DynamicSupervisorRef`](otp_core::supervisor::DynamicSupervisorRef) or a
//! [`TaskSupervisorRef`](otp_core::task::TaskSupervisorRef).

use otp_core::process::{ExitReason, Pid};
use otp_core::supervisor::{ChildStatus, SupervisorHandle};

use super::worker::kill_child;
use crate::common::watch_exit;

/// Returns once `sup` has acted on every exit signal it received before this call: a
/// supervisor traps exits, so those signals are messages queued ahead of this call.
pub async fn settle<H: SupervisorHandle>(sup: &H) {
    let _ = sup.count_children().await;
}

/// Makes the child `pid` of `sup` end with `reason`, waits until it has, and until the
/// supervisor has acted on it (OTP's `terminate(Sup, Pid, Id, Reason)` in the suite).
pub async fn crash<H: SupervisorHandle>(sup: &H, pid: Pid, reason: ExitReason) {
    kill_child(pid, reason).await;
    settle(sup).await;
}

/// Makes the child `pid` of `sup` end with `reason`, and checks that the supervisor then ends
/// with `shutdown`: it gave up (SUP-05), or shut down automatically (SUP-30).
pub async fn assert_shuts_down<H: SupervisorHandle>(sup: &H, pid: Pid, reason: ExitReason) {
    let ended = watch_exit(sup.pid());
    kill_child(pid, reason).await;
    assert_eq!(
        ended.await,
        ExitReason::Shutdown,
        "{sup:?} did not shut down"
    );
}

/// `[specs, active, supervisors, workers]` of `sup`, as the suite's `get_child_counts`.
pub async fn counts<H: SupervisorHandle>(sup: &H) -> [usize; 4] {
    sup.count_children().await.unwrap().as_array()
}

/// `which_children` as `(id, status)` pairs, in its order.
pub async fn which<H: SupervisorHandle>(sup: &H) -> Vec<(String, ChildStatus)> {
    sup.which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id.to_string(), c.status))
        .collect()
}

/// The status of each child, in `which_children`'s order.
pub async fn statuses<H: SupervisorHandle>(sup: &H) -> Vec<ChildStatus> {
    which(sup).await.into_iter().map(|(_, s)| s).collect()
}

/// The pids of the running children, in `which_children`'s order.
pub async fn running<H: SupervisorHandle>(sup: &H) -> Vec<Pid> {
    statuses(sup)
        .await
        .into_iter()
        .filter_map(ChildStatus::pid)
        .collect()
}

/// The pid of the running child `id` of `sup`.
pub async fn pid_of<H: SupervisorHandle>(sup: &H, id: &str) -> Pid {
    let children = sup.which_children().await.unwrap();
    match children.iter().find(|c| c.id == id) {
        Some(c) => c
            .pid()
            .unwrap_or_else(|| panic!("child {id} is not running: {:?}", c.status)),
        None => panic!("no child {id} in {children:?}"),
    }
}
