//! A connection worker under a supervisor: when the server drops the connection, the worker
//! exits and the supervisor starts a fresh one, which connects again.
//!
//! The example starts a small TCP server on localhost, the stand-in for a database or a message
//! broker. The worker, a `#[derive(GenServer)]` server, connects to it in `init`. It holds no
//! reconnection logic at all: when the connection is lost it stops with an error, and its
//! supervisor restarts it — a restart *is* the reconnection, from a clean state. The worker is
//! `transient` (`#[gen_server(restart = "transient")]`): restarted after an abnormal exit, not
//! after a normal one, so when its work is done it stops with `normal` and stays stopped.
//!
//! (A worker whose server may stay down for a while would add a restart backoff,
//! `ChildSpec::backoff`, so that its failed reconnections do not use up the supervisor's restart
//! intensity in milliseconds.)
//!
//! `main` plays the server's operator: it sees each connection the server accepts, pings the
//! worker through it, and decides when to drop it. The story is told on stdout; the
//! supervisor's reports (`child_terminated`) go to stderr through `tracing`.
//!
//! ```sh
//! cargo run -p otp-examples --example connection_worker
//! ```

use std::net::SocketAddr;

use otp::prelude::*;
use otp::supervisor::{ChildStatus, SupervisorRef};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A line that arrived on the worker's connection.
struct TcpLine(String);

/// The worker's connection was closed by the other side (or failed), with why.
struct TcpClosed(String);

/// The connection worker: a client of the server at the address it is started with.
///
/// Registered as `"connection"`, so that whoever needs it finds the current one by name, across
/// restarts. `restart = "transient"` goes into the `child_spec` the derive generates.
#[derive(GenServer)]
#[gen_server(name = "connection", restart = "transient")]
struct Connection {
    /// What the server said when we connected.
    greeting: String,
    /// Our end of the connection, for writing. Dropping it (when the worker ends, whatever the
    /// reason) closes our side.
    writer: OwnedWriteHalf,
}

#[handlers]
impl Connection {
    /// Connects, reads the server's greeting, and starts a reader that turns whatever arrives
    /// on the socket into messages to this server — as Erlang's sockets in active mode send
    /// `{tcp, Socket, Data}` and `{tcp_closed, Socket}` to their owner. If the server cannot be
    /// reached, `init` fails, and so does the (re)start.
    #[init]
    async fn init(addr: SocketAddr, ctx: &mut Context<Self>) -> Result<Self, ExitReason> {
        let stream = TcpStream::connect(addr).await.map_err(ExitReason::error)?;
        let (reader, writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        let greeting = lines
            .next_line()
            .await
            .map_err(ExitReason::error)?
            .ok_or("the server closed the connection before greeting")?;
        println!(
            "   [connection {}] init: connected to {addr}; the server says \"{greeting}\"",
            ctx.pid()
        );

        let me = ctx.pid();
        tokio::spawn(async move {
            loop {
                let delivered = match lines.next_line().await {
                    Ok(Some(line)) => otp::name::send(me, TcpLine(line)).is_ok(),
                    Ok(None) => {
                        let _ = otp::name::send(me, TcpClosed("closed by the server".into()));
                        return;
                    }
                    Err(e) => {
                        let _ = otp::name::send(me, TcpClosed(e.to_string()));
                        return;
                    }
                };
                // The worker is gone: nobody is listening any more.
                if !delivered {
                    return;
                }
            }
        });
        Ok(Connection { greeting, writer })
    }

    /// What the server said when this worker connected.
    #[call]
    fn greeting(&self) -> String {
        self.greeting.clone()
    }

    /// Done with the connection: stop with reason `normal`.
    #[cast]
    fn disconnect(&mut self) -> Action<Self> {
        Action::Stop(ExitReason::Normal)
    }

    /// A line from the server: answer a `ping` with a `pong`. If the answer cannot be written,
    /// the connection is broken: crash.
    #[info]
    async fn line(&mut self, TcpLine(line): TcpLine, ctx: &mut Context<Self>) -> Action<Self> {
        let answer = format!("pong from {} (to \"{line}\")\n", ctx.pid());
        match self.writer.write_all(answer.as_bytes()).await {
            Ok(()) => Action::NoReply,
            Err(e) => Action::Stop(ExitReason::error(e)),
        }
    }

    /// The connection is gone. Nothing to repair here: stop with an error, and let the
    /// supervisor start a fresh worker, which connects again.
    #[info]
    fn closed(&mut self, TcpClosed(why): TcpClosed, ctx: &mut Context<Self>) -> Action<Self> {
        println!(
            "   [connection {}] the connection was {why}: stopping with an error",
            ctx.pid()
        );
        Action::Stop(ExitReason::error(format!("tcp_closed: {why}")))
    }
}

/// The server's end of one connection, as `main` holds it.
type ServerSide = BufReader<TcpStream>;

/// Sends `ping` to the worker through the server's end of its connection, and reads its answer.
async fn ping(conn: &mut ServerSide) -> Result<String, Box<dyn std::error::Error>> {
    conn.get_mut().write_all(b"ping\n").await?;
    let mut answer = String::new();
    conn.read_line(&mut answer).await?;
    Ok(answer.trim_end().to_owned())
}

/// The worker's status (running with its pid, or not), as its supervisor reports it.
async fn worker_status(sup: &SupervisorRef) -> Result<ChildStatus, Box<dyn std::error::Error>> {
    let children = sup.which_children().await?;
    let child = children
        .iter()
        .find(|c| c.id == "Connection")
        .ok_or("the supervisor has no child Connection")?;
    Ok(child.status)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    otp_examples::log_to_stderr();

    println!(
        "A connection worker under a supervisor: the connection drops, the worker restarts.\n"
    );

    // The server: accepts connections, numbers them, greets each one, and hands the server's
    // end of it to `main`, which decides when to drop it.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (accepted_tx, mut accepted) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        for number in 1u64.. {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let greeting = format!("welcome, you are connection #{number}\n");
            if socket.write_all(greeting.as_bytes()).await.is_ok() {
                let _ = accepted_tx.send((number, BufReader::new(socket)));
            }
        }
    });
    println!("1. Started a TCP server on {addr}.");

    // The supervisor starts the worker (and waits for its `init`, hence its connection).
    let sup = Supervisor::start([Connection::child_spec(addr)], SupFlags::one_for_one()).await?;
    let (mut number, mut conn) = accepted.recv().await.ok_or("the server stopped")?;
    println!(
        "2. Started a one_for_one supervisor {} with one child, the worker, from \
         `Connection::child_spec(addr)`: restart transient, at most 3 restarts in 5 s. The \
         worker's `init` connected: the server accepted connection #{number}.",
        sup.pid()
    );

    for round in 1..=3 {
        let worker =
            ServerRef::<Connection>::whereis("connection").ok_or("no worker named connection")?;
        println!(
            "\nRound {round}: the server pings the worker {} over connection #{number}; it \
             answers \"{}\".",
            worker.pid(),
            ping(&mut conn).await?
        );

        println!("   The server drops connection #{number}.");
        // The wait starts here, before the worker can end, so it cannot miss its exit reason.
        let exited = otp::process::wait_exit(worker.pid());
        drop(conn);
        let reason = exited.await;

        // The restarted worker's `init` connects again: the server accepts the new connection.
        (number, conn) = accepted.recv().await.ok_or("the server stopped")?;
        // The supervisor answers this call once the restart is done.
        let status = worker_status(&sup).await?;
        let ChildStatus::Running(new) = status else {
            return Err(format!("the worker was not restarted: {status:?}").into());
        };
        println!(
            "   The worker {} exited with `{reason}`. Not normal, not shutdown: an abnormal \
             exit, so the supervisor restarted its transient child. The new worker {new} \
             connected again, as connection #{number}, from a clean state (restart {round} of \
             the 3 allowed in 5 s).",
            worker.pid()
        );
    }

    let worker =
        ServerRef::<Connection>::whereis("connection").ok_or("no worker named connection")?;
    println!(
        "\nA fourth drop within these 5 s would exceed the restart intensity: the supervisor \
         would give up and exit, for its own supervisor to decide (the let_it_crash example \
         shows it). The worker {} serves connection #{number}: \"{}\", and answers \"{}\".",
        worker.pid(),
        worker.greeting().await?,
        ping(&mut conn).await?
    );

    println!("\nA clean stop: the worker is told to disconnect, and stops with reason `normal`.");
    // A wait started before the worker ends resolves once its exit signal has reached the
    // supervisor, which answers the calls that follow only after handling it.
    let exited = otp::process::wait_exit(worker.pid());
    worker.disconnect()?;
    let reason = exited.await;
    let mut rest = String::new();
    let read = conn.read_line(&mut rest).await?;
    let status = worker_status(&sup).await?;
    let counts = sup.count_children().await?;
    println!(
        "   The worker {} exited with `{reason}`, and its end of the connection closed with it \
         (the server read {read} bytes: end of stream). A transient child that ends normally is \
         not restarted: the supervisor lists it as not running ({status:?}), and counts {} \
         spec, {} active.",
        worker.pid(),
        counts.specs,
        counts.active
    );
    drop(conn);

    sup.stop().await?;
    println!(
        "\nStopped the supervisor. Processes still alive: {}.",
        otp::process::process_count()
    );
    Ok(())
}
