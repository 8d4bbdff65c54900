//! What kind of process a process is.

use std::fmt;

/// What kind of process this is, for introspection, logs and telemetry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessKind {
    /// A plain process, started with [`spawn`](super::spawn) (tasks are plain processes too).
    Plain,
    /// A [`GenServer`](crate::gen_server::GenServer): its Rust type name.
    Server(&'static str),
    /// A supervisor (static, dynamic, or a task supervisor), a GenServer that supervises: its
    /// Rust type name. A tool that lists a supervision tree asks only these for children.
    Supervisor(&'static str),
}

impl ProcessKind {
    /// A short name: `"process"` for a plain process, the type name for a server or a
    /// supervisor. Telemetry's `kind` metadata is this.
    pub fn name(&self) -> &'static str {
        match self {
            ProcessKind::Plain => "process",
            ProcessKind::Server(name) | ProcessKind::Supervisor(name) => name,
        }
    }

    /// Whether this is a GenServer (a supervisor is one too).
    pub fn is_server(&self) -> bool {
        !matches!(self, ProcessKind::Plain)
    }
}

impl fmt::Display for ProcessKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
