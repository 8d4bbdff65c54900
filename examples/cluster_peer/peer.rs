//! The parent's handle on a peer process: launch, commands, events with deadlines, signals,
//! stop, and a kill when dropped.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::args::PeerArgs;
use super::protocol::{Command, Event, ProtocolError};

/// A signal the parent sends a peer process, besides `kill -9` ([`Peer::kill`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGSTOP: the process is frozen, its sockets stay open and nothing answers on them.
    Stop,
    /// SIGCONT: a frozen process runs again.
    Cont,
}

impl Signal {
    fn flag(self) -> &'static str {
        match self {
            Signal::Stop => "-STOP",
            Signal::Cont => "-CONT",
        }
    }
}

/// Why something asked of a peer process failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// Its process could not be started.
    #[error("cannot start peer {peer}: {source}")]
    Spawn {
        /// The peer's short name.
        peer: String,
        /// Why.
        source: io::Error,
    },
    /// What was waited for did not come within the deadline.
    #[error("peer {peer}: no {what} within {within:?}")]
    Timeout {
        /// The peer.
        peer: String,
        /// What was waited for.
        what: String,
        /// The deadline.
        within: Duration,
    },
    /// The peer's stdout closed (it ended) before what was waited for came.
    #[error("peer {peer} ended ({status}) before {what}")]
    Ended {
        /// The peer.
        peer: String,
        /// What was waited for.
        what: String,
        /// How it ended, if known.
        status: String,
    },
    /// It wrote a line that is not of the protocol.
    #[error("peer {peer}: {source}")]
    Protocol {
        /// The peer.
        peer: String,
        /// The line and what is wrong with it.
        source: ProtocolError,
    },
    /// A command could not be written to its stdin (it ended, or closed its stdin).
    #[error("cannot tell peer {peer} {command:?}: {source}")]
    Write {
        /// The peer.
        peer: String,
        /// The command.
        command: String,
        /// Why.
        source: io::Error,
    },
    /// A signal could not be sent.
    #[error("cannot send {signal} to peer {peer}: {why}")]
    Signal {
        /// The peer.
        peer: String,
        /// The signal (`kill`'s flag).
        signal: &'static str,
        /// Why.
        why: String,
    },
    /// Its process did not exit within the deadline (after `stop`, or after SIGKILL); it was
    /// killed.
    #[error("peer {peer} did not exit within {within:?}")]
    DidNotExit {
        /// The peer.
        peer: String,
        /// The deadline.
        within: Duration,
    },
    /// Waiting for its process failed.
    #[error("cannot wait for peer {peer}: {source}")]
    Wait {
        /// The peer.
        peer: String,
        /// Why.
        source: io::Error,
    },
}

/// The parent's handle on a peer process (see the [module docs](super)). Killed and reaped when
/// dropped, if it is still running.
pub struct Peer {
    label: String,
    node: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<Result<Event, ProtocolError>>,
    /// Events read while waiting for another one, oldest first.
    unread: VecDeque<Event>,
    status: Option<ExitStatus>,
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("node", &self.node)
            .field("os_pid", &self.child.id())
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Peer {
    /// Runs `program` (the `cluster` example's binary) as the peer `args`, and waits at most
    /// `within` for it to report its node's name.
    ///
    /// # Errors
    /// [`PeerError::Spawn`], or the errors of [`expect`](Self::expect) (the process is then
    /// killed and reaped).
    pub async fn launch(
        program: &Path,
        args: &PeerArgs,
        within: Duration,
    ) -> Result<Self, PeerError> {
        let label = args.name.clone();
        let mut child = std::process::Command::new(program)
            .args(args.to_args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| PeerError::Spawn {
                peer: label.clone(),
                source,
            })?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let (tx, lines) = mpsc::unbounded_channel();
        if let Some(stdout) = stdout {
            // A thread, not a task: the pipe is read with blocking reads. It ends at the
            // pipe's end (the peer exited) or when the handle is dropped.
            let spawned = std::thread::Builder::new()
                .name(format!("peer-{label}-stdout"))
                .spawn(move || {
                    for line in BufReader::new(stdout).lines() {
                        let Ok(line) = line else { break };
                        if tx.send(line.parse::<Event>()).is_err() {
                            break;
                        }
                    }
                });
            if let Err(source) = spawned {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PeerError::Spawn {
                    peer: label,
                    source,
                });
            }
        }
        let mut peer = Peer {
            label,
            node: String::new(),
            child,
            stdin,
            lines,
            unread: VecDeque::new(),
            status: None,
        };
        peer.node = peer
            .expect("`up` line", within, |e| match e {
                Event::Up { node } => Some(node.clone()),
                _ => None,
            })
            .await?;
        Ok(peer)
    }

    /// The peer's short name (`b`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Its node's name, `name@host:port`.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Its OS process id.
    pub fn os_pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes `command` to its stdin.
    ///
    /// # Errors
    /// [`PeerError::Write`].
    pub fn send(&mut self, command: &Command) -> Result<(), PeerError> {
        let line = command.to_string();
        let written = match self.stdin.as_mut() {
            Some(stdin) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "its stdin is closed",
            )),
        };
        written.map_err(|source| PeerError::Write {
            peer: self.label.clone(),
            command: line,
            source,
        })
    }

    /// The first event, among those not yet taken and those to come within `within`, that
    /// `pick` accepts, turned into what `pick` returns. The events it does not accept are kept,
    /// in order, for later calls.
    ///
    /// # Errors
    /// [`PeerError::Timeout`], [`PeerError::Ended`] (the peer's stdout closed),
    /// [`PeerError::Protocol`].
    pub async fn expect<T>(
        &mut self,
        what: &str,
        within: Duration,
        mut pick: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, PeerError> {
        if let Some(found) = self
            .unread
            .iter()
            .enumerate()
            .find_map(|(i, e)| pick(e).map(|t| (i, t)))
        {
            self.unread.remove(found.0);
            return Ok(found.1);
        }
        let deadline = Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Err(_) => {
                    return Err(PeerError::Timeout {
                        peer: self.label.clone(),
                        what: what.to_owned(),
                        within,
                    });
                }
                Ok(None) => {
                    let status = match self.wait_exit(Duration::from_secs(5)).await {
                        Ok(Some(status)) => status.to_string(),
                        Ok(None) => "still running, its stdout closed".to_owned(),
                        Err(e) => e.to_string(),
                    };
                    return Err(PeerError::Ended {
                        peer: self.label.clone(),
                        what: what.to_owned(),
                        status,
                    });
                }
                Ok(Some(Err(source))) => {
                    return Err(PeerError::Protocol {
                        peer: self.label.clone(),
                        source,
                    });
                }
                Ok(Some(Ok(event))) => match pick(&event) {
                    Some(found) => return Ok(found),
                    None => self.unread.push_back(event),
                },
            }
        }
    }

    /// Sends `command`, then waits for the event `pick` accepts, as [`expect`](Self::expect).
    ///
    /// # Errors
    /// As [`send`](Self::send) and [`expect`](Self::expect).
    pub async fn ask<T>(
        &mut self,
        command: &Command,
        within: Duration,
        pick: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, PeerError> {
        self.send(command)?;
        self.expect(&format!("answer to `{command}`"), within, pick)
            .await
    }

    /// Closes its stdin, as its parent's death would: the peer stops its node and exits with
    /// status 0. Later commands fail with [`PeerError::Write`].
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Kills the process with SIGKILL (`kill -9`: no cleanup runs in it; the kernel closes its
    /// sockets) and reaps it.
    ///
    /// # Errors
    /// [`PeerError::Signal`], [`PeerError::DidNotExit`], [`PeerError::Wait`].
    pub async fn kill(&mut self, within: Duration) -> Result<ExitStatus, PeerError> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        self.child.kill().map_err(|e| PeerError::Signal {
            peer: self.label.clone(),
            signal: "-KILL",
            why: e.to_string(),
        })?;
        self.wait_exit(within)
            .await?
            .ok_or_else(|| PeerError::DidNotExit {
                peer: self.label.clone(),
                within,
            })
    }

    /// Sends `signal` to the process, with the system's `kill` command.
    ///
    /// # Errors
    /// [`PeerError::Signal`]: `kill` could not run or failed (the process is gone).
    pub fn signal(&self, signal: Signal) -> Result<(), PeerError> {
        let error = |why: String| PeerError::Signal {
            peer: self.label.clone(),
            signal: signal.flag(),
            why,
        };
        if self.status.is_some() {
            return Err(error("it has exited".into()));
        }
        let status = std::process::Command::new("kill")
            .args([signal.flag(), &self.child.id().to_string()])
            .status()
            .map_err(|e| error(format!("cannot run kill: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(error(format!("kill: {status}")))
        }
    }

    /// Tells the peer to stop, closes its stdin, and waits at most `within` for it to exit;
    /// kills it if it does not.
    ///
    /// # Errors
    /// [`PeerError::DidNotExit`] (it was killed), [`PeerError::Wait`].
    pub async fn stop(&mut self, within: Duration) -> Result<ExitStatus, PeerError> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        // A peer that already ended cannot read it: its status tells.
        let _ = self.send(&Command::Stop);
        self.stdin = None;
        match self.wait_exit(within).await? {
            Some(status) => Ok(status),
            None => {
                let _ = self.kill(within).await;
                Err(PeerError::DidNotExit {
                    peer: self.label.clone(),
                    within,
                })
            }
        }
    }

    /// The process's exit status, once it has exited, waiting at most `within` (`None`: it
    /// still runs).
    ///
    /// # Errors
    /// [`PeerError::Wait`].
    pub async fn wait_exit(&mut self, within: Duration) -> Result<Option<ExitStatus>, PeerError> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.status {
                return Ok(Some(status));
            }
            match self.child.try_wait() {
                Ok(Some(status)) => self.status = Some(status),
                Ok(None) if Instant::now() >= deadline => return Ok(None),
                Ok(None) => tokio::time::sleep(Duration::from_millis(10)).await,
                Err(source) => {
                    return Err(PeerError::Wait {
                        peer: self.label.clone(),
                        source,
                    });
                }
            }
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if self.status.is_none() {
            // SIGKILL ends a stopped process too; the wait after it does not block for long.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The binary of the example `name`, for the tests: built (with the `cargo` that builds the
/// tests, into their target directory and profile) and found beside the test's own binary, in
/// `<target>/<profile>/examples`. Built every time, which costs half a second when it is up to
/// date: a test run alone (`cargo test --test cluster`) does not build the examples, and would
/// otherwise run a stale one.
///
/// # Errors
/// The test's path is not where cargo puts tests, or the build failed.
pub fn example_binary(name: &str) -> io::Result<PathBuf> {
    let test = std::env::current_exe()?;
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| io::Error::other("the test does not run from <target>/<profile>/deps"))?;
    let (Some(target_dir), Some(profile)) = (
        profile_dir.parent(),
        profile_dir.file_name().and_then(|p| p.to_str()),
    ) else {
        return Err(io::Error::other(
            "the test does not run from <target>/<profile>/deps",
        ));
    };
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo
        .args(["build", "-q", "-p", "otp-examples", "--example", name])
        .arg("--target-dir")
        .arg(target_dir);
    match profile {
        "debug" => {}
        "release" => {
            cargo.arg("--release");
        }
        other => {
            cargo.args(["--profile", other]);
        }
    }
    let built = cargo.status()?;
    if !built.success() {
        return Err(io::Error::other(format!(
            "cannot build the example {name}: {built}"
        )));
    }
    Ok(profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)))
}
