//! The process task: the future tokio runs for each process.
//!
//! It wraps the process body and, on every poll, first registers the waker, marks the process
//! as the one running on this thread, and acts on pending exit signals — so a signal takes
//! effect at once, even while the body is waiting on something else than its mailbox. A panic in
//! the body is caught here and becomes [`ExitReason::Panic`]. Whichever way the process ends
//! (return, error, panic, kill, or the task being dropped with the runtime), the clean-up runs
//! exactly once: the exit reason is fixed first, then the mailbox and the body's state are
//! dropped, then names, links and monitors are told.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::current;
use super::end::{Logged, end};
use super::mailbox::Envelope;
use super::pcb::Pcb;
use super::signals::handle_signals;
use crate::exit::{ExitReason, IntoExitReason, panic_message};

pin_project! {
    pub(crate) struct ProcessTask<M: Envelope, F> {
        pcb: Arc<Pcb<M>>,
        #[pin]
        body: Option<F>,
    }

    impl<M: Envelope, F> PinnedDrop for ProcessTask<M, F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if this.body.is_some() {
                // The task is dropped before the process ended. Nothing aborts a process's
                // task, so the runtime is shutting down: the process is gone (`killed`); say so
                // to everyone concerned, but do not log it as a crash.
                finish(this.pcb, this.body, Ending::RuntimeShutdown);
            }
        }
    }
}

impl<M: Envelope, F> ProcessTask<M, F> {
    pub(crate) fn new(pcb: Arc<Pcb<M>>, body: F) -> Self {
        ProcessTask {
            pcb,
            body: Some(body),
        }
    }
}

impl<M, F> Future for ProcessTask<M, F>
where
    M: Envelope,
    F: Future,
    F::Output: IntoExitReason,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let pcb: &Arc<Pcb<M>> = this.pcb;
        pcb.core.waker.register(cx.waker());
        let _running = current::enter(pcb.core.pid, pcb.core.node);
        if pcb.core.signal_pending()
            && let Some(reason) = handle_signals(&**pcb)
        {
            finish(pcb, this.body, Ending::Exit(reason));
            return Poll::Ready(());
        }
        let Some(body) = this.body.as_mut().as_pin_mut() else {
            return Poll::Ready(());
        };
        let reason = match catch_unwind(AssertUnwindSafe(|| body.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(out)) => out.into_exit_reason(),
            Err(payload) => ExitReason::Panic(panic_message(&*payload)),
        };
        finish(pcb, this.body, Ending::Exit(reason));
        Poll::Ready(())
    }
}

/// How a process task ends.
enum Ending {
    /// The process ended with this reason.
    Exit(ExitReason),
    /// The runtime shut down under the process: it ends `killed`.
    RuntimeShutdown,
}

fn finish<M: Envelope, F>(pcb: &Arc<Pcb<M>>, mut body: Pin<&mut Option<F>>, ending: Ending) {
    // A panicking destructor of the body does not stop the clean-up.
    let (reason, logged) = match ending {
        Ending::Exit(reason) => (reason, Logged::Exit),
        Ending::RuntimeShutdown => (ExitReason::Killed, Logged::RuntimeShutdown),
    };
    let ended = end(pcb, reason, logged, || {
        let _ = catch_unwind(AssertUnwindSafe(|| body.set(None)));
    });
    if !ended {
        body.set(None);
    }
}

pin_project! {
    /// Polls a future as the process `pcb` would, though from another task: the process is the
    /// one running (its pid is current), its exit signals are acted on before each poll, and its
    /// waker is this task's. A server's `init` runs so, in the task that starts it, which saves
    /// the start a round trip between tasks; the server's own task begins after `init`.
    pub(crate) struct AsProcess<'a, M: Envelope, F> {
        pcb: &'a Arc<Pcb<M>>,
        #[pin]
        future: F,
    }
}

impl<'a, M: Envelope, F> AsProcess<'a, M, F> {
    pub(crate) fn new(pcb: &'a Arc<Pcb<M>>, future: F) -> Self {
        AsProcess { pcb, future }
    }
}

impl<M: Envelope, F: Future> Future for AsProcess<'_, M, F> {
    /// The future's output, or the exit reason a signal ended the process with.
    type Output = Result<F::Output, ExitReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let pcb: &Arc<Pcb<M>> = this.pcb;
        pcb.core.waker.register(cx.waker());
        let _running = current::enter(pcb.core.pid, pcb.core.node);
        if pcb.core.signal_pending()
            && let Some(reason) = handle_signals(&**pcb)
        {
            return Poll::Ready(Err(reason));
        }
        this.future.poll(cx).map(Ok)
    }
}
