//! Framing: how bodies are cut into frames on a byte stream, and the limits a reader enforces.
//!
//! A frame is a sequence of *pieces*, each a 4-byte big-endian header and that many bytes. The
//! header's top bit says that more pieces of the same frame follow; the other 31 bits are the
//! piece's length, at most [`PIECE_SIZE`]. A body larger than that is sent as several pieces,
//! so that no reader ever allocates more than a piece at a time for what it has not received,
//! and a tick is never stuck behind one long write. A header of 0 (no bytes, no more pieces) is
//! a *tick*: it keeps an idle connection alive.
//!
//! The reader checks every length **before** it allocates: a piece longer than [`PIECE_SIZE`],
//! or a frame whose pieces add up to more than the node's maximum frame size, is refused with a
//! [`FrameError`], and the connection is closed. Bodies decode with a depth limit
//! ([`MAX_DEPTH`]), so a deeply nested value cannot exhaust the stack.

use std::io;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest piece of a frame on the wire, 64 KiB.
pub const PIECE_SIZE: usize = 64 * 1024;

/// The deepest nesting a decoded body may have (envelope and user value together): otp-core's
/// limit for the payloads it decodes.
pub const MAX_DEPTH: usize = otp_core::process::MAX_DEPTH;

/// The default maximum size of a frame: 8 MiB.
pub const DEFAULT_MAX_FRAME: usize = 8 * 1024 * 1024;

const MORE: u32 = 1 << 31;

/// Why a frame was refused or could not be read. Any of these closes the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A piece's header announced more than [`PIECE_SIZE`] bytes.
    #[error("a piece of {len} bytes is over the limit of {limit}")]
    PieceTooLarge {
        /// The announced length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The pieces of a frame add up to more than the maximum frame size.
    #[error("a frame of more than {limit} bytes")]
    FrameTooLarge {
        /// The maximum frame size.
        limit: usize,
    },
    /// A body did not decode.
    #[error("a frame did not decode: {0}")]
    Decode(String),
    /// A frame of a kind this node does not know.
    #[error("a frame of an unknown kind")]
    Unknown,
    /// The stream failed or ended.
    #[error("the connection failed: {0}")]
    Io(#[from] io::Error),
}

/// Appends `body`, framed, to `out`: one piece, or as many as it takes. An empty body
/// appends nothing (it would read as a tick; an encoded value is never empty).
pub fn put_frame(out: &mut Vec<u8>, body: &[u8]) {
    let mut chunks = body.chunks(PIECE_SIZE).peekable();
    while let Some(chunk) = chunks.next() {
        let more = if chunks.peek().is_some() { MORE } else { 0 };
        let header = u32::try_from(chunk.len()).unwrap_or(0) | more;
        out.extend_from_slice(&header.to_be_bytes());
        out.extend_from_slice(chunk);
    }
}

/// Appends a tick to `out`.
pub fn put_tick(out: &mut Vec<u8>) {
    out.extend_from_slice(&0u32.to_be_bytes());
}

/// Appends `value`, encoded with field names and framed, to `out`. Encodes in place: the body
/// is written after a reserved header, which is patched; only a body larger than a piece is
/// moved.
///
/// # Errors
/// The value's `Serialize` failed; `out` is left as it was.
pub fn put_value<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), String> {
    put_with(out, |out| {
        value
            .serialize(&mut rmp_serde::Serializer::new(out).with_struct_map())
            .map_err(|e| e.to_string())
    })
}

/// Appends `value`, encoded positionally (structs as arrays) and framed, to `out`: the form of
/// frames after the handshake, whose layout the protocol version fixes.
///
/// # Errors
/// The value's `Serialize` failed; `out` is left as it was.
pub fn put_frame_value<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), String> {
    put_with(out, |out| {
        value
            .serialize(&mut rmp_serde::Serializer::new(out))
            .map_err(|e| e.to_string())
    })
}

/// Appends a frame whose body `encode` writes, framed, to `out`.
///
/// # Errors
/// `encode` failed; `out` is left as it was.
pub fn put_with(
    out: &mut Vec<u8>,
    encode: impl FnOnce(&mut Vec<u8>) -> Result<(), String>,
) -> Result<(), String> {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    let written = encode(&mut *out);
    if let Err(e) = written {
        out.truncate(start);
        return Err(e);
    }
    let len = out.len() - start - 4;
    if len <= PIECE_SIZE && len > 0 {
        let header = u32::try_from(len).unwrap_or(0);
        out[start..start + 4].copy_from_slice(&header.to_be_bytes());
    } else {
        let body = out.split_off(start + 4);
        out.truncate(start);
        put_frame(out, &body);
    }
    Ok(())
}

/// Decodes a body, with the depth limit.
///
/// # Errors
/// It did not decode.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, FrameError> {
    let mut de = rmp_serde::Deserializer::from_read_ref(bytes);
    de.set_max_depth(MAX_DEPTH);
    T::deserialize(&mut de).map_err(|e| FrameError::Decode(e.to_string()))
}

/// What [`FrameReader::next`] read.
#[derive(Debug, PartialEq, Eq)]
pub enum Read<'a> {
    /// A tick.
    Tick,
    /// A frame's body.
    Body(&'a [u8]),
}

/// The smallest read buffer of a [`FrameReader`], and the size it starts with: 8 KiB, as
/// tokio's default, keeps an idle connection small.
pub const MIN_READ_BUFFER: usize = 8 * 1024;

/// The largest read buffer of a [`FrameReader`]: one whole piece and its header. A busy
/// connection's buffer grows to it, so that one system call brings thousands of small frames.
pub const MAX_READ_BUFFER: usize = PIECE_SIZE + 4;

/// Reads frames from a byte stream, within the limits.
///
/// It reads the stream into a buffer of its own, as many bytes as the stream has, and hands
/// out the frames that buffer holds without copying them and without waiting again: a read
/// that brought a thousand small frames is a thousand calls of [`next`](Self::next) that
/// return at once. The buffer starts at [`MIN_READ_BUFFER`], doubles (up to
/// [`MAX_READ_BUFFER`]) while reads fill it, and goes back to its first size once the stream
/// is quiet; a piece is checked against its limit before the buffer grows for it. A frame in
/// several pieces is gathered into a second buffer, bounded by the maximum frame size.
#[derive(Debug)]
pub struct FrameReader<R> {
    stream: R,
    /// What was read from the stream; bytes `start..end` are not handed out yet. Its length
    /// is its size (zeroed when allocated), so reads need no unsafe code.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The pieces of a frame in several pieces, gathered.
    body: Vec<u8>,
    max_frame: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader of frames of at most `max_frame` bytes.
    pub fn new(stream: R, max_frame: usize) -> Self {
        FrameReader {
            stream,
            buf: vec![0; MIN_READ_BUFFER],
            start: 0,
            end: 0,
            body: Vec::new(),
            max_frame,
        }
    }

    /// The stream.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.stream
    }

    /// The size of the read buffer now (for the memory of a connection).
    pub fn buffer_size(&self) -> usize {
        self.buf.len()
    }

    /// How many bytes read from the stream are not handed out yet: 0 when the next
    /// [`next`](Self::next) will wait for the stream.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The body of the next frame, if the buffer holds all of it in one piece, without handing
    /// it out ([`skip`](Self::skip) does) and without waiting: a tick, a frame of several
    /// pieces, one over a limit or one not wholly read yet is `None`, for
    /// [`next`](Self::next) to read.
    pub fn peek(&self) -> Option<&[u8]> {
        let (header, rest) = self.buf[self.start..self.end].split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*header) as usize;
        if len == 0 || len > PIECE_SIZE || len > self.max_frame {
            // A tick, or a header with `MORE` set (over `PIECE_SIZE`), or over the limit.
            return None;
        }
        rest.get(..len)
    }

    /// Hands out the frame [`peek`](Self::peek) shows (nothing if it shows none).
    pub fn skip(&mut self) {
        if let Some(body) = self.peek() {
            self.start += 4 + body.len();
        }
    }

    /// Reads the next frame. Cancel-safe only between frames: a reader dropped halfway through
    /// a frame of several pieces loses the pieces it gathered.
    ///
    /// # Errors
    /// A piece or a frame over its limit (refused before any allocation for it), or the stream
    /// failed or ended.
    pub async fn next(&mut self) -> Result<Read<'_>, FrameError> {
        self.body.clear();
        loop {
            let held = self.end - self.start;
            if held < 4 {
                self.fill(4).await?;
                continue;
            }
            let mut header = [0; 4];
            header.copy_from_slice(&self.buf[self.start..self.start + 4]);
            let header = u32::from_be_bytes(header);
            let more = header & MORE != 0;
            let len = (header & !MORE) as usize;
            if len > PIECE_SIZE {
                return Err(FrameError::PieceTooLarge {
                    len,
                    limit: PIECE_SIZE,
                });
            }
            if len == 0 {
                self.start += 4;
                if !more && self.body.is_empty() {
                    return Ok(Read::Tick);
                }
                return Err(FrameError::Decode("an empty piece inside a frame".into()));
            }
            if self.body.len() + len > self.max_frame {
                return Err(FrameError::FrameTooLarge {
                    limit: self.max_frame,
                });
            }
            if held < 4 + len {
                self.fill(4 + len).await?;
                continue;
            }
            let piece = self.start + 4..self.start + 4 + len;
            self.start = piece.end;
            if !more && self.body.is_empty() {
                return Ok(Read::Body(&self.buf[piece]));
            }
            self.body.extend_from_slice(&self.buf[piece]);
            if !more {
                // Give back what a large frame took, so that one large frame does not keep a
                // connection's memory high.
                if self.body.capacity() > 4 * PIECE_SIZE && self.body.len() <= PIECE_SIZE {
                    self.body.shrink_to(PIECE_SIZE);
                }
                return Ok(Read::Body(&self.body));
            }
        }
    }

    /// Reads once from the stream, after making room for `need` bytes from `start` (at most
    /// [`MAX_READ_BUFFER`]: a piece and its header).
    async fn fill(&mut self, need: usize) -> io::Result<()> {
        let held = self.end - self.start;
        if held == 0 {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.len() - self.start < need {
            self.buf.copy_within(self.start..self.end, 0);
            self.start = 0;
            self.end = held;
            if self.buf.len() < need {
                self.resize(
                    need.next_power_of_two()
                        .clamp(MIN_READ_BUFFER, MAX_READ_BUFFER),
                );
            }
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.end += n;
        if self.end == self.buf.len() && self.buf.len() < MAX_READ_BUFFER {
            // The read filled the buffer: more is waiting; read more at once next time.
            self.resize((self.buf.len() * 2).min(MAX_READ_BUFFER));
        } else if self.buf.len() > MIN_READ_BUFFER
            && need <= MIN_READ_BUFFER
            && self.start == 0
            && self.end < MIN_READ_BUFFER / 2
        {
            // A small read into a large buffer, for a small frame: the stream is quiet again.
            self.resize(MIN_READ_BUFFER.max(self.end));
        }
        Ok(())
    }

    /// A buffer of `size` bytes holding what is not handed out yet, at its start.
    fn resize(&mut self, size: usize) {
        let mut buf = vec![0; size];
        let held = self.end - self.start;
        buf[..held].copy_from_slice(&self.buf[self.start..self.end]);
        self.buf = buf;
        self.start = 0;
        self.end = held;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(bytes: &[u8], max: usize) -> Vec<Result<Option<Vec<u8>>, String>> {
        let mut reader = FrameReader::new(bytes, max);
        let mut out = Vec::new();
        loop {
            match reader.next().await {
                Ok(Read::Tick) => out.push(Ok(None)),
                Ok(Read::Body(b)) => out.push(Ok(Some(b.to_vec()))),
                Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn bodies_ticks_and_pieces_round_trip() {
        let small = vec![7u8; 10];
        let large: Vec<u8> = (0..(PIECE_SIZE * 2 + 5)).map(|i| i as u8).collect();
        let mut wire = Vec::new();
        put_frame(&mut wire, &small);
        put_tick(&mut wire);
        put_frame(&mut wire, &large);
        put_frame(&mut wire, &small);
        // The large body went as three pieces.
        assert_eq!(wire.len(), 4 * 6 + 10 * 2 + large.len());
        let read = read_all(&wire, DEFAULT_MAX_FRAME).await;
        assert_eq!(
            read,
            vec![
                Ok(Some(small.clone())),
                Ok(None),
                Ok(Some(large)),
                Ok(Some(small))
            ]
        );
    }

    #[tokio::test]
    async fn a_piece_over_the_limit_is_refused_before_reading_it() {
        // A header announcing 2^31 - 1 bytes, and nothing after: refused from the header alone.
        let wire = 0x7fff_ffffu32.to_be_bytes();
        let read = read_all(&wire, DEFAULT_MAX_FRAME).await;
        assert_eq!(read.len(), 1);
        assert!(read[0].as_ref().unwrap_err().contains("over the limit"));
    }

    #[tokio::test]
    async fn a_frame_over_the_maximum_is_refused_at_the_piece_that_crosses_it() {
        let mut wire = Vec::new();
        put_frame(&mut wire, &vec![1u8; PIECE_SIZE + 10]);
        // With a maximum of one piece, the second piece's header is refused.
        let read = read_all(&wire, PIECE_SIZE).await;
        assert_eq!(read.len(), 1);
        assert!(
            read[0]
                .as_ref()
                .unwrap_err()
                .contains("a frame of more than")
        );
    }

    #[tokio::test]
    async fn put_value_frames_in_place_and_moves_only_large_bodies() {
        let mut wire = Vec::new();
        put_value(&mut wire, &("hello", 5u64)).unwrap();
        put_value(&mut wire, &vec![9u8; PIECE_SIZE + 1]).unwrap();
        let read = read_all(&wire, DEFAULT_MAX_FRAME).await;
        let first: (String, u64) = decode(read[0].as_ref().unwrap().as_ref().unwrap()).unwrap();
        assert_eq!(first, ("hello".to_owned(), 5));
        let second: Vec<u8> = decode(read[1].as_ref().unwrap().as_ref().unwrap()).unwrap();
        assert_eq!(second.len(), PIECE_SIZE + 1);
    }

    #[test]
    fn a_failing_serialize_leaves_the_buffer_as_it_was() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("no"))
            }
        }
        let mut wire = vec![1, 2, 3];
        assert!(put_value(&mut wire, &Fails).is_err());
        assert_eq!(wire, vec![1, 2, 3]);
    }

    #[test]
    fn decoding_is_depth_limited() {
        // 100 nested one-element arrays: over the limit of 64.
        let mut bytes = vec![0x91u8; 100];
        bytes.push(0x01);
        let deep: Result<serde::de::IgnoredAny, _> = decode(&bytes);
        assert!(deep.is_err());
        let mut shallow = vec![0x91u8; 10];
        shallow.push(0x01);
        let ok: Result<serde::de::IgnoredAny, _> = decode(&shallow);
        assert!(ok.is_ok());
    }

    /// A stream that hands out its bytes in chunks of the given sizes, in turn.
    struct Chunked {
        bytes: Vec<u8>,
        at: usize,
        sizes: Vec<usize>,
        turn: usize,
    }

    impl AsyncRead for Chunked {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<io::Result<()>> {
            let me = &mut *self;
            let size = me.sizes[me.turn % me.sizes.len()].max(1);
            me.turn += 1;
            let n = size.min(buf.remaining()).min(me.bytes.len() - me.at);
            buf.put_slice(&me.bytes[me.at..me.at + n]);
            me.at += n;
            std::task::Poll::Ready(Ok(()))
        }
    }

    async fn read_chunked(bytes: Vec<u8>, sizes: Vec<usize>) -> (Vec<Option<Vec<u8>>>, Vec<usize>) {
        let mut reader = FrameReader::new(
            Chunked {
                bytes,
                at: 0,
                sizes,
                turn: 0,
            },
            DEFAULT_MAX_FRAME,
        );
        let (mut out, mut buffers) = (Vec::new(), Vec::new());
        loop {
            match reader.next().await {
                Ok(Read::Tick) => out.push(None),
                Ok(Read::Body(b)) => out.push(Some(b.to_vec())),
                Err(FrameError::Io(e)) if e.kind() == io::ErrorKind::UnexpectedEof => break,
                Err(e) => panic!("{e}"),
            }
            buffers.push(reader.buffer_size());
        }
        (out, buffers)
    }

    #[tokio::test]
    async fn the_read_buffer_grows_while_reads_fill_it_and_shrinks_when_the_stream_is_quiet() {
        // 20,000 frames of 8 bytes in reads of up to 64 KiB: the buffer doubles to its maximum.
        let mut wire = Vec::new();
        for i in 0..20_000u32 {
            put_frame(&mut wire, &u64::from(i).to_be_bytes());
        }
        // Then a quiet stream: one small frame per read.
        let quiet = wire.len();
        for _ in 0..3 {
            put_frame(&mut wire, &[1]);
        }
        let mut sizes = vec![MAX_READ_BUFFER; quiet.div_ceil(MAX_READ_BUFFER)];
        sizes.extend([5; 3]);
        let (frames, buffers) = read_chunked(wire, sizes).await;
        assert_eq!(frames.len(), 20_003);
        assert_eq!(frames[19_999], Some(19_999u64.to_be_bytes().to_vec()));
        assert_eq!(buffers[0], 2 * MIN_READ_BUFFER);
        assert!(buffers.contains(&MAX_READ_BUFFER));
        assert!(buffers.iter().all(|b| *b <= MAX_READ_BUFFER));
        assert_eq!(buffers.last(), Some(&MIN_READ_BUFFER));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// Frames of any size, ticks between them, read in chunks of any sizes (a piece split
        /// anywhere, many frames in one read): each comes back whole, in order.
        #[test]
        fn frames_read_in_any_chunks_come_back_whole(
            bodies in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 1..(PIECE_SIZE + 9)), 0..6),
            ticks in proptest::collection::vec(proptest::prelude::any::<bool>(), 6),
            sizes in proptest::collection::vec(1usize..(PIECE_SIZE * 2), 1..8),
        ) {
            let mut wire = Vec::new();
            let mut expected = Vec::new();
            for (body, tick) in bodies.iter().zip(&ticks) {
                put_frame(&mut wire, body);
                expected.push(Some(body.clone()));
                if *tick {
                    put_tick(&mut wire);
                    expected.push(None);
                }
            }
            let (read, buffers) = tokio::runtime::Builder::new_current_thread().build().unwrap()
                .block_on(read_chunked(wire, sizes));
            proptest::prop_assert_eq!(read, expected);
            proptest::prop_assert!(buffers.iter().all(|b| *b <= MAX_READ_BUFFER));
        }

        /// Bodies of any size and content come back as they went, in order, ticks between them.
        #[test]
        fn any_bodies_round_trip(bodies in proptest::collection::vec(
            proptest::collection::vec(proptest::prelude::any::<u8>(), 1..(PIECE_SIZE * 2 + 3)), 0..4)) {
            let mut wire = Vec::new();
            for body in &bodies {
                put_frame(&mut wire, body);
                put_tick(&mut wire);
            }
            let read = tokio::runtime::Builder::new_current_thread().build().unwrap()
                .block_on(read_all(&wire, DEFAULT_MAX_FRAME));
            let expected: Vec<_> = bodies.into_iter().flat_map(|b| [Ok(Some(b)), Ok(None)]).collect();
            proptest::prop_assert_eq!(read, expected);
        }

        /// Any bytes read as frames end in frames, an error or the end of the stream: never a
        /// panic, and never an allocation over the limits.
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..1024)) {
            let read = tokio::runtime::Builder::new_current_thread().build().unwrap()
                .block_on(read_all(&bytes, 4096));
            for frame in read.iter().flatten().flatten() {
                proptest::prop_assert!(frame.len() <= 4096);
            }
        }
    }
}
