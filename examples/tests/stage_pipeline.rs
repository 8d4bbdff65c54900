//! The `stage_pipeline` example, run as a user runs it: its 1000 events go through the
//! pipeline, its stages stop in a cascade, its summary finds each event handled exactly once,
//! and it exits with status 0. Nothing here depends on timings: the table's figures vary.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use otp_examples::cluster_peer::example_binary;

/// The longest the run may take (it takes about two seconds).
const DEADLINE: Duration = Duration::from_secs(120);

/// Runs the example `name` to its end, killing it if it outlives [`DEADLINE`].
fn run(name: &str) -> Output {
    let binary = example_binary(name).expect("the example's binary");
    let mut child = Command::new(binary)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    // Each pipe is read to its end by a thread, so that a full pipe cannot block the example.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(bytes);
        });
        rx
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the example") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.recv().unwrap_or_default(),
        stderr: stderr.recv().unwrap_or_default(),
    }
}

#[test]
fn the_pipeline_handles_each_event_once_and_stops_in_a_cascade() {
    let output = run("stage_pipeline");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(output.status.success(), "{context}");
    assert!(!stderr.contains("The pipeline failed"), "{context}");
    for line in [
        "[fast] its first batch:",
        "[slow] its first batch:",
        "All 1000 events handled: numbers stops, and the other stages follow it.",
        "[fast] exits (normal) after",
        "[slow] exits (normal) after",
        "it emitted 1000, and held at most 0 in its buffer.",
        "none lost, none duplicated.",
    ] {
        assert!(stdout.contains(line), "no `{line}` in:\n{context}");
    }
    // The table has rows, each with numbers' buffered count: 0, as it emits only what is asked.
    let rows: Vec<&str> = stdout.lines().filter(|l| l.contains("ms |")).collect();
    assert!(!rows.is_empty(), "no table in:\n{context}");
    for row in rows {
        let buffered = row
            .split('|')
            .nth(1)
            .and_then(|c| c.split_whitespace().nth(2));
        assert_eq!(buffered, Some("0"), "row `{row}` in:\n{context}");
    }
}
