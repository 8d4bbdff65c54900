//! Metadata values: a small, closed set of types that any handler can read.
//!
//! Metadata is passed as a borrowed slice of `(&str, Value<'_>)` pairs, so an emitter builds it on
//! the stack and pays nothing (no allocation, no formatting) when no handler listens.
//!
//! This crate depends on nothing of ours, so it cannot name `otp_core::process::Pid`. Pids are carried as a
//! [`PidValue`] with the same three parts as `otp_core::process::Pid` (node, serial, creation), which
//! otp-core converts into. Any other value (an exit reason, an address) goes through
//! [`Value::Display`], a borrowed `Display` formatted only if a handler asks for it.

use std::fmt;

/// A pid as seen by telemetry: the parts of `otp_core::process::Pid`, printed the same way, `<node.serial.creation>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct PidValue {
    /// The node number (0 for the local node).
    pub node: u32,
    /// The serial number of the process on its node.
    pub serial: u64,
    /// The creation (incarnation) of the node that spawned the process.
    pub creation: u32,
}

impl fmt::Display for PidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}.{}>", self.node, self.serial, self.creation)
    }
}

/// A metadata value, borrowed from the emitter for the duration of [`execute`](crate::execute).
#[derive(Clone, Copy)]
pub enum Value<'a> {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer (counts, ids, span contexts).
    UInt(u64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(&'a str),
    /// A process id.
    Pid(PidValue),
    /// Anything else, formatted only when a handler reads it (see [`Value::to_owned_value`]).
    Display(&'a (dyn fmt::Display + Sync)),
}

impl Value<'_> {
    /// The owned form of this value; a [`Value::Display`] is formatted into a string here.
    pub fn to_owned_value(&self) -> OwnedValue {
        match *self {
            Value::Int(v) => OwnedValue::Int(v),
            Value::UInt(v) => OwnedValue::UInt(v),
            Value::Float(v) => OwnedValue::Float(v),
            Value::Bool(v) => OwnedValue::Bool(v),
            Value::Str(v) => OwnedValue::Str(v.to_owned()),
            Value::Pid(v) => OwnedValue::Pid(v),
            Value::Display(v) => OwnedValue::Str(v.to_string()),
        }
    }

    /// The value as a string, if it is a [`Value::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(v) => Some(v),
            Value::UInt(v) => i64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a `u64`, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt(v) => Some(v),
            Value::Int(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// The value as a pid, if it is one.
    pub fn as_pid(&self) -> Option<PidValue> {
        match *self {
            Value::Pid(p) => Some(p),
            _ => None,
        }
    }
}

/// The value itself: numbers, `true`/`false`, the string, `<node.serial.creation>`.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(v) => f.write_str(v),
            Value::Pid(v) => write!(f, "{v}"),
            Value::Display(v) => write!(f, "{v}"),
        }
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => f.debug_tuple("Int").field(v).finish(),
            Value::UInt(v) => f.debug_tuple("UInt").field(v).finish(),
            Value::Float(v) => f.debug_tuple("Float").field(v).finish(),
            Value::Bool(v) => f.debug_tuple("Bool").field(v).finish(),
            Value::Str(v) => f.debug_tuple("Str").field(v).finish(),
            Value::Pid(v) => f.debug_tuple("Pid").field(v).finish(),
            Value::Display(v) => f.debug_tuple("Display").field(&v.to_string()).finish(),
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {$(
        impl From<$t> for Value<'_> {
            fn from(v: $t) -> Self {
                Value::$variant(<$as>::from(v))
            }
        }
    )*};
}

value_from! {
    i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64,
    u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64,
    f32 => Float as f64, f64 => Float as f64,
    bool => Bool as bool,
    PidValue => Pid as PidValue,
}

impl From<usize> for Value<'_> {
    fn from(v: usize) -> Self {
        Value::UInt(v as u64)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Str(v)
    }
}

/// The owned form of a [`Value`], kept by handlers that store events (see [`OwnedEvent`](crate::OwnedEvent)).
#[derive(Clone, PartialEq, Debug)]
pub enum OwnedValue {
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string (also what a [`Value::Display`] becomes).
    Str(String),
    /// A process id.
    Pid(PidValue),
}

impl OwnedValue {
    /// The borrowed form of this value.
    pub fn as_value(&self) -> Value<'_> {
        match self {
            OwnedValue::Int(v) => Value::Int(*v),
            OwnedValue::UInt(v) => Value::UInt(*v),
            OwnedValue::Float(v) => Value::Float(*v),
            OwnedValue::Bool(v) => Value::Bool(*v),
            OwnedValue::Str(v) => Value::Str(v),
            OwnedValue::Pid(v) => Value::Pid(*v),
        }
    }
}

impl fmt::Display for OwnedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_value().fmt(f)
    }
}

/// The owned copy of a borrowed value (a [`Value::Display`] is formatted here).
impl From<Value<'_>> for OwnedValue {
    fn from(v: Value<'_>) -> Self {
        v.to_owned_value()
    }
}

macro_rules! owned_value_from {
    ($($t:ty => $variant:ident as $as:ty),* $(,)?) => {$(
        impl From<$t> for OwnedValue {
            fn from(v: $t) -> Self {
                OwnedValue::$variant(<$as>::from(v))
            }
        }
    )*};
}

owned_value_from! {
    i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int as i64,
    u8 => UInt as u64, u16 => UInt as u64, u32 => UInt as u64, u64 => UInt as u64,
    f32 => Float as f64, f64 => Float as f64,
    bool => Bool as bool,
    PidValue => Pid as PidValue,
    String => Str as String,
}

impl From<usize> for OwnedValue {
    fn from(v: usize) -> Self {
        OwnedValue::UInt(v as u64)
    }
}

impl From<&str> for OwnedValue {
    fn from(v: &str) -> Self {
        OwnedValue::Str(v.to_owned())
    }
}

impl From<&String> for OwnedValue {
    fn from(v: &String) -> Self {
        OwnedValue::Str(v.clone())
    }
}
