//! The `stage_partitions` example, run as a user runs it: its 400 payments fan out over four
//! partitions, each user's to exactly one ledger (the one of `user_id % 4`) and in order, and it
//! exits with status 0. Nothing here depends on timings.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use otp_examples::cluster_peer::example_binary;

/// The longest the run may take (it takes a fraction of a second).
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
fn each_users_payments_go_to_one_ledger_in_order() {
    let output = run("stage_partitions");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!(
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(output.status.success(), "{context}");
    assert!(!stderr.contains("The fan-out failed"), "{context}");
    assert!(!stdout.contains("NOT as made"), "{context}");
    assert!(
        stdout.contains(
            "All 400 payments delivered: each user's to exactly one ledger, in the order they \
             were made."
        ),
        "{context}"
    );
    // Each of the 8 users is met once, by the ledger of its partition, at its first payment.
    let mut met: Vec<(u64, u64)> = stdout
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("[ledger ")?;
            let (ledger, rest) = rest.split_once("] sees user ")?;
            let (user, rest) = rest.split_once(' ')?;
            assert_eq!(rest, "(payment 0)", "`{line}` in:\n{context}");
            Some((ledger.parse().ok()?, user.parse().ok()?))
        })
        .collect();
    met.sort_by_key(|&(_, user)| user);
    let expected: Vec<(u64, u64)> = (1..=8).map(|user| (user % 4, user)).collect();
    assert_eq!(met, expected, "{context}");
    for user in 1..=8 {
        let summary = format!("  user {user}: ");
        let line = stdout.lines().find(|l| l.starts_with(&summary));
        let expected = format!("seen by ledger(s) [{}]: all of them, in order", user % 4);
        assert!(
            line.is_some_and(|l| l.ends_with(&expected)),
            "no `{summary}...{expected}` in:\n{context}"
        );
    }
}
