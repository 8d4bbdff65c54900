//! The line protocol between the parent and a peer: a [`Command`] per line on the peer's stdin,
//! an [`Event`] per line on its stdout. A line is a keyword, then fields separated by single
//! spaces, free text last; written with `Display`, read with `FromStr`.

use std::fmt;
use std::str::FromStr;

/// What the parent tells a peer: one line on the peer's stdin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `connect NODE`: connect to NODE. Answered by [`Event::Connected`] or
    /// [`Event::ConnectFailed`].
    Connect {
        /// The node's name.
        node: String,
    },
    /// `nodes`: the nodes connected now. Answered by [`Event::Nodes`].
    Nodes,
    /// `count NODE BY`: cast `add(BY)` to the counter registered on NODE, then call its `get()`.
    /// Answered by [`Event::Count`] or [`Event::CountFailed`].
    Count {
        /// The counter's node.
        node: String,
        /// What to add.
        by: u64,
    },
    /// `wait-for NODE TARGET`: call `wait_for(TARGET)` on the counter of NODE, which answers
    /// once its count reaches TARGET (with a 60 s call timeout). Answered by [`Event::Waited`]
    /// or [`Event::WaitFailed`].
    WaitFor {
        /// The counter's node.
        node: String,
        /// The count to wait for.
        target: u64,
    },
    /// `waiters`: how many calls wait on this peer's own counter. Answered by
    /// [`Event::Waiters`].
    Waiters,
    /// `monitor NODE NAME`: a process of the peer monitors the process registered as NAME on
    /// NODE. Answered by [`Event::Monitoring`] or [`Event::MonitorFailed`]; the monitor's
    /// `Down` is reported with [`Event::Down`].
    Monitor {
        /// The node.
        node: String,
        /// The registered name there.
        name: String,
    },
    /// `stop`: stop the node and exit with status 0, as closing the peer's stdin does.
    Stop,
}

/// What a peer reports: one line on its stdout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `up NODE`: the peer's node started, under this name (with the port it bound).
    Up {
        /// The node's name.
        node: String,
    },
    /// `node-up NODE`: a connection to NODE came up (`monitor_nodes`).
    NodeUp {
        /// The node's name.
        node: String,
    },
    /// `node-down NODE REASON`: the connection to NODE is gone (`monitor_nodes`); the reason's
    /// kind (`tick_timeout`, `connection_closed`, `disconnected`, `handshake_failed`,
    /// `frame_refused`).
    NodeDown {
        /// The node's name.
        node: String,
        /// The reason's kind.
        reason: String,
    },
    /// `connected NODE`.
    Connected {
        /// The node's name.
        node: String,
    },
    /// `connect-failed NODE WHY`.
    ConnectFailed {
        /// The node's name.
        node: String,
        /// Why.
        why: String,
    },
    /// `nodes NODE...`: the nodes connected (possibly none).
    Nodes {
        /// Their names, sorted.
        nodes: Vec<String>,
    },
    /// `count NODE VALUE`: the counter of NODE answered `get()` with VALUE.
    Count {
        /// The counter's node.
        node: String,
        /// Its value.
        value: u64,
    },
    /// `count-failed NODE WHY`.
    CountFailed {
        /// The counter's node.
        node: String,
        /// Why.
        why: String,
    },
    /// `waited NODE VALUE`: `wait_for` on the counter of NODE answered.
    Waited {
        /// The counter's node.
        node: String,
        /// The count it answered with.
        value: u64,
    },
    /// `wait-failed NODE KIND DETAIL`: the `wait_for` call failed; KIND is the call error's
    /// kind (`exited`, `timeout`, `noproc`...), DETAIL the exit reason for `exited`
    /// (`noconnection`), else the error. KIND is `lookup` when the counter was not found.
    WaitFailed {
        /// The counter's node.
        node: String,
        /// The kind of call error.
        kind: String,
        /// The exit reason, or the error.
        detail: String,
    },
    /// `waiters N`: N calls wait on the peer's own counter.
    Waiters {
        /// How many.
        count: u64,
    },
    /// `monitoring NODE NAME PID`: a process of the peer monitors NAME on NODE, which is PID.
    Monitoring {
        /// The node.
        node: String,
        /// The registered name.
        name: String,
        /// The process it resolved to.
        pid: String,
    },
    /// `monitor-failed NODE NAME WHY`: the name could not be resolved.
    MonitorFailed {
        /// The node.
        node: String,
        /// The registered name.
        name: String,
        /// Why.
        why: String,
    },
    /// `down NODE NAME REASON`: the monitor on NAME on NODE fired with REASON (an exit reason,
    /// `noconnection` when the connection to NODE was lost).
    Down {
        /// The node.
        node: String,
        /// The registered name.
        name: String,
        /// The exit reason.
        reason: String,
    },
    /// `refused WHY`: the peer did not understand a command.
    Refused {
        /// Why.
        why: String,
    },
}

/// Why a line of the protocol could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {line:?}: {problem}")]
pub struct ProtocolError {
    /// The line.
    pub line: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// What is wrong with a line of the protocol.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The first word is no keyword of the protocol.
    #[error("unknown keyword")]
    UnknownKeyword,
    /// A field is missing.
    #[error("no {0}")]
    Missing(&'static str),
    /// A field that should be a number is not.
    #[error("the {0} is not a number")]
    NotANumber(&'static str),
    /// Words after the last field.
    #[error("unexpected {0:?} at the end")]
    Trailing(String),
}

/// A word of a line: no space, no line break (a name with a space would break the line).
fn word(text: &str) -> String {
    text.replace(char::is_whitespace, "_")
}

/// Free text at the end of a line: no line break.
fn text(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Connect { node } => write!(f, "connect {}", word(node)),
            Command::Nodes => f.write_str("nodes"),
            Command::Count { node, by } => write!(f, "count {} {by}", word(node)),
            Command::WaitFor { node, target } => write!(f, "wait-for {} {target}", word(node)),
            Command::Waiters => f.write_str("waiters"),
            Command::Monitor { node, name } => {
                write!(f, "monitor {} {}", word(node), word(name))
            }
            Command::Stop => f.write_str("stop"),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Up { node } => write!(f, "up {}", word(node)),
            Event::NodeUp { node } => write!(f, "node-up {}", word(node)),
            Event::NodeDown { node, reason } => {
                write!(f, "node-down {} {}", word(node), word(reason))
            }
            Event::Connected { node } => write!(f, "connected {}", word(node)),
            Event::ConnectFailed { node, why } => {
                write!(f, "connect-failed {} {}", word(node), text(why))
            }
            Event::Nodes { nodes } => {
                f.write_str("nodes")?;
                for node in nodes {
                    write!(f, " {}", word(node))?;
                }
                Ok(())
            }
            Event::Count { node, value } => write!(f, "count {} {value}", word(node)),
            Event::CountFailed { node, why } => {
                write!(f, "count-failed {} {}", word(node), text(why))
            }
            Event::Waited { node, value } => write!(f, "waited {} {value}", word(node)),
            Event::WaitFailed { node, kind, detail } => write!(
                f,
                "wait-failed {} {} {}",
                word(node),
                word(kind),
                text(detail)
            ),
            Event::Waiters { count } => write!(f, "waiters {count}"),
            Event::Monitoring { node, name, pid } => {
                write!(f, "monitoring {} {} {}", word(node), word(name), word(pid))
            }
            Event::MonitorFailed { node, name, why } => write!(
                f,
                "monitor-failed {} {} {}",
                word(node),
                word(name),
                text(why)
            ),
            Event::Down { node, name, reason } => {
                write!(f, "down {} {} {}", word(node), word(name), text(reason))
            }
            Event::Refused { why } => write!(f, "refused {}", text(why)),
        }
    }
}

/// The fields of a line, read left to right.
struct Fields<'a> {
    line: &'a str,
    rest: &'a str,
}

impl<'a> Fields<'a> {
    fn new(line: &'a str) -> Self {
        Fields { line, rest: line }
    }

    fn error(&self, problem: Problem) -> ProtocolError {
        ProtocolError {
            line: self.line.to_owned(),
            problem,
        }
    }

    fn word(&mut self, what: &'static str) -> Result<&'a str, ProtocolError> {
        let (word, rest) = self.rest.split_once(' ').unwrap_or((self.rest, ""));
        if word.is_empty() {
            return Err(self.error(Problem::Missing(what)));
        }
        self.rest = rest;
        Ok(word)
    }

    fn string(&mut self, what: &'static str) -> Result<String, ProtocolError> {
        self.word(what).map(str::to_owned)
    }

    fn number(&mut self, what: &'static str) -> Result<u64, ProtocolError> {
        let word = self.word(what)?;
        word.parse()
            .map_err(|_| self.error(Problem::NotANumber(what)))
    }

    /// The rest of the line, as free text (possibly empty).
    fn text(&mut self) -> String {
        std::mem::take(&mut self.rest).to_owned()
    }

    /// Every word left.
    fn words(&mut self) -> Vec<String> {
        std::mem::take(&mut self.rest)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    }

    fn end<T>(self, value: T) -> Result<T, ProtocolError> {
        if self.rest.is_empty() {
            Ok(value)
        } else {
            Err(self.error(Problem::Trailing(self.rest.to_owned())))
        }
    }
}

impl FromStr for Command {
    type Err = ProtocolError;

    fn from_str(line: &str) -> Result<Self, ProtocolError> {
        let mut f = Fields::new(line.trim_end());
        let command = match f.word("keyword")? {
            "connect" => Command::Connect {
                node: f.string("node")?,
            },
            "nodes" => Command::Nodes,
            "count" => Command::Count {
                node: f.string("node")?,
                by: f.number("count to add")?,
            },
            "wait-for" => Command::WaitFor {
                node: f.string("node")?,
                target: f.number("target")?,
            },
            "waiters" => Command::Waiters,
            "monitor" => Command::Monitor {
                node: f.string("node")?,
                name: f.string("name")?,
            },
            "stop" => Command::Stop,
            _ => return Err(f.error(Problem::UnknownKeyword)),
        };
        f.end(command)
    }
}

impl FromStr for Event {
    type Err = ProtocolError;

    fn from_str(line: &str) -> Result<Self, ProtocolError> {
        let mut f = Fields::new(line.trim_end());
        let event = match f.word("keyword")? {
            "up" => Event::Up {
                node: f.string("node")?,
            },
            "node-up" => Event::NodeUp {
                node: f.string("node")?,
            },
            "node-down" => Event::NodeDown {
                node: f.string("node")?,
                reason: f.string("reason")?,
            },
            "connected" => Event::Connected {
                node: f.string("node")?,
            },
            "connect-failed" => Event::ConnectFailed {
                node: f.string("node")?,
                why: f.text(),
            },
            "nodes" => Event::Nodes { nodes: f.words() },
            "count" => Event::Count {
                node: f.string("node")?,
                value: f.number("value")?,
            },
            "count-failed" => Event::CountFailed {
                node: f.string("node")?,
                why: f.text(),
            },
            "waited" => Event::Waited {
                node: f.string("node")?,
                value: f.number("value")?,
            },
            "wait-failed" => Event::WaitFailed {
                node: f.string("node")?,
                kind: f.string("error kind")?,
                detail: f.text(),
            },
            "waiters" => Event::Waiters {
                count: f.number("count")?,
            },
            "monitoring" => Event::Monitoring {
                node: f.string("node")?,
                name: f.string("name")?,
                pid: f.string("pid")?,
            },
            "monitor-failed" => Event::MonitorFailed {
                node: f.string("node")?,
                name: f.string("name")?,
                why: f.text(),
            },
            "down" => Event::Down {
                node: f.string("node")?,
                name: f.string("name")?,
                reason: f.text(),
            },
            "refused" => Event::Refused { why: f.text() },
            _ => return Err(f.error(Problem::UnknownKeyword)),
        };
        f.end(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_events_round_trip_through_their_lines() {
        let commands = [
            Command::Connect {
                node: "c@127.0.0.1:4".into(),
            },
            Command::Nodes,
            Command::Count {
                node: "b@h:1".into(),
                by: 10,
            },
            Command::WaitFor {
                node: "b@h:1".into(),
                target: 1 << 40,
            },
            Command::Waiters,
            Command::Monitor {
                node: "c@h:2".into(),
                name: "counter".into(),
            },
            Command::Stop,
        ];
        for command in commands {
            assert_eq!(command.to_string().parse::<Command>(), Ok(command.clone()));
        }
        let events = [
            Event::Up {
                node: "b@h:1".into(),
            },
            Event::NodeUp {
                node: "a@h:0".into(),
            },
            Event::NodeDown {
                node: "c@h:2".into(),
                reason: "connection_closed".into(),
            },
            Event::Connected {
                node: "c@h:2".into(),
            },
            Event::ConnectFailed {
                node: "c@h:2".into(),
                why: "refused: connection refused".into(),
            },
            Event::Nodes { nodes: vec![] },
            Event::Nodes {
                nodes: vec!["a@h:0".into(), "c@h:2".into()],
            },
            Event::Count {
                node: "b@h:1".into(),
                value: 13,
            },
            Event::CountFailed {
                node: "b@h:1".into(),
                why: "no such process".into(),
            },
            Event::Waited {
                node: "b@h:1".into(),
                value: 5,
            },
            Event::WaitFailed {
                node: "b@h:1".into(),
                kind: "exited".into(),
                detail: "noconnection".into(),
            },
            Event::Waiters { count: 1 },
            Event::Monitoring {
                node: "c@h:2".into(),
                name: "counter".into(),
                pid: "<3.4.5>".into(),
            },
            Event::MonitorFailed {
                node: "c@h:2".into(),
                name: "x".into(),
                why: "not registered".into(),
            },
            Event::Down {
                node: "c@h:2".into(),
                name: "counter".into(),
                reason: "panic: boom now".into(),
            },
            Event::Refused {
                why: "cannot read \"x\"".into(),
            },
        ];
        for event in events {
            assert_eq!(event.to_string().parse::<Event>(), Ok(event.clone()));
        }
    }

    #[test]
    fn bad_lines_are_typed_errors() {
        let problem = |line: &str| line.parse::<Event>().map_err(|e| e.problem);
        assert_eq!(problem("hello"), Err(Problem::UnknownKeyword));
        assert_eq!(problem(""), Err(Problem::Missing("keyword")));
        assert_eq!(problem("count b@h:1"), Err(Problem::Missing("value")));
        assert_eq!(
            problem("count b@h:1 many"),
            Err(Problem::NotANumber("value"))
        );
        assert_eq!(problem("up a b"), Err(Problem::Trailing("b".into())));
        assert_eq!(
            "connect".parse::<Command>().map_err(|e| e.problem),
            Err(Problem::Missing("node"))
        );
    }
}
