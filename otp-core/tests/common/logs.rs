//! Capturing what the runtime logs through `tracing`, to check what it says and at which level.

use std::sync::{Arc, Mutex, PoisonError};

use otp_core::process::Pid;
use tracing_subscriber::layer::SubscriberExt;

/// One captured log event: its level and its fields, printed (`name=value ` each).
#[derive(Clone, Debug)]
pub struct Logged {
    pub level: tracing::Level,
    pub text: String,
}

/// A tracing layer that keeps every event.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<Logged>>>);

impl Logs {
    /// Captures this thread's events until the guard drops (the whole runtime of a
    /// current-thread test).
    pub fn install_for_thread(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(tracing_subscriber::registry().with(self.clone()))
    }

    /// Captures every thread's events, for the rest of the test binary (a binary of its own).
    pub fn install_globally(&self) {
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(self.clone()))
            .expect("no other global subscriber in this test binary");
    }

    /// Every event captured so far.
    pub fn events(&self) -> Vec<Logged> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The error events that mention `pid`.
    pub fn errors_about(&self, pid: Pid) -> Vec<String> {
        let pid = pid.to_string();
        self.events()
            .into_iter()
            .filter(|e| e.level == tracing::Level::ERROR && e.text.contains(&pid))
            .map(|e| e.text)
            .collect()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Logs {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                use std::fmt::Write;
                let _ = write!(self.0, "{}={:?} ", field.name(), value);
            }
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        let logged = Logged {
            level: *event.metadata().level(),
            text: fields.0,
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(logged);
    }
}
