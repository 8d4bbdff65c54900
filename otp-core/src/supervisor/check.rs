//! Checking supervisor flags and child specs before any process starts (SUP-29): what a
//! supervisor refuses, and why.

use super::backoff::Backoff;
use super::flags::{AutoShutdown, Strategy, SupFlags};
use super::spec::{ChildId, ChildSpec, Restart};

/// A child spec or supervisor flags that a supervisor refuses (SUP-29), naming the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A child has an empty id (Erlang's `missing_id`).
    #[error("a child has an empty id")]
    EmptyId,
    /// Two children have the same id (Erlang's `{duplicate_child_name, Id}`).
    #[error("duplicate child id {0}")]
    DuplicateId(ChildId),
    /// The period of the restart intensity is zero (Erlang's `{invalid_period, 0}`).
    #[error("the restart intensity period is zero")]
    ZeroPeriod,
    /// A child is significant under a supervisor whose auto-shutdown is `Never` (Erlang's
    /// `{bad_combination, [{auto_shutdown, never}, {significant, true}]}`).
    #[error("child {0} is significant, but the supervisor's auto_shutdown is never")]
    SignificantWithoutAutoShutdown(ChildId),
    /// A permanent child is significant (Erlang's `{bad_combination, [{restart, permanent},
    /// {significant, true}]}`): it would never end without being restarted.
    #[error(
        "child {0} is significant and permanent; only transient and temporary children can be significant"
    )]
    SignificantPermanent(ChildId),
    /// A child's restart backoff makes no sense.
    #[error("child {id} has an invalid restart backoff: {problem}")]
    InvalidBackoff {
        /// The child.
        id: ChildId,
        /// What is wrong.
        problem: &'static str,
    },
    /// A child made with [`ChildSpec::once`](super::ChildSpec::once) is not temporary: its
    /// start function cannot run again for a restart.
    #[error("child {0} can only be started once, so it must be temporary")]
    OnceNotTemporary(ChildId),
    /// A dynamic supervisor was given another strategy than one-for-one (DS-01).
    #[error("a dynamic supervisor supports only the one_for_one strategy, not {0:?}")]
    DynamicStrategy(Strategy),
    /// A dynamic supervisor was given an auto-shutdown other than `Never` (DS-01).
    #[error("a dynamic supervisor supports only auto_shutdown never, not {0:?}")]
    DynamicAutoShutdown(AutoShutdown),
    /// A dynamic supervisor was given a significant child (DS-01).
    #[error("child {0} is significant, which a dynamic supervisor does not support")]
    DynamicSignificant(ChildId),
    /// A dynamic supervisor was given `max_children` of zero: it could start nothing.
    #[error("a dynamic supervisor's max_children is zero")]
    ZeroMaxChildren,
}

/// Checks the flags (SUP-29).
pub(crate) fn check_flags(flags: &SupFlags) -> Result<(), SpecError> {
    if flags.period.is_zero() {
        return Err(SpecError::ZeroPeriod);
    }
    Ok(())
}

/// Checks a spec on its own and against the supervisor's auto-shutdown (SUP-29, SUP-30).
pub(crate) fn check_spec<A>(
    spec: &ChildSpec<A>,
    auto_shutdown: AutoShutdown,
) -> Result<(), SpecError> {
    let id = spec.id();
    if id.as_str().is_empty() {
        return Err(SpecError::EmptyId);
    }
    if spec.is_once() && spec.restart_type() != Restart::Temporary {
        return Err(SpecError::OnceNotTemporary(id.clone()));
    }
    if spec.is_significant() {
        if spec.restart_type() == Restart::Permanent {
            return Err(SpecError::SignificantPermanent(id.clone()));
        }
        if auto_shutdown == AutoShutdown::Never {
            return Err(SpecError::SignificantWithoutAutoShutdown(id.clone()));
        }
    }
    if let Some(problem) = spec.backoff_policy().and_then(Backoff::problem) {
        return Err(SpecError::InvalidBackoff {
            id: id.clone(),
            problem,
        });
    }
    Ok(())
}
