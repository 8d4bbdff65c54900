//! The BEAM's own distribution on the remote workloads: two Erlang nodes on 127.0.0.1, run by
//! `erl` with `otp-bench/beam/dist_bench.erl` (whose header says what it measures).
//!
//! The child `compare --child beam <workload> --runtime R --n N` starts node a:
//!
//! ```text
//! erl -noshell -name otp_bench_a_<pid>@127.0.0.1 -setcookie otp_bench_<pid>_<nanos> +S <k>
//!     -eval '<compile dist_bench.erl, load it, dist_bench:main(["<workload>", "<N>", "<k>"])>'
//! ```
//!
//! (epmd is started by `erl -name` if it is not running), which starts node b with `peer`,
//! measures, prints one JSON line and halts; the child turns that line into its `RESULT` line.
//! `<k>`, the schedulers of each node, follows the runtime: one on the current-thread runtime
//! (one thread per node, as each tokio node has), [`WORKER_THREADS`] on the multi-thread one.
//! Everything else is the BEAM's default.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::child;
use crate::runtime::WORKER_THREADS;
use crate::{Metric, Runtime, Workload};

/// The Erlang module that measures, compiled by node a when it starts.
pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/beam/dist_bench.erl");

/// How long one BEAM run may take before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(600);

/// The schedulers of each node on `runtime`: as many as each tokio node has threads.
pub fn schedulers(runtime: Runtime) -> usize {
    match runtime {
        Runtime::CurrentThread => 1,
        Runtime::MultiThread => WORKER_THREADS,
    }
}

/// Checks that `erl` can be run; returns the OTP release (`OTP 25`), or a message saying it
/// is missing.
pub fn check_erl() -> Result<String, String> {
    let output = Command::new("erl")
        .args([
            "-noshell",
            "-eval",
            "io:format(\"~s\", [erlang:system_info(otp_release)]), halt().",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("`erl` could not be run ({e})"))?;
    if !output.status.success() {
        return Err(format!("`erl` failed (exit status {})", output.status));
    }
    Ok(format!(
        "OTP {}",
        String::from_utf8_lossy(&output.stdout).trim()
    ))
}

/// A string as an Erlang string literal.
fn erlang_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The command that measures `workload` with `n` operations on the BEAM, both nodes with the
/// schedulers of `runtime`.
pub fn command(workload: Workload, n: u64, runtime: Runtime) -> Command {
    let pid = std::process::id();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schedulers = schedulers(runtime).to_string();
    let script = erlang_string(SCRIPT);
    let args = [workload.name(), &n.to_string(), &schedulers].map(erlang_string);
    let eval = format!(
        "try {{ok, dist_bench, Binary}} = compile:file({script}, [binary, return_errors]), \
         {{module, dist_bench}} = code:load_binary(dist_bench, {script}, Binary), \
         dist_bench:main([{}]) \
         catch Class:Reason -> io:format(standard_error, \"~p:~p~n\", [Class, Reason]), halt(1) \
         end.",
        args.join(", ")
    );
    let mut command = Command::new("erl");
    command.args([
        "-noshell",
        "-name",
        &format!("otp_bench_a_{pid}@127.0.0.1"),
        "-setcookie",
        &format!("otp_bench_{pid}_{nanos}"),
        "+S",
        &schedulers,
        "-eval",
        &eval,
    ]);
    command
}

/// The metrics of the JSON line `dist_bench` printed (the last line of `stdout` that holds an
/// object); fields that are not metrics (`framework`, `workload`, `n`, `schedulers`) are
/// skipped.
pub fn parse_line(stdout: &str) -> Result<Vec<(Metric, f64)>, String> {
    let line = stdout
        .lines()
        .rev()
        .find(|line| line.trim_start().starts_with('{'))
        .ok_or_else(|| format!("no JSON line in dist_bench's output: {stdout:?}"))?;
    let value: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("bad JSON line {line:?}: {e}"))?;
    let object = value
        .as_object()
        .ok_or_else(|| format!("not an object: {line}"))?;
    if object.get("framework").and_then(|f| f.as_str()) != Some("beam") {
        return Err(format!("not a line of the BEAM's: {line}"));
    }
    let metrics: Vec<(Metric, f64)> = object
        .iter()
        .filter_map(|(name, value)| Some((Metric::from_name(name)?, value.as_f64()?)))
        .collect();
    if metrics.is_empty() {
        return Err(format!("no metric in {line}"));
    }
    Ok(metrics)
}

/// Runs `workload` with `n` operations on two BEAM nodes and returns its metrics.
pub fn run(workload: Workload, n: u64, runtime: Runtime) -> Result<Vec<(Metric, f64)>, String> {
    if !workload.is_remote() {
        return Err(format!("the BEAM does not take part in {workload}"));
    }
    let output = child::run(command(workload, n, runtime), TIMEOUT, true)
        .map_err(|e| format!("the BEAM run failed: {e}"))?;
    parse_line(&output.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_json_line() {
        let out = "noise\n{\"framework\":\"beam\",\"workload\":\"remote_cast\",\"n\":1000,\
                   \"schedulers\":1,\"remote_cast_per_s\":471000.500,\"wire_bytes_per_msg\":46.001}\n";
        assert_eq!(
            parse_line(out),
            Ok(vec![
                (Metric::RemoteCastPerS, 471_000.5),
                (Metric::WireBytesPerMsg, 46.001)
            ])
        );
        assert!(parse_line("").is_err());
        assert!(parse_line("{\"framework\":\"tcp-rmp\",\"remote_cast_per_s\":1}").is_err());
        assert!(parse_line("{\"framework\":\"beam\"}").is_err());
    }

    #[test]
    fn the_command_names_unique_nodes() {
        let command = command(Workload::RemoteCall, 10, Runtime::MultiThread);
        let args: Vec<String> = command
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args[0], "-noshell");
        let name = &args[args.iter().position(|a| a == "-name").unwrap() + 1];
        assert_eq!(
            name,
            &format!("otp_bench_a_{}@127.0.0.1", std::process::id())
        );
        assert_eq!(args[args.iter().position(|a| a == "+S").unwrap() + 1], "2");
        let eval = args.last().unwrap();
        assert!(
            eval.contains("dist_bench:main([\"remote_call\", \"10\", \"2\"])"),
            "{eval}"
        );
        assert_eq!(erlang_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
