//! The memory of an idle otp-dist connection: `cargo run --release -p otp-bench --bin
//! dist_memory [-- CONNECTIONS ROUNDS]`.
//!
//! One process starts `CONNECTIONS + 1` nodes on 127.0.0.1 (a hub and its leaves), measures its
//! resident set, connects every leaf to the hub, lets the connections settle (handshakes done,
//! first ticks sent), and measures again. The growth divided by the number of connections is
//! the memory of one idle connection, **both ends** (each end's connection state, its three
//! tasks, its buffers), in user space: the kernel's socket buffers are not in the resident set.
//! Each round runs in a fresh child process (a process's allocator keeps what it freed, so a
//! second round in the same process would reuse it); the figures of every round are printed,
//! then their range.

use std::time::Duration;

use otp_bench::proc_stats::rss_bytes;
use otp_dist::DistNode;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--round") {
        let connections = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
        println!("{:.0}", round(connections));
        return;
    }
    let connections: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let exe = std::env::current_exe().expect("its own path");
    let mut per_connection = Vec::new();
    for round in 0..rounds {
        let output = std::process::Command::new(&exe)
            .args(["--round", &connections.to_string()])
            .output()
            .expect("a round runs");
        let bytes: f64 = String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("round {round} failed: {output:?}"));
        println!("round {round}: {connections} idle connections, {bytes:.0} B each (both ends)");
        per_connection.push(bytes);
    }
    let min = per_connection.iter().copied().fold(f64::INFINITY, f64::min);
    let max = per_connection.iter().copied().fold(0.0, f64::max);
    println!("an idle connection, both ends: {min:.0}–{max:.0} B over {rounds} rounds");
}

/// One round: the growth of the resident set per connection.
fn round(connections: usize) -> f64 {
    let round = std::process::id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let hub = DistNode::builder("hub@127.0.0.1:0")
            .cookie("memory")
            .start()
            .await
            .expect("the hub starts");
        let mut leaves = Vec::new();
        for i in 0..connections {
            leaves.push(
                DistNode::builder(format!("leaf{round}x{i}@127.0.0.1:0"))
                    .cookie("memory")
                    .start()
                    .await
                    .expect("a leaf starts"),
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = rss_bytes();
        for leaf in &leaves {
            leaf.connect(hub.name()).await.expect("a leaf connects");
        }
        // Settled: every handshake done, the first ticks (T/8) sent and read.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let after = rss_bytes();
        assert_eq!(hub.nodes().len(), connections);
        for leaf in &leaves {
            leaf.shutdown();
        }
        hub.shutdown();
        after.saturating_sub(before) as f64 / connections as f64
    })
}
