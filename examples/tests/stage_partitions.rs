//! The `stage_partitions` example, run as a user runs it: its 400 payments fan out over four
//! partitions, each user's to exactly one ledger (the one of `user_id % 4`) and in order, and it
//! exits with status 0. Nothing here depends on timings.

mod common;

use common::{Run, run_example};

#[test]
fn each_users_payments_go_to_one_ledger_in_order() {
    let Run {
        status,
        stdout,
        stderr,
    } = run_example("stage_partitions");
    let context = format!("exit {status:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(status.success(), "{context}");
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
