//! Starting a server: options, names, the synchronous start.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::context::Context;
use super::request::Request;
use super::run::{guarded, serve};
use super::{Action, GenServer, Init, ServerRef};
use crate::exit::ExitReason;
use crate::message::Name;
use crate::name::RegisterError;
use crate::node::Node;
use crate::pid::Pid;
use crate::process::{
    AsProcess, Envelope, MailboxBound, Pcb, ProcessKind, abandon, current_entry, end_unlaunched,
    launch, link_pair, prepare, unlink,
};

/// A name service a server can be registered in, as Erlang's `{via, Module, Name}`: one name in
/// it, bound to this value. [`Registry::via`](crate::registry::Registry::via) returns one.
pub trait ViaName: Send + Sync + 'static {
    /// Registers `pid` under this name; on conflict, returns the pid holding it. The name must
    /// be released when `pid` ends.
    fn register_name(&self, pid: Pid) -> Result<(), Pid>;
    /// The pid registered under this name, if any.
    fn whereis_name(&self) -> Option<Pid>;
    /// Describes the name, for errors and logs.
    fn describe(&self) -> String;
}

/// The name a server is registered under when it starts.
#[derive(Clone)]
pub enum ServerName {
    /// A local name (see [`register`](crate::name::register)).
    Local(Name),
    /// A name in another name service, such as a [`Registry`](crate::registry::Registry).
    Via(Arc<dyn ViaName>),
}

impl ServerName {
    /// The process registered under this name, if any.
    pub fn whereis(&self) -> Option<Pid> {
        match self {
            ServerName::Local(n) => crate::name::whereis(n),
            ServerName::Via(v) => v.whereis_name(),
        }
    }

    fn register(&self, pid: Pid) -> Result<(), StartError> {
        match self {
            ServerName::Local(n) => match crate::name::register(n, pid) {
                Ok(()) => Ok(()),
                Err(RegisterError::Taken { holder, .. }) => Err(StartError::AlreadyStarted(holder)),
                Err(e) => Err(StartError::Stopped(ExitReason::error(e))),
            },
            ServerName::Via(v) => v.register_name(pid).map_err(StartError::AlreadyStarted),
        }
    }
}

impl fmt::Debug for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerName::Local(n) => write!(f, "{n:?}"),
            ServerName::Via(v) => write!(f, "via {}", v.describe()),
        }
    }
}

impl From<&str> for ServerName {
    fn from(n: &str) -> Self {
        ServerName::Local(n.into())
    }
}

impl From<String> for ServerName {
    fn from(n: String) -> Self {
        ServerName::Local(n.into())
    }
}

impl From<Name> for ServerName {
    fn from(n: Name) -> Self {
        ServerName::Local(n)
    }
}

/// Options for starting a server.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    name: Option<ServerName>,
    timeout: Option<Duration>,
    mailbox: Option<MailboxBound>,
    hibernate_after: Option<Duration>,
    /// The server is a supervisor (its [`ProcessKind`]).
    supervisor: bool,
}

impl StartOptions {
    /// No name, no start timeout, an unbounded mailbox, no automatic hibernation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the server under a name before `init` runs; if the name is taken, the start
    /// fails with [`StartError::AlreadyStarted`] and `init` does not run.
    pub fn name(mut self, name: impl Into<ServerName>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Fails the start with [`StartError::Timeout`] if `init` takes longer; the server is then
    /// killed, and leaves no process, name or link behind. By default there is no limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Bounds the server's mailbox.
    pub fn mailbox(mut self, bound: MailboxBound) -> Self {
        self.mailbox = Some(bound);
        self
    }

    /// Hibernates the server after this long without a message.
    pub fn hibernate_after(mut self, idle: Duration) -> Self {
        self.hibernate_after = Some(idle);
        self
    }

    /// Marks the server as a supervisor, for introspection ([`ProcessKind::Supervisor`]).
    pub(crate) fn supervisor(mut self) -> Self {
        self.supervisor = true;
        self
    }
}

/// Why a server did not start.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The name is held by this process.
    #[error("already started: {0}")]
    AlreadyStarted(Pid),
    /// `init` returned [`Init::Ignore`](super::Init::Ignore).
    #[error("init ignored the start")]
    Ignored,
    /// `init` stopped, failed or panicked; the process exited with this reason.
    #[error("init failed: {0}")]
    Stopped(ExitReason),
    /// `init` did not finish within the start timeout.
    #[error("init timed out")]
    Timeout,
}

pub(super) async fn start<S: GenServer>(
    args: S::Args,
    options: StartOptions,
    link: bool,
) -> Result<ServerRef<S>, StartError> {
    let caller = current_entry();
    let node = caller
        .as_ref()
        .map_or_else(Node::current, |c| c.core().node);
    let type_name = std::any::type_name::<S>();
    let kind = if options.supervisor {
        ProcessKind::Supervisor(type_name)
    } else {
        ProcessKind::Server(type_name)
    };
    let pcb = prepare::<Request<S>>(
        node,
        caller.as_ref().map(|c| c.core().pid),
        kind,
        options.mailbox,
    );
    let pid = pcb.core.pid;
    if let Some(name) = &options.name
        && let Err(e) = name.register(pid)
    {
        abandon(&pcb);
        return Err(e);
    }
    let linked = match &caller {
        Some(c) if link => {
            link_pair(c.core(), &pcb.core);
            Some(c)
        }
        _ => None,
    };
    // `init` runs here, in the starting task, as the new process (its pid current, its exit
    // signals acted on); the process's own task starts with the state `init` built. Until
    // then, a guard ends the process if this start is dropped.
    let unlaunched = Unlaunched(&pcb);
    let mut ctx = Context::new(pcb.clone(), options.hibernate_after);
    let init = AsProcess::new(&pcb, guarded(S::init(args, &mut ctx)));
    let outcome = match options.timeout {
        None => init.await,
        Some(t) => match tokio::time::timeout(t, init).await {
            Ok(outcome) => outcome,
            Err(_) => {
                // As proc_lib does: unlink first, so the caller is not taken down, then end
                // the process; nothing of it is left when this returns.
                if let Some(c) = linked {
                    unlink(c.core(), pid);
                }
                drop(unlaunched);
                return Err(StartError::Timeout);
            }
        },
    };
    std::mem::forget(unlaunched);
    let (state, action) = match outcome {
        Ok(Ok(Init::Ok(state))) => (state, Action::NoReply),
        Ok(Ok(Init::OkThen(state, action))) => (state, action),
        Ok(Ok(Init::Ignore)) => {
            end_unlaunched(&pcb, ExitReason::Normal);
            return Err(StartError::Ignored);
        }
        Ok(Ok(Init::Stop(reason))) | Ok(Err(reason)) | Err(reason) => {
            end_unlaunched(&pcb, reason.clone());
            return Err(StartError::Stopped(reason));
        }
    };
    launch(pcb.clone(), Box::pin(serve::<S>(ctx, state, action)));
    Ok(ServerRef::from_pcb(pcb))
}

/// Ends a process whose start was dropped before its task was launched.
struct Unlaunched<'a, M: Envelope>(&'a Arc<Pcb<M>>);

impl<M: Envelope> Drop for Unlaunched<'_, M> {
    fn drop(&mut self) {
        end_unlaunched(self.0, ExitReason::Killed);
    }
}
