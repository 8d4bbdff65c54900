//! tcp-rmp, the baseline of the remote workloads: two endpoints connected over 127.0.0.1 TCP by
//! hand, as a competent raw tokio program would connect them, with the frames of `DIST.md` — a
//! 4-byte big-endian length, then the message encoded by rmp-serde with field names
//! (`to_vec_named`).
//!
//! The message is [`Msg`] (`{ n: u64 }`): a cast's value, a call's request and its reply. The
//! connection carries nothing else — no envelope, no destination, no version, no call
//! reference: node b serves one kind of frame per run, given by the workload. Each side of a
//! connection has
//!
//! - **a writer task** fed by an unbounded queue of messages, because many tasks may send over
//!   one connection. It encodes each message into a frame in a reused buffer and writes it
//!   into a [`BufWriter`] of [`BUFFER`] bytes; it keeps taking messages while the queue has
//!   some and flushes when the queue is empty — so a burst of casts goes out in few `write`s
//!   of many frames (and the `BufWriter` writes through whenever it is full), while a lone
//!   call is flushed at once. TCP_NODELAY is set on both sockets: the writer batches, Nagle's
//!   algorithm would only delay a call's lone frame.
//! - **a reader task** that reads frames through a [`BufReader`] of [`BUFFER`] bytes (a length,
//!   checked against [`MAX_FRAME`] before the body's buffer grows, then the body into a reused
//!   buffer) and decodes each with `rmp_serde::from_slice`.
//!
//! On node b the reader is the counter: for casts it records each `n` ([`Arrivals::record`]);
//! for calls it queues the reply `{ n: state + request }` to b's writer. On node a a call
//! pushes a oneshot sender onto a queue of pending calls before queueing its request, and a's
//! reader completes the oldest pending call with each reply (replies come back in order on
//! one connection): the least a call needs when several tasks may call over one connection.
//! So a call round trip is: caller → a's writer (a task wake-up), a `write`, b's reader (a
//! wake-up of b's thread), → b's writer, a `write`, a's reader (a wake-up of a's thread) →
//! the caller.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::Workload;
use crate::remote::{Arrivals, Msg, Remote};

/// The capacity of each side's `BufWriter` and `BufReader`: tokio's default, 8 KiB (a
/// thousand casts' frames).
pub const BUFFER: usize = 8 * 1024;

/// The largest frame body a reader accepts; checked before its buffer grows.
pub const MAX_FRAME: u32 = 1 << 20;

/// The length of a frame's header: a big-endian `u32`, the length of the body.
pub const HEADER: usize = 4;

/// Encodes `msg` as one frame into `frame`, which is cleared first: the body's length, 4 bytes
/// big-endian, then the body, `rmp_serde` with field names.
pub fn encode(msg: &Msg, frame: &mut Vec<u8>) {
    frame.clear();
    frame.extend_from_slice(&[0; HEADER]);
    rmp_serde::encode::write_named(frame, msg).expect("encoding into a Vec does not fail");
    let body = u32::try_from(frame.len() - HEADER).expect("a message of a few bytes");
    frame[..HEADER].copy_from_slice(&body.to_be_bytes());
}

/// The writer task: encodes and writes every message of `queue`, flushing whenever the queue
/// is empty; counts the bytes it writes on `written` before flushing them. Ends, flushed, once
/// every sender of the queue is gone; the socket's write side is then shut down.
async fn write_frames(
    socket: OwnedWriteHalf,
    mut queue: mpsc::UnboundedReceiver<Msg>,
    written: Arc<AtomicU64>,
) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(BUFFER, socket);
    let mut frame = Vec::with_capacity(64);
    while let Some(mut msg) = queue.recv().await {
        let mut bytes = 0;
        loop {
            encode(&msg, &mut frame);
            out.write_all(&frame).await?;
            bytes += frame.len() as u64;
            match queue.try_recv() {
                Ok(next) => msg = next,
                Err(_) => break,
            }
        }
        written.fetch_add(bytes, Ordering::Relaxed);
        out.flush().await?;
    }
    out.shutdown().await
}

/// The reader task: reads and decodes frames until the other side closes the connection,
/// handing each message to `handle`.
async fn read_frames(socket: OwnedReadHalf, mut handle: impl FnMut(Msg)) -> io::Result<()> {
    let mut input = BufReader::with_capacity(BUFFER, socket);
    let mut body = Vec::with_capacity(64);
    loop {
        let len = match input.read_u32().await {
            Ok(len) => len,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        if len > MAX_FRAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a frame of {len} bytes, more than {MAX_FRAME}"),
            ));
        }
        body.resize(len as usize, 0);
        input.read_exact(&mut body).await?;
        let msg = rmp_serde::from_slice(&body)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        handle(msg);
    }
}

/// Splits a connected socket, TCP_NODELAY set.
fn split(stream: TcpStream) -> io::Result<(OwnedReadHalf, OwnedWriteHalf)> {
    stream.set_nodelay(true)?;
    Ok(stream.into_split())
}

/// Node b: the task that accepts node a's connection and serves it.
pub struct TcpRmpNodeB {
    task: JoinHandle<()>,
}

impl Drop for TcpRmpNodeB {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts one connection and serves `workload` on it: counts casts, or answers calls.
async fn serve(listener: TcpListener, workload: Workload, arrivals: Arc<Arrivals>) {
    let (stream, _) = listener.accept().await.expect("node b cannot accept");
    let (read, write) = split(stream).expect("node b cannot set up its socket");
    match workload {
        Workload::RemoteCast => {
            read_frames(read, |msg| arrivals.record(msg.n))
                .await
                .expect("node b's reader failed");
            drop(write);
        }
        Workload::RemoteCall => {
            let (queue, queued) = mpsc::unbounded_channel();
            let writer = tokio::spawn(write_frames(write, queued, Arc::default()));
            let state = 0;
            read_frames(read, |msg| {
                let _ = queue.send(Msg { n: state + msg.n });
            })
            .await
            .expect("node b's reader failed");
            drop(queue);
            writer
                .await
                .expect("node b's writer panicked")
                .expect("node b's writer failed");
        }
        other => panic!("{other} is not a remote workload"),
    }
}

/// Node a's client: its connection's queue, the pending calls, the byte count of its writer,
/// and its two tasks.
pub struct TcpRmpClient {
    queue: mpsc::UnboundedSender<Msg>,
    pending: Arc<Mutex<VecDeque<oneshot::Sender<u64>>>>,
    written: Arc<AtomicU64>,
    writer: JoinHandle<io::Result<()>>,
    reader: JoinHandle<io::Result<()>>,
}

impl Remote for TcpRmpClient {
    type NodeB = TcpRmpNodeB;

    async fn start_b(workload: Workload, arrivals: Arc<Arrivals>) -> (TcpRmpNodeB, String) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("node b cannot listen on 127.0.0.1");
        let address = listener
            .local_addr()
            .expect("node b's listener has no address")
            .to_string();
        let task = tokio::spawn(serve(listener, workload, arrivals));
        (TcpRmpNodeB { task }, address)
    }

    async fn connect(address: String) -> Self {
        let stream = TcpStream::connect(&address)
            .await
            .unwrap_or_else(|e| panic!("node a cannot connect to {address}: {e}"));
        let (read, write) = split(stream).expect("node a cannot set up its socket");
        let (queue, queued) = mpsc::unbounded_channel();
        let written = Arc::new(AtomicU64::new(0));
        let writer = tokio::spawn(write_frames(write, queued, written.clone()));
        let pending: Arc<Mutex<VecDeque<oneshot::Sender<u64>>>> = Arc::default();
        let replies = pending.clone();
        let reader = tokio::spawn(read_frames(read, move |reply| {
            let caller = replies
                .lock()
                .expect("pending calls poisoned")
                .pop_front()
                .expect("a reply to no call");
            let _ = caller.send(reply.n);
        }));
        TcpRmpClient {
            queue,
            pending,
            written,
            writer,
            reader,
        }
    }

    async fn cast(&self, n: u64) {
        self.queue.send(Msg { n }).expect("node a's writer is gone");
    }

    async fn call(&self, request: u64) -> u64 {
        let (reply, response) = oneshot::channel();
        self.pending
            .lock()
            .expect("pending calls poisoned")
            .push_back(reply);
        self.queue
            .send(Msg { n: request })
            .expect("node a's writer is gone");
        response.await.expect("node a's reader is gone")
    }

    fn written_bytes(&self) -> Option<u64> {
        Some(self.written.load(Ordering::Relaxed))
    }

    /// Closes the queue: the writer flushes and shuts the socket's write side down, node b's
    /// reader sees the end and closes its side, and a's reader ends.
    async fn stop(self) {
        drop(self.queue);
        self.writer
            .await
            .expect("node a's writer panicked")
            .expect("node a's writer failed");
        self.reader
            .await
            .expect("node a's reader panicked")
            .expect("node a's reader failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Metric, Mode, Runtime, remote};

    #[test]
    fn a_frame_is_a_length_and_a_named_body() {
        let mut frame = Vec::new();
        encode(&Msg { n: 1 }, &mut frame);
        // fixmap of 1, fixstr "n", positive fixint 1.
        assert_eq!(frame, [0, 0, 0, 4, 0x81, 0xa1, b'n', 0x01]);
        encode(&Msg { n: 1_000 }, &mut frame);
        // uint 16.
        assert_eq!(frame, [0, 0, 0, 6, 0x81, 0xa1, b'n', 0xcd, 0x03, 0xe8]);
        let body: Msg = rmp_serde::from_slice(&frame[HEADER..]).unwrap();
        assert_eq!(body, Msg { n: 1_000 });
    }

    #[test]
    fn both_workloads_run_on_both_runtimes() {
        for runtime in Runtime::ALL {
            let cast =
                remote::run::<TcpRmpClient>(Workload::RemoteCast, 1_000, runtime, Mode::Timed);
            assert_eq!(cast[0].0, Metric::RemoteCastPerS);
            assert!(cast[0].1 > 0.0);
            // Every cast is one frame of 8 bytes.
            assert_eq!(cast[1], (Metric::WireBytesPerMsg, 8.0));
            let call = remote::run::<TcpRmpClient>(Workload::RemoteCall, 100, runtime, Mode::Timed);
            assert_eq!(call[0].0, Metric::RemoteCallMedianNs);
            assert!(call[0].1 > 0.0 && call[0].1 <= call[1].1);
            for workload in [Workload::RemoteCast, Workload::RemoteCall] {
                let counted = remote::run::<TcpRmpClient>(workload, 100, runtime, Mode::Counted);
                assert!(counted.is_empty());
            }
        }
    }
}
