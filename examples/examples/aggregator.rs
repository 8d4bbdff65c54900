//! An aggregator: fetches many URLs with `async_stream`, a few at a time, each within a
//! timeout, and sums up what came back — though some fetches fail and some hang.
//!
//! The example starts a tiny HTTP server on localhost whose pages misbehave on purpose: most
//! answer after a short delay, some close the connection without answering, some answer with a
//! server error, and some never answer at all. The aggregator runs one fetch per page with
//! `otp::task::async_stream`, each in its own task process:
//!
//! - `max_concurrency(4)`: at most 4 fetches run at once, and no more pages are taken from the
//!   input than that (backpressure);
//! - `timeout(500 ms)` with `on_timeout(OnTimeout::KillTask)`: a fetch still running after
//!   500 ms is killed — its process ends, its connection is dropped — and its place in the
//!   results says so, while the stream goes on (the default, `OnTimeout::Exit`, would end the
//!   stream at the first timeout);
//! - `ordered(true)` (the default): results come in the order of the pages, so a slow page holds
//!   back the pages after it, which are printed only once it is done.
//!
//! The story is told on stdout as the results come; the time on each line shows when.
//!
//! ```sh
//! cargo run -p otp-examples --example aggregator
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use otp::task::{OnTimeout, StreamExit, TaskError, async_stream};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How many pages the aggregator fetches: `/1` to `/20`.
const PAGES: u64 = 20;
/// At most how many fetches run at once.
const MAX_CONCURRENCY: usize = 4;
/// How long each fetch may take.
const TIMEOUT: Duration = Duration::from_millis(500);

/// What the server does when page `n` is asked for.
enum Page {
    /// Answers `200 OK` after this delay, with `n * n` as the body.
    Answer(Duration),
    /// Answers `500 Internal Server Error`.
    ServerError,
    /// Closes the connection without answering.
    Close,
    /// Never answers: waits until the client gives up.
    Hang,
}

fn page(n: u64) -> Page {
    match n % 7 {
        5 => Page::Hang,                               // 5, 12, 19
        3 => Page::Close,                              // 3, 10, 17
        _ if n.is_multiple_of(8) => Page::ServerError, // 8, 16
        _ => Page::Answer(Duration::from_millis(40 + (n * 53) % 160)),
    }
}

/// The server: one tokio task per connection, reading a `GET /n` request and answering as
/// [`page`] says.
async fn serve(listener: TcpListener) {
    while let Ok((socket, _)) = listener.accept().await {
        tokio::spawn(async move {
            let _ = answer(BufReader::new(socket)).await;
        });
    }
}

async fn answer(mut socket: BufReader<TcpStream>) -> std::io::Result<()> {
    let mut request = String::new();
    socket.read_line(&mut request).await?;
    // Skip the headers, up to the empty line.
    let mut header = String::new();
    while socket.read_line(&mut header).await? > 2 {
        header.clear();
    }
    let n = request
        .split_whitespace()
        .nth(1)
        .and_then(|path| path.strip_prefix('/'))
        .and_then(|n| n.parse::<u64>().ok());
    let (status, body) = match n.map(|n| (n, page(n))) {
        None => ("404 Not Found", "no such page".to_owned()),
        Some((n, Page::Answer(delay))) => {
            tokio::time::sleep(delay).await;
            ("200 OK", (n * n).to_string())
        }
        Some((_, Page::ServerError)) => ("500 Internal Server Error", "oops".to_owned()),
        Some((_, Page::Close)) => return Ok(()),
        Some((_, Page::Hang)) => {
            // Reads until the client closes its end: it gave up.
            let _ = socket.read(&mut [0; 64]).await;
            return Ok(());
        }
    };
    let response = format!(
        "HTTP/1.0 {status}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.get_mut().write_all(response.as_bytes()).await
}

/// A minimal HTTP/1.0 GET: sends the request, reads the response to the end (HTTP/1.0: the
/// server closes the connection after it), splits the head from the body, and checks the
/// status. Enough for this example; a real program would use an HTTP client crate.
async fn get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .await
        .map_err(|e| e.to_string())?;
    if response.is_empty() {
        return Err("no response: the server closed the connection".to_owned());
    }
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| "malformed response".to_owned())?;
    let status = head.lines().next().unwrap_or_default();
    match status.split_whitespace().nth(1) {
        Some("200") => Ok(body.to_owned()),
        _ => Err(status.to_owned()),
    }
}

/// Counts the fetches running at once, and the most seen. A fetch holds one while it runs; a
/// fetch killed on timeout drops it with its process.
#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

struct Held(Arc<AtomicUsize>);

impl Gauge {
    fn hold(&self) -> Held {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        Held(self.now.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(listener));
    println!(
        "An aggregator: fetches pages /1 to /{PAGES} from the HTTP server on {addr}, at most \
         {MAX_CONCURRENCY} at a time, each within {} ms, and adds up their values. Pages 3, 10 \
         and 17 close the connection without answering, 8 and 16 answer with a server error, \
         5, 12 and 19 never answer.\n",
        TIMEOUT.as_millis()
    );

    let gauge = Gauge::default();
    let fetches = {
        let gauge = gauge.clone();
        // The closure runs in `main` as each page is taken from the input; the future it
        // returns runs in the page's own task process.
        async_stream(1..=PAGES, move |n| {
            let gauge = gauge.clone();
            async move {
                let _held = gauge.hold();
                get(addr, &format!("/{n}")).await
            }
        })
    }
    .max_concurrency(MAX_CONCURRENCY)?
    .timeout(TIMEOUT)
    .on_timeout(OnTimeout::KillTask)
    .ordered(true);

    let started = Instant::now();
    let (mut ok, mut failed, mut timed_out, mut sum) = (0, 0, 0, 0u64);
    let mut fetches = std::pin::pin!(fetches);
    // Ordered: the n-th result is page n's.
    let mut n = 0;
    while let Some(result) = fetches.next().await {
        n += 1;
        let at = started.elapsed().as_millis();
        let what = match result {
            Ok(Ok(body)) => {
                ok += 1;
                sum += body.parse::<u64>().unwrap_or(0);
                format!("ok: {body}")
            }
            Ok(Err(error)) => {
                failed += 1;
                format!("failed: {error}")
            }
            Err(StreamExit {
                error: TaskError::Timeout,
                ..
            }) => {
                timed_out += 1;
                format!(
                    "timed out: no answer within {} ms, the task was killed",
                    TIMEOUT.as_millis()
                )
            }
            // A fetch that crashed (a panic in it, say) ends its own process only.
            Err(exit) => {
                failed += 1;
                format!("crashed: {exit}")
            }
        };
        println!("  at {at:>4} ms  /{n:<2}  {what}");
    }

    println!(
        "\nDone in {} ms: {ok} ok, {failed} failed, {timed_out} timed out. The {ok} values add \
         up to {sum}.",
        started.elapsed().as_millis()
    );
    println!(
        "At most {} fetches ran at once (max_concurrency {MAX_CONCURRENCY}). Each hanging page \
         held its place for {} ms, and, the results being ordered, the pages after it waited \
         for it, finished or not. The failures and timeouts stayed in their own processes: the \
         other fetches and the aggregator went on. Processes still alive: {}.",
        gauge.most.load(Ordering::SeqCst),
        TIMEOUT.as_millis(),
        otp::process::process_count()
    );
    Ok(())
}
