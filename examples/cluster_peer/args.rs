//! The example's command line: the story (no argument), a peer (`--peer NAME ...`), or
//! `--help`; checked, with a typed error for anything it does not understand.

use std::net::IpAddr;
use std::time::Duration;

/// The example's usage, printed with an argument error (exit status 2) and with `--help`.
pub const USAGE: &str = "\
usage: cluster
           start node a here and nodes b and c as child processes, and tell the story
       cluster --peer NAME --cookie COOKIE [--host IP] [--tick-ms MS]
           run one peer node, NAME@IP:<a free port>, driven over stdin
options:
  --peer NAME     the node's short name: letters, digits, '-' and '_'
  --cookie TEXT   the cluster's shared secret (required with --peer)
  --host IP       the loopback (or other local) address to listen on (default 127.0.0.1)
  --tick-ms MS    the tick time in milliseconds, the same on every node (default 15000)
  -h, --help      this text";

/// The tick time of a peer when `--tick-ms` is not given: distribution's default, 15 s.
pub const DEFAULT_TICK: Duration = Duration::from_secs(15);

/// What the example's command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No argument: the story, with this process as node a.
    Story,
    /// `--peer NAME ...`: one peer node, driven over stdin.
    Peer(PeerArgs),
    /// `--help`: print the usage.
    Help,
}

/// The settings of a peer node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerArgs {
    /// The node's short name (`b` in `b@127.0.0.1:40123`).
    pub name: String,
    /// The address it listens on (its port is chosen by the system).
    pub host: IpAddr,
    /// The cluster's cookie.
    pub cookie: String,
    /// The tick time; every node of a connection must have the same.
    pub tick: Duration,
}

impl PeerArgs {
    /// A peer named `name` on 127.0.0.1 with `cookie` and the default tick time.
    pub fn new(name: impl Into<String>, cookie: impl Into<String>) -> Self {
        PeerArgs {
            name: name.into(),
            host: IpAddr::from([127, 0, 0, 1]),
            cookie: cookie.into(),
            tick: DEFAULT_TICK,
        }
    }

    /// The same, listening on `host`.
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// The same, with the tick time `tick`.
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// The name its node starts with: `name@host:0` (port 0: any free port).
    pub fn node_name(&self) -> String {
        format!("{}@{}:0", self.name, self.host)
    }

    /// The command line that runs this peer (after the program's path).
    pub fn to_args(&self) -> Vec<String> {
        vec![
            "--peer".into(),
            self.name.clone(),
            "--cookie".into(),
            self.cookie.clone(),
            "--host".into(),
            self.host.to_string(),
            "--tick-ms".into(),
            self.tick.as_millis().to_string(),
        ]
    }
}

/// Why the command line was not understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ArgsError {
    /// An argument that is not an option of the example.
    #[error("unknown argument {0:?}")]
    Unknown(String),
    /// An option without its value.
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    /// An option given twice.
    #[error("{0} is given twice")]
    Twice(&'static str),
    /// An option with a value it cannot take.
    #[error("{flag} {value:?}: {why}")]
    Invalid {
        /// The option.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `--peer` without `--cookie`.
    #[error("--peer needs --cookie")]
    NoCookie,
    /// A peer's option without `--peer`.
    #[error("{0} goes only with --peer")]
    PeerOnly(&'static str),
}

/// The shortest tick time accepted: distribution refuses less than 8 ms, and a node must be
/// able to answer a tick in time under load.
const MIN_TICK_MS: u64 = 100;
/// The longest tick time accepted: a day.
const MAX_TICK_MS: u64 = 86_400_000;

/// Reads the example's command line (without the program's path).
///
/// # Errors
/// See [`ArgsError`].
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Mode, ArgsError> {
    let mut name: Option<String> = None;
    let mut cookie: Option<String> = None;
    let mut host: Option<IpAddr> = None;
    let mut tick: Option<Duration> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &'static str| args.next().ok_or(ArgsError::MissingValue(flag));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Mode::Help),
            "--peer" => {
                let value = value("--peer")?;
                let valid = !value.is_empty()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !valid {
                    return Err(ArgsError::Invalid {
                        flag: "--peer",
                        value,
                        why: "a name is letters, digits, '-' and '_'",
                    });
                }
                set_once(&mut name, value, "--peer")?;
            }
            "--cookie" => {
                let value = value("--cookie")?;
                if value.is_empty() {
                    return Err(ArgsError::Invalid {
                        flag: "--cookie",
                        value,
                        why: "a cookie is not empty",
                    });
                }
                set_once(&mut cookie, value, "--cookie")?;
            }
            "--host" => {
                let value = value("--host")?;
                let Ok(ip) = value.parse::<IpAddr>() else {
                    return Err(ArgsError::Invalid {
                        flag: "--host",
                        value,
                        why: "not an IP address",
                    });
                };
                set_once(&mut host, ip, "--host")?;
            }
            "--tick-ms" => {
                let value = value("--tick-ms")?;
                let ms = match value.parse::<u64>() {
                    Ok(ms) if (MIN_TICK_MS..=MAX_TICK_MS).contains(&ms) => ms,
                    _ => {
                        return Err(ArgsError::Invalid {
                            flag: "--tick-ms",
                            value,
                            why: "a number of milliseconds from 100 to 86400000",
                        });
                    }
                };
                set_once(&mut tick, Duration::from_millis(ms), "--tick-ms")?;
            }
            _ => return Err(ArgsError::Unknown(arg)),
        }
    }
    let Some(name) = name else {
        return match (cookie, host, tick) {
            (None, None, None) => Ok(Mode::Story),
            (Some(_), _, _) => Err(ArgsError::PeerOnly("--cookie")),
            (_, Some(_), _) => Err(ArgsError::PeerOnly("--host")),
            (_, _, Some(_)) => Err(ArgsError::PeerOnly("--tick-ms")),
        };
    };
    Ok(Mode::Peer(PeerArgs {
        name,
        host: host.unwrap_or(IpAddr::from([127, 0, 0, 1])),
        cookie: cookie.ok_or(ArgsError::NoCookie)?,
        tick: tick.unwrap_or(DEFAULT_TICK),
    }))
}

/// Fills `slot` with `value`, unless the option was given already.
fn set_once<T>(slot: &mut Option<T>, value: T, flag: &'static str) -> Result<(), ArgsError> {
    if slot.replace(value).is_some() {
        return Err(ArgsError::Twice(flag));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Mode, ArgsError> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn the_command_line_is_read_and_checked() {
        assert_eq!(args(&[]), Ok(Mode::Story));
        assert_eq!(args(&["--help"]), Ok(Mode::Help));
        let peer = PeerArgs::new("b", "secret")
            .host(IpAddr::from([127, 0, 0, 2]))
            .tick(Duration::from_millis(2000));
        let line: Vec<String> = peer.to_args();
        assert_eq!(parse_args(line), Ok(Mode::Peer(peer)));
        assert_eq!(
            args(&["--peer", "b", "--cookie", "x"]),
            Ok(Mode::Peer(PeerArgs::new("b", "x")))
        );
        assert_eq!(
            args(&["--bogus"]),
            Err(ArgsError::Unknown("--bogus".into()))
        );
        assert_eq!(args(&["--peer"]), Err(ArgsError::MissingValue("--peer")));
        assert_eq!(args(&["--peer", "b"]), Err(ArgsError::NoCookie));
        assert_eq!(
            args(&["--peer", "b", "--peer", "c", "--cookie", "x"]),
            Err(ArgsError::Twice("--peer"))
        );
        assert_eq!(
            args(&["--cookie", "x"]),
            Err(ArgsError::PeerOnly("--cookie"))
        );
        for bad in [
            ["--peer", "b@x"],
            ["--peer", ""],
            ["--host", "localhost"],
            ["--tick-ms", "abc"],
            ["--tick-ms", "5"],
            ["--cookie", ""],
        ] {
            assert!(
                matches!(args(&bad), Err(ArgsError::Invalid { .. })),
                "{bad:?}: {:?}",
                args(&bad)
            );
        }
    }
}
