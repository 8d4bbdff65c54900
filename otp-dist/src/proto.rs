//! What crosses a connection: the handshake's messages and, after it, the frames' envelope.
//!
//! Everything is MessagePack (rmp-serde). The handshake's messages carry field names, so that
//! a node of a later version can add a field and still be understood while the two agree on a
//! version. After the handshake, frames are positional (arrays, not maps): they are on every
//! message's path, and their layout is fixed by the protocol version the two nodes agreed on
//! in the handshake — a new field or a new kind of frame is a new version, spoken only to nodes
//! that speak it. A frame of a kind this node does not know closes the connection. User values
//! travel as opaque bytes (`bin`) inside the envelope, encoded with field names: the receiver
//! decodes them into the type it expects, and a type that gained a field still decodes.

use otp_core::process::{ExitReason, Pid, RemoteCallError};
use serde::{Deserialize, Serialize};

/// The lowest protocol version this node speaks.
pub(crate) const VERSION_MIN: u32 = 1;
/// The highest protocol version this node speaks.
pub(crate) const VERSION_MAX: u32 = 1;

/// A pid on the wire: a tuple (node id, creation, serial), 8 to 17 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WirePid(pub u32, pub u32, pub u64);

impl From<Pid> for WirePid {
    fn from(pid: Pid) -> Self {
        WirePid(pid.node(), pid.creation(), pid.serial())
    }
}

impl From<WirePid> for Pid {
    fn from(w: WirePid) -> Self {
        Pid::from_parts(w.0, w.2, w.1)
    }
}

/// The handshake, in the order it is sent (see [`handshake`](crate::handshake)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Handshake {
    /// The initiator introduces itself.
    Hello {
        /// The protocol versions it speaks.
        version_min: u32,
        /// The highest.
        version_max: u32,
        /// Its node name.
        name: String,
        /// Its creation.
        creation: u32,
        /// Its tick time T, in milliseconds: both ends must agree.
        tick_ms: u64,
        /// Its challenge to the acceptor, 32 random bytes.
        #[serde(with = "serde_bytes")]
        nonce: Vec<u8>,
    },
    /// The acceptor's verdict on the `Hello`.
    Status {
        /// The verdict.
        status: Status,
    },
    /// The acceptor introduces itself and challenges the initiator.
    Challenge {
        /// The protocol version chosen (the highest both speak).
        version: u32,
        /// Its node name.
        name: String,
        /// Its creation.
        creation: u32,
        /// Its challenge, 32 random bytes.
        #[serde(with = "serde_bytes")]
        nonce: Vec<u8>,
    },
    /// The initiator's proof: HMAC-SHA256 of the cookie over the transcript.
    Reply {
        /// The proof.
        #[serde(with = "serde_bytes")]
        mac: Vec<u8>,
    },
    /// The acceptor's proof, over the transcript and the initiator's proof.
    Ack {
        /// The proof.
        #[serde(with = "serde_bytes")]
        mac: Vec<u8>,
    },
    /// The handshake is refused, and the connection closed after this.
    Refused {
        /// Why.
        reason: Refusal,
    },
    /// A message of a later version.
    #[serde(other)]
    Unknown,
}

/// The acceptor's verdict on a `Hello` (Erlang's `sname` status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Go on.
    Ok,
    /// Go on: both nodes were connecting to each other, and this connection is the one kept.
    OkSimultaneous,
    /// Both nodes were connecting to each other, and the other connection is kept.
    Nok,
    /// Refused: a node of that name is connected already.
    Alive,
    /// A status of a later version.
    #[serde(other)]
    Unknown,
}

/// Why an acceptor refused a handshake.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Refusal {
    /// No protocol version in common: the acceptor's range.
    Version {
        /// Its lowest.
        min: u32,
        /// Its highest.
        max: u32,
    },
    /// Another tick time: the acceptor's, in milliseconds.
    TickTime {
        /// The acceptor's tick time.
        ms: u64,
    },
    /// The initiator's proof did not verify: another cookie.
    Cookie,
    /// A reason of a later version.
    #[serde(other)]
    Unknown,
}

/// One frame's body after the handshake (see [`frame`](crate::frame) for the framing: a frame
/// of length 0 is a tick and has no body).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Frame<'a> {
    /// An info message for a pid.
    Send {
        /// The receiver.
        to: WirePid,
        /// The message's type tag.
        #[serde(borrow)]
        tag: &'a str,
        /// The value.
        #[serde(borrow, with = "serde_bytes")]
        payload: &'a [u8],
    },
    /// An info message for a registered name.
    SendNamed {
        /// The name.
        #[serde(borrow)]
        name: &'a str,
        /// The message's type tag.
        #[serde(borrow)]
        tag: &'a str,
        /// The value.
        #[serde(borrow, with = "serde_bytes")]
        payload: &'a [u8],
    },
    /// `from` linked itself to `to`.
    Link {
        /// The process that linked.
        from: WirePid,
        /// The process it linked to.
        to: WirePid,
    },
    /// `from` removed its link to `to`.
    Unlink {
        /// The process that unlinked.
        from: WirePid,
        /// The other.
        to: WirePid,
    },
    /// An exit signal.
    Exit {
        /// The sender, if a process.
        from: Option<WirePid>,
        /// The receiver.
        to: WirePid,
        /// The reason.
        reason: ExitReason,
        /// Whether a link broke (else: `exit/2`).
        link: bool,
    },
    /// `watcher` monitors `target`.
    Monitor {
        /// The watcher.
        watcher: WirePid,
        /// The monitored process.
        target: WirePid,
        /// The monitor's reference number.
        reference: u64,
    },
    /// `watcher` removed its monitor.
    Demonitor {
        /// The watcher.
        watcher: WirePid,
        /// The monitored process.
        target: WirePid,
        /// The monitor's reference number.
        reference: u64,
    },
    /// `target`, monitored by `watcher`, ended.
    Down {
        /// The watcher.
        watcher: WirePid,
        /// The process that ended.
        target: WirePid,
        /// The monitor's reference number.
        reference: u64,
        /// Why it ended.
        reason: ExitReason,
    },
    /// A call to a server.
    Call {
        /// The call's number, unique on the caller's side of the connection.
        id: u64,
        /// The server.
        #[serde(borrow)]
        to: Target<'a>,
        /// The request.
        #[serde(borrow, with = "serde_bytes")]
        payload: &'a [u8],
    },
    /// A cast to a server.
    Cast {
        /// The server.
        #[serde(borrow)]
        to: Target<'a>,
        /// The message.
        #[serde(borrow, with = "serde_bytes")]
        payload: &'a [u8],
    },
    /// The answer to a `Call`.
    Reply {
        /// The call's number.
        id: u64,
        /// The reply, or why there is none.
        #[serde(borrow)]
        result: WireResult<'a>,
    },
    /// A stop of a server (`gen_server:stop`), answered by a `Stopped` with the same id.
    Stop {
        /// The request's number.
        id: u64,
        /// The server.
        to: WirePid,
        /// The reason to stop with.
        reason: ExitReason,
    },
    /// The answer to a `Stop`.
    Stopped {
        /// The request's number.
        id: u64,
        /// The server's exit reason, or why it could not be stopped.
        result: Result<ExitReason, WireError>,
    },
    /// A lookup of a registered name, answered by a `Found` with the same id.
    Whereis {
        /// The request's number.
        id: u64,
        /// The name.
        #[serde(borrow)]
        name: &'a str,
    },
    /// The answer to a `Whereis`.
    Found {
        /// The request's number.
        id: u64,
        /// The pid and kind of the process, if the name is registered.
        process: Option<(WirePid, String)>,
    },
    /// The sender is closing the connection on purpose (`disconnect`).
    Bye,
    /// A frame of a later version.
    #[serde(other)]
    Unknown,
}

/// Where a call or a cast goes on the receiving node.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) enum Target<'a> {
    /// A pid.
    Pid(WirePid),
    /// A registered name.
    Name(#[serde(borrow)] &'a str),
}

/// A call's outcome on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum WireResult<'a> {
    /// The reply.
    Ok(#[serde(borrow, with = "serde_bytes")] &'a [u8]),
    /// Why there is no reply.
    Err(WireError),
}

/// Why a call failed, on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum WireError {
    /// No such process.
    NoProc,
    /// The server exited during the call.
    Exited(ExitReason),
    /// The server's mailbox is full.
    MailboxFull,
    /// The process cannot be called from another node; its kind.
    NotRemote(String),
    /// The request did not decode there.
    Decode(String),
    /// An error of a later version.
    #[serde(other)]
    Unknown,
}

impl From<WireError> for RemoteCallError {
    fn from(error: WireError) -> Self {
        match error {
            WireError::NoProc => RemoteCallError::NoProc,
            WireError::Exited(reason) => RemoteCallError::Exited(reason),
            WireError::MailboxFull => RemoteCallError::MailboxFull,
            WireError::NotRemote(kind) => RemoteCallError::NotRemote(kind),
            WireError::Decode(why) => RemoteCallError::Decode(why),
            WireError::Unknown => RemoteCallError::Decode("an error of a later version".into()),
        }
    }
}

impl From<otp_core::process::DeliverError> for WireError {
    fn from(error: otp_core::process::DeliverError) -> Self {
        use otp_core::process::DeliverError;
        match error {
            DeliverError::NoProc => WireError::NoProc,
            DeliverError::NotRemote(kind) => WireError::NotRemote(kind),
            DeliverError::Decode(why) => WireError::Decode(why),
            DeliverError::MailboxFull => WireError::MailboxFull,
            _ => WireError::Unknown,
        }
    }
}

/// The frames on every message's path — a send to a pid, a cast, a call, a call's reply — with
/// a fixed header and the user value after it, to the end of the frame: no envelope to walk,
/// and the value encoded in place. In the header, pids (16 bytes) and call numbers (8 bytes)
/// are fixed-width little-endian, read with a few loads; a name or a tag is a MessagePack
/// string. Their first byte is
/// their kind, a positive fixint (below `0x80`), which no serde-encoded [`Frame`] starts with
/// (a map, or a string for a unit variant). [`decode`](hot::decode) turns one into the
/// [`Frame`] it stands for.
pub(crate) mod hot {
    use otp_core::process::Pid;
    use rmp::encode::{write_pfix, write_str};

    use super::{Frame, Target, WirePid, WireResult};

    const SEND: u8 = 1;
    const CAST: u8 = 2;
    const CALL: u8 = 3;
    const REPLY: u8 = 4;
    /// A run of casts to one pid: the pid once, then how many, then each value after its
    /// length (`u16`, little-endian).
    const CAST_RUN: u8 = 5;
    const TO_PID: u8 = 0;
    /// The most casts a run frame holds (a connection's reader hands a run frame to its
    /// process whole, and at most 128 casts at a time).
    pub(crate) const RUN_MAX: u8 = 64;
    /// Where a run frame's count is, in its body.
    pub(crate) const RUN_COUNT_AT: usize = 1 + PID;
    const TO_NAME: u8 = 1;
    /// The bytes of a pid in these frames.
    const PID: usize = 16;

    fn io(e: impl std::fmt::Display) -> String {
        e.to_string()
    }

    /// A pid: node id, creation and serial, fixed-width little-endian (16 bytes), read back
    /// with three loads instead of MessagePack's branching integers.
    fn put_pid(out: &mut Vec<u8>, pid: WirePid) -> Result<(), String> {
        let mut bytes = [0; PID];
        bytes[..4].copy_from_slice(&pid.0.to_le_bytes());
        bytes[4..8].copy_from_slice(&pid.1.to_le_bytes());
        bytes[8..].copy_from_slice(&pid.2.to_le_bytes());
        out.extend_from_slice(&bytes);
        Ok(())
    }

    /// A call's number, fixed-width little-endian.
    fn put_id(out: &mut Vec<u8>, id: u64) {
        out.extend_from_slice(&id.to_le_bytes());
    }

    fn put_target(out: &mut Vec<u8>, to: Target<'_>) -> Result<(), String> {
        match to {
            Target::Pid(pid) => {
                write_pfix(out, TO_PID).map_err(io)?;
                put_pid(out, pid)
            }
            Target::Name(name) => {
                write_pfix(out, TO_NAME).map_err(io)?;
                write_str(out, name).map_err(io)
            }
        }
    }

    /// The body of a send of the value `payload` writes to `to`, under `tag`.
    pub(crate) fn send(
        out: &mut Vec<u8>,
        to: Pid,
        tag: &str,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) -> Result<(), String> {
        write_pfix(out, SEND).map_err(io)?;
        put_pid(out, to.into())?;
        write_str(out, tag).map_err(io)?;
        payload(out)
    }

    /// The body of a cast.
    pub(crate) fn cast(
        out: &mut Vec<u8>,
        to: Target<'_>,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) -> Result<(), String> {
        write_pfix(out, CAST).map_err(io)?;
        put_target(out, to)?;
        payload(out)
    }

    /// The body of a call.
    pub(crate) fn call(
        out: &mut Vec<u8>,
        id: u64,
        to: Target<'_>,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) -> Result<(), String> {
        write_pfix(out, CALL).map_err(io)?;
        put_id(out, id);
        put_target(out, to)?;
        payload(out)
    }

    /// The body of a call's reply.
    pub(crate) fn reply(
        out: &mut Vec<u8>,
        id: u64,
        payload: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
    ) -> Result<(), String> {
        write_pfix(out, REPLY).map_err(io)?;
        put_id(out, id);
        payload(out)
    }

    /// Starts the body of a run of casts to `to`, with no value yet (its count 0).
    pub(crate) fn cast_run_start(out: &mut Vec<u8>, to: WirePid) {
        out.push(CAST_RUN);
        let _ = put_pid(out, to);
        out.push(0);
    }

    /// The casts to a pid that `body` holds, if it is a cast to a pid or a run of them:
    /// `Some(Err(why))` for a run that is malformed (its values do not add up to its body).
    pub(crate) fn casts_to_pid(body: &[u8]) -> Option<Result<(WirePid, Casts<'_>), String>> {
        if let Some((to, value)) = cast_to_pid(body) {
            return Some(Ok((to, Casts::One(value))));
        }
        let [CAST_RUN, rest @ ..] = body else {
            return None;
        };
        let mut rd = rest;
        let Ok(to) = pid(&mut rd) else {
            return Some(Err("a run of casts cut short in its pid".into()));
        };
        let Some((&count, values)) = rd.split_first() else {
            return Some(Err("a run of casts without its count".into()));
        };
        // Every value's length checked now, so that delivering them cannot fail halfway.
        let mut walk = values;
        for _ in 0..count {
            match walk.split_first_chunk::<2>() {
                Some((len, rest)) if usize::from(u16::from_le_bytes(*len)) <= rest.len() => {
                    walk = &rest[usize::from(u16::from_le_bytes(*len))..];
                }
                _ => return Some(Err("a run of casts cut short in a value".into())),
            }
        }
        if count == 0 || !walk.is_empty() {
            return Some(Err(format!(
                "a run of {count} casts whose values do not fill its body"
            )));
        }
        Some(Ok((to, Casts::Run { count, values })))
    }

    /// The casts of a frame to one pid (see [`casts_to_pid`]).
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Casts<'a> {
        /// A frame of one cast: its value.
        One(&'a [u8]),
        /// A run frame: its values, each after its length, checked.
        Run { count: u8, values: &'a [u8] },
    }

    impl<'a> Casts<'a> {
        /// How many casts.
        pub(crate) fn count(self) -> u64 {
            match self {
                Casts::One(_) => 1,
                Casts::Run { count, .. } => u64::from(count),
            }
        }

        /// Hands each value to `f`, in order.
        pub(crate) fn each(self, mut f: impl FnMut(&'a [u8])) {
            match self {
                Casts::One(value) => f(value),
                Casts::Run { count, mut values } => {
                    for _ in 0..count {
                        // Checked by `casts_to_pid`.
                        let (len, rest) = values.split_at(2);
                        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
                        let (value, rest) = rest.split_at(len);
                        f(value);
                        values = rest;
                    }
                }
            }
        }
    }

    /// The pid and the value of a cast to a pid, if `body` is one (the frame on the path of
    /// most messages, read without building a [`Frame`]).
    pub(crate) fn cast_to_pid(body: &[u8]) -> Option<(WirePid, &[u8])> {
        match body {
            [CAST, TO_PID, rest @ ..] => {
                let mut rd = rest;
                let to = pid(&mut rd).ok()?;
                Some((to, rd))
            }
            _ => None,
        }
    }

    /// Whether `body` is one of these frames.
    pub(crate) fn is_hot(body: &[u8]) -> bool {
        body.first().is_some_and(|b| *b < 0x80)
    }

    /// Decodes one of these frames.
    ///
    /// # Errors
    /// It is malformed.
    pub(crate) fn decode(body: &[u8]) -> Result<Frame<'_>, String> {
        let mut rd = body;
        let kind: u8 = rmp::decode::read_pfix(&mut rd).map_err(io)?;
        let frame = match kind {
            SEND => {
                let to = pid(&mut rd)?;
                let (tag, rest) = str(rd)?;
                Frame::Send {
                    to,
                    tag,
                    payload: rest,
                }
            }
            CAST => {
                let (to, rest) = target(rd)?;
                Frame::Cast { to, payload: rest }
            }
            CALL => {
                let id = id(&mut rd)?;
                let (to, rest) = target(rd)?;
                Frame::Call {
                    id,
                    to,
                    payload: rest,
                }
            }
            REPLY => {
                let id = id(&mut rd)?;
                Frame::Reply {
                    id,
                    result: WireResult::Ok(rd),
                }
            }
            CAST_RUN => return Err("a run of casts is read apart, never as one frame".into()),
            other => return Err(format!("a frame of unknown kind {other}")),
        };
        Ok(frame)
    }

    fn pid(rd: &mut &[u8]) -> Result<WirePid, String> {
        let (bytes, rest) = rd
            .split_first_chunk::<PID>()
            .ok_or("a frame cut short in a pid")?;
        *rd = rest;
        let [
            n0,
            n1,
            n2,
            n3,
            c0,
            c1,
            c2,
            c3,
            s0,
            s1,
            s2,
            s3,
            s4,
            s5,
            s6,
            s7,
        ] = *bytes;
        Ok(WirePid(
            u32::from_le_bytes([n0, n1, n2, n3]),
            u32::from_le_bytes([c0, c1, c2, c3]),
            u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7]),
        ))
    }

    fn id(rd: &mut &[u8]) -> Result<u64, String> {
        let (bytes, rest) = rd
            .split_first_chunk::<8>()
            .ok_or("a frame cut short in a call's number")?;
        *rd = rest;
        Ok(u64::from_le_bytes(*bytes))
    }

    fn str(rd: &[u8]) -> Result<(&str, &[u8]), String> {
        rmp::decode::read_str_from_slice(rd).map_err(io)
    }

    fn target(mut rd: &[u8]) -> Result<(Target<'_>, &[u8]), String> {
        match rmp::decode::read_pfix(&mut rd).map_err(io)? {
            TO_PID => {
                let to = pid(&mut rd)?;
                Ok((Target::Pid(to), rd))
            }
            TO_NAME => {
                let (name, rest) = str(rd)?;
                Ok((Target::Name(name), rest))
            }
            other => Err(format!("a target of unknown kind {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use otp_core::process::Pid;

    use super::*;

    /// A run of casts to one pid: each value after its length, the count first; a run whose
    /// values do not fill its body exactly, or whose count is 0, is malformed.
    #[test]
    fn a_run_of_casts_reads_back_its_values_and_a_malformed_one_is_refused() {
        let to = WirePid(7, 3, 42);
        let run = |count: u8, values: &[&[u8]], extra: &[u8]| {
            let mut body = Vec::new();
            hot::cast_run_start(&mut body, to);
            body[hot::RUN_COUNT_AT] = count;
            for v in values {
                body.extend_from_slice(&(v.len() as u16).to_le_bytes());
                body.extend_from_slice(v);
            }
            body.extend_from_slice(extra);
            body
        };
        let body = run(3, &[b"a", b"", b"xyz"], &[]);
        let Some(Ok((at, casts))) = hot::casts_to_pid(&body) else {
            panic!("a run")
        };
        assert_eq!(at, to);
        assert_eq!(casts.count(), 3);
        let mut seen = Vec::new();
        casts.each(|v| seen.push(v.to_vec()));
        assert_eq!(seen, [b"a".to_vec(), vec![], b"xyz".to_vec()]);
        for (case, body) in [
            ("count over the values", run(3, &[b"a", b"b"], &[])),
            ("bytes after the values", run(1, &[b"a"], &[9])),
            ("no value", run(0, &[], &[])),
            ("a length past the end", run(1, &[], &[5, 0, 1])),
            ("no count", body[..hot::RUN_COUNT_AT].to_vec()),
        ] {
            assert!(matches!(hot::casts_to_pid(&body), Some(Err(_))), "{case}");
        }
    }
    use crate::frame::{decode, put_frame_value, put_value};

    fn round_trip(frame: &Frame<'_>) -> String {
        let mut wire = Vec::new();
        put_frame_value(&mut wire, frame).unwrap();
        let back: Frame<'_> = decode(&wire[4..]).unwrap();
        format!("{back:?}")
    }

    /// D-03b: every control message's meaning has a frame, and each comes back as it went.
    #[test]
    fn d03b_every_frame_round_trips() {
        let (a, b) = (WirePid(1, 2, 3), WirePid(4, 5, u64::MAX));
        let frames = [
            Frame::Send {
                to: b,
                tag: "t",
                payload: &[1, 2],
            },
            Frame::SendNamed {
                name: "n",
                tag: "t",
                payload: &[],
            },
            Frame::Link { from: a, to: b },
            Frame::Unlink { from: a, to: b },
            Frame::Exit {
                from: Some(a),
                to: b,
                reason: ExitReason::Error("e".into()),
                link: true,
            },
            Frame::Monitor {
                watcher: a,
                target: b,
                reference: 9,
            },
            Frame::Demonitor {
                watcher: a,
                target: b,
                reference: 9,
            },
            Frame::Down {
                watcher: a,
                target: b,
                reference: 9,
                reason: ExitReason::NoConnection,
            },
            Frame::Call {
                id: 1,
                to: Target::Name("s"),
                payload: &[3],
            },
            Frame::Cast {
                to: Target::Pid(b),
                payload: &[4],
            },
            Frame::Reply {
                id: 1,
                result: WireResult::Ok(&[5]),
            },
            Frame::Reply {
                id: 2,
                result: WireResult::Err(WireError::NotRemote("k".into())),
            },
            Frame::Stop {
                id: 3,
                to: b,
                reason: ExitReason::Shutdown,
            },
            Frame::Stopped {
                id: 3,
                result: Ok(ExitReason::Shutdown),
            },
            Frame::Whereis { id: 4, name: "s" },
            Frame::Found {
                id: 4,
                process: Some((b, "kind".into())),
            },
            Frame::Bye,
        ];
        for frame in &frames {
            assert_eq!(round_trip(frame), format!("{frame:?}"));
        }
    }

    #[test]
    fn a_frame_of_an_unknown_kind_decodes_as_unknown() {
        // A unit variant of a later version: its name as a string.
        let mut wire = Vec::new();
        put_value(&mut wire, "Rebalance").unwrap();
        let frame: Frame<'_> = decode(&wire[4..]).unwrap();
        assert!(matches!(frame, Frame::Unknown));
    }

    /// The frames on every message's path round-trip through their fixed header, the value to
    /// the end of the frame; a header cut short is an error, not a panic.
    #[test]
    fn hot_frames_round_trip_and_refuse_what_is_cut_short() {
        let to = Pid::from_parts(7, u64::MAX, u32::MAX);
        let value = |out: &mut Vec<u8>| {
            out.extend_from_slice(&[0x81, 0xa1, b'n', 5]);
            Ok(())
        };
        let mut bodies = Vec::new();
        let mut body = Vec::new();
        hot::send(&mut body, to, "tag", value).unwrap();
        bodies.push((
            body,
            format!(
                "{:?}",
                Frame::Send {
                    to: to.into(),
                    tag: "tag",
                    payload: &[0x81, 0xa1, b'n', 5]
                }
            ),
        ));
        let mut body = Vec::new();
        hot::cast(&mut body, Target::Name("counter"), value).unwrap();
        bodies.push((
            body,
            format!(
                "{:?}",
                Frame::Cast {
                    to: Target::Name("counter"),
                    payload: &[0x81, 0xa1, b'n', 5]
                }
            ),
        ));
        let mut body = Vec::new();
        hot::call(&mut body, 1 << 40, Target::Pid(to.into()), value).unwrap();
        bodies.push((
            body,
            format!(
                "{:?}",
                Frame::Call {
                    id: 1 << 40,
                    to: Target::Pid(to.into()),
                    payload: &[0x81, 0xa1, b'n', 5]
                }
            ),
        ));
        let mut body = Vec::new();
        hot::reply(&mut body, 3, value).unwrap();
        bodies.push((
            body,
            format!(
                "{:?}",
                Frame::Reply {
                    id: 3,
                    result: WireResult::Ok(&[0x81, 0xa1, b'n', 5])
                }
            ),
        ));
        for (body, expected) in &bodies {
            assert!(hot::is_hot(body));
            assert_eq!(format!("{:?}", hot::decode(body).unwrap()), *expected);
            // Cut inside the header: an error.
            assert!(hot::decode(&body[..1]).is_err(), "{expected}");
        }
        assert!(hot::decode(&[0x7f]).is_err());
        // A cast to a pid is read without a Frame: its pid and value; nothing else is one.
        let mut body = Vec::new();
        hot::cast(&mut body, Target::Pid(to.into()), value).unwrap();
        let (pid, payload) = hot::cast_to_pid(&body).unwrap();
        assert_eq!((Pid::from(pid), payload), (to, &[0x81, 0xa1, b'n', 5][..]));
        assert!(hot::cast_to_pid(&body[..body.len() - 5]).is_none());
        for (other, _) in &bodies {
            assert!(hot::cast_to_pid(other).is_none());
        }
        // A serde-encoded frame is never taken for one of these.
        for frame in [
            Frame::Bye,
            Frame::Link {
                from: WirePid(1, 2, 3),
                to: WirePid(4, 5, 6),
            },
        ] {
            let mut wire = Vec::new();
            put_frame_value(&mut wire, &frame).unwrap();
            assert!(!hot::is_hot(&wire[4..]), "{frame:?}");
        }
    }
}
