//! The `cluster` example, run as a user runs it: three nodes in three OS processes, a remote
//! counter, a node killed with `kill -9`, the node-down on both survivors, the `noconnection`
//! of their monitors, the supervisor's restart, and exit status 0 with no child left behind.
//! Also the example's command line: a mistake is a message and exit status 2, never a panic.
//!
//! Linux only: whether a peer outlived the example is read in `/proc`.
#![cfg(target_os = "linux")]

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

use otp_examples::cluster_peer::{Peer, PeerArgs, Signal, example_binary};

mod common;

use common::{Run, run, run_example};

/// The deadline of a wait for a peer.
const DEADLINE: Duration = Duration::from_secs(30);

fn example() -> PathBuf {
    example_binary("cluster").expect("the example's binary")
}

/// The word after `prefix` on the first line of `text` that starts with it (after the
/// indentation).
fn word_after<'t>(text: &'t str, prefix: &str) -> &'t str {
    text.lines()
        .find_map(|line| line.trim_start().strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{text}"))
}

/// Whether the process `pid` is still around as a peer of the example (its command line has
/// `--peer`): a peer left behind.
fn peer_alive(pid: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| cmdline.split(|b| *b == 0).any(|arg| arg == b"--peer"))
}

#[test]
fn the_cluster_example_tells_its_story_and_exits_0_leaving_no_process() {
    let Run {
        status,
        stdout,
        stderr,
    } = run_example("cluster");
    let context = format!("exit {status:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(status.success(), "{context}");
    assert!(!stderr.contains("The story failed"), "{context}");

    // Step 1: the names the nodes bound, and who sees whom.
    let (a, b, c) = (
        word_after(&stdout, "a  "),
        word_after(&stdout, "b  "),
        word_after(&stdout, "c  "),
    );
    for (name, short) in [
        (a, "a@127.0.0.1:"),
        (b, "b@127.0.0.1:"),
        (c, "c@127.0.0.1:"),
    ] {
        assert!(name.starts_with(short), "{name}\n{context}");
    }
    let ups = [
        format!("a's monitor_nodes: NodeUp {b}, NodeUp {c}"),
        format!("a's monitor_nodes: NodeUp {c}, NodeUp {b}"),
    ];
    assert!(ups.iter().any(|line| stdout.contains(line)), "{context}");
    let peer_pids: Vec<String> = stdout
        .lines()
        .filter_map(|line| line.split_once("(pid ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once(')').map(|(pid, _)| pid.to_owned()))
        .skip(1) // a's own
        .collect();
    assert_eq!(peer_pids.len(), 2, "{context}");

    let expected = [
        // 1
        format!("b's monitor_nodes: NodeUp {a}, NodeUp {c}"),
        format!("c's monitor_nodes: NodeUp {a}, NodeUp {b}"),
        format!("a.nodes() = [\"{b}\", \"{c}\"]"),
        format!("b.nodes() = [\"{a}\", \"{c}\"]"),
        format!("c.nodes() = [\"{a}\", \"{b}\"]"),
        // 2: a's casts, then c's, on b's counter.
        "a casts add(1) and add(2), then calls get(): 3".to_owned(),
        "c does the same through its own ServerRef: add(10), then get(): 13".to_owned(),
        "a calls get() again: 13. b's counter holds the casts of both nodes.".to_owned(),
        // 3
        "monitoring c's counter".to_owned(),
        "a process of b monitors c's counter too".to_owned(),
        // 4
        "c is dead and reaped: signal: 9 (SIGKILL)".to_owned(),
        // 5: a closed socket, seen by both survivors; the monitors; the restart.
        format!("a's monitor_nodes: NodeDown {{ node: {c}, reason: ConnectionClosed }}"),
        format!("b's monitor_nodes: NodeDown {{ node: {c}, reason: connection_closed }}"),
        "b's monitor on c's counter fired: Down, noconnection.".to_owned(),
        "went down: noconnection`".to_owned(),
        "c is gone (no connection to the node)".to_owned(),
        format!("a.nodes() = [\"{b}\"]"),
        format!("b.nodes() = [\"{a}\"]"),
        "still answers a's get(): 13".to_owned(),
        // 6
        "b stopped its node and exited (exit status: 0)".to_owned(),
        "The end. Exit status 0.".to_owned(),
    ];
    for line in &expected {
        assert!(stdout.contains(line.as_str()), "no `{line}` in\n{context}");
    }
    // The steps come in order.
    let steps: Vec<usize> = ["\n1. ", "\n2. ", "\n3. ", "\n4. ", "\n5. ", "\n6. "]
        .iter()
        .map(|step| {
            stdout
                .find(step)
                .unwrap_or_else(|| panic!("no step {step:?}\n{context}"))
        })
        .collect();
    assert!(steps.is_sorted(), "{context}");

    // The lookout was restarted: a new process.
    let first = word_after(&stdout, "lookout ").trim_end_matches(':');
    let second = word_after(&stdout, "a's supervisor restarted it as ").trim_end_matches('.');
    assert_ne!(first, second, "{context}");

    // No peer outlived the example.
    for pid in &peer_pids {
        assert!(!peer_alive(pid), "peer {pid} is still running\n{context}");
    }
}

#[test]
fn a_mistake_on_the_command_line_is_a_message_and_exit_status_2() {
    let example = example();
    for (args, message) in [
        (&["--bogus"][..], "unknown argument \"--bogus\""),
        (&["--peer"][..], "--peer needs a value"),
        (&["--peer", "b"][..], "--peer needs --cookie"),
        (&["--peer", "b@x", "--cookie", "k"][..], "--peer \"b@x\""),
        (
            &["--peer", "b", "--cookie", "k", "--tick-ms", "soon"][..],
            "--tick-ms \"soon\"",
        ),
        (
            &["--peer", "b", "--cookie", "k", "--host", "localhost"][..],
            "not an IP address",
        ),
        (&["--cookie", "k"][..], "--cookie goes only with --peer"),
    ] {
        let Run {
            status,
            stdout,
            stderr,
        } = run(&example, &args.iter().map(OsStr::new).collect::<Vec<_>>());
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(stderr.contains("usage: cluster"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
    // An argument that is not Unicode.
    let not_unicode = run(&example, &[OsStr::from_bytes(b"--peer\xff")]);
    assert_eq!(not_unicode.status.code(), Some(2), "{}", not_unicode.stderr);
    assert!(
        not_unicode.stderr.contains("unknown argument"),
        "{}",
        not_unicode.stderr
    );
    let help = run(&example, &[OsStr::new("--help")]);
    assert!(help.status.success());
    assert!(help.stdout.contains("--peer NAME --cookie COOKIE"));
}

#[tokio::test(flavor = "current_thread")]
async fn a_peer_whose_stdin_closes_stops_its_node_and_exits_0() {
    // As when its parent dies without reaping it (`kill -9` of the parent).
    let mut peer = Peer::launch(&example(), &PeerArgs::new("orphan", "k"), DEADLINE)
        .await
        .expect("the peer starts");
    assert!(
        peer.node().starts_with("orphan@127.0.0.1:"),
        "{}",
        peer.node()
    );
    peer.close_stdin();
    let status = peer
        .wait_exit(DEADLINE)
        .await
        .expect("waiting for the peer")
        .unwrap_or_else(|| panic!("the peer still runs {DEADLINE:?} after its stdin closed"));
    assert!(status.success(), "{status}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_peer_is_killed_and_reaped_when_its_handle_drops_even_frozen() {
    // What happens to the example's peers when it panics half way: their handles drop.
    let peer = Peer::launch(&example(), &PeerArgs::new("dropped", "k"), DEADLINE)
        .await
        .expect("the peer starts");
    let pid = peer.os_pid().to_string();
    // Frozen, it could not even notice its stdin closing.
    peer.signal(Signal::Stop).expect("SIGSTOP");
    assert!(peer_alive(&pid));
    drop(peer);
    assert!(!peer_alive(&pid), "peer {pid} outlived its handle");
}
