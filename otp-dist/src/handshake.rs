//! The handshake: two nodes prove to each other that they share the cookie, agree on a protocol
//! version and a tick time, and learn each other's name and creation.
//!
//! Erlang's state machine with modern cryptography (never Erlang's MD5 over a 32-bit
//! challenge):
//!
//! ```text
//! initiator                                   acceptor
//!   Hello{versions, name, creation, T, nonce_a}  ->
//!                                             <-  Status{ok | ok_simultaneous | nok | alive}
//!                                             <-  Challenge{version, name, creation, nonce_b}
//!   Reply{HMAC(cookie, "initiator" | transcript)} ->
//!                                             <-  Ack{HMAC(cookie, "acceptor" | transcript | reply)}
//! ```
//!
//! The transcript is the exact bytes of `Hello` and `Challenge` as sent, so both nonces, both
//! names and both creations are bound into each proof. The initiator proves first; the
//! acceptor proves in turn, so each side knows the other has the cookie. Proofs are compared in
//! constant time. A refusal (no common version, another tick time, a proof that does not
//! verify) is sent as `Refused{reason}` before the acceptor closes, so that the dialing side
//! gets a typed [`HandshakeError`]. Each side runs the whole handshake under its own deadline.

use std::time::Duration;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::frame::{FrameError, FrameReader, Read, decode, put_value};
pub use crate::proto::Status;
use crate::proto::{Handshake, Refusal, VERSION_MAX, VERSION_MIN};

type HmacSha256 = Hmac<Sha256>;

/// What one side brings to a handshake.
#[derive(Clone, Debug)]
pub struct HandshakeConfig {
    /// This node's name.
    pub name: String,
    /// This node's creation.
    pub creation: u32,
    /// The shared secret.
    pub cookie: Vec<u8>,
    /// The tick time T: both ends must have the same.
    pub tick: Duration,
    /// The deadline of the whole handshake.
    pub timeout: Duration,
    /// The protocol versions this side speaks (lowest, highest).
    pub versions: (u32, u32),
}

impl HandshakeConfig {
    /// A configuration with this protocol's versions.
    pub fn new(name: impl Into<String>, creation: u32, cookie: impl Into<Vec<u8>>) -> Self {
        HandshakeConfig {
            name: name.into(),
            creation,
            cookie: cookie.into(),
            tick: Duration::from_secs(15),
            timeout: Duration::from_secs(7),
            versions: (VERSION_MIN, VERSION_MAX),
        }
    }
}

/// The other node, once the handshake succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// Its name.
    pub name: String,
    /// Its creation.
    pub creation: u32,
    /// The protocol version both speak.
    pub version: u32,
    /// Whether the acceptor said this connection won a simultaneous connect.
    pub simultaneous: bool,
}

/// Why a handshake failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The other side's proof did not verify, or it refused ours: the cookies differ.
    #[error("the cookies differ")]
    BadCookie,
    /// No protocol version in common.
    #[error("no common protocol version: ours {ours:?}, theirs {theirs:?}")]
    Version {
        /// Ours.
        ours: (u32, u32),
        /// Theirs.
        theirs: (u32, u32),
    },
    /// The tick times differ.
    #[error("the tick times differ: ours {ours:?}, theirs {theirs:?}")]
    TickTime {
        /// Ours.
        ours: Duration,
        /// Theirs.
        theirs: Duration,
    },
    /// The acceptor has a connection to a node of this name already.
    #[error("{0} is connected already")]
    AlreadyConnected(String),
    /// Both nodes were connecting to each other, and the other connection is kept (no error
    /// for the user: the nodes are connected through the other one).
    #[error("a simultaneous connect: the other connection is kept")]
    Simultaneous,
    /// The node that answered is not the one dialed.
    #[error("dialed {expected}, {actual} answered")]
    WrongNode {
        /// The name dialed.
        expected: String,
        /// The name it gave.
        actual: String,
    },
    /// The other side sent something out of turn.
    #[error("out of turn in the handshake: {0}")]
    Protocol(String),
    /// The deadline passed.
    #[error("the handshake did not finish within {0:?}")]
    Timeout(Duration),
    /// A frame could not be read, or the connection closed.
    #[error(transparent)]
    Frame(#[from] FrameError),
}

impl From<std::io::Error> for HandshakeError {
    fn from(e: std::io::Error) -> Self {
        HandshakeError::Frame(FrameError::Io(e))
    }
}

/// How an acceptor answers the `Hello` of the node named `name`, of creation `creation`: told by
/// the node, which knows its connections and its own dials.
pub type Decide<'a> = &'a mut (dyn FnMut(&str, u32) -> Status + Send);

fn nonce() -> Vec<u8> {
    let mut n = vec![0u8; 32];
    rand::rng().fill_bytes(&mut n);
    n
}

fn mac(cookie: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(cookie).expect("HMAC takes keys of any length");
    for part in parts {
        // Each part with its length, so that parts cannot be shifted into each other.
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m
}

const INITIATOR: &[u8] = b"otp-dist initiator";
const ACCEPTOR: &[u8] = b"otp-dist acceptor";

async fn send<W: AsyncWrite + Unpin>(
    w: &mut W,
    msg: &Handshake,
) -> Result<Vec<u8>, HandshakeError> {
    let mut out = Vec::new();
    put_value(&mut out, msg).map_err(HandshakeError::Protocol)?;
    w.write_all(&out).await?;
    w.flush().await?;
    // The body as sent, for the transcript.
    Ok(out.split_off(4))
}

async fn recv<R: AsyncRead + Unpin>(
    r: &mut FrameReader<R>,
) -> Result<(Handshake, Vec<u8>), HandshakeError> {
    match r.next().await? {
        Read::Tick => Err(HandshakeError::Protocol("a tick".into())),
        Read::Body(body) => {
            let msg: Handshake = decode(body)?;
            Ok((msg, body.to_vec()))
        }
    }
}

async fn with_deadline<T>(
    timeout: Duration,
    f: impl Future<Output = Result<T, HandshakeError>>,
) -> Result<T, HandshakeError> {
    tokio::time::timeout(timeout, f)
        .await
        .unwrap_or(Err(HandshakeError::Timeout(timeout)))
}

/// Runs the initiator's side, toward the node named `expected` (if known).
///
/// # Errors
/// See [`HandshakeError`].
pub async fn initiate<R, W>(
    reader: &mut FrameReader<R>,
    writer: &mut W,
    config: &HandshakeConfig,
    expected: Option<&str>,
) -> Result<Peer, HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    with_deadline(config.timeout, async {
        let hello = send(
            writer,
            &Handshake::Hello {
                version_min: config.versions.0,
                version_max: config.versions.1,
                name: config.name.clone(),
                creation: config.creation,
                tick_ms: millis(config.tick),
                nonce: nonce(),
            },
        )
        .await?;
        let simultaneous = match recv(reader).await?.0 {
            Handshake::Status { status: Status::Ok } => false,
            Handshake::Status {
                status: Status::OkSimultaneous,
            } => true,
            Handshake::Status {
                status: Status::Nok,
            } => return Err(HandshakeError::Simultaneous),
            Handshake::Status {
                status: Status::Alive,
            } => {
                return Err(HandshakeError::AlreadyConnected(config.name.clone()));
            }
            Handshake::Refused { reason } => return Err(refused(reason, config)),
            other => return Err(unexpected("Status", &other)),
        };
        let (challenge, challenge_bytes) = recv(reader).await?;
        let Handshake::Challenge {
            version,
            name,
            creation,
            ..
        } = challenge
        else {
            return Err(unexpected("Challenge", &challenge));
        };
        if let Some(expected) = expected
            && expected != name
        {
            return Err(HandshakeError::WrongNode {
                expected: expected.to_owned(),
                actual: name,
            });
        }
        if version < config.versions.0 || version > config.versions.1 {
            return Err(HandshakeError::Version {
                ours: config.versions,
                theirs: (version, version),
            });
        }
        let proof = mac(&config.cookie, &[INITIATOR, &hello, &challenge_bytes])
            .finalize()
            .into_bytes()
            .to_vec();
        send(writer, &Handshake::Reply { mac: proof.clone() }).await?;
        match recv(reader).await?.0 {
            Handshake::Ack { mac: theirs } => {
                mac(
                    &config.cookie,
                    &[ACCEPTOR, &hello, &challenge_bytes, &proof],
                )
                .verify_slice(&theirs)
                .map_err(|_| HandshakeError::BadCookie)?;
            }
            Handshake::Refused { reason } => return Err(refused(reason, config)),
            other => return Err(unexpected("Ack", &other)),
        }
        Ok(Peer {
            name,
            creation,
            version,
            simultaneous,
        })
    })
    .await
}

/// Runs the acceptor's side. `decide` answers the `Hello` (see [`Decide`]); it is called once,
/// after the versions and tick times were found to agree.
///
/// # Errors
/// See [`HandshakeError`]; a refusal was sent to the initiator first where there is one.
pub async fn accept<R, W>(
    reader: &mut FrameReader<R>,
    writer: &mut W,
    config: &HandshakeConfig,
    decide: Decide<'_>,
) -> Result<Peer, HandshakeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    with_deadline(config.timeout, async {
        let (hello, hello_bytes) = recv(reader).await?;
        let Handshake::Hello {
            version_min,
            version_max,
            name,
            creation,
            tick_ms,
            ..
        } = hello
        else {
            return Err(unexpected("Hello", &hello));
        };
        let version = version_max.min(config.versions.1);
        if version < version_min.max(config.versions.0) {
            let (min, max) = config.versions;
            send(
                writer,
                &Handshake::Refused {
                    reason: Refusal::Version { min, max },
                },
            )
            .await?;
            return Err(HandshakeError::Version {
                ours: config.versions,
                theirs: (version_min, version_max),
            });
        }
        if tick_ms != millis(config.tick) {
            let reason = Refusal::TickTime {
                ms: millis(config.tick),
            };
            send(writer, &Handshake::Refused { reason }).await?;
            return Err(HandshakeError::TickTime {
                ours: config.tick,
                theirs: Duration::from_millis(tick_ms),
            });
        }
        let status = decide(&name, creation);
        send(writer, &Handshake::Status { status }).await?;
        match status {
            Status::Ok | Status::OkSimultaneous => {}
            Status::Nok => return Err(HandshakeError::Simultaneous),
            Status::Alive | Status::Unknown => return Err(HandshakeError::AlreadyConnected(name)),
        }
        let challenge = send(
            writer,
            &Handshake::Challenge {
                version,
                name: config.name.clone(),
                creation: config.creation,
                nonce: nonce(),
            },
        )
        .await?;
        let (reply, _) = recv(reader).await?;
        let Handshake::Reply { mac: theirs } = reply else {
            return Err(unexpected("Reply", &reply));
        };
        if mac(&config.cookie, &[INITIATOR, &hello_bytes, &challenge])
            .verify_slice(&theirs)
            .is_err()
        {
            let reason = Refusal::Cookie;
            send(writer, &Handshake::Refused { reason }).await?;
            return Err(HandshakeError::BadCookie);
        }
        let proof = mac(
            &config.cookie,
            &[ACCEPTOR, &hello_bytes, &challenge, &theirs],
        )
        .finalize()
        .into_bytes()
        .to_vec();
        send(writer, &Handshake::Ack { mac: proof }).await?;
        Ok(Peer {
            name,
            creation,
            version,
            simultaneous: status == Status::OkSimultaneous,
        })
    })
    .await
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn refused(reason: Refusal, config: &HandshakeConfig) -> HandshakeError {
    match reason {
        Refusal::Version { min, max } => HandshakeError::Version {
            ours: config.versions,
            theirs: (min, max),
        },
        Refusal::TickTime { ms } => HandshakeError::TickTime {
            ours: config.tick,
            theirs: Duration::from_millis(ms),
        },
        Refusal::Cookie => HandshakeError::BadCookie,
        Refusal::Unknown => {
            HandshakeError::Protocol("refused for a reason of a later version".into())
        }
    }
}

fn unexpected(wanted: &str, got: &Handshake) -> HandshakeError {
    HandshakeError::Protocol(format!("expected {wanted}, got {got:?}"))
}

#[cfg(test)]
mod tests {
    //! The handshake over an in-memory duplex, in all its cases (DIST.md, tier 1).
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use proptest::prelude::*;
    use tokio::io::{AsyncWriteExt, DuplexStream, ReadHalf, WriteHalf};

    use super::*;
    use crate::frame::DEFAULT_MAX_FRAME;

    type Half = (FrameReader<ReadHalf<DuplexStream>>, WriteHalf<DuplexStream>);

    fn pipe() -> (Half, Half) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        (
            (FrameReader::new(ar, DEFAULT_MAX_FRAME), aw),
            (FrameReader::new(br, DEFAULT_MAX_FRAME), bw),
        )
    }

    fn config(name: &str, cookie: &str) -> HandshakeConfig {
        HandshakeConfig::new(name, 7, cookie.as_bytes())
    }

    async fn run(
        initiator: HandshakeConfig,
        acceptor: HandshakeConfig,
        status: Status,
    ) -> (Result<Peer, HandshakeError>, Result<Peer, HandshakeError>) {
        let ((mut ir, mut iw), (mut ar, mut aw)) = pipe();
        let dialed = acceptor.name.clone();
        let mut decide = move |_: &str, _: u32| status;
        tokio::join!(
            async {
                let r = initiate(&mut ir, &mut iw, &initiator, Some(&dialed)).await;
                drop(iw);
                r
            },
            async {
                let r = accept(&mut ar, &mut aw, &acceptor, &mut decide).await;
                drop(aw);
                r
            },
        )
    }

    #[tokio::test]
    async fn d03_same_cookie_both_sides_learn_each_other() {
        let (i, a) = run(config("a@h:1", "c"), config("b@h:2", "c"), Status::Ok).await;
        let (i, a) = (i.unwrap(), a.unwrap());
        assert_eq!((i.name.as_str(), i.creation, i.version), ("b@h:2", 7, 1));
        assert_eq!(a.name, "a@h:1");
        assert!(!i.simultaneous && !a.simultaneous);
    }

    #[tokio::test]
    async fn d04_another_cookie_is_refused_on_both_sides() {
        let (i, a) = run(
            config("a@h:1", "right"),
            config("b@h:2", "wrong"),
            Status::Ok,
        )
        .await;
        assert!(matches!(i, Err(HandshakeError::BadCookie)), "{i:?}");
        assert!(matches!(a, Err(HandshakeError::BadCookie)), "{a:?}");
    }

    #[tokio::test]
    async fn d03_no_common_version_is_refused_with_both_ranges() {
        let mut newer = config("a@h:1", "c");
        newer.versions = (2, 3);
        let (i, a) = run(newer, config("b@h:2", "c"), Status::Ok).await;
        assert!(
            matches!(
                i,
                Err(HandshakeError::Version {
                    ours: (2, 3),
                    theirs: (1, 1)
                })
            ),
            "{i:?}"
        );
        assert!(matches!(a, Err(HandshakeError::Version { .. })), "{a:?}");
    }

    #[tokio::test]
    async fn an_overlapping_version_range_agrees_on_the_highest_common() {
        let mut wide = config("a@h:1", "c");
        wide.versions = (1, 5);
        let (i, a) = run(wide, config("b@h:2", "c"), Status::Ok).await;
        assert_eq!(i.unwrap().version, 1);
        assert_eq!(a.unwrap().version, 1);
    }

    #[tokio::test]
    async fn d07_another_tick_time_is_refused() {
        let mut fast = config("a@h:1", "c");
        fast.tick = Duration::from_secs(1);
        let (i, a) = run(fast, config("b@h:2", "c"), Status::Ok).await;
        assert!(
            matches!(i, Err(HandshakeError::TickTime { theirs, .. }) if theirs == Duration::from_secs(15)),
            "{i:?}"
        );
        assert!(matches!(a, Err(HandshakeError::TickTime { .. })), "{a:?}");
    }

    #[tokio::test]
    async fn d03a_a_name_connected_already_is_refused_as_alive() {
        let (i, a) = run(config("a@h:1", "c"), config("b@h:2", "c"), Status::Alive).await;
        assert!(
            matches!(i, Err(HandshakeError::AlreadyConnected(_))),
            "{i:?}"
        );
        assert!(
            matches!(a, Err(HandshakeError::AlreadyConnected(_))),
            "{a:?}"
        );
    }

    #[tokio::test]
    async fn d03a_a_simultaneous_connect_keeps_one_connection() {
        let (i, a) = run(config("a@h:1", "c"), config("b@h:2", "c"), Status::Nok).await;
        assert!(matches!(i, Err(HandshakeError::Simultaneous)), "{i:?}");
        assert!(matches!(a, Err(HandshakeError::Simultaneous)), "{a:?}");
        let (i, a) = run(
            config("b@h:2", "c"),
            config("a@h:1", "c"),
            Status::OkSimultaneous,
        )
        .await;
        assert!(i.unwrap().simultaneous);
        assert!(a.unwrap().simultaneous);
    }

    #[tokio::test]
    async fn the_node_that_answers_must_be_the_one_dialed() {
        let ((mut ir, mut iw), (mut ar, mut aw)) = pipe();
        let mut decide = |_: &str, _: u32| Status::Ok;
        let (a, c) = (config("a@h:1", "c"), config("c@h:3", "c"));
        let (i, _) = tokio::join!(
            initiate(&mut ir, &mut iw, &a, Some("b@h:2")),
            accept(&mut ar, &mut aw, &c, &mut decide),
        );
        assert!(
            matches!(&i, Err(HandshakeError::WrongNode { expected, actual }) if expected == "b@h:2" && actual == "c@h:3"),
            "{i:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn d07_a_stalled_acceptor_fails_the_initiator_at_its_deadline() {
        let ((mut ir, mut iw), _acceptor_that_never_answers) = pipe();
        let started = tokio::time::Instant::now();
        let i = initiate(&mut ir, &mut iw, &config("a@h:1", "c"), None).await;
        assert!(
            matches!(i, Err(HandshakeError::Timeout(t)) if t == Duration::from_secs(7)),
            "{i:?}"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn d07_a_stalled_initiator_fails_the_acceptor_at_its_deadline() {
        let ((mut ir, mut iw), (mut ar, mut aw)) = pipe();
        // The initiator sends its Hello, then says nothing more.
        let hello = tokio::spawn(async move {
            let mut out = Vec::new();
            put_value(
                &mut out,
                &Handshake::Hello {
                    version_min: 1,
                    version_max: 1,
                    name: "a@h:1".into(),
                    creation: 1,
                    tick_ms: 15_000,
                    nonce: vec![0; 32],
                },
            )
            .unwrap();
            iw.write_all(&out).await.unwrap();
            let _ = ir.next().await;
            std::future::pending::<()>().await;
        });
        let decided = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&decided);
        let mut decide = move |_: &str, _: u32| {
            seen.store(true, Ordering::SeqCst);
            Status::Ok
        };
        let a = accept(&mut ar, &mut aw, &config("b@h:2", "c"), &mut decide).await;
        assert!(matches!(a, Err(HandshakeError::Timeout(_))), "{a:?}");
        assert!(decided.load(Ordering::SeqCst));
        hello.abort();
    }

    #[tokio::test]
    async fn garbage_instead_of_a_hello_is_an_error_not_a_panic() {
        let ((_ir, mut iw), (mut ar, mut aw)) = pipe();
        iw.write_all(&[0, 0, 0, 3, 0xc1, 0xc1, 0xc1]).await.unwrap();
        let mut decide = |_: &str, _: u32| Status::Ok;
        let a = accept(&mut ar, &mut aw, &config("b@h:2", "c"), &mut decide).await;
        assert!(
            matches!(a, Err(HandshakeError::Frame(FrameError::Decode(_)))),
            "{a:?}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any bytes sent to an acceptor end in an error (or a wait for more), never a panic.
        #[test]
        fn any_bytes_to_an_acceptor_are_refused_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
            runtime.block_on(async {
                let ((_ir, mut iw), (mut ar, mut aw)) = pipe();
                iw.write_all(&bytes).await.unwrap();
                drop(iw);
                let mut decide = |_: &str, _: u32| Status::Ok;
                let a = accept(&mut ar, &mut aw, &config("b@h:2", "c"), &mut decide).await;
                prop_assert!(a.is_err());
                Ok(())
            })?;
        }
    }
}
