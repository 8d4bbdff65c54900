//! Log capture for the tests that check what is logged through `tracing`.

#![allow(dead_code)] // each test binary uses part of it

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::Level;

/// Everything logged, as written by the subscriber.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// What was logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What this binary's tests log, at every level, through a global subscriber set once. (A
/// subscriber set for one thread with `with_default` is not reliable: another test's thread may
/// log from the same callsite first, with no subscriber, and tracing then caches that nobody is
/// interested.)
pub fn logs() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        logs
    })
}

/// The logged lines that mention `needle`.
pub fn lines_with(needle: &str) -> Vec<String> {
    logs()
        .text()
        .lines()
        .filter(|line| line.contains(needle))
        .map(str::to_owned)
        .collect()
}
