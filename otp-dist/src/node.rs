//! The node service (Erlang's `net_kernel`): a distributed node's listener, its connections
//! (one per node pair), connecting on demand and on request, simultaneous connects, and the
//! subscribers of node events.

use std::io;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use std::time::Duration;

use otp_core::node::Node;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use crate::connection::{Connection, PeerStats, State, split};
use crate::events::{self, DownReason, NodeEvent};
use crate::frame::{DEFAULT_MAX_FRAME, FrameError};
use crate::handshake::{self, HandshakeConfig, HandshakeError};
use crate::messages::MessageTypes;
use crate::proto::{Frame, Status};
use crate::router::DistRouter;
use crate::transport::{BoxStream, Listener, Tcp, Transport};

/// The settings of a distributed node.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) cookie: Vec<u8>,
    pub(crate) tick: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_frame: usize,
    pub(crate) outbound_limit: usize,
    pub(crate) outbound_threshold: usize,
}

/// The default tick time T (Erlang's `net_ticktime`): 15 s. A silent peer is declared down
/// between T − T/4 and T + T/4.
pub const DEFAULT_TICK_TIME: Duration = Duration::from_secs(15);
/// The default deadline of a handshake (Erlang's `net_setuptime` is 7 s).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(7);
/// The default bound of a connection's outbound queue: 512 KiB (Erlang's `dist_buf_busy_limit`
/// is 1 MiB). A send that finds the queue over it is refused as busy (Erlang's
/// `busy_dist_port`). Half of Erlang's: a burst's batches stay within the cache, and the first
/// of them goes out sooner (at 4 MiB, a burst of small casts waited for half a million casts
/// to be queued before the first byte was written).
pub const DEFAULT_OUTBOUND_LIMIT: usize = 512 * 1024;

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The name is not `name@host:port`.
    #[error("a node name is name@host:port, not {0:?}")]
    InvalidName(String),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Invalid(&'static str),
}

/// Why a connection to a node could not be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The name is not `name@host:port`.
    #[error("a node name is name@host:port, not {0:?}")]
    InvalidName(String),
    /// That is this node.
    #[error("{0} is this node")]
    ThisNode(String),
    /// The connection was not made: the address did not answer, or the handshake failed
    /// (the reason says which: a wrong cookie, no common version, another tick time, a name
    /// already connected, a stalled handshake).
    #[error("cannot connect to {node}: {reason}")]
    Failed {
        /// The node.
        node: String,
        /// Why.
        reason: String,
    },
    /// The connection came up and was lost before the call returned.
    #[error("the connection to {node} was lost: {reason}")]
    Lost {
        /// The node.
        node: String,
        /// Why.
        reason: DownReason,
    },
}

/// A connection slot: the connection to one node, set up or up.
pub(crate) type Peers = HashMap<u32, Arc<Connection>>;

/// The connections of a node, by the peer's id. Changed under a lock (setting a connection up
/// reads and then writes the table); every change publishes a copy, which the paths of
/// messages read without a lock and without touching a shared reference count (arc-swap: a
/// load costs a few instructions on per-thread slots), so that senders on several threads do
/// not contend on it. Changes are rare: a connection set up, replaced or closed.
pub(crate) struct PeerTable {
    table: Mutex<Peers>,
    published: ArcSwap<Peers>,
}

impl PeerTable {
    fn new() -> Self {
        PeerTable {
            table: Mutex::new(HashMap::default()),
            published: ArcSwap::from_pointee(HashMap::default()),
        }
    }

    /// The table, to read and change; a change is published when the guard is dropped.
    fn lock(&self) -> PeersGuard<'_> {
        PeersGuard {
            peers: lock(&self.table),
            table: self,
            changed: false,
        }
    }

    /// The table as last published.
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Peers>> {
        self.published.load()
    }
}

/// The locked table of connections (see [`PeerTable::lock`]).
struct PeersGuard<'a> {
    peers: MutexGuard<'a, Peers>,
    table: &'a PeerTable,
    changed: bool,
}

impl std::ops::Deref for PeersGuard<'_> {
    type Target = Peers;
    fn deref(&self) -> &Peers {
        &self.peers
    }
}

impl std::ops::DerefMut for PeersGuard<'_> {
    fn deref_mut(&mut self) -> &mut Peers {
        self.changed = true;
        &mut self.peers
    }
}

impl Drop for PeersGuard<'_> {
    fn drop(&mut self) {
        if self.changed {
            self.table.published.store(Arc::new(self.peers.clone()));
        }
    }
}

/// What a distributed node shares with its connections and its router.
pub(crate) struct Shared {
    pub(crate) node: Node,
    pub(crate) config: Config,
    pub(crate) messages: MessageTypes,
    transport: Arc<dyn Transport>,
    pub(crate) peers: PeerTable,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<NodeEvent>>>,
    listener: Mutex<Option<tokio::task::AbortHandle>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The address part of a node name `name@host:port`.
pub(crate) fn address_of(name: &str) -> Option<&str> {
    let (alive, addr) = name.split_once('@')?;
    let (host, port) = addr.rsplit_once(':')?;
    (!alive.is_empty() && !host.is_empty() && port.parse::<u16>().is_ok()).then_some(addr)
}

impl Shared {
    pub(crate) fn name(&self) -> &str {
        self.node.name()
    }

    pub(crate) fn notify(&self, event: NodeEvent) {
        lock(&self.subscribers).retain(|s| s.send(event.clone()).is_ok());
    }

    /// Removes a closed connection from the table, if it is still the one there.
    pub(crate) fn forget(&self, conn: &Arc<Connection>) {
        let mut peers = self.peers.lock();
        if peers
            .get(&conn.peer_id)
            .is_some_and(|c| Arc::ptr_eq(c, conn))
        {
            peers.remove(&conn.peer_id);
        }
    }

    /// The connection to the node of `pid`, if there is one (up or being set up).
    pub(crate) fn for_pid(&self, id: u32) -> Option<Arc<Connection>> {
        self.peers.load().get(&id).cloned()
    }

    /// The connection to the node named `name`: the one there is, or a new one, dialed now.
    pub(crate) fn to_node(self: &Arc<Self>, name: &str) -> Result<Arc<Connection>, ConnectError> {
        if name == self.name() {
            return Err(ConnectError::ThisNode(name.to_owned()));
        }
        let Some(addr) = address_of(name) else {
            return Err(ConnectError::InvalidName(name.to_owned()));
        };
        let id = Node::id_of(name);
        let conn = {
            let mut peers = self.peers.lock();
            if let Some(conn) = peers.get(&id) {
                if conn.peer == name {
                    return Ok(Arc::clone(conn));
                }
                // Two names of one id: so unlikely (a 32-bit hash) that refusing is enough.
                return Err(ConnectError::Failed {
                    node: name.to_owned(),
                    reason: format!("its id collides with the connected node {}", conn.peer),
                });
            }
            let conn = Connection::new(Arc::clone(self), name.to_owned());
            lock(&conn.setup).dialing = true;
            peers.insert(id, Arc::clone(&conn));
            conn
        };
        tokio::spawn(Arc::clone(self).dial(Arc::clone(&conn), addr.to_owned()));
        Ok(conn)
    }

    fn handshake_config(&self) -> HandshakeConfig {
        let mut config = HandshakeConfig::new(
            self.name(),
            self.node.creation(),
            self.config.cookie.clone(),
        );
        config.tick = self.config.tick;
        config.timeout = self.config.handshake_timeout;
        config
    }

    async fn dial(self: Arc<Self>, conn: Arc<Connection>, addr: String) {
        let config = self.handshake_config();
        let outcome: Result<(), HandshakeError> = async {
            let stream = tokio::time::timeout(config.timeout, self.transport.connect(&addr))
                .await
                .map_err(|_| HandshakeError::Timeout(config.timeout))??;
            let counter = Arc::new(AtomicU64::new(0));
            let (mut reader, mut writer) = split(stream, &counter, self.config.max_frame);
            let peer =
                handshake::initiate(&mut reader, &mut writer, &config, Some(&conn.peer)).await?;
            conn.attach(peer.creation, reader, writer, counter);
            Ok(())
        }
        .await;
        let accepting = {
            let mut setup = lock(&conn.setup);
            setup.dialing = false;
            setup.accepting
        };
        match outcome {
            Ok(()) => {}
            // The incoming handshake of the same node settles it.
            Err(HandshakeError::AlreadyConnected(_)) if accepting || conn.state() == State::Up => {}
            Err(HandshakeError::Simultaneous) => {
                // The other node is dialing us, and its connection is the one kept: its
                // handshake may not have reached us yet. If none comes within a handshake's
                // deadline, the connection fails.
                let deadline = self.config.handshake_timeout;
                tokio::spawn(async move {
                    tokio::time::sleep(deadline).await;
                    let abandoned = {
                        let setup = lock(&conn.setup);
                        !setup.accepting && !setup.dialing
                    };
                    if abandoned && conn.state() == State::Pending {
                        let why = "a simultaneous connect whose other side never came".to_owned();
                        events::handshake_failed(Some(&conn.peer), "initiator", &why);
                        let _ = conn.dial_error.set(why.clone());
                        conn.close(DownReason::HandshakeFailed(why));
                    }
                });
            }
            Err(e) => {
                if accepting {
                    tracing::debug!(node = %conn.peer, reason = %e, "our dial failed; the incoming connection goes on");
                    return;
                }
                let why = match e {
                    HandshakeError::Frame(FrameError::Io(io)) => format!("{addr}: {io}"),
                    e => e.to_string(),
                };
                tracing::warn!(node = %conn.peer, reason = %why, "cannot connect");
                events::handshake_failed(Some(&conn.peer), "initiator", &why);
                let _ = conn.dial_error.set(why.clone());
                conn.close(DownReason::HandshakeFailed(why));
            }
        }
    }

    /// Runs the acceptor's side of one incoming connection.
    async fn accept(self: Arc<Self>, stream: BoxStream) {
        let config = self.handshake_config();
        let mut slot: Option<Arc<Connection>> = None;
        let shared = Arc::clone(&self);
        let my_name = self.name().to_owned();
        let mut decide = |peer: &str, creation: u32| -> Status {
            if address_of(peer).is_none() || peer == my_name {
                return Status::Alive;
            }
            let id = Node::id_of(peer);
            let mut peers = shared.peers.lock();
            match peers.get(&id) {
                None => {
                    let conn = Connection::new(Arc::clone(&shared), peer.to_owned());
                    lock(&conn.setup).accepting = true;
                    peers.insert(id, Arc::clone(&conn));
                    slot = Some(conn);
                    Status::Ok
                }
                Some(conn) if conn.peer == peer && conn.state() == State::Pending => {
                    let mut setup = lock(&conn.setup);
                    if setup.accepting {
                        Status::Alive
                    } else if peer > my_name.as_str() {
                        // Both are connecting: the connection started by the greater name is
                        // kept, on both sides.
                        setup.accepting = true;
                        slot = Some(Arc::clone(conn));
                        Status::OkSimultaneous
                    } else {
                        Status::Nok
                    }
                }
                Some(conn)
                    if conn.peer == peer
                        && conn.state() == State::Up
                        && conn.creation() != creation =>
                {
                    // The node restarted (a new creation) before its old connection was seen
                    // to die: that connection is dead; the new one replaces it.
                    let old = Arc::clone(conn);
                    let new = Connection::new(Arc::clone(&shared), peer.to_owned());
                    lock(&new.setup).accepting = true;
                    peers.insert(id, Arc::clone(&new));
                    drop(peers);
                    old.close(DownReason::ConnectionClosed);
                    slot = Some(new);
                    Status::Ok
                }
                Some(_) => Status::Alive,
            }
        };
        let counter = Arc::new(AtomicU64::new(0));
        let (mut reader, mut writer) = split(stream, &counter, self.config.max_frame);
        let outcome = handshake::accept(&mut reader, &mut writer, &config, &mut decide).await;
        match (outcome, slot) {
            (Ok(peer), Some(conn)) => {
                lock(&conn.setup).accepting = false;
                conn.attach(peer.creation, reader, writer, counter);
            }
            (Ok(_), None) => {}
            (Err(e), slot) => {
                log_refused(&e);
                if !matches!(e, HandshakeError::Simultaneous) {
                    events::handshake_failed(
                        slot.as_ref().map(|c| c.peer.as_str()),
                        "acceptor",
                        &e,
                    );
                }
                if let Some(conn) = slot {
                    let mut setup = lock(&conn.setup);
                    setup.accepting = false;
                    let dialing = setup.dialing;
                    drop(setup);
                    if !dialing {
                        conn.close(DownReason::HandshakeFailed(e.to_string()));
                    }
                }
            }
        }
    }
}

fn log_refused(e: &HandshakeError) {
    match e {
        HandshakeError::Simultaneous => {
            tracing::debug!("a simultaneous connect: the other connection is kept");
        }
        e => tracing::warn!(reason = %e, "an incoming connection was refused"),
    }
}

/// Builds a distributed node: [`DistNode::builder`].
#[must_use]
pub struct DistBuilder {
    name: String,
    config: Config,
    transport: Arc<dyn Transport>,
    messages: MessageTypes,
}

impl DistBuilder {
    /// The shared secret. Both nodes of a connection must have the same. Default: none
    /// (empty) — set one.
    pub fn cookie(mut self, cookie: impl AsRef<[u8]>) -> Self {
        self.config.cookie = cookie.as_ref().to_vec();
        self
    }

    /// The tick time T ([`DEFAULT_TICK_TIME`]); both nodes of a connection must have the same.
    pub fn tick_time(mut self, tick: Duration) -> Self {
        self.config.tick = tick;
        self
    }

    /// The deadline of a handshake ([`DEFAULT_HANDSHAKE_TIMEOUT`]).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// The largest frame accepted from a peer ([`DEFAULT_MAX_FRAME`], 8 MiB); a larger one
    /// closes the connection.
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config.max_frame = bytes;
        self
    }

    /// The bound of each connection's outbound queue ([`DEFAULT_OUTBOUND_LIMIT`]), and the
    /// length that emits the `over_threshold` event (default: half the bound).
    pub fn outbound_limit(mut self, bytes: usize, threshold: Option<usize>) -> Self {
        self.config.outbound_limit = bytes;
        self.config.outbound_threshold = threshold.unwrap_or(bytes / 2);
        self
    }

    /// The transport ([`Tcp`] by default).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Arc::new(transport);
        self
    }

    /// Lets `T` travel as an info message, under its Rust path as tag (see
    /// [`messages`](crate::messages)).
    pub fn message<T: Serialize + DeserializeOwned + Send + 'static>(self) -> Self {
        self.messages.register::<T>(None);
        self
    }

    /// Lets `T` travel as an info message, under `tag` (stable across renames of the type).
    pub fn message_tagged<T: Serialize + DeserializeOwned + Send + 'static>(
        self,
        tag: &str,
    ) -> Self {
        self.messages.register::<T>(Some(tag));
        self
    }

    /// Starts the node: binds its listener (port 0 picks a free port, and the node's name gets
    /// the port), makes its otp-core [`Node`], installs its router, and accepts connections.
    /// Call it inside a tokio runtime: the node's tasks run there.
    ///
    /// # Errors
    /// See [`StartError`].
    pub async fn start(self) -> Result<DistNode, StartError> {
        let Some(addr) = address_of(&self.name) else {
            return Err(StartError::InvalidName(self.name));
        };
        if self.config.tick < Duration::from_millis(8) {
            return Err(StartError::Invalid("the tick time is under 8 ms"));
        }
        if self.config.max_frame == 0 || self.config.outbound_limit == 0 {
            return Err(StartError::Invalid("a size limit is 0"));
        }
        let listener = self
            .transport
            .bind(addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: addr.to_owned(),
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| StartError::Bind {
            addr: addr.to_owned(),
            source,
        })?;
        let alive = self.name.split_once('@').map_or("", |(a, _)| a);
        let name = format!("{alive}@{bound}");
        let node = Node::new(name);
        let shared = Arc::new(Shared {
            node,
            config: self.config,
            messages: self.messages,
            transport: self.transport,
            peers: PeerTable::new(),
            subscribers: Mutex::new(Vec::new()),
            listener: Mutex::new(None),
        });
        if node
            .set_router(Arc::new(DistRouter(Arc::clone(&shared))))
            .is_err()
        {
            return Err(StartError::Invalid("the node has a router already"));
        }
        let accepting = tokio::spawn(accept_loop(Arc::clone(&shared), listener));
        *lock(&shared.listener) = Some(accepting.abort_handle());
        tracing::info!(node = %shared.name(), "distributed node started");
        Ok(DistNode(shared))
    }
}

async fn accept_loop(shared: Arc<Shared>, mut listener: Box<dyn Listener>) {
    loop {
        match listener.accept().await {
            Ok(stream) => {
                tokio::spawn(Arc::clone(&shared).accept(stream));
            }
            Err(e) => {
                tracing::warn!(node = %shared.name(), error = %e, "accept failed");
                // A listener that fails keeps failing at once: do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A distributed node: an otp-core [`Node`] that other nodes can reach, and whose processes
/// reach theirs (see the [crate docs](crate)). Cheap to clone.
#[derive(Clone)]
pub struct DistNode(Arc<Shared>);

impl std::fmt::Debug for DistNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DistNode({})", self.name())
    }
}

impl DistNode {
    /// A builder of the node named `name@host:port` (port 0: any free port).
    pub fn builder(name: impl Into<String>) -> DistBuilder {
        DistBuilder {
            name: name.into(),
            config: Config {
                cookie: Vec::new(),
                tick: DEFAULT_TICK_TIME,
                handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
                max_frame: DEFAULT_MAX_FRAME,
                outbound_limit: DEFAULT_OUTBOUND_LIMIT,
                outbound_threshold: DEFAULT_OUTBOUND_LIMIT / 2,
            },
            transport: Arc::new(Tcp),
            messages: MessageTypes::with_defaults(),
        }
    }

    /// The otp-core node: spawn on it (`node.enter()`, [`Node::runtime`]) and its processes
    /// reach other nodes.
    pub fn node(&self) -> Node {
        self.0.node
    }

    /// The node's name, `name@host:port`.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Connects to the node named `name` (Erlang's `net_kernel:connect_node/1`), and returns
    /// once the connection is up. Connected already: returns at once.
    ///
    /// # Errors
    /// See [`ConnectError`].
    pub async fn connect(&self, name: &str) -> Result<(), ConnectError> {
        let conn = self.0.to_node(name)?;
        match conn.settled().await {
            State::Up => Ok(()),
            State::Pending | State::Closed => Err(match conn.down_reason() {
                Some(DownReason::HandshakeFailed(reason)) => ConnectError::Failed {
                    node: name.to_owned(),
                    reason: conn
                        .dial_error
                        .get()
                        .cloned()
                        .unwrap_or_else(|| reason.clone()),
                },
                Some(reason) => ConnectError::Lost {
                    node: name.to_owned(),
                    reason: reason.clone(),
                },
                None => ConnectError::Failed {
                    node: name.to_owned(),
                    reason: "the connection closed".into(),
                },
            }),
        }
    }

    /// Disconnects from the node named `name` (Erlang's `erlang:disconnect_node/1`): its links
    /// and monitors fire `noconnection` on both sides. Returns whether it was connected.
    pub fn disconnect(&self, name: &str) -> bool {
        let conn = self.0.peers.lock().get(&Node::id_of(name)).cloned();
        match conn {
            Some(conn) if conn.peer == name => {
                conn.push_frame(&Frame::Bye);
                conn.close(DownReason::Disconnected);
                true
            }
            _ => false,
        }
    }

    /// The names of the nodes connected now (Erlang's `nodes()`).
    pub fn nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self
            .0
            .peers
            .lock()
            .values()
            .filter(|c| c.state() == State::Up)
            .map(|c| c.peer.clone())
            .collect();
        nodes.sort();
        nodes
    }

    /// Node events from now on: [`NodeEvent::NodeUp`] and [`NodeEvent::NodeDown`] (Erlang's
    /// `net_kernel:monitor_nodes(true)`). None is lost; drop the receiver to stop.
    pub fn monitor_nodes(&self) -> mpsc::UnboundedReceiver<NodeEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        lock(&self.0.subscribers).push(tx);
        rx
    }

    /// The figures of the connection to `name`, if there is one.
    pub fn peer_stats(&self, name: &str) -> Option<PeerStats> {
        self.0
            .peers
            .lock()
            .get(&Node::id_of(name))
            .filter(|c| c.peer == name)
            .map(|c| c.stats())
    }

    /// Stops accepting connections and disconnects from every node. The otp-core node and its
    /// processes stay; a message to another node is dropped from then on.
    pub fn shutdown(&self) {
        if let Some(listener) = lock(&self.0.listener).take() {
            listener.abort();
        }
        let peers: Vec<_> = self.0.peers.lock().values().cloned().collect();
        for conn in peers {
            conn.push_frame(&Frame::Bye);
            conn.close(DownReason::Disconnected);
        }
    }
}
