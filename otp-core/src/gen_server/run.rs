//! The server loop: init, then one request at a time, each handler's [`Action`] deciding what
//! comes next, until a stop.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::request::Request;
use super::{Action, CallResult, Context as ServerContext, GenServer};
use crate::exit::{ExitReason, panic_message};
use crate::message::Info;

pin_project! {
    /// A callback future whose panic becomes an exit reason.
    pub(super) struct Guarded<F> {
        #[pin]
        callback: F,
    }
}

impl<F: Future> Future for Guarded<F> {
    type Output = Result<F::Output, ExitReason>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let callback = self.project().callback;
        match catch_unwind(AssertUnwindSafe(|| callback.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(ExitReason::Panic(panic_message(&*p)))),
        }
    }
}

pin_project! {
    /// A handler future whose panic becomes [`Action::Stop`] with the panic as the reason: the
    /// loop goes on with an `Action` either way, never with a `Result` around one (moving the
    /// `Action` out of a `Result` cost every message a load that spans two stores).
    struct OrStop<F> {
        #[pin]
        callback: F,
    }
}

impl<S: GenServer, F: Future<Output = Action<S>>> Future for OrStop<F> {
    type Output = Action<S>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Action<S>> {
        let callback = self.project().callback;
        match catch_unwind(AssertUnwindSafe(|| callback.poll(cx))) {
            Ok(polled) => polled,
            Err(p) => Poll::Ready(Action::Stop(ExitReason::Panic(panic_message(&*p)))),
        }
    }
}

/// Runs a handler, turning a panic into [`Action::Stop`] (see [`OrStop`]).
fn or_stop<S: GenServer, F: Future<Output = Action<S>>>(callback: F) -> OrStop<F> {
    OrStop { callback }
}

pin_project! {
    /// A callback future that wakes a waiting caller the first time it is not ready.
    struct Nudging<'a, F> {
        #[pin]
        callback: F,
        nudge: &'a mut Option<std::task::Waker>,
    }
}

impl<F: Future> Future for Nudging<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = this.callback.poll(cx);
        if polled.is_pending()
            && let Some(caller) = this.nudge.take()
        {
            caller.wake();
        }
        polled
    }
}

/// Runs a callback future, turning a panic into an exit reason.
pub(super) fn guarded<F: Future>(callback: F) -> Guarded<F> {
    Guarded { callback }
}

/// Runs `terminate` and returns the reason to exit with (a panic in `terminate` replaces it).
async fn terminate<S: GenServer>(
    state: &mut S,
    ctx: &mut ServerContext<S>,
    reason: ExitReason,
) -> ExitReason {
    match guarded(state.terminate(&reason, ctx)).await {
        Ok(()) => reason,
        Err(panic) => panic,
    }
}

/// The life of a server process after `init` (which runs in the starting task, see
/// `start`): one request at a time, each handler's [`Action`] deciding what comes next.
pub(crate) async fn serve<S: GenServer>(
    mut ctx: ServerContext<S>,
    mut state: S,
    mut action: Action<S>,
) -> ExitReason {
    let parent = ctx.parent();
    loop {
        let request = match action {
            Action::NoReply if ctx.hibernate_after.is_none() => ctx.recv(false).await,
            Action::NoReply => ctx.next(false).await,
            Action::Hibernate => ctx.next(true).await,
            Action::Timeout(after) => match ctx.recv_within(after).await {
                Some(r) => r,
                None => Request::Info(Info::Timeout),
            },
            Action::Continue(arg) => {
                action = or_stop(state.handle_continue(arg, &mut ctx)).await;
                continue;
            }
            Action::Stop(reason) => return terminate(&mut state, &mut ctx, reason).await,
        };
        // A panic in a handler is `Action::Stop(panic)`: `terminate` runs at the top of the loop.
        action = match request {
            Request::Call(call, mut from) => {
                // A caller that armed no timer is woken if the answer does not come within this
                // poll, so that it arms one (see `ServerRef::call_timeout`).
                let mut nudge = from.nudge.take();
                ctx.from = Some(from);
                let handled = Nudging {
                    callback: guarded(state.handle_call(call, &mut ctx)),
                    nudge: &mut nudge,
                }
                .await;
                let answered_now = match &handled {
                    Ok(CallResult::ReplyThen(_, Action::Stop(_))) => false,
                    Ok(CallResult::Reply(_) | CallResult::ReplyThen(..)) => true,
                    Ok(CallResult::NoReply(_)) | Err(_) => false,
                };
                if !answered_now && let Some(caller) = nudge.take() {
                    caller.wake();
                }
                match handled {
                    Ok(CallResult::Reply(reply)) => {
                        if let Some(from) = ctx.from.take() {
                            from.send(reply);
                        }
                        Action::NoReply
                    }
                    Ok(CallResult::ReplyThen(reply, Action::Stop(reason))) => {
                        let from = ctx.from.take();
                        let reason = terminate(&mut state, &mut ctx, reason).await;
                        if let Some(from) = from {
                            from.send(reply);
                        }
                        return reason;
                    }
                    Ok(CallResult::ReplyThen(reply, next)) => {
                        if let Some(from) = ctx.from.take() {
                            from.send(reply);
                        }
                        next
                    }
                    Ok(CallResult::NoReply(next)) => {
                        ctx.from = None;
                        next
                    }
                    Err(panic) => Action::Stop(panic),
                }
            }
            Request::Cast(msg) => or_stop(state.handle_cast(msg, &mut ctx)).await,
            Request::Info(Info::Exit(signal))
                if ctx.traps_exits() && parent.is_some() && parent == signal.from() =>
            {
                // The parent (our supervisor) exited and we trap exits: we stop with its reason.
                let reason = signal.reason().clone();
                return terminate(&mut state, &mut ctx, reason).await;
            }
            Request::Info(info) => or_stop(state.handle_info(info, &mut ctx)).await,
            Request::Stop(reason) => return terminate(&mut state, &mut ctx, reason).await,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen_server::{CallResult, Context, Init};
    use crate::node::Node;
    use crate::process::{ProcessKind, abandon, prepare};

    struct Small(u64);

    impl GenServer for Small {
        type Args = u64;
        type Call = u64;
        type Reply = u64;
        type Cast = u64;
        type Continue = ();

        async fn init(n: u64, _ctx: &mut Context<Self>) -> Init<Self> {
            Init::Ok(Small(n))
        }
        async fn handle_call(&mut self, r: u64, _ctx: &mut Context<Self>) -> CallResult<Self> {
            CallResult::Reply(self.0 + r)
        }
        async fn handle_cast(&mut self, m: u64, _ctx: &mut Context<Self>) -> Action<Self> {
            self.0 += m;
            Action::NoReply
        }
    }

    /// The server loop's future is allocated in every server's task: tokio's task allocation
    /// grows in steps with it, so it must stay small.
    #[test]
    fn server_loop_future_stays_small() {
        let pcb = prepare::<Request<Small>>(
            Node::default_node(),
            None,
            ProcessKind::Server("test"),
            None,
        );
        let fut = serve::<Small>(Context::new(pcb.clone(), None), Small(1), Action::NoReply);
        let size = std::mem::size_of_val(&fut);
        drop(fut);
        abandon(&pcb);
        eprintln!("server loop future: {size} bytes");
        // 520 bytes on Rust 1.95 for this server; a bound with some room, to catch a regression.
        assert!(size <= 640, "the server loop future grew to {size} bytes");
    }
}
