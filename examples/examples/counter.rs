//! A named counter server.
//!
//! Starts a `Counter` GenServer registered under the name `"counter"`, casts increments to it,
//! calls it for the count, finds it again by name, and stops it.
//!
//! ```sh
//! cargo run -p otp-examples --example counter
//! ```

use otp::prelude::*;

/// The counter's state.
struct Counter {
    count: u64,
}

/// Calls: requests that get a reply.
enum Request {
    /// The current count.
    Get,
}

/// Casts: messages that get no reply.
#[derive(Debug)]
enum Command {
    /// Add to the count.
    Inc(u64),
}

impl GenServer for Counter {
    type Args = u64;
    type Call = Request;
    type Reply = u64;
    type Cast = Command;
    type Continue = ();

    async fn init(start: u64, ctx: &mut Context<Self>) -> Init<Self> {
        println!("  [counter {}] init: starting at {start}", ctx.pid());
        Init::Ok(Counter { count: start })
    }

    async fn handle_call(
        &mut self,
        request: Request,
        _ctx: &mut Context<Self>,
    ) -> CallResult<Self> {
        match request {
            Request::Get => CallResult::Reply(self.count),
        }
    }

    async fn handle_cast(&mut self, command: Command, _ctx: &mut Context<Self>) -> Action<Self> {
        match command {
            Command::Inc(by) => self.count += by,
        }
        Action::Noreply
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        println!(
            "  [counter {}] terminate: reason `{reason}`, final count {}",
            ctx.pid(),
            self.count
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counter = Counter::start_with(0, StartOptions::new().name("counter")).await?;
    println!(
        "Started the counter server {}, registered under the name \"counter\".",
        counter.pid()
    );

    counter.cast(Command::Inc(1))?;
    counter.cast(Command::Inc(41))?;
    println!("Cast Inc(1) and Inc(41): casts return at once, without waiting for the server.");

    let count = counter.call(Request::Get).await?;
    println!(
        "Called Get: {count}. A call waits for the reply, and the server handles its messages \
         in order, so both casts were counted before the call."
    );

    let found = ServerRef::<Counter>::whereis("counter").ok_or("nobody is named \"counter\"")?;
    println!(
        "Looked up \"counter\" by name: {} (the same server: {}).",
        found.pid(),
        found == counter
    );
    found.cast(Command::Inc(8))?;
    println!(
        "Cast Inc(8) through the looked-up reference; Get now answers {}.",
        found.call(Request::Get).await?
    );

    counter.stop(ExitReason::Normal).await?;
    println!(
        "Stopped the server with reason `normal`: terminate ran, then the process ended \
         (alive: {}).",
        counter.is_alive()
    );
    println!(
        "The name was released with it: whereis(\"counter\") = {:?}.",
        otp::whereis("counter")
    );
    match counter.call(Request::Get).await {
        Err(CallError::NoProc) => {
            println!("A call to the stopped server returns an error at once: no such process.");
        }
        other => return Err(format!("unexpected answer from a stopped server: {other:?}").into()),
    }
    Ok(())
}
