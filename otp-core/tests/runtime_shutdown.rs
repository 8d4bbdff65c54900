//! A runtime that shuts down with processes alive (`main` returning, a test's runtime dropped)
//! ends them with reason `killed` — and that is not a crash: it is logged once, not as an error
//! per process. Alone in its test binary, as the once-per-program log line and the global log
//! subscriber would otherwise see other tests.

mod common;

use common::Logs;
use otp_core::gen_server::{GenServer, handlers};
use otp_core::process::spawn;
use otp_core::telemetry::PROCESS_EXIT;
use otp_telemetry::testing::attach_event_handlers;

#[derive(GenServer, Default)]
struct Idle;

#[handlers]
impl Idle {}

fn run_and_drop(flavor: &str, servers: usize) {
    let runtime = match flavor {
        "current_thread" => tokio::runtime::Builder::new_current_thread(),
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    }
    .enable_all()
    .build()
    .unwrap();
    runtime.block_on(async {
        for _ in 0..servers {
            Idle::start().await.unwrap();
        }
        // A plain process and a linked child, both parked on their mailboxes.
        let (running, linked) = tokio::sync::oneshot::channel();
        spawn(|mut me| async move {
            me.spawn_link(|mut child| async move {
                let _ = running.send(());
                child.recv().await;
            });
            me.recv().await;
        });
        linked.await.unwrap();
    });
    drop(runtime);
}

#[test]
fn a_runtime_shutting_down_is_logged_once_not_as_crashes() {
    let logs = Logs::default();
    logs.install_globally();
    let exits = attach_event_handlers(&[PROCESS_EXIT]).unwrap();

    run_and_drop("current_thread", 5);
    run_and_drop("multi_thread", 5);

    let ended: Vec<_> = std::iter::from_fn(|| exits.try_recv()).collect();
    assert_eq!(ended.len(), 2 * (5 + 2), "{ended:?}");
    assert!(
        ended
            .iter()
            .all(|e| e.meta("reason_kind").map(ToString::to_string).as_deref() == Some("killed")),
        "every process ends `killed`: {ended:?}"
    );
    let logs = logs.events();
    let errors: Vec<_> = logs
        .iter()
        .filter(|e| e.level <= tracing::Level::WARN)
        .collect();
    assert!(errors.is_empty(), "no error or warning: {errors:?}");
    let shutdown: Vec<_> = logs
        .iter()
        .filter(|e| e.level == tracing::Level::INFO && e.text.contains("runtime shut down"))
        .collect();
    assert_eq!(shutdown.len(), 1, "logged once: {logs:?}");
}
