//! The `stage_pipeline` example, run as a user runs it: its 1000 events go through the
//! pipeline, its stages stop in a cascade, its summary finds each event handled exactly once,
//! and it exits with status 0. Nothing here depends on timings: the table's figures vary.

mod common;

use common::{Run, run_example};

#[test]
fn the_pipeline_handles_each_event_once_and_stops_in_a_cascade() {
    let Run {
        status,
        stdout,
        stderr,
    } = run_example("stage_pipeline");
    let context = format!("exit {status:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(status.success(), "{context}");
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
