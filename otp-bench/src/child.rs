//! Child processes: every (framework, workload, runtime) runs in a fresh one, which prints one
//! line `RESULT {"<name>": value, ...}` that the parent reads.
//!
//! A timed child reports its metrics; an untimed one (for an instruction count) reports
//! `{"operations": n}`, the number of operations it performed.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::Metric;

/// The prefix of the one line a child prints with its result.
pub const RESULT_PREFIX: &str = "RESULT ";

/// The key of an untimed child's result: how many operations it performed.
pub const OPERATIONS: &str = "operations";

/// What a child printed.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// Its standard output.
    pub stdout: String,
    /// Its standard error, if captured (it goes to the parent's otherwise).
    pub stderr: String,
}

/// Runs `command` to its end, or kills it after `timeout`; captures its standard output, and
/// its standard error if `capture_stderr` (valgrind reports there). Fails if the child could
/// not be started, timed out or exited unsuccessfully.
pub fn run(
    mut command: Command,
    timeout: Duration,
    capture_stderr: bool,
) -> Result<Output, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if capture_stderr {
            Stdio::piped()
        } else {
            Stdio::inherit()
        });
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start the child: {e}"))?;
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                pipe.read_to_string(&mut text)?;
            }
            Ok::<_, std::io::Error>(text)
        })
    };
    let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("cannot wait for the child: {e}")),
        }
    };
    let join = |reader: thread::JoinHandle<std::io::Result<String>>| {
        reader
            .join()
            .map_err(|_| "an output reader panicked".to_owned())?
            .map_err(|e| format!("cannot read the child's output: {e}"))
    };
    let output = Output {
        stdout: join(stdout)?,
        stderr: join(stderr)?,
    };
    if !status.success() {
        let tail: Vec<&str> = output.stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(if tail.is_empty() {
            format!("child exited with {status}")
        } else {
            format!("child exited with {status}: {}", tail.join(" | "))
        });
    }
    Ok(output)
}

/// Finds the `RESULT {...}` line in a child's output and decodes its numbers by name.
pub fn parse_result(output: &str) -> Result<Vec<(String, f64)>, String> {
    let line = output
        .lines()
        .find_map(|line| line.strip_prefix(RESULT_PREFIX))
        .ok_or_else(|| format!("no result line in the child's output: {output:?}"))?;
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("bad result line {line:?}: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("result is not an object: {line}"))?;
    object
        .iter()
        .map(|(name, value)| {
            let value = value
                .as_f64()
                .ok_or_else(|| format!("`{name}` is not a number"))?;
            Ok((name.clone(), value))
        })
        .collect()
}

/// The metrics of a timed child's result.
pub fn parse_metrics(output: &str) -> Result<Vec<(Metric, f64)>, String> {
    parse_result(output)?
        .into_iter()
        .map(|(name, value)| {
            let metric =
                Metric::from_name(&name).ok_or_else(|| format!("unknown metric `{name}`"))?;
            Ok((metric, value))
        })
        .collect()
}

/// The operation count of an untimed child's result.
pub fn parse_operations(output: &str) -> Result<u64, String> {
    parse_result(output)?
        .into_iter()
        .find(|(name, _)| name == OPERATIONS)
        .map(|(_, value)| value as u64)
        .ok_or_else(|| format!("no `{OPERATIONS}` in the child's result"))
}

/// The result line a child prints for `values`.
pub fn result_line<'a>(values: impl IntoIterator<Item = (&'a str, f64)>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = values
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.into()))
        .collect();
    format!("{RESULT_PREFIX}{}", serde_json::Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_lines_round_trip() {
        let line = result_line([("call_median_ns", 272.0), ("call_p99_ns", 5_930.0)]);
        let output = format!("some noise\n{line}\nmore noise\n");
        assert_eq!(
            parse_metrics(&output).unwrap(),
            vec![(Metric::CallMedianNs, 272.0), (Metric::CallP99Ns, 5_930.0)]
        );
        let counted = result_line([(OPERATIONS, 60_000.0)]);
        assert_eq!(parse_operations(&counted), Ok(60_000));
        assert!(parse_metrics(&counted).is_err(), "not a metric");
        assert!(parse_operations(&line).is_err());
        assert!(parse_result("no result here").is_err());
        assert!(parse_result("RESULT [1]").is_err());
        assert!(parse_result("RESULT {\"x\": \"y\"}").is_err());
    }
}
