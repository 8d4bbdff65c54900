//! Transports: how a node listens and dials. The one seam between distribution and the network,
//! so that the same stack runs over TCP, over in-memory pipes in unit tests, and over a simulated
//! network (the tests plug turmoil's TCP in through this trait).

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream};
use tokio::sync::mpsc;

/// A byte stream to another node.
pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// A boxed [`Stream`].
pub type BoxStream = Box<dyn Stream>;

/// A boxed future, as the transport's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A listening endpoint.
pub trait Listener: Send + 'static {
    /// The next incoming connection.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxStream>>;

    /// The address it listens on (`host:port`), as others dial it.
    fn local_addr(&self) -> io::Result<String>;
}

/// How a node listens and dials. Addresses are `host:port` strings.
pub trait Transport: Send + Sync + 'static {
    /// Listens on `addr`.
    fn bind<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Listener>>>;

    /// Dials `addr`.
    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<BoxStream>>;
}

/// TCP, with `TCP_NODELAY` (frames are batched by the writer, not by Nagle).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tcp;

struct TcpListener(tokio::net::TcpListener);

impl Listener for TcpListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
            let (stream, _) = self.0.accept().await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }

    fn local_addr(&self) -> io::Result<String> {
        Ok(self.0.local_addr()?.to_string())
    }
}

impl Transport for Tcp {
    fn bind<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            Ok(Box::new(TcpListener(listener)) as Box<dyn Listener>)
        })
    }

    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<BoxStream>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }
}

/// An in-memory network: nodes in one program that listen and dial by name over tokio's duplex
/// pipes. For tests and examples; a clone is the same network.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    listeners: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<DuplexStream>>>>,
    next_port: Arc<Mutex<u16>>,
}

impl Memory {
    /// A new, empty network.
    pub fn new() -> Self {
        Self::default()
    }
}

struct MemoryListener {
    addr: String,
    incoming: mpsc::UnboundedReceiver<DuplexStream>,
    network: Memory,
}

impl Drop for MemoryListener {
    fn drop(&mut self) {
        if let Ok(mut listeners) = self.network.listeners.lock() {
            listeners.remove(&self.addr);
        }
    }
}

impl Listener for MemoryListener {
    fn accept(&mut self) -> BoxFuture<'_, io::Result<BoxStream>> {
        Box::pin(async move {
            match self.incoming.recv().await {
                Some(stream) => Ok(Box::new(stream) as BoxStream),
                None => Err(io::ErrorKind::NotConnected.into()),
            }
        })
    }

    fn local_addr(&self) -> io::Result<String> {
        Ok(self.addr.clone())
    }
}

/// The buffer of each direction of an in-memory pipe.
const PIPE_BUFFER: usize = 256 * 1024;

impl Transport for Memory {
    fn bind<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<Box<dyn Listener>>> {
        Box::pin(async move {
            let mut addr = addr.to_owned();
            if let Some(host) = addr.strip_suffix(":0") {
                let mut next = self.next_port.lock().map_err(|_| io::ErrorKind::Other)?;
                *next = next.wrapping_add(1).max(1);
                addr = format!("{host}:{}", *next);
            }
            let (tx, rx) = mpsc::unbounded_channel();
            let mut listeners = self.listeners.lock().map_err(|_| io::ErrorKind::Other)?;
            if listeners.contains_key(&addr) {
                return Err(io::ErrorKind::AddrInUse.into());
            }
            listeners.insert(addr.clone(), tx);
            Ok(Box::new(MemoryListener {
                addr,
                incoming: rx,
                network: self.clone(),
            }) as Box<dyn Listener>)
        })
    }

    fn connect<'a>(&'a self, addr: &'a str) -> BoxFuture<'a, io::Result<BoxStream>> {
        Box::pin(async move {
            let listener = self
                .listeners
                .lock()
                .map_err(|_| io::ErrorKind::Other)?
                .get(addr)
                .cloned()
                .ok_or(io::ErrorKind::ConnectionRefused)?;
            let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
            listener
                .send(theirs)
                .map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
            Ok(Box::new(ours) as BoxStream)
        })
    }
}
