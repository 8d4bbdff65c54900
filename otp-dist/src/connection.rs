//! One connection to another node: its outbound queue and writer, its reader, its liveness
//! (ticks and the down window), and the table of what crosses it (links, monitors, calls in
//! flight) — told `noconnection`, once, when it is lost.
//!
//! A `Connection` exists from the moment a node starts to connect (a dial, or an incoming
//! handshake): what is sent meanwhile waits in its queue, and links and monitors are recorded.
//! Once a handshake succeeds the stream is attached and three tasks run: the writer (it takes
//! the whole queue at each turn and writes it with one call, so frames from many senders share
//! one system call), the reader (it decodes each frame and delivers it into the node, as local
//! signals are), and the ticker (every T/8: a tick if nothing was queued since the last turn; the
//! peer declared down when nothing at all was read for 8 turns — so detection lands between
//! T − T/4 and T + T/8 after the peer falls silent).

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use otp_core::node::Node;
use otp_core::process::remote::Deliveries;
use otp_core::process::{
    DeliverError, Encode, ExitReason, LocalTarget, MonitorRef, Pid, RemoteCallError, ReplySink,
    RouteError,
};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::AbortHandle;

use crate::events::{self, DownReason, NodeEvent};
use crate::frame::{
    FrameError, FrameReader, PIECE_SIZE, Read, decode, put_frame_value, put_tick, put_with,
};
use crate::node::Shared;
use crate::proto::{Frame, Target, WireError, WirePid, WireResult, hot};
use crate::transport::BoxStream;

/// A connection's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Being set up: sends wait in the queue.
    Pending,
    /// Up.
    Up,
    /// Gone (see its down reason).
    Closed,
}

const PENDING: u8 = 0;
const UP: u8 = 1;
const CLOSED: u8 = 2;

/// The reader half, counting what it reads (the liveness check).
pub(crate) type Reader = FrameReader<Counting>;

/// A stream's read half that counts the bytes it reads.
pub(crate) struct Counting {
    inner: ReadHalf<BoxStream>,
    count: Arc<AtomicU64>,
}

impl Counting {
    pub(crate) fn new(inner: ReadHalf<BoxStream>, count: Arc<AtomicU64>) -> Self {
        Counting { inner, count }
    }
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            self.count.fetch_add(read as u64, Ordering::Relaxed);
        }
        polled
    }
}

/// The outbound queue: encoded frames, appended by senders, taken whole by the writer.
struct Out {
    buf: Vec<u8>,
    frames: u64,
    /// Frames queued so far, ticks included (the ticker's "nothing sent" check): counted
    /// under the lock each frame takes anyway, read by the ticker once a turn.
    queued: u64,
    closed: bool,
    over: bool,
    /// A sender waits for room ([`Connection::room`]): the writer wakes it when it takes the
    /// queue.
    want_room: bool,
    /// The run of casts the queue ends with, which the next cast to the same pid joins.
    run: Option<Run>,
}

/// Why a frame cannot be queued (see [`Connection::open_queue`]).
#[derive(Clone, Copy)]
enum Refusal {
    /// The queue is over its limit.
    Busy,
    /// A value's `Serialize` sends to another node while it is being encoded.
    Reentered,
}

/// A run frame of casts at the end of an outbound queue (see [`Connection::push_cast`]).
#[derive(Clone, Copy)]
struct Run {
    to: WirePid,
    /// Where its frame starts in the queue (its 4-byte header).
    at: usize,
    count: u8,
}

/// What a lookup found: a pid and its kind.
pub(crate) type Found = Option<(Pid, String)>;

/// Where the answer to a request in flight goes.
type Pending<T> = oneshot::Sender<Result<T, RemoteCallError>>;
/// Where the requester waits for it.
pub(crate) type Answer<T> = oneshot::Receiver<Result<T, RemoteCallError>>;

/// What crosses the connection.
#[derive(Default)]
struct Tables {
    /// (local, remote) pairs of linked processes.
    links: HashSet<(Pid, Pid)>,
    /// Monitors held by local processes on remote ones, by reference number.
    watching: HashMap<u64, (Pid, MonitorRef)>,
    /// Monitors held by remote processes on local ones, by reference number.
    watched: HashMap<u64, (Pid, MonitorRef)>,
    calls: HashMap<u64, Pending<Vec<u8>>>,
    stops: HashMap<u64, Pending<ExitReason>>,
    lookups: HashMap<u64, Pending<Found>>,
    closed: bool,
}

/// How a connection is being set up: by our dial, by an incoming handshake, or both at once.
#[derive(Default)]
pub(crate) struct Setup {
    pub(crate) dialing: bool,
    pub(crate) accepting: bool,
}

/// One connection to another node (see the [module docs](self)).
pub(crate) struct Connection {
    pub(crate) peer: String,
    pub(crate) peer_id: u32,
    creation: AtomicU32,
    state: AtomicU8,
    state_tx: watch::Sender<State>,
    out: Mutex<Out>,
    wake: Notify,
    /// Senders waiting for room in a full outbound queue.
    room: Notify,
    /// The reader, if it waits for a server to take a run of casts: let go at each of the
    /// ticker's turns, a bound on a wait that should end as soon as the server runs.
    nudge: Notify,
    tables: Mutex<Tables>,
    pub(crate) setup: Mutex<Setup>,
    read_bytes: OnceLock<Arc<AtomicU64>>,
    written_bytes: AtomicU64,
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    next_id: AtomicU64,
    tasks: Mutex<Vec<AbortHandle>>,
    writer: Mutex<Option<AbortHandle>>,
    down: OnceLock<DownReason>,
    pub(crate) dial_error: OnceLock<String>,
    shared: Arc<Shared>,
}

/// Figures of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStats {
    /// Bytes read from the peer.
    pub bytes_in: u64,
    /// Bytes written to the peer.
    pub bytes_out: u64,
    /// Messages read: a frame each, but a run frame of casts one per cast (ticks not
    /// counted).
    pub frames_in: u64,
    /// Messages queued for the peer, counted as `frames_in` is (ticks included).
    pub frames_out: u64,
    /// Bytes waiting in the outbound queue now.
    pub queued_bytes: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

thread_local! {
    /// Whether this thread is encoding a frame into a queue (see [`Connection::push`]).
    static ENCODING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Where a payload is encoded before it goes into its frame.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks this thread as encoding into a queue until dropped (also when a `Serialize` panics).
struct Encoding;

impl Encoding {
    fn enter() -> Self {
        ENCODING.set(true);
        Encoding
    }
}

impl Drop for Encoding {
    fn drop(&mut self) {
        ENCODING.set(false);
    }
}

/// Runs `f` with an empty scratch buffer of this thread.
fn with_scratch<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let r = f(&mut buf);
            if buf.capacity() > 1 << 20 {
                *buf = Vec::new();
            }
            r
        }
        // Re-entered (a `Serialize` that sends): a buffer of its own.
        Err(_) => f(&mut Vec::new()),
    })
}

impl Connection {
    pub(crate) fn new(shared: Arc<Shared>, peer: String) -> Arc<Self> {
        let (state_tx, _) = watch::channel(State::Pending);
        Arc::new(Connection {
            peer_id: Node::id_of(&peer),
            peer,
            creation: AtomicU32::new(0),
            state: AtomicU8::new(PENDING),
            state_tx,
            out: Mutex::new(Out {
                buf: Vec::new(),
                frames: 0,
                queued: 0,
                closed: false,
                over: false,
                want_room: false,
                run: None,
            }),
            wake: Notify::new(),
            room: Notify::new(),
            nudge: Notify::new(),
            tables: Mutex::new(Tables::default()),
            setup: Mutex::new(Setup::default()),
            read_bytes: OnceLock::new(),
            written_bytes: AtomicU64::new(0),
            frames_in: AtomicU64::new(0),
            frames_out: AtomicU64::new(0),
            next_id: AtomicU64::new(1),
            tasks: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
            down: OnceLock::new(),
            dial_error: OnceLock::new(),
            shared,
        })
    }

    pub(crate) fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            PENDING => State::Pending,
            UP => State::Up,
            _ => State::Closed,
        }
    }

    /// The peer's creation, once up (0 before).
    pub(crate) fn creation(&self) -> u32 {
        self.creation.load(Ordering::Acquire)
    }

    /// Why it closed, if it did.
    pub(crate) fn down_reason(&self) -> Option<&DownReason> {
        self.down.get()
    }

    /// Waits until it is up or closed.
    pub(crate) async fn settled(&self) -> State {
        let mut rx = self.state_tx.subscribe();
        let settled = rx.wait_for(|s| *s != State::Pending).await;
        settled.map_or(State::Closed, |s| *s)
    }

    /// The count of bytes read from the stream (0 before one is attached).
    fn read_bytes(&self) -> &AtomicU64 {
        static NONE: AtomicU64 = AtomicU64::new(0);
        self.read_bytes.get().map_or(&NONE, |c| c)
    }

    pub(crate) fn stats(&self) -> PeerStats {
        PeerStats {
            bytes_in: self.read_bytes().load(Ordering::Relaxed),
            bytes_out: self.written_bytes.load(Ordering::Relaxed),
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            queued_bytes: lock(&self.out).buf.len(),
        }
    }

    /// Whether `pid` is of an older incarnation of the peer than the one connected.
    pub(crate) fn is_stale(&self, pid: Pid) -> bool {
        let creation = self.creation();
        creation != 0 && pid.creation() != creation
    }

    fn node(&self) -> Node {
        self.shared.node
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    // ---- the outbound queue ----

    /// Queues a frame, encoded by `encode` into the queue. A closed connection drops it
    /// silently (as a send to a node that is down); a queue over its limit refuses it.
    pub(crate) fn push(
        &self,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) -> Result<(), RouteError> {
        let Some(mut out) = self.open_queue().map_err(|why| self.refused(why))? else {
            return Ok(());
        };
        let config = &self.shared.config;
        let before = out.buf.len();
        let encoded = {
            let _encoding = Encoding::enter();
            encode(&mut out.buf)
        };
        encoded.map_err(RouteError::Encode)?;
        // A frame over the maximum size would close the connection at the other end (a peer
        // refuses it before reading it): refuse it here, to its sender. The limit is this node's,
        // which the nodes of a cluster share. Each piece of a frame adds a 4-byte header.
        let grown = out.buf.len() - before;
        let headers = 4 * (grown / crate::frame::PIECE_SIZE + 1);
        if grown > config.max_frame + headers {
            out.buf.truncate(before);
            return Err(RouteError::Encode(format!(
                "a frame of {} bytes is over the maximum frame size, {} bytes",
                grown - headers.min(grown),
                config.max_frame
            )));
        }
        // Another frame after the run: the next cast starts a new one.
        out.run = None;
        self.queued_one(out, before == 0);
        Ok(())
    }

    /// The queue, locked, to queue a frame into: `None` if the connection is closed (what is
    /// sent is dropped, as to a node that is down), refused if the queue is over its limit.
    #[inline(always)]
    fn open_queue(&self) -> Result<Option<MutexGuard<'_, Out>>, Refusal> {
        // A value is encoded under the queue's lock, in place. A `Serialize` that itself sends
        // to another node would wait for a lock its own thread holds: refuse that instead.
        if ENCODING.get() {
            return Err(Refusal::Reentered);
        }
        let out = lock(&self.out);
        if out.closed {
            return Ok(None);
        }
        if out.buf.len() >= self.shared.config.outbound_limit {
            return Err(Refusal::Busy);
        }
        Ok(Some(out))
    }

    /// Why [`open_queue`](Self::open_queue) refused, as the sender's error.
    #[cold]
    fn refused(&self, why: Refusal) -> RouteError {
        match why {
            Refusal::Busy => RouteError::Busy(self.peer.clone()),
            Refusal::Reentered => RouteError::Encode(
                "a value's Serialize sent to another node while it was being encoded".into(),
            ),
        }
    }

    /// Counts a message just queued, reports a queue over its threshold, and wakes the writer
    /// if the queue was empty.
    #[inline(always)]
    fn queued_one(&self, mut out: MutexGuard<'_, Out>, was_empty: bool) {
        out.frames += 1;
        out.queued += 1;
        let over = !out.over && out.buf.len() >= self.shared.config.outbound_threshold;
        if over {
            out.over = true;
        }
        let len = out.buf.len();
        drop(out);
        if over {
            events::outbound_over_threshold(&self.peer, len);
        }
        if was_empty {
            self.wake.notify_one();
        }
    }

    /// Queues a cast to the pid `to`: it joins the run of casts to `to` the queue ends with, if
    /// there is one with room, or starts one — a cast then costs its value and two bytes on the
    /// wire, not a frame's header. A value too large for a run goes in a frame of its own.
    pub(crate) fn push_cast(&self, to: WirePid, message: &dyn Encode) -> Result<(), RouteError> {
        let Some(mut out) = self.open_queue().map_err(|why| self.refused(why))? else {
            return Ok(());
        };
        let config = &self.shared.config;
        let start = out.buf.len();
        let run = out
            .run
            .filter(|r| r.to == to && r.count < hot::RUN_MAX)
            .unwrap_or_else(|| {
                out.buf.extend_from_slice(&[0; 4]);
                hot::cast_run_start(&mut out.buf, to);
                Run {
                    to,
                    at: start,
                    count: 0,
                }
            });
        let value_at = out.buf.len();
        out.buf.extend_from_slice(&[0; 2]);
        let encoded = {
            let _encoding = Encoding::enter();
            message.encode(&mut out.buf)
        };
        let len = out.buf.len() - value_at - 2;
        let body = out.buf.len() - run.at - 4;
        let fits = len <= usize::from(u16::MAX) && body <= PIECE_SIZE.min(config.max_frame);
        if encoded.is_err() || !fits {
            out.buf.truncate(start);
            encoded.map_err(RouteError::Encode)?;
            // Too large for a run: a frame of its own (after the run, which it ends).
            drop(out);
            return self.push(|out| {
                put_with(out, |out| {
                    hot::cast(out, Target::Pid(to), |out| message.encode(out))
                })
            });
        }
        let buf = &mut out.buf;
        buf[value_at..value_at + 2].copy_from_slice(&(len as u16).to_le_bytes());
        buf[run.at..run.at + 4].copy_from_slice(&(body as u32).to_be_bytes());
        buf[run.at + 4 + hot::RUN_COUNT_AT] = run.count + 1;
        out.run = Some(Run {
            count: run.count + 1,
            ..run
        });
        self.queued_one(out, start == 0);
        Ok(())
    }

    /// Resolves once the outbound queue is below its limit (a cast refused as busy may be tried
    /// again), or the connection is closed.
    pub(crate) async fn room(&self) {
        let notified = self.room.notified();
        tokio::pin!(notified);
        loop {
            // Enabled before the check: a wake-up after it is not lost.
            notified.as_mut().enable();
            {
                let mut out = lock(&self.out);
                if out.closed || out.buf.len() < self.shared.config.outbound_limit {
                    return;
                }
                out.want_room = true;
            }
            notified.as_mut().await;
            notified.set(self.room.notified());
        }
    }

    /// Queues a frame with a user payload: the payload encoded first (into a scratch buffer),
    /// then the frame around it.
    pub(crate) fn push_with_payload(
        &self,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
        frame: impl FnOnce(&[u8], &mut Vec<u8>) -> Result<(), String>,
    ) -> Result<(), RouteError> {
        with_scratch(|scratch| {
            payload(scratch).map_err(RouteError::Encode)?;
            self.push(|out| frame(scratch, out))
        })
    }

    /// Queues a frame that carries no user value (it always encodes).
    pub(crate) fn push_frame(&self, frame: &Frame<'_>) {
        // A control frame has no user value, so only a full queue can refuse it; it is then
        // dropped, as Erlang drops signals to a node it cannot keep up with, and logged.
        if let Err(e) = self.push(|out| put_frame_value(out, frame)) {
            tracing::warn!(node = %self.peer, error = %e, "a control frame was not queued");
        }
    }

    // ---- the table ----

    /// Records a link; `false` if the connection is closed (the caller tells `noconnection`).
    pub(crate) fn add_link(&self, local: Pid, remote: Pid) -> bool {
        let mut t = lock(&self.tables);
        !t.closed && {
            t.links.insert((local, remote));
            true
        }
    }

    pub(crate) fn remove_link(&self, local: Pid, remote: Pid) -> bool {
        lock(&self.tables).links.remove(&(local, remote))
    }

    pub(crate) fn add_watching(&self, watcher: Pid, reference: MonitorRef) -> bool {
        let mut t = lock(&self.tables);
        !t.closed && {
            t.watching.insert(reference.id(), (watcher, reference));
            true
        }
    }

    pub(crate) fn remove_watching(&self, reference: MonitorRef) {
        lock(&self.tables).watching.remove(&reference.id());
    }

    pub(crate) fn remove_watched(&self, reference: MonitorRef) {
        lock(&self.tables).watched.remove(&reference.id());
    }

    /// Registers a request in flight in one of the tables of pending requests; `None` if the
    /// connection is closed (the caller answers `noconnection`).
    fn pending<T>(
        &self,
        table: impl FnOnce(&mut Tables) -> &mut HashMap<u64, Pending<T>>,
    ) -> Option<(u64, Answer<T>)> {
        let (tx, rx) = oneshot::channel();
        let id = self.next_id();
        let mut t = lock(&self.tables);
        if t.closed {
            return None;
        }
        table(&mut t).insert(id, tx);
        Some((id, rx))
    }

    /// Registers a call in flight.
    pub(crate) fn add_call(&self) -> Option<(u64, Answer<Vec<u8>>)> {
        self.pending(|t| &mut t.calls)
    }

    pub(crate) fn forget_call(&self, id: u64) {
        lock(&self.tables).calls.remove(&id);
    }

    /// Registers a stop in flight.
    pub(crate) fn add_stop(&self) -> Option<(u64, Answer<ExitReason>)> {
        self.pending(|t| &mut t.stops)
    }

    /// Registers a lookup in flight.
    pub(crate) fn add_lookup(&self) -> Option<(u64, Answer<Found>)> {
        self.pending(|t| &mut t.lookups)
    }

    // ---- up and down ----

    /// Attaches the stream once a handshake succeeded, and starts the tasks. `false` if the
    /// connection is not pending any more (the other handshake of a simultaneous connect won,
    /// or it closed): the stream is dropped.
    pub(crate) fn attach(
        self: &Arc<Self>,
        creation: u32,
        reader: Reader,
        writer: WriteHalf<BoxStream>,
        read_bytes: Arc<AtomicU64>,
    ) -> bool {
        // The creation first: once the state says up, senders check it.
        if self.state() != State::Pending {
            return false;
        }
        self.creation.store(creation, Ordering::Release);
        if self.read_bytes.set(read_bytes).is_err() {
            return false;
        }
        if self
            .state
            .compare_exchange(PENDING, UP, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        let reading = tokio::spawn(Arc::clone(self).read_loop(reader));
        let writing = tokio::spawn(Arc::clone(self).write_loop(writer));
        let ticking = tokio::spawn(Arc::clone(self).tick_loop());
        {
            let mut tasks = lock(&self.tasks);
            tasks.push(reading.abort_handle());
            tasks.push(ticking.abort_handle());
        }
        *lock(&self.writer) = Some(writing.abort_handle());
        self.state_tx.send_replace(State::Up);
        tracing::info!(node = %self.peer, "node up");
        events::node_up(&self.peer);
        self.shared.notify(NodeEvent::NodeUp {
            node: self.peer.clone(),
        });
        // If it closed meanwhile, the tasks started after the close: stop them.
        if self.state() == State::Closed {
            self.stop_tasks(false);
        }
        true
    }

    fn stop_tasks(&self, graceful: bool) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        if graceful {
            // The writer flushes what is queued (the `Bye`), within a bound, then ends.
            self.wake.notify_one();
        } else if let Some(writer) = lock(&self.writer).take() {
            writer.abort();
        }
    }

    /// Closes the connection, once: every link and monitor across it fires `noconnection`,
    /// every call in flight returns it, and monitors of nodes are told.
    pub(crate) fn close(self: &Arc<Self>, reason: DownReason) {
        let was = self.state.swap(CLOSED, Ordering::AcqRel);
        if was == CLOSED {
            return;
        }
        let _ = self.down.set(reason.clone());
        {
            let mut out = lock(&self.out);
            out.closed = true;
            if reason != DownReason::Disconnected {
                out.buf = Vec::new();
                out.run = None;
            }
        }
        // Senders waiting for room stop waiting: their casts are dropped, as to a node that is
        // down.
        self.room.notify_waiters();
        let tables = std::mem::replace(
            &mut *lock(&self.tables),
            Tables {
                closed: true,
                ..Tables::default()
            },
        );
        self.shared.forget(self);
        self.stop_tasks(reason == DownReason::Disconnected);
        self.state_tx.send_replace(State::Closed);
        let node = self.node();
        for (local, remote) in tables.links {
            node.deliver_exit(Some(remote), local, ExitReason::NoConnection, true);
        }
        for (watcher, reference) in tables.watching.into_values() {
            node.deliver_down(watcher, reference, ExitReason::NoConnection);
        }
        for (target, reference) in tables.watched.into_values() {
            node.deliver_demonitor(target, reference);
        }
        for (_, tx) in tables.calls {
            let _ = tx.send(Err(RemoteCallError::NoConnection));
        }
        for (_, tx) in tables.stops {
            let _ = tx.send(Err(RemoteCallError::NoConnection));
        }
        for (_, tx) in tables.lookups {
            let _ = tx.send(Err(RemoteCallError::NoConnection));
        }
        if was == UP || matches!(reason, DownReason::HandshakeFailed(_)) {
            if was == UP {
                tracing::info!(node = %self.peer, %reason, "node down");
            }
            events::node_down(&self.peer, &reason);
            self.shared.notify(NodeEvent::NodeDown {
                node: self.peer.clone(),
                reason,
            });
        }
    }

    // ---- the tasks ----

    async fn write_loop(self: Arc<Self>, mut writer: WriteHalf<BoxStream>) {
        let mut batch = Vec::new();
        loop {
            let (frames, closed, room) = {
                let mut out = lock(&self.out);
                std::mem::swap(&mut out.buf, &mut batch);
                out.run = None;
                out.over = false;
                (
                    std::mem::take(&mut out.frames),
                    out.closed,
                    std::mem::take(&mut out.want_room),
                )
            };
            if room {
                // The queue is empty now: the senders that waited for room may go on.
                self.room.notify_waiters();
            }
            if batch.is_empty() {
                if closed {
                    break;
                }
                self.wake.notified().await;
                continue;
            }
            let written = if closed {
                // Disconnecting: flush what is queued, within a bound.
                let bound = self.shared.config.tick / 4;
                matches!(
                    tokio::time::timeout(bound, writer.write_all(&batch)).await,
                    Ok(Ok(()))
                )
            } else {
                writer.write_all(&batch).await.is_ok()
            };
            if !written {
                self.close(DownReason::ConnectionClosed);
                break;
            }
            self.written_bytes
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.frames_out.fetch_add(frames, Ordering::Relaxed);
            events::peer_io(events::PEER_OUT, &self.peer, batch.len(), frames);
            batch.clear();
            if batch.capacity() > 1 << 20 {
                batch = Vec::new();
            }
        }
        let _ = writer.shutdown().await;
    }

    async fn tick_loop(self: Arc<Self>) {
        let step = self.shared.config.tick / 8;
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + step, step);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let queued = || lock(&self.out).queued;
        let mut last_queued = queued();
        let mut last_read = self.read_bytes().load(Ordering::Relaxed);
        let mut silent = 0;
        loop {
            interval.tick().await;
            // A reader that waits for a server to take a run waits no longer than a turn.
            self.nudge.notify_waiters();
            if queued() == last_queued {
                let _ = self.push(|out| {
                    put_tick(out);
                    Ok(())
                });
            }
            last_queued = queued();
            let read = self.read_bytes().load(Ordering::Relaxed);
            if read == last_read {
                silent += 1;
                if silent >= 8 {
                    tracing::warn!(node = %self.peer, tick = ?self.shared.config.tick, "nothing read for the tick time");
                    self.close(DownReason::TickTimeout);
                    return;
                }
            } else {
                silent = 0;
                last_read = read;
            }
        }
    }

    async fn read_loop(self: Arc<Self>, mut reader: Reader) {
        // Casts to one process, one after another, find it once per read.
        let mut deliveries = self.node().deliveries();
        // Casts handed to processes since the reader last let them run.
        let mut handed = 0;
        loop {
            if reader.buffered() == 0 {
                // About to wait for the peer: keep no process while waiting.
                deliveries.forget();
            }
            // The most frequent frames, casts to a pid: those to one process that the buffer
            // holds, one after another, go to it together.
            if let Some(Ok((to, _))) = reader.peek().and_then(hot::casts_to_pid) {
                let (casts, woke) = self.cast_burst(&mut reader, &mut deliveries, to, RUN - handed);
                // None taken: the next run frame would go over the limit; let them run first.
                handed = if casts == 0 { RUN } else { handed + casts };
                self.let_run(woke, &mut handed, &deliveries).await;
                continue;
            }
            let reason = match reader.next().await {
                Ok(Read::Tick) => continue,
                Ok(Read::Body(body)) => match hot::casts_to_pid(body) {
                    // The first frame a read brought, casts to a pid: delivered at once.
                    Some(Ok((to, casts))) => {
                        let woke = self.deliver_casts(&mut deliveries, to, casts, body.len());
                        handed += casts.count();
                        self.let_run(woke, &mut handed, &deliveries).await;
                        continue;
                    }
                    Some(Err(why)) => FrameError::Decode(why),
                    None => {
                        self.frames_in.fetch_add(1, Ordering::Relaxed);
                        events::peer_io(events::PEER_IN, &self.peer, body.len() + 4, 1);
                        let frame = if hot::is_hot(body) {
                            hot::decode(body).map_err(FrameError::Decode)
                        } else {
                            decode::<Frame<'_>>(body)
                        };
                        match frame {
                            Ok(Frame::Unknown) => FrameError::Unknown,
                            Ok(frame) => {
                                if self.dispatch(frame, &mut deliveries) {
                                    continue;
                                }
                                return;
                            }
                            Err(e) => e,
                        }
                    }
                },
                Err(e) => e,
            };
            let reason = match reason {
                FrameError::Io(_) => DownReason::ConnectionClosed,
                refused => {
                    tracing::warn!(node = %self.peer, reason = %refused, "frame refused: closing the connection");
                    events::frame_refused(&self.peer, &refused);
                    DownReason::FrameRefused(refused.to_string())
                }
            };
            self.close(reason);
            return;
        }
    }

    /// Lets the processes that were handed casts run before handing out more: after a run
    /// that woke a server waiting for messages, until it has taken them (or, should it not
    /// take them, until the ticker's next turn); after `RUN` casts otherwise, a yield.
    async fn let_run(&self, woke: bool, handed: &mut u64, deliveries: &Deliveries) {
        if woke {
            *handed = 0;
            let nudged = self.nudge.notified();
            let taken = deliveries.taken();
            tokio::pin!(nudged, taken);
            std::future::poll_fn(|cx| match taken.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(()),
                Poll::Pending => nudged.as_mut().poll(cx),
            })
            .await;
        } else if *handed >= RUN {
            *handed = 0;
            tokio::task::yield_now().await;
        }
    }

    /// The casts to the process `to` of this node that the reader's buffer holds one after
    /// another (frames of one cast and runs of them), from the next frame on, as many whole
    /// frames as make at most `most` casts: decoded and queued together (dropped if there is
    /// no such process, as local casts). Returns how many, and whether they woke the process.
    fn cast_burst(
        &self,
        reader: &mut Reader,
        deliveries: &mut Deliveries,
        to: WirePid,
        most: u64,
    ) -> (u64, bool) {
        let (mut count, mut bytes) = (0, 0);
        let woke = deliveries.casts(to.into(), &mut |sink| {
            while let Some(body) = reader.peek() {
                let Some(Ok((at, casts))) = hot::casts_to_pid(body) else {
                    break;
                };
                if at != to || count + casts.count() > most {
                    break;
                }
                count += casts.count();
                bytes += body.len() + 4;
                casts.each(|value| self.cast_delivered(sink(value)));
                reader.skip();
            }
        });
        self.frames_in.fetch_add(count, Ordering::Relaxed);
        events::peer_io(events::PEER_IN, &self.peer, bytes, count);
        (count, woke)
    }

    /// The casts of one frame (`len` bytes) to the process `to` of this node, as
    /// [`cast_burst`](Self::cast_burst) delivers them; whether they woke the process.
    fn deliver_casts(
        &self,
        deliveries: &mut Deliveries,
        to: WirePid,
        casts: hot::Casts<'_>,
        len: usize,
    ) -> bool {
        let woke = deliveries.casts(to.into(), &mut |sink| {
            casts.each(|value| self.cast_delivered(sink(value)));
        });
        self.frames_in.fetch_add(casts.count(), Ordering::Relaxed);
        events::peer_io(events::PEER_IN, &self.peer, len + 4, casts.count());
        woke
    }

    /// A cast to the process `to` of this node (dropped if there is none, as a local cast).
    fn cast(&self, deliveries: &mut Deliveries, to: WirePid, payload: &[u8]) {
        self.cast_delivered(deliveries.cast(to.into(), payload));
    }

    /// What became of a cast from the peer: one to no process is dropped, as a local cast;
    /// one that was refused (it did not decode, the server has no wire form) is reported.
    fn cast_delivered(&self, outcome: Result<(), DeliverError>) {
        match outcome {
            Ok(()) | Err(DeliverError::NoProc) => {}
            Err(e) => self.refuse_message("cast", &e.to_string()),
        }
    }

    /// Delivers one frame; `false` when the connection is to end.
    fn dispatch(self: &Arc<Self>, frame: Frame<'_>, deliveries: &mut Deliveries) -> bool {
        let node = self.node();
        match frame {
            Frame::Send { to, tag, payload } => match self.shared.messages.decode(tag, payload) {
                Ok(message) => {
                    node.deliver_message(to.into(), message);
                }
                Err(why) => self.refuse_message(tag, &why),
            },
            Frame::SendNamed { name, tag, payload } => {
                match self.shared.messages.decode(tag, payload) {
                    Ok(message) => {
                        node.deliver_named(&name.into(), message);
                    }
                    Err(why) => self.refuse_message(tag, &why),
                }
            }
            Frame::Link { from, to } => {
                let (from, to) = (Pid::from(from), Pid::from(to));
                if self.add_link(to, from) {
                    node.deliver_link(from, to);
                }
            }
            Frame::Unlink { from, to } => {
                let (from, to) = (Pid::from(from), Pid::from(to));
                self.remove_link(to, from);
                node.deliver_unlink(from, to);
            }
            Frame::Exit {
                from,
                to,
                reason,
                link,
            } => {
                let (from, to) = (from.map(Pid::from), Pid::from(to));
                if link && let Some(from) = from {
                    self.remove_link(to, from);
                }
                node.deliver_exit(from, to, reason, link);
            }
            Frame::Monitor {
                watcher,
                target,
                reference,
            } => {
                let (watcher, target, mref) = monitor_of(watcher, target, reference);
                let recorded = {
                    let mut t = lock(&self.tables);
                    !t.closed && t.watched.insert(reference, (target, mref)).is_none()
                };
                if recorded {
                    node.deliver_monitor(watcher, target, mref);
                }
            }
            Frame::Demonitor {
                watcher,
                target,
                reference,
            } => {
                let (_, target, mref) = monitor_of(watcher, target, reference);
                self.remove_watched(mref);
                node.deliver_demonitor(target, mref);
            }
            Frame::Down {
                watcher: _,
                target: _,
                reference,
                reason,
            } => {
                let found = lock(&self.tables).watching.remove(&reference);
                if let Some((watcher, mref)) = found {
                    node.deliver_down(watcher, mref, reason);
                }
            }
            Frame::Call { id, to, payload } => self.serve_call(id, to, payload),
            Frame::Cast { to, payload } => {
                if let Some(pid) = self.resolve(to) {
                    self.cast(deliveries, pid.into(), payload);
                }
            }
            Frame::Reply { id, result } => {
                let tx = lock(&self.tables).calls.remove(&id);
                if let Some(tx) = tx {
                    let result = match result {
                        WireResult::Ok(bytes) => Ok(bytes.to_vec()),
                        WireResult::Err(e) => Err(e.into()),
                    };
                    let _ = tx.send(result);
                }
            }
            Frame::Stop { id, to, reason } => self.serve_stop(id, to.into(), reason),
            Frame::Stopped { id, result } => {
                let tx = lock(&self.tables).stops.remove(&id);
                if let Some(tx) = tx {
                    let _ = tx.send(result.map_err(Into::into));
                }
            }
            Frame::Whereis { id, name } => {
                let process = node
                    .kind_of(LocalTarget::Name(&name.into()))
                    .map(|(pid, kind)| (WirePid::from(pid), kind));
                self.push_frame(&Frame::Found { id, process });
            }
            Frame::Found { id, process } => {
                let tx = lock(&self.tables).lookups.remove(&id);
                if let Some(tx) = tx {
                    let _ = tx.send(Ok(process.map(|(pid, kind)| (pid.into(), kind))));
                }
            }
            Frame::Bye => {
                self.close(DownReason::ConnectionClosed);
                return false;
            }
            Frame::Unknown => {
                // Handled by the reader (an unknown frame closes the connection).
            }
        }
        true
    }

    fn refuse_message(&self, tag: &str, why: &str) {
        tracing::warn!(node = %self.peer, tag, reason = why, "a message from another node was dropped");
        events::message_refused(&self.peer, tag, &why);
    }

    /// The local pid a call or cast aims at.
    fn resolve(&self, to: Target<'_>) -> Option<Pid> {
        let node = self.node();
        match to {
            Target::Pid(pid) => Some(pid.into()),
            Target::Name(name) => node
                .kind_of(LocalTarget::Name(&name.into()))
                .map(|(pid, _)| pid),
        }
    }

    fn serve_call(self: &Arc<Self>, id: u64, to: Target<'_>, payload: &[u8]) {
        let node = self.node();
        let Some(server) = self.resolve(to) else {
            self.push_frame(&Frame::Reply {
                id,
                result: WireResult::Err(WireError::NoProc),
            });
            return;
        };
        let sink = Box::new(Sink {
            conn: Arc::clone(self),
            id,
            server,
            replied: false,
        });
        if let Err(e) = node.deliver_call(LocalTarget::Pid(server), payload, sink) {
            if let DeliverError::Decode(why) = &e {
                self.refuse_message("call", why);
            }
            self.push_frame(&Frame::Reply {
                id,
                result: WireResult::Err(e.into()),
            });
        }
    }

    fn serve_stop(self: &Arc<Self>, id: u64, to: Pid, reason: ExitReason) {
        let node = self.node();
        if let Err(e) = node.deliver_stop(to, reason) {
            self.push_frame(&Frame::Stopped {
                id,
                result: Err(e.into()),
            });
            return;
        }
        let conn = Arc::clone(self);
        let exited = exit_of(node, to);
        tokio::spawn(async move {
            let reason = exited.await;
            conn.push_frame(&Frame::Stopped {
                id,
                result: Ok(reason),
            });
        });
    }
}

/// The watcher, the target and the reference of a monitor of another node's process on one of
/// this node's, as the watcher's node made the reference.
fn monitor_of(watcher: WirePid, target: WirePid, reference: u64) -> (Pid, Pid, MonitorRef) {
    let (watcher, target) = (Pid::from(watcher), Pid::from(target));
    let mref = MonitorRef::from_parts(watcher.node(), watcher.creation(), reference, Some(target));
    (watcher, target, mref)
}

/// A future of the exit reason of a process of `node`.
fn exit_of(node: Node, pid: Pid) -> impl Future<Output = ExitReason> + Send + 'static {
    let _on = node.enter();
    otp_core::process::wait_exit(pid)
}

/// The way back to a caller on the other side of a connection.
struct Sink {
    conn: Arc<Connection>,
    id: u64,
    server: Pid,
    replied: bool,
}

impl ReplySink for Sink {
    fn reply(mut self: Box<Self>, reply: &dyn Encode) -> bool {
        self.replied = true;
        let id = self.id;
        let sent = self
            .conn
            .push(|out| put_with(out, |out| hot::reply(out, id, |out| reply.encode(out))));
        match sent {
            Ok(()) => self.conn.state() != State::Closed,
            Err(e) => {
                // The caller cannot get this reply: tell it why, so it does not wait it out.
                tracing::warn!(node = %self.conn.peer, error = %e, "a reply to another node was not sent");
                let why = match e {
                    RouteError::Encode(why) => format!("the reply did not encode: {why}"),
                    other => other.to_string(),
                };
                self.conn.push_frame(&Frame::Reply {
                    id,
                    result: WireResult::Err(WireError::Decode(why)),
                });
                false
            }
        }
    }

    fn is_open(&self) -> bool {
        self.conn.state() != State::Closed
    }

    fn refuse(mut self: Box<Self>) {
        self.replied = true;
        self.conn.push_frame(&Frame::Reply {
            id: self.id,
            result: WireResult::Err(WireError::MailboxFull),
        });
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if self.replied || self.conn.state() == State::Closed {
            return;
        }
        // Dropped unanswered: as for a local caller, the caller learns only if the server ends.
        let conn = Arc::clone(&self.conn);
        let id = self.id;
        let exited = exit_of(conn.node(), self.server);
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(async move {
                let reason = exited.await;
                conn.push_frame(&Frame::Reply {
                    id,
                    result: WireResult::Err(WireError::Exited(reason)),
                });
            });
        }
    }
}

/// How long a call may wait: `Duration::MAX` is no limit.
pub(crate) async fn within<T>(timeout: Duration, rx: Answer<T>) -> Result<T, RemoteCallError> {
    let answer = if timeout == Duration::MAX {
        rx.await
    } else {
        match tokio::time::timeout(timeout, rx).await {
            Ok(answer) => answer,
            Err(_) => return Err(RemoteCallError::Timeout),
        }
    };
    answer.unwrap_or(Err(RemoteCallError::NoConnection))
}

/// The most casts a connection's reader hands to processes before it lets them run: so that a
/// burst that one read brought (thousands of small casts) reaches its server in runs that stay
/// in the cache, in a mailbox that stays below the size it gives back when drained — without
/// it, a burst grows the mailbox's buffers past that size, and their allocation and release
/// each time (fresh pages from the kernel) cost the reading thread more than the casts do. It
/// is tokio's budget of a task's poll, the most messages a server handles before it yields:
/// a larger run outpaces the server on one thread, and its mailbox grows without end.
///
/// How the reader lets them run: a run that woke a server waiting for messages is followed by
/// a wait until that server has taken it ([`Deliveries::taken`]), so that nothing else is
/// runnable meanwhile — a yield would leave two tasks runnable, and a multi-thread runtime
/// then wakes a parked worker for the second (an `eventfd` write and a context switch per
/// run); otherwise (the server was already running) the reader yields.
const RUN: u64 = 128;

/// Splits a stream for a connection.
pub(crate) fn split(
    stream: BoxStream,
    read_bytes: &Arc<AtomicU64>,
    max_frame: usize,
) -> (Reader, WriteHalf<BoxStream>) {
    let (r, w) = tokio::io::split(stream);
    let counting = Counting::new(r, Arc::clone(read_bytes));
    (FrameReader::new(counting, max_frame), w)
}
