//! The router a distributed node installs in its otp-core node: every send, link, monitor,
//! exit signal, call, cast, stop and lookup aimed at another node's process comes here, is
//! recorded in its connection's table where it must be, and is queued as a frame.

use std::sync::Arc;
use std::time::Duration;

use otp_core::node::Node;
use otp_core::process::{
    Encode, ExitReason, Message, MonitorRef, Pid, RemoteCallError, RemoteLookup, RemoteReply,
    RemoteRoom, RemoteStop, RemoteTarget, RouteError, Router, ServerRouter,
};

use otp_core::name::Name;

use crate::connection::{Connection, State, within};
use crate::frame::{put_frame_value, put_with};
use crate::node::{ConnectError, Shared};
use crate::proto::{Frame, Target, WirePid, hot};

/// The router of a distributed node.
pub(crate) struct DistRouter(pub(crate) Arc<Shared>);

/// What a pid of another node resolves to.
enum Reach {
    /// Its node's connection (up or being set up), and the pid is of its live incarnation (or
    /// the incarnation is not known yet).
    Conn(Arc<Connection>),
    /// A pid of an earlier incarnation of its node (or of this one): nothing reaches it.
    Stale,
    /// No connection to its node.
    Unreachable,
}

impl DistRouter {
    fn node(&self) -> Node {
        self.0.node
    }

    fn reach(&self, pid: Pid) -> Reach {
        if pid.node() == self.node().id() {
            return Reach::Stale;
        }
        match self.0.for_pid(pid.node()) {
            Some(conn) if conn.is_stale(pid) => Reach::Stale,
            Some(conn) => Reach::Conn(conn),
            None => Reach::Unreachable,
        }
    }

    /// The connection a call, cast or lookup goes through.
    fn conn_for(&self, to: RemoteTarget<'_>) -> Result<Arc<Connection>, RemoteCallError> {
        match to {
            RemoteTarget::Pid(pid) => match self.reach(pid) {
                Reach::Conn(conn) => Ok(conn),
                Reach::Stale => Err(RemoteCallError::NoProc),
                Reach::Unreachable => Err(RemoteCallError::NoConnection),
            },
            RemoteTarget::Name { node, .. } => self.0.to_node(node).map_err(connect_error),
        }
    }
}

fn connect_error(e: ConnectError) -> RemoteCallError {
    match e {
        ConnectError::ThisNode(_) => RemoteCallError::NoProc,
        _ => RemoteCallError::NoConnection,
    }
}

fn target(to: RemoteTarget<'_>) -> Target<'_> {
    match to {
        RemoteTarget::Pid(pid) => Target::Pid(pid.into()),
        RemoteTarget::Name { name, .. } => Target::Name(name.as_str()),
    }
}

impl Router for DistRouter {
    fn send(&self, _from: Option<Pid>, to: Pid, message: Message) -> Result<(), RouteError> {
        let Reach::Conn(conn) = self.reach(to) else {
            return Ok(());
        };
        let Some(encoder) = self.0.messages.encoder(&message) else {
            return Err(RouteError::NotSendable {
                type_name: message.type_name(),
                message,
            });
        };
        conn.push(|out| {
            put_with(out, |out| {
                hot::send(out, to, &encoder.tag, |out| (encoder.encode)(&message, out))
            })
        })
    }

    fn send_named(
        &self,
        _from: Option<Pid>,
        name: &Name,
        node: &str,
        message: Message,
    ) -> Result<(), RouteError> {
        if node == self.0.name() {
            // `{Name, node()} ! Msg`: this node's own name.
            self.node().deliver_named(name, message);
            return Ok(());
        }
        let Some(encoder) = self.0.messages.encoder(&message) else {
            return Err(RouteError::NotSendable {
                type_name: message.type_name(),
                message,
            });
        };
        // As Erlang: a message to a node that cannot be reached is dropped.
        let Ok(conn) = self.0.to_node(node) else {
            return Ok(());
        };
        conn.push_with_payload(
            |out| (encoder.encode)(&message, out),
            |payload, out| {
                let frame = Frame::SendNamed {
                    name: name.as_str(),
                    tag: &encoder.tag,
                    payload,
                };
                put_frame_value(out, &frame)
            },
        )
    }

    fn link(&self, from: Pid, to: Pid) {
        let node = self.node();
        match self.reach(to) {
            Reach::Conn(conn) if conn.add_link(from, to) => conn.push_frame(&Frame::Link {
                from: from.into(),
                to: to.into(),
            }),
            Reach::Conn(_) | Reach::Unreachable => {
                node.deliver_exit(Some(to), from, ExitReason::NoConnection, true);
            }
            Reach::Stale => node.deliver_exit(Some(to), from, ExitReason::NoProc, true),
        }
    }

    fn unlink(&self, from: Pid, to: Pid) {
        if let Reach::Conn(conn) = self.reach(to) {
            conn.remove_link(from, to);
            conn.push_frame(&Frame::Unlink {
                from: from.into(),
                to: to.into(),
            });
        }
    }

    fn exit(&self, from: Option<Pid>, to: Pid, reason: ExitReason, link: bool) {
        if let Reach::Conn(conn) = self.reach(to) {
            if link && let Some(from) = from {
                conn.remove_link(from, to);
            }
            conn.push_frame(&Frame::Exit {
                from: from.map(WirePid::from),
                to: to.into(),
                reason,
                link,
            });
        }
    }

    fn monitor(&self, watcher: Pid, target: Pid, reference: MonitorRef) {
        let node = self.node();
        match self.reach(target) {
            Reach::Conn(conn) if conn.add_watching(watcher, reference) => {
                conn.push_frame(&Frame::Monitor {
                    watcher: watcher.into(),
                    target: target.into(),
                    reference: reference.id(),
                });
            }
            Reach::Conn(_) | Reach::Unreachable => {
                node.deliver_down(watcher, reference, ExitReason::NoConnection);
            }
            Reach::Stale => node.deliver_down(watcher, reference, ExitReason::NoProc),
        }
    }

    fn demonitor(&self, watcher: Pid, target: Pid, reference: MonitorRef) {
        if let Reach::Conn(conn) = self.reach(target) {
            conn.remove_watching(reference);
            conn.push_frame(&Frame::Demonitor {
                watcher: watcher.into(),
                target: target.into(),
                reference: reference.id(),
            });
        }
    }

    fn down(&self, watcher: Pid, target: Pid, reference: MonitorRef, reason: ExitReason) {
        if let Reach::Conn(conn) = self.reach(watcher) {
            conn.remove_watched(reference);
            conn.push_frame(&Frame::Down {
                watcher: watcher.into(),
                target: target.into(),
                reference: reference.id(),
                reason,
            });
        }
    }
}

impl ServerRouter for DistRouter {
    fn cast(&self, to: RemoteTarget<'_>, message: &dyn Encode) -> Result<(), RouteError> {
        // As a local cast: to a process that cannot be reached, dropped.
        let push = |conn: &Connection| {
            let to = target(to);
            conn.push(|out| put_with(out, |out| hot::cast(out, to, |out| message.encode(out))))
        };
        match to {
            // The path of most casts: the connection read where it is, without a lock.
            RemoteTarget::Pid(pid) if pid.node() != self.node().id() => {
                match self.0.peers.load().get(&pid.node()) {
                    Some(conn) if !conn.is_stale(pid) => conn.push_cast(pid.into(), message),
                    _ => Ok(()),
                }
            }
            _ => match self.conn_for(to) {
                Ok(conn) => push(&conn),
                Err(_) => Ok(()),
            },
        }
    }

    fn call(
        &self,
        _from: Option<Pid>,
        to: RemoteTarget<'_>,
        request: &dyn Encode,
        timeout: Duration,
    ) -> RemoteReply {
        let conn = match self.conn_for(to) {
            Ok(conn) => conn,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let Some((id, rx)) = conn.add_call() else {
            return Box::pin(std::future::ready(Err(RemoteCallError::NoConnection)));
        };
        let wire_to = target(to);
        let queued = conn.push(|out| {
            put_with(out, |out| {
                hot::call(out, id, wire_to, |out| request.encode(out))
            })
        });
        if let Err(e) = queued {
            conn.forget_call(id);
            let e = match e {
                RouteError::Encode(why) => RemoteCallError::Encode(why),
                RouteError::Busy(node) => RemoteCallError::Busy(node),
                other => RemoteCallError::Encode(other.to_string()),
            };
            return Box::pin(std::future::ready(Err(e)));
        }
        Box::pin(async move {
            let answer = within(timeout, rx).await;
            if matches!(answer, Err(RemoteCallError::Timeout)) {
                conn.forget_call(id);
            }
            answer
        })
    }

    fn stop(&self, to: Pid, reason: ExitReason, timeout: Duration) -> RemoteStop {
        let conn = match self.conn_for(RemoteTarget::Pid(to)) {
            Ok(conn) => conn,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let Some((id, rx)) = conn.add_stop() else {
            return Box::pin(std::future::ready(Err(RemoteCallError::NoConnection)));
        };
        conn.push_frame(&Frame::Stop {
            id,
            to: to.into(),
            reason,
        });
        Box::pin(within(timeout, rx))
    }

    fn whereis(&self, name: &Name, node: &str) -> RemoteLookup {
        if node == self.0.name() {
            let found = self
                .node()
                .kind_of(otp_core::process::LocalTarget::Name(name));
            return Box::pin(std::future::ready(Ok(found)));
        }
        let conn = match self.0.to_node(node) {
            Ok(conn) => conn,
            Err(e) => return Box::pin(std::future::ready(Err(connect_error(e)))),
        };
        let Some((id, rx)) = conn.add_lookup() else {
            return Box::pin(std::future::ready(Err(RemoteCallError::NoConnection)));
        };
        conn.push_frame(&Frame::Whereis {
            id,
            name: name.as_str(),
        });
        let timeout = self.0.config.handshake_timeout + self.0.config.tick;
        Box::pin(async move {
            let found = within(timeout, rx).await;
            if found.is_err() && conn.state() == State::Closed {
                return Err(RemoteCallError::NoConnection);
            }
            found
        })
    }

    fn room(&self, to: RemoteTarget<'_>) -> RemoteRoom {
        match self.conn_for(to) {
            Ok(conn) => Box::pin(async move { conn.room().await }),
            // No connection: a cast is dropped, there is nothing to wait for.
            Err(_) => Box::pin(std::future::ready(())),
        }
    }
}
