//! What a stage publishes about itself for `process_info` (`ProcessInfo::details`): its kind,
//! its buffered and dropped counts, its producers and consumers.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use otp_core::process::{Pid, ProcessDetails};

use super::Kind;

/// A stage's figures, kept current by the stage with relaxed stores when they change, and read
/// only when a snapshot is taken.
pub(crate) struct StageStats {
    kind: Kind,
    buffered: AtomicUsize,
    dropped: AtomicU64,
    /// Consumers of this stage, and producers it subscribes to: changed only when a
    /// subscription starts or ends.
    consumers: Mutex<Vec<Pid>>,
    producers: Mutex<Vec<Pid>>,
}

impl StageStats {
    pub(crate) fn new(kind: Kind) -> Self {
        StageStats {
            kind,
            buffered: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
            consumers: Mutex::new(Vec::new()),
            producers: Mutex::new(Vec::new()),
        }
    }

    /// Called by the stage only when a figure changed (it keeps what it last published).
    pub(crate) fn counts(&self, buffered: usize, dropped: u64) {
        self.buffered.store(buffered, Ordering::Relaxed);
        self.dropped.store(dropped, Ordering::Relaxed);
    }

    pub(crate) fn consumers(&self, pids: Vec<Pid>) {
        *self.consumers.lock().unwrap_or_else(|p| p.into_inner()) = pids;
    }

    pub(crate) fn producers(&self, pids: Vec<Pid>) {
        *self.producers.lock().unwrap_or_else(|p| p.into_inner()) = pids;
    }
}

fn list(pids: &Mutex<Vec<Pid>>) -> String {
    let pids = pids.lock().unwrap_or_else(|p| p.into_inner());
    pids.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl ProcessDetails for StageStats {
    fn details(&self) -> Vec<(&'static str, String)> {
        let kind = match self.kind {
            Kind::Producer => "producer",
            Kind::ProducerConsumer => "producer_consumer",
            Kind::Consumer => "consumer",
        };
        vec![
            ("stage", kind.to_owned()),
            (
                "buffered",
                self.buffered.load(Ordering::Relaxed).to_string(),
            ),
            ("dropped", self.dropped.load(Ordering::Relaxed).to_string()),
            ("producers", list(&self.producers)),
            ("consumers", list(&self.consumers)),
        ]
    }
}
