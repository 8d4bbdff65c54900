//! What a process receives: [`Info`].
//!
//! A process's mailbox holds, besides a GenServer's typed calls and casts, *info* messages: the
//! untyped messages sent with [`send`](crate::name::send) (dispatched by their Rust type), exit signals
//! turned into messages by `trap_exit`, `Down` notifications of monitors, and the idle timeout of a
//! GenServer.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::exit::ExitReason;
use crate::pid::Pid;

/// A registered process name (a local name, as Erlang's registered atoms).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<str>);

impl Name {
    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Arc::from(s))
    }
}

impl From<&Name> for Name {
    fn from(n: &Name) -> Self {
        n.clone()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", &*self.0)
    }
}

/// An untyped message, received by a GenServer in `handle_info` and by a plain process in
/// [`Info::Message`]. Recover its value with [`downcast`](Message::downcast).
pub struct Message(Box<dyn AnyMessage>);

trait AnyMessage: Any + Send {
    fn type_name(&self) -> &'static str;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
    fn as_any(&self) -> &(dyn Any + Send);
}

impl<T: Any + Send> AnyMessage for T {
    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
    fn as_any(&self) -> &(dyn Any + Send) {
        self
    }
}

impl Message {
    /// Wraps a value.
    pub fn new<T: Any + Send>(value: T) -> Self {
        Message(Box::new(value))
    }

    /// Whether the message holds a `T`.
    pub fn is<T: Any>(&self) -> bool {
        // `(*self.0)`: the box itself is `Any + Send`, so `self.0.as_any()` would pick the
        // blanket impl on `Box<dyn AnyMessage>` and see the box, not the value.
        (*self.0).as_any().is::<T>()
    }

    /// A reference to the value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        (*self.0).as_any().downcast_ref::<T>()
    }

    /// The value, if it is a `T`; otherwise the message back, unchanged.
    pub fn downcast<T: Any>(self) -> Result<T, Message> {
        if self.is::<T>() {
            match self.0.into_any().downcast::<T>() {
                Ok(b) => Ok(*b),
                Err(_) => unreachable!("type checked just above"),
            }
        } else {
            Err(self)
        }
    }

    /// The [`TypeId`](std::any::TypeId) of the value (not of the box): what distribution looks
    /// up to find how to encode it.
    pub fn value_type_id(&self) -> std::any::TypeId {
        (*self.0).as_any().type_id()
    }

    /// The Rust type name of the value, for logs.
    pub fn type_name(&self) -> &'static str {
        (*self.0).type_name()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Message<{}>", self.type_name())
    }
}

/// The reference of a monitor, returned by `monitor` and carried by its [`Down`] message.
///
/// Unique across nodes: it carries the id and creation of the node that made it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef {
    pub(crate) node: u32,
    pub(crate) creation: u32,
    pub(crate) id: u64,
    /// The process monitored; `None` for a monitor by a name nobody held.
    pub(crate) target: Option<Pid>,
}

impl MonitorRef {
    /// A reference from its parts, as distribution rebuilds one that crossed the wire.
    pub const fn from_parts(node: u32, creation: u32, id: u64, target: Option<Pid>) -> Self {
        MonitorRef {
            node,
            creation,
            id,
            target,
        }
    }

    /// The id of the node that made it.
    pub const fn node(&self) -> u32 {
        self.node
    }

    /// The creation of the node that made it.
    pub const fn creation(&self) -> u32 {
        self.creation
    }

    /// Its number on that node.
    pub const fn id(&self) -> u64 {
        self.id
    }

    /// The process monitored; `None` for a monitor by a name nobody held.
    pub const fn target(&self) -> Option<Pid> {
        self.target
    }
}

impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}.{}.{}>", self.node, self.id, self.creation)
    }
}

impl fmt::Display for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What a monitor watches: a pid, or a registered name (Erlang's `{Name, Node}` object).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Monitored {
    /// A process by pid.
    Pid(Pid),
    /// A process by registered name, as it was when the monitor was set.
    Name(Name),
}

/// A monitor fired: the process it watched ended (or did not exist).
#[derive(Debug)]
pub struct Down(Box<DownInner>);

#[derive(Debug)]
struct DownInner {
    reference: MonitorRef,
    object: Monitored,
    pid: Option<Pid>,
    reason: ExitReason,
}

impl Down {
    pub(crate) fn new(reference: MonitorRef, object: Monitored, reason: ExitReason) -> Self {
        Down(Box::new(DownInner {
            pid: reference.target,
            reference,
            object,
            reason,
        }))
    }

    /// The monitor's reference, as `monitor` returned it.
    pub fn reference(&self) -> MonitorRef {
        self.0.reference
    }

    /// What was monitored: the pid, or the name for a monitor by name.
    pub fn object(&self) -> &Monitored {
        &self.0.object
    }

    /// The pid of the process that ended; `None` for a monitor by a name nobody held (there
    /// was no process).
    pub fn pid(&self) -> Option<Pid> {
        self.0.pid
    }

    /// Why it ended: its exit reason, or `NoProc` if it did not exist.
    pub fn reason(&self) -> &ExitReason {
        &self.0.reason
    }
}

/// An exit signal turned into a message, because the receiving process traps exits
/// (Erlang's `{'EXIT', From, Reason}`).
#[derive(Debug)]
pub struct ExitSignal(Box<(Option<Pid>, ExitReason)>);

impl ExitSignal {
    pub(crate) fn new(from: Option<Pid>, reason: ExitReason) -> Self {
        ExitSignal(Box::new((from, reason)))
    }

    /// The process the signal came from: a linked process that ended, or the process that
    /// called [`exit`](crate::process::exit); `None` for an `exit` called outside any process.
    pub fn from(&self) -> Option<Pid> {
        self.0.0
    }

    /// The exit reason it carries.
    pub fn reason(&self) -> &ExitReason {
        &self.0.1
    }
}

/// A message in a process's mailbox that is not a GenServer call or cast.
#[derive(Debug)]
#[non_exhaustive]
pub enum Info {
    /// An exit signal, received as a message because the process traps exits.
    Exit(ExitSignal),
    /// A monitored process ended.
    Down(Down),
    /// A GenServer's idle timeout passed with no message.
    Timeout,
    /// A user message sent with [`send`](crate::name::send) or a timer.
    Message(Message),
}

/// The idle timeout of a GenServer ([`Info::Timeout`]) as a type of its own, so that a derived
/// server's `#[info]` handler can take it: `fn on_idle(&mut self, _: IdleTimeout)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IdleTimeout;

impl Info {
    /// Takes the content of this info if it is a `T`, or gives the info back.
    ///
    /// `T` may be the type of a user message ([`Info::Message`]), [`ExitSignal`], [`Down`],
    /// [`IdleTimeout`], or `Info` itself (which takes anything). A derived server's `#[info]`
    /// handlers are tried in this way, in the order they are written.
    pub fn take<T: Any>(self) -> Result<T, Info> {
        let info = match cast::<Info, T>(self) {
            Ok(whole) => return Ok(whole),
            Err(info) => info,
        };
        match info {
            Info::Message(m) => m.downcast::<T>().map_err(Info::Message),
            Info::Exit(e) => cast(e).map_err(Info::Exit),
            Info::Down(d) => cast(d).map_err(Info::Down),
            Info::Timeout => cast(IdleTimeout).map_err(|_| Info::Timeout),
        }
    }

    /// The monitor reference, if this is a `Down`.
    pub(crate) fn down_ref(&self) -> Option<MonitorRef> {
        match self {
            Info::Down(d) => Some(d.reference()),
            _ => None,
        }
    }

    /// The sender, if this is an `Exit` from a process.
    pub(crate) fn exit_from(&self) -> Option<Pid> {
        match self {
            Info::Exit(e) => e.from(),
            _ => None,
        }
    }
}

/// `a` as a `B` if `A` and `B` are the same type, without allocating: a comparison of type ids
/// that the compiler folds away.
fn cast<A: Any, B: Any>(a: A) -> Result<B, A> {
    let mut slot = Some(a);
    if let Some(b) = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<B>>()
        .and_then(Option::take)
    {
        return Ok(b);
    }
    match slot {
        Some(a) => Err(a),
        // The downcast succeeded only if `A` is `B`, and then `take` returned the value.
        None => unreachable!("a value cast to its own type"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_downcast() {
        let m = Message::new(42u32);
        assert!(m.is::<u32>());
        assert_eq!(m.type_name(), "u32");
        let m = m.downcast::<String>().unwrap_err();
        assert_eq!(m.downcast::<u32>().unwrap(), 42);
    }

    #[test]
    fn info_stays_small() {
        assert!(std::mem::size_of::<Info>() <= 24);
    }
}
