//! [`Worker`]: a test child, a plain process whose starts a test plans ([`Plan`]) and which ends
//! when the test says so ([`Die`], [`kill_child`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use otp_core::name::send;
use otp_core::process::{ExitReason, Info, Pid, SpawnOptions, spawn_link_opt, wait_exit};
use otp_core::supervisor::{ChildSpec, ChildStartError};
use tokio::sync::{mpsc, oneshot};

use super::log::{Event, Log};
use crate::common::within;

/// The message that makes a test child end with a reason.
#[derive(Clone, Debug)]
pub struct Die(pub ExitReason);

/// How the next starts of a test child go.
#[derive(Clone, Debug)]
pub enum Plan {
    /// Start.
    Ok,
    /// Ignore the start.
    Ignore,
    /// Fail with `Error("start refused")`.
    Fail,
    /// Wait this long (paused clock), then fail.
    SlowFail(Duration),
    /// Start the first time, fail every time after (OTP's `supervisor_1:start_child(error)`).
    FailAfterFirst,
    /// Panic in the start function.
    Panic,
    /// Ask the test what to do, and wait for the answer (OTP's `supervisor_3`).
    Ask(mpsc::UnboundedSender<Ask>),
}

/// A start function asking the test what to do.
pub struct Ask {
    /// The child asking.
    pub id: &'static str,
    /// Where to answer.
    pub reply: oneshot::Sender<Decision>,
}

/// The test's answer to an [`Ask`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Start,
    Fail,
    Ignore,
}

/// Receives the next question of a start function and answers it; returns who asked.
pub async fn answer(asks: &mut mpsc::UnboundedReceiver<Ask>, decision: Decision) -> &'static str {
    let ask = within("a start function to ask", asks.recv())
        .await
        .expect("the askers are gone");
    let _ = ask.reply.send(decision);
    ask.id
}

struct Inner {
    id: &'static str,
    log: Log,
    plan: Mutex<Plan>,
    starts: AtomicUsize,
    /// `Some(linger)`: the child traps exits, and on an exit signal logs `Stopping`, waits
    /// `linger`, then ends with the signal's reason.
    trap: Option<Duration>,
}

/// A test child: a plain process, linked to the supervisor that starts it, that ends with the
/// reason of a [`Die`] message (or, if it traps exits, with the reason of an exit signal, after
/// lingering).
#[derive(Clone)]
pub struct Worker(Arc<Inner>);

impl Worker {
    /// A child that does not trap exits.
    pub fn new(id: &'static str, log: &Log) -> Self {
        Self::build(id, log, None)
    }

    /// A child that traps exits and lingers this long before ending on an exit signal.
    pub fn trapping(id: &'static str, log: &Log, linger: Duration) -> Self {
        Self::build(id, log, Some(linger))
    }

    fn build(id: &'static str, log: &Log, trap: Option<Duration>) -> Self {
        Worker(Arc::new(Inner {
            id,
            log: log.clone(),
            plan: Mutex::new(Plan::Ok),
            starts: AtomicUsize::new(0),
            trap,
        }))
    }

    /// Sets how the next starts go.
    pub fn plan(&self, plan: Plan) -> &Self {
        *self.0.plan.lock().unwrap() = plan;
        self
    }

    /// How many times the start function ran.
    pub fn starts(&self) -> usize {
        self.0.starts.load(Ordering::SeqCst)
    }

    /// Its child spec: a permanent worker, default shutdown.
    pub fn spec(&self) -> ChildSpec {
        let w = self.clone();
        ChildSpec::new(self.0.id, move || {
            let w = w.clone();
            async move { w.start().await }
        })
    }

    /// Its child spec for a dynamic supervisor with an extra argument, which it ignores.
    pub fn dyn_spec<A: Send + 'static>(&self) -> ChildSpec<A> {
        let w = self.clone();
        ChildSpec::with_arg(self.0.id, move |_: A| {
            let w = w.clone();
            async move { w.start().await }
        })
    }

    /// The start function.
    pub async fn start(&self) -> Result<Option<Pid>, ChildStartError> {
        let n = self.0.starts.fetch_add(1, Ordering::SeqCst);
        let plan = self.0.plan.lock().unwrap().clone();
        match plan {
            Plan::Ok => {}
            Plan::Ignore => return Ok(None),
            Plan::Fail => return Err(refused()),
            Plan::SlowFail(d) => {
                tokio::time::sleep(d).await;
                return Err(refused());
            }
            Plan::FailAfterFirst if n > 0 => return Err(refused()),
            Plan::FailAfterFirst => {}
            Plan::Panic => panic!("start function of {} panicked", self.0.id),
            Plan::Ask(tx) => {
                let (reply, decision) = oneshot::channel();
                let _ = tx.send(Ask {
                    id: self.0.id,
                    reply,
                });
                match decision.await {
                    Ok(Decision::Start) => {}
                    Ok(Decision::Ignore) => return Ok(None),
                    Ok(Decision::Fail) | Err(_) => return Err(refused()),
                }
            }
        }
        let id = self.0.id;
        let log = self.0.log.clone();
        let trap = self.0.trap;
        let pid = spawn_link_opt(
            SpawnOptions::new().trap_exit(trap.is_some()),
            move |mut me| async move {
                loop {
                    match me.recv().await {
                        Info::Message(m) => {
                            if let Ok(Die(reason)) = m.downcast::<Die>() {
                                return reason;
                            }
                        }
                        Info::Exit(signal) => {
                            let reason = signal.reason().clone();
                            log.push(Event::Stopping(id, reason.clone()));
                            if let Some(linger) = trap {
                                tokio::time::sleep(linger).await;
                            }
                            return reason;
                        }
                        _ => {}
                    }
                }
            },
        );
        self.0.log.push(Event::Started(id, pid));
        Ok(Some(pid))
    }
}

/// The error of a refused start.
pub fn refused() -> ChildStartError {
    ChildStartError::Failed(ExitReason::Error("start refused".into()))
}

/// The reason the tests crash children with when the reason does not matter: abnormal, so every
/// permanent or transient child is restarted.
pub fn abnormal() -> ExitReason {
    ExitReason::Error("died".into())
}

/// Makes the child `pid` end with `reason` and waits until it has.
pub async fn kill_child(pid: Pid, reason: ExitReason) {
    let exited = wait_exit(pid);
    send(pid, Die(reason.clone())).unwrap();
    assert_eq!(within("a child to end", exited).await, reason);
}

/// Makes the restarts of `w` hang: from now on each start attempt takes 2 s and fails. Crashes
/// its running incarnation `pid`, and lets the first attempt run out.
pub async fn hang_restarts(w: &Worker, pid: Pid) {
    w.plan(Plan::SlowFail(Duration::from_secs(2)));
    kill_child(pid, ExitReason::Error("error".into())).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
}
