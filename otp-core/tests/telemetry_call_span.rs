//! The GenServer call span (`otp_core::telemetry::set_call_spans`), TM-05 applied to calls:
//! off by default; when on, start and stop around every call with the result, and the
//! exception event with kind `cancelled` for a call dropped before its reply. One test,
//! because the switch is global.

use std::time::Duration;

use otp_core::gen_server::{CallError, GenServer, ServerRef, handlers};
use otp_core::name::register;
use otp_core::process::ExitReason;
use otp_core::telemetry::{GEN_SERVER_CALL, call_spans, set_call_spans};
use otp_telemetry::testing::{EventCapture, attach_event_handlers};
use otp_telemetry::{OwnedEvent, OwnedValue, PidValue, SPAN_CONTEXT_KEY};

#[derive(GenServer, Default)]
struct Echo;

#[handlers]
impl Echo {
    #[call]
    fn echo(&mut self, n: u32) -> u32 {
        n
    }

    /// Answers after `ms` milliseconds.
    #[call]
    async fn nap(&mut self, ms: u64) -> u32 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        0
    }
}

fn events(capture: &EventCapture, server: &ServerRef<Echo>) -> Vec<OwnedEvent> {
    let me = OwnedValue::Pid(PidValue::from(server.pid()));
    capture
        .drain()
        .into_iter()
        .filter(|e| e.meta("server") == Some(&me))
        .collect()
}

fn last(event: &OwnedEvent) -> &str {
    event.name.segments().last().unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn tm05_call_span_off_by_default_then_start_stop_result_and_cancelled() {
    let start = [GEN_SERVER_CALL, &["start"]].concat();
    let stop = [GEN_SERVER_CALL, &["stop"]].concat();
    let exception = [GEN_SERVER_CALL, &["exception"]].concat();
    let capture = attach_event_handlers(&[&start, &stop, &exception]).unwrap();
    let server = Echo::start().await.unwrap();
    register("telemetry_call_span_echo", server.pid()).unwrap();

    // Off by default: no event.
    assert!(!call_spans());
    assert_eq!(server.echo(1).await, Ok(1));
    assert!(events(&capture, &server).is_empty());

    set_call_spans(true);
    assert_eq!(server.echo(2).await, Ok(2));
    let ok = events(&capture, &server);
    assert_eq!(ok.iter().map(last).collect::<Vec<_>>(), ["start", "stop"]);
    let (begin, end) = (&ok[0], &ok[1]);
    assert!(begin.measurement("monotonic_time").is_some());
    assert!(begin.measurement("system_time").is_some());
    assert!(end.measurement("duration").is_some_and(|d| d >= 0.0));
    assert_eq!(begin.meta(SPAN_CONTEXT_KEY), end.meta(SPAN_CONTEXT_KEY));
    for event in [begin, end] {
        assert!(
            event
                .meta("server_type")
                .unwrap()
                .to_string()
                .ends_with("Echo")
        );
        assert_eq!(
            event
                .meta("server_name")
                .map(ToString::to_string)
                .as_deref(),
            Some("telemetry_call_span_echo")
        );
    }
    assert_eq!(
        end.meta("result").map(ToString::to_string).as_deref(),
        Some("ok")
    );

    // A timeout (the paused clock runs ahead) ends the span with the error's kind.
    let timed_out = server
        .with_timeout(Duration::from_millis(50))
        .nap(1_000)
        .await;
    assert_eq!(timed_out, Err(CallError::Timeout));
    let late = events(&capture, &server);
    assert_eq!(late.iter().map(last).collect::<Vec<_>>(), ["start", "stop"]);
    assert_eq!(
        late[1].meta("result").map(ToString::to_string).as_deref(),
        Some("timeout")
    );

    // A call dropped before its reply: the exception event, kind `cancelled`.
    let dropped = tokio::time::timeout(Duration::from_millis(10), server.nap(1_000)).await;
    assert!(dropped.is_err());
    let cancelled = events(&capture, &server);
    assert_eq!(
        cancelled.iter().map(last).collect::<Vec<_>>(),
        ["start", "exception"]
    );
    assert_eq!(
        cancelled[1]
            .meta("kind")
            .map(ToString::to_string)
            .as_deref(),
        Some("cancelled")
    );

    // A dead server: the span ends with `noproc`.
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(server.echo(3).await, Err(CallError::NoProc));
    let dead = events(&capture, &server);
    assert_eq!(dead.iter().map(last).collect::<Vec<_>>(), ["start", "stop"]);
    assert_eq!(
        dead[1].meta("result").map(ToString::to_string).as_deref(),
        Some("noproc")
    );

    set_call_spans(false);
}
