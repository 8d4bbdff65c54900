//! What the tests of the examples share: running a program to its end, as a user runs it.

use std::ffi::OsStr;
use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use otp_examples::cluster_peer::example_binary;

/// The longest a whole run may take (the examples take a few seconds).
const RUN_DEADLINE: Duration = Duration::from_secs(120);

/// What a run printed, and how it ended.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program` with `args` and no stdin, waiting at most [`RUN_DEADLINE`]: a run that
/// hangs is killed, and the test fails with what it printed.
pub fn run(program: &Path, args: &[&OsStr]) -> Run {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    // Each pipe is read to its end by a thread, which hands the text over a channel: a pipe
    // that never ends (a process that outlived the example holds it) fails the test instead
    // of hanging it.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            let _ = tx.send(text);
        });
        rx
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the example") {
            break Some(status);
        }
        if started.elapsed() > RUN_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |rx: mpsc::Receiver<String>, which: &str| {
        rx.recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| {
                panic!(
                    "the example's {which} is still open after it ended ({status:?}): a process \
                 it started outlived it"
                )
            })
    };
    let (stdout, stderr) = (read(stdout, "stdout"), read(stderr, "stderr"));
    let Some(status) = status else {
        panic!("still running after {RUN_DEADLINE:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    };
    Run {
        status,
        stdout,
        stderr,
    }
}

/// Runs the example `name`, with no arguments, as [`run`] does.
pub fn run_example(name: &str) -> Run {
    run(&example_binary(name).expect("the example's binary"), &[])
}
