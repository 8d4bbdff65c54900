//! Handler ids and the description of attached handlers.

use std::fmt;
use std::sync::Arc;

use crate::name::EventName;

/// The id a handler is attached under: unique among attached handlers, used to [`detach`](crate::detach) it.
///
/// Built from a `&str` or a `String`; cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HandlerId(Arc<str>);

impl HandlerId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for HandlerId {
    fn from(id: &str) -> Self {
        Self(Arc::from(id))
    }
}

impl From<String> for HandlerId {
    fn from(id: String) -> Self {
        Self(Arc::from(id))
    }
}

impl From<&String> for HandlerId {
    fn from(id: &String) -> Self {
        Self(Arc::from(id.as_str()))
    }
}

impl From<&HandlerId> for HandlerId {
    fn from(id: &HandlerId) -> Self {
        id.clone()
    }
}

impl PartialEq<str> for HandlerId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for HandlerId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for HandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for HandlerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// One (handler, event) pair, as listed by [`list_handlers`](crate::list_handlers) (TM-06).
///
/// A handler attached to several events appears once per event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerInfo {
    /// The handler's id.
    pub id: HandlerId,
    /// One event the handler is attached to.
    pub event: EventName,
}
