//! The `child_spec` a derived server gets: a supervisor's child started with `start_link` and
//! the given arguments, with the struct's `restart` and `shutdown` options.

use std::time::Duration;

use otp::prelude::*;
use otp::supervisor::{ChildStatus, Restart, Shutdown, SupFlags, Supervisor};

#[derive(GenServer)]
#[gen_server(name = "macro_tests_supervised", restart = "transient", shutdown = 250)]
struct Worker {
    label: String,
}

#[handlers]
impl Worker {
    #[init]
    fn init(label: String) -> Self {
        Worker { label }
    }

    #[call]
    fn label(&self) -> String {
        self.label.clone()
    }

    #[cast]
    fn crash(&mut self) {
        if true {
            panic!("asked to crash");
        }
    }

    #[cast]
    fn finish(&mut self) -> Action<Self> {
        Action::Stop(ExitReason::Normal)
    }
}

#[derive(GenServer, Default)]
struct Plain;

#[handlers]
impl Plain {}

fn current() -> ServerRef<Worker> {
    ServerRef::whereis("macro_tests_supervised").expect("the worker is registered")
}

/// SUP-10 through the generated spec: a transient derived server is restarted (same
/// arguments, same name) after a crash, and not after a normal stop.
#[tokio::test]
async fn derived_child_spec_restarts_per_its_options() {
    let spec = Worker::child_spec("w".to_owned());
    assert_eq!(spec.id(), "Worker");
    assert_eq!(spec.restart_type(), Restart::Transient);
    assert_eq!(
        spec.shutdown_mode(),
        Shutdown::Timeout(Duration::from_millis(250))
    );
    let plain = Plain::child_spec();
    assert_eq!(plain.restart_type(), Restart::Permanent);

    let sup = Supervisor::start_link([spec, plain], SupFlags::one_for_one())
        .await
        .unwrap();
    let first = current();
    assert_eq!(first.label().await.as_deref(), Ok("w"));

    // A crash: restarted, with the same argument, under the same name.
    let crashed = first.wait_exit();
    first.crash().unwrap();
    assert!(matches!(crashed.await, ExitReason::Panic(_)));
    let second = loop {
        match ServerRef::<Worker>::whereis("macro_tests_supervised") {
            Some(r) if r != first => break r,
            _ => tokio::task::yield_now().await,
        }
    };
    assert_eq!(second.label().await.as_deref(), Ok("w"));

    // A normal stop: a transient child is not restarted, its spec stays.
    let stopped = second.wait_exit();
    second.finish().unwrap();
    assert_eq!(stopped.await, ExitReason::Normal);
    let children = sup.which_children().await.unwrap();
    let worker = children.iter().find(|c| c.id == "Worker").unwrap();
    assert!(
        matches!(worker.status, ChildStatus::NotRunning),
        "{worker:?}"
    );
    sup.stop().await.unwrap();
}
