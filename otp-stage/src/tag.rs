//! The tag that names a subscription on both of its sides (apart from the protocol, so that
//! errors can name a subscription without depending on the protocol).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// One subscription of a consumer to a producer: both sides name it by this tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionTag(u64);

impl SubscriptionTag {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        SubscriptionTag(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl fmt::Display for SubscriptionTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Sub<{}>", self.0)
    }
}
