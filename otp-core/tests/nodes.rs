//! Nodes as values: two nodes in one test process, each on its own runtime, with disjoint
//! process tables, names and registries; a pid of one is not a process of the other.

mod common;

use common::within;
use otp_core::gen_server::{GenServer, ServerRef, handlers};
use otp_core::name::{register, registered, send, whereis};
use otp_core::node::Node;
use otp_core::process::{
    ExitReason, Pid, is_alive, process_count, process_info, processes, spawn, wait_exit,
};
use otp_core::registry::{Keys, Registry, RegistryError};
use tokio::runtime::Runtime;

/// A node and its runtime (one worker: a host of its own).
fn node(name: &str) -> (Node, Runtime) {
    let node = Node::new(name);
    let runtime = node
        .runtime(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all(),
        )
        .expect("a runtime");
    (node, runtime)
}

/// A process that waits forever.
fn idle() -> Pid {
    spawn(async |mut me| -> () {
        loop {
            me.recv().await;
        }
    })
}

#[derive(GenServer, Default)]
struct Echo;

#[handlers]
impl Echo {
    #[call]
    fn node_name(&self, ctx: &mut otp_core::gen_server::Context<Self>) -> String {
        ctx.node().name().to_owned()
    }
}

#[test]
fn two_nodes_have_disjoint_processes_names_and_registries() {
    let (a, on_a) = node("a@test");
    let (b, on_b) = node("b@test");

    let (pid_a, registry_a) = a.block_on(&on_a, async {
        let pid = idle();
        register("worker", pid).unwrap();
        let registry: Registry<&'static str> = Registry::new(Keys::Unique);
        (pid, registry)
    });
    let pid_b = b.block_on(&on_b, async {
        let pid = idle();
        register("worker", pid).unwrap(); // the same name, on another node
        pid
    });

    assert!(a.owns(pid_a) && !a.owns(pid_b));
    assert!(b.owns(pid_b) && !b.owns(pid_a));
    assert_ne!(pid_a.node(), pid_b.node());

    a.block_on(&on_a, async {
        assert_eq!(whereis("worker"), Some(pid_a));
        assert_eq!(registered(), vec![("worker".into(), pid_a)]);
        assert!(is_alive(pid_a));
        assert!(!is_alive(pid_b), "b's process is not one of a's");
        assert!(process_info(pid_b).is_none());
        assert_eq!(process_count(), 1);
        assert_eq!(processes().len(), 1);
        // A message to a pid of another node goes nowhere without distribution.
        send(pid_b, "hello").unwrap();
        assert_eq!(wait_exit(pid_b).await, ExitReason::NoProc);
    });
    b.block_on(&on_b, async {
        assert_eq!(whereis("worker"), Some(pid_b));
        assert_eq!(process_count(), 1);
        // Registering a process of node b in a registry of node a is refused: a registry
        // belongs to its node.
        let (tx, rx) = tokio::sync::oneshot::channel();
        spawn(move |_me| async move {
            let _ = tx.send(registry_a.register("key", ()));
        });
        assert!(matches!(
            within("the registration", rx).await.unwrap(),
            Err(RegistryError::NoProc(_))
        ));
    });
    // The default node has none of them.
    assert_eq!(Node::default_node().process_count(), 0);
}

#[test]
fn a_server_belongs_to_the_node_it_was_started_on() {
    let (a, on_a) = node("a@test");
    let server = a.block_on(&on_a, async { Echo::start().await.unwrap() });
    assert!(a.owns(server.pid()));
    let name = a.block_on(&on_a, async { server.node_name().await });
    assert_eq!(name.as_deref(), Ok("a@test"));
    let (b, on_b) = node("b@test");
    b.block_on(&on_b, async {
        assert!(ServerRef::<Echo>::from_pid(server.pid()).is_err());
    });
    a.block_on(&on_a, async {
        server.stop(ExitReason::Normal).await.unwrap();
    });
}

#[test]
fn pids_and_monitor_references_say_which_node_they_belong_to() {
    let (a, on_a) = node("a@test");
    let (b, on_b) = node("b@test");
    let pid_a = a.block_on(&on_a, async { idle() });
    let pid_b = b.block_on(&on_b, async { idle() });
    // Serialized and read back, a pid still says whose it is.
    let json = serde_json::to_string(&pid_a).unwrap();
    let back: Pid = serde_json::from_str(&json).unwrap();
    assert_eq!(back, pid_a);
    assert!(a.owns(back) && !b.owns(back));
    assert_eq!(
        (back.node(), back.creation()),
        (a.id(), a.creation()),
        "node id and creation travel with the pid"
    );

    // Monitor references made on two nodes never collide, though each node counts from 1.
    let monitor_on = |node: Node, runtime: &Runtime, target: Pid| {
        node.block_on(runtime, async move {
            let (tx, rx) = tokio::sync::oneshot::channel();
            spawn(move |me| async move {
                let _ = tx.send(me.monitor(target));
            });
            within("the monitor", rx).await.unwrap()
        })
    };
    let on_a_ref = monitor_on(a, &on_a, pid_a);
    let on_b_ref = monitor_on(b, &on_b, pid_b);
    assert_ne!(on_a_ref, on_b_ref);
}
