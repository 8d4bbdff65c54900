//! A named counter server.
//!
//! Starts a `Counter` GenServer registered under the name `"counter"`, casts increments to it,
//! calls it for the count, finds it again by name, and stops it. The server is written with
//! `#[derive(GenServer)]` and `#[handlers]`: a struct for its state, an impl block for its
//! handlers, and the typed client methods (`counter.inc(1)`, `counter.get()`) are generated.
//!
//! ```sh
//! cargo run -p otp-examples --example counter
//! ```

use otp::prelude::*;

/// The counter's state. `start` and `start_link` register it under the name `"counter"`.
#[derive(GenServer)]
#[gen_server(name = "counter")]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    /// Builds the state from the argument of `Counter::start`.
    #[init]
    fn init(start: u64, ctx: &mut Context<Self>) -> Self {
        println!("  [counter {}] init: starting at {start}", ctx.pid());
        Counter { count: start }
    }

    /// A call (a request that gets a reply): the current count.
    #[call]
    fn get(&self) -> u64 {
        self.count
    }

    /// A cast (a message that gets no reply): adds `by` to the count.
    #[cast]
    fn inc(&mut self, by: u64) {
        self.count += by;
    }

    /// Runs before the server exits.
    #[terminate]
    fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        println!(
            "  [counter {}] terminate: reason `{reason}`, final count {}",
            ctx.pid(),
            self.count
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let counter = Counter::start(0).await?;
    println!(
        "Started the counter server {}, registered under the name \"counter\".",
        counter.pid()
    );

    counter.inc(1)?;
    counter.inc(41)?;
    println!("Cast inc(1) and inc(41): casts return at once, without waiting for the server.");

    let count = counter.get().await?;
    println!(
        "Called get(): {count}. A call waits for the reply, and the server handles its messages \
         in order, so both casts were counted before the call."
    );

    let found = ServerRef::<Counter>::whereis("counter").ok_or("nobody is named \"counter\"")?;
    println!(
        "Looked up \"counter\" by name: {} (the same server: {}).",
        found.pid(),
        found == counter
    );
    found.inc(8)?;
    println!(
        "Cast inc(8) through the looked-up reference; get() now answers {}.",
        found.get().await?
    );

    counter.stop(ExitReason::Normal).await?;
    println!(
        "Stopped the server with reason `normal`: terminate ran, then the process ended \
         (alive: {}).",
        counter.is_alive()
    );
    println!(
        "The name was released with it: whereis(\"counter\") = {:?}.",
        otp::name::whereis("counter")
    );
    match counter.get().await {
        Err(CallError::NoProc) => {
            println!("A call to the stopped server returns an error at once: no such process.");
        }
        other => return Err(format!("unexpected answer from a stopped server: {other:?}").into()),
    }
    Ok(())
}
