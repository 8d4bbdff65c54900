//! The process table: every live local process by serial, and the process now running on this
//! thread.

use std::cell::Cell;
use std::sync::{Arc, LazyLock};

use dashmap::DashMap;
use rustc_hash::FxBuildHasher;

use super::core::ProcessEntry;
use crate::pid::Pid;

type Table = DashMap<u64, Arc<dyn ProcessEntry>, FxBuildHasher>;

static TABLE: LazyLock<Table> = LazyLock::new(|| DashMap::with_hasher(FxBuildHasher));

pub(crate) fn insert(pid: Pid, entry: Arc<dyn ProcessEntry>) {
    TABLE.insert(pid.serial(), entry);
}

pub(crate) fn remove(pid: Pid) {
    TABLE.remove(&pid.serial());
}

/// The live local process with this pid.
pub(crate) fn lookup(pid: Pid) -> Option<Arc<dyn ProcessEntry>> {
    if !pid.is_local() {
        return None;
    }
    TABLE.get(&pid.serial()).map(|e| Arc::clone(e.value()))
}

/// Every live process, in no particular order.
pub(crate) fn all() -> Vec<Arc<dyn ProcessEntry>> {
    TABLE.iter().map(|e| Arc::clone(e.value())).collect()
}

pub(crate) fn len() -> usize {
    TABLE.len()
}

thread_local! {
    static CURRENT: Cell<Option<Pid>> = const { Cell::new(None) };
}

/// The process whose task is being polled on this thread, if any.
#[inline]
pub(crate) fn current() -> Option<Pid> {
    CURRENT.with(Cell::get)
}

/// Marks `pid` as the running process until the guard drops.
#[inline]
pub(crate) fn enter(pid: Pid) -> CurrentGuard {
    CurrentGuard(CURRENT.with(|c| c.replace(Some(pid))))
}

pub(crate) struct CurrentGuard(Option<Pid>);

impl Drop for CurrentGuard {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}
