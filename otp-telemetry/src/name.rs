//! Event names: a path of string segments such as `["otp", "supervisor", "child", "restart"]`.
//!
//! Emitters name events with a borrowed `&[&str]`, which costs nothing to build; the registry stores
//! the owned form, [`EventName`], and looks routes up by a hash computed the same way over both forms.

use std::fmt;
use std::sync::Arc;

/// An owned event name: the stored form of a `&[&str]` path of segments.
///
/// Cheap to clone (the segments are shared). Compare it with a borrowed name through
/// [`EventName::matches`] or `==`.
///
/// ```
/// use otp_telemetry::EventName;
///
/// let name = EventName::from(["otp", "supervisor", "child", "restart"]);
/// assert!(name.matches(&["otp", "supervisor", "child", "restart"]));
/// assert!(name.starts_with(&["otp", "supervisor"]));
/// assert_eq!(name.to_string(), "otp.supervisor.child.restart");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventName(Arc<[Box<str>]>);

impl EventName {
    /// An event name from its segments.
    pub fn new<S: AsRef<str>>(segments: impl IntoIterator<Item = S>) -> Self {
        Self(
            segments
                .into_iter()
                .map(|s| Box::from(s.as_ref()))
                .collect(),
        )
    }

    /// The segments, in order.
    pub fn segments(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.0.iter().map(|s| &**s)
    }

    /// The number of segments.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the name has no segment (never the case for a name a handler is attached to).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether this name is exactly `name`, segment by segment.
    #[inline]
    pub fn matches(&self, name: &[&str]) -> bool {
        // From the last segment: names that share a bucket mostly share their first segments.
        self.0.len() == name.len()
            && self
                .0
                .iter()
                .zip(name)
                .rev()
                .all(|(a, b)| segment_eq(a.as_bytes(), b.as_bytes()))
    }

    /// Whether this name starts with `prefix` (the empty prefix matches every name).
    pub fn starts_with(&self, prefix: &[&str]) -> bool {
        self.0.len() >= prefix.len() && self.0.iter().zip(prefix).all(|(a, b)| **a == **b)
    }
}

impl From<&[&str]> for EventName {
    fn from(segments: &[&str]) -> Self {
        Self::new(segments)
    }
}

impl<const N: usize> From<[&str; N]> for EventName {
    fn from(segments: [&str; N]) -> Self {
        Self::new(segments)
    }
}

impl From<Vec<String>> for EventName {
    fn from(segments: Vec<String>) -> Self {
        Self::new(segments)
    }
}

impl PartialEq<[&str]> for EventName {
    fn eq(&self, other: &[&str]) -> bool {
        self.matches(other)
    }
}

impl PartialEq<&[&str]> for EventName {
    fn eq(&self, other: &&[&str]) -> bool {
        self.matches(other)
    }
}

impl<const N: usize> PartialEq<[&str; N]> for EventName {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.matches(other)
    }
}

/// Segments joined by `.`, e.g. `otp.supervisor.child.restart`.
impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dotted(f, self.segments())
    }
}

/// Writes `segments` joined by `.`.
pub(crate) fn write_dotted<'a>(
    f: &mut fmt::Formatter<'_>,
    segments: impl IntoIterator<Item = &'a str>,
) -> fmt::Result {
    for (i, segment) in segments.into_iter().enumerate() {
        if i > 0 {
            f.write_str(".")?;
        }
        f.write_str(segment)?;
    }
    Ok(())
}

/// The segments as a list, e.g. `["otp", "supervisor"]`.
impl fmt::Debug for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

/// Equality of two segments, inline for short ones (a call to `memcmp` costs more than the
/// comparison): two overlapping word loads cover a segment of up to 16 bytes.
#[inline]
fn segment_eq(a: &[u8], b: &[u8]) -> bool {
    fn word4(s: &[u8], at: usize) -> u32 {
        let mut w = [0; 4];
        w.copy_from_slice(&s[at..at + 4]);
        u32::from_ne_bytes(w)
    }
    fn word8(s: &[u8], at: usize) -> u64 {
        let mut w = [0; 8];
        w.copy_from_slice(&s[at..at + 8]);
        u64::from_ne_bytes(w)
    }
    let len = a.len();
    if len != b.len() {
        return false;
    }
    match len {
        0 => true,
        1..=3 => a[0] == b[0] && a[len / 2] == b[len / 2] && a[len - 1] == b[len - 1],
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, len - 4) == word4(b, len - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, len - 8) == word8(b, len - 8),
        _ => a == b,
    }
}

/// The routing hash of a name, identical for the borrowed and the owned form.
///
/// Cheap by design, since it runs on every emit with a handler attached: it mixes the number of
/// segments and, per segment, its length and first and last bytes, without reading the rest.
/// Names that collide share a bucket and are told apart by a full comparison.
#[inline]
pub(crate) fn route_hash<'a>(segments: impl Iterator<Item = &'a str>) -> u64 {
    const K: u64 = 0xf135_7aea_2e62_a9c5;
    let mut hash: u64 = 0;
    for segment in segments {
        let bytes = segment.as_bytes();
        let (first, last) = match (bytes.first(), bytes.last()) {
            (Some(&first), Some(&last)) => (u64::from(first), u64::from(last)),
            _ => (0, 0),
        };
        let word = bytes.len() as u64 | first << 32 | last << 40;
        hash = (hash.rotate_left(26) ^ word).wrapping_mul(K);
    }
    // The high bits are the best mixed: fold them down for the table index.
    hash ^ (hash >> 29)
}

#[cfg(test)]
mod tests {
    use super::segment_eq;

    /// The word-wise comparison agrees with `==` for every length up to past the inline limit,
    /// whichever byte differs.
    #[test]
    fn segment_eq_agrees_with_slice_equality() {
        for len in 0..=20 {
            let a: Vec<u8> = (0..len as u8).map(|i| b'a' + i).collect();
            assert!(segment_eq(&a, &a.clone()));
            for at in 0..len {
                let mut b = a.clone();
                b[at] = b'Z';
                assert!(!segment_eq(&a, &b), "len {len}, differing at {at}");
            }
            let longer = [a.as_slice(), b"x"].concat();
            assert!(!segment_eq(&a, &longer));
        }
    }
}
