//! Typed servers across nodes: the calls and casts of a `ServerRef` to a server of another node
//! go over otp-dist, with the semantics of a local call (GS-06: a reply or an error, never a
//! hang; a lost connection is an error at once, not at the timeout).

mod common;

use std::time::Duration;

use common::{exit_of, on, pair, run_on, spawn_on, within};
use otp_core::gen_server::{
    Action, CallError, CallResult, Context, GenServer, Init, RefError, RemoteServer, ServerRef,
    Wire,
};
use otp_core::node::Node;
use otp_core::process::ExitReason;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// A counter, addressable from other nodes.
struct Counter {
    n: u64,
    /// Told when `terminate` runs.
    terminated: Option<mpsc::UnboundedSender<ExitReason>>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Ask {
    Get,
    /// Answers after this many milliseconds (the handler awaits).
    Slow(u64),
    Crash,
}

impl GenServer for Counter {
    type Args = Option<mpsc::UnboundedSender<ExitReason>>;
    type Call = Ask;
    type Reply = u64;
    type Cast = u64;
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init(terminated: Self::Args, _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Counter { n: 0, terminated })
    }

    async fn handle_call(&mut self, ask: Ask, _ctx: &mut Context<Self>) -> CallResult<Self> {
        match ask {
            Ask::Get => CallResult::Reply(self.n),
            Ask::Slow(ms) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                CallResult::Reply(self.n)
            }
            Ask::Crash => panic!("asked to crash"),
        }
    }

    async fn handle_cast(&mut self, by: u64, _ctx: &mut Context<Self>) -> Action<Self> {
        self.n += by;
        Action::NoReply
    }

    async fn terminate(&mut self, reason: &ExitReason, _ctx: &mut Context<Self>) {
        if let Some(tx) = &self.terminated {
            let _ = tx.send(reason.clone());
        }
    }
}

impl RemoteServer for Counter {}

/// A server of another type under the same name, and one without a wire form.
struct Other;

impl GenServer for Other {
    type Args = ();
    type Call = String;
    type Reply = String;
    type Cast = ();
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init((): (), _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Other)
    }
    async fn handle_call(&mut self, s: String, _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(s)
    }
}

impl RemoteServer for Other {}

/// Starts a counter on `node`, registered as "counter".
async fn counter_on(
    node: Node,
    terminated: Option<mpsc::UnboundedSender<ExitReason>>,
) -> ServerRef<Counter> {
    run_on(node, async move {
        let counter = Counter::start(terminated)
            .await
            .expect("the counter starts");
        otp_core::name::register("counter", counter.pid()).unwrap();
        counter
    })
    .await
}

/// Resolves the counter of `node_name` from `node`.
async fn remote_counter(node: Node, node_name: &str) -> Result<ServerRef<Counter>, RefError> {
    let node_name = node_name.to_owned();
    run_on(node, async move {
        ServerRef::<Counter>::remote("counter", &node_name).await
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn calls_and_casts_cross_nodes_with_typed_replies() {
    let (a, b) = pair().await;
    let local = counter_on(b.node(), None).await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    assert!(counter.is_remote());
    assert_eq!(counter.pid(), local.pid());
    // Casts then a call from one caller, a process of a: in order (P-01).
    let seen = run_on(a.node(), async move {
        for by in [1, 2, 3] {
            counter.cast(by).unwrap();
        }
        counter.call(Ask::Get).await
    })
    .await;
    assert_eq!(seen, Ok(6));
    assert_eq!(local.call(Ask::Get).await, Ok(6));
}

#[tokio::test(start_paused = true)]
async fn gs06_a_call_times_out_across_nodes_and_the_server_goes_on() {
    let (a, b) = pair().await;
    counter_on(b.node(), None).await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    let (slow, after) = run_on(a.node(), async move {
        let slow = counter
            .call_timeout(Ask::Slow(2_000), Duration::from_millis(500))
            .await;
        // The server is busy with the slow call for 1.5 s more, then answers (the late reply
        // to the timed-out call is dropped).
        (
            slow,
            counter
                .call_timeout(Ask::Get, Duration::from_secs(30))
                .await,
        )
    })
    .await;
    assert_eq!(slow, Err(CallError::Timeout));
    assert_eq!(after, Ok(0));
}

#[tokio::test(start_paused = true)]
async fn a_call_in_flight_when_the_connection_is_lost_returns_noconnection_at_once() {
    let (a, b) = pair().await;
    counter_on(b.node(), None).await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    let started = tokio::time::Instant::now();
    let a_node = a.node();
    let call = tokio::spawn(run_on(a_node, async move {
        counter
            .call_timeout(Ask::Slow(60_000), Duration::from_secs(30))
            .await
    }));
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.disconnect(b.name());
    let answer = within(call).await.unwrap();
    assert_eq!(answer, Err(CallError::Exited(ExitReason::NoConnection)));
    // Paused clock: the call returned with the disconnect, long before its timeout.
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn a_server_that_crashes_during_a_remote_call_is_an_exit_error() {
    let (a, b) = pair().await;
    counter_on(b.node(), None).await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    let (crashed, after) = run_on(a.node(), async move {
        (counter.call(Ask::Crash).await, counter.call(Ask::Get).await)
    })
    .await;
    match crashed {
        Err(CallError::Exited(ExitReason::Panic(why))) => assert!(why.contains("asked to crash")),
        other => panic!("{other:?}"),
    }
    // And a call to it now: no such process.
    assert_eq!(after, Err(CallError::NoProc));
}

#[tokio::test(start_paused = true)]
async fn lookups_of_a_missing_name_or_another_type_are_typed_errors() {
    let (a, b) = pair().await;
    let missing = remote_counter(a.node(), b.name()).await;
    assert!(
        matches!(missing, Err(RefError::NotRegistered { .. })),
        "{missing:?}"
    );
    let other = run_on(b.node(), async {
        let other = Other::start(()).await.unwrap();
        otp_core::name::register("counter", other.pid()).unwrap();
        other
    })
    .await;
    let wrong = remote_counter(a.node(), b.name()).await;
    assert!(
        matches!(wrong, Err(RefError::WrongRemoteType { .. })),
        "{wrong:?}"
    );
    // Addressed by pid without the check: the request does not decode there — a typed error
    // to the caller, and the server goes on.
    let unchecked = on(a.node(), || {
        ServerRef::<Counter>::from_remote_pid(other.pid())
    });
    match run_on(a.node(), async move { unchecked.call(Ask::Get).await }).await {
        Err(CallError::Decode(_)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        other.call("still here".into()).await.as_deref(),
        Ok("still here")
    );
}

#[tokio::test(start_paused = true)]
async fn a_plain_process_cannot_be_called_from_another_node() {
    let (a, b) = pair().await;
    let plain = spawn_on(b.node(), |mut me| async move {
        me.recv().await;
    });
    let as_counter = on(a.node(), || ServerRef::<Counter>::from_remote_pid(plain));
    let answer = run_on(a.node(), async move { as_counter.call(Ask::Get).await }).await;
    assert!(matches!(answer, Err(CallError::NotRemote(_))), "{answer:?}");
}

#[tokio::test(start_paused = true)]
async fn a_remote_stop_runs_terminate_and_returns_once_the_server_exited() {
    let (a, b) = pair().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let local = counter_on(b.node(), Some(tx)).await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    run_on(
        a.node(),
        async move { counter.stop(ExitReason::Shutdown).await },
    )
    .await
    .unwrap();
    assert_eq!(rx.try_recv(), Ok(ExitReason::Shutdown));
    assert_eq!(exit_of(b.node(), local.pid()).await, ExitReason::NoProc);
    assert!(!local.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_call_to_a_node_that_is_not_connected_connects_on_demand() {
    let net = otp_dist::transport::Memory::new();
    let a = common::node(&net, "a").await;
    let b = common::node(&net, "b").await;
    counter_on(b.node(), None).await;
    assert!(a.nodes().is_empty());
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    let answer = run_on(a.node(), async move { counter.call(Ask::Get).await }).await;
    assert_eq!(answer, Ok(0));
    // A node nobody listens on: a typed error, not a hang.
    let nowhere = run_on(
        a.node(),
        ServerRef::<Counter>::remote("counter", "ghost@mem:999"),
    )
    .await;
    assert!(matches!(nowhere, Err(RefError::Remote(_))), "{nowhere:?}");
}

mod derived {
    //! A `#[derive(GenServer)]` server with `#[gen_server(remote)]`: its generated client works
    //! unchanged on a `ServerRef` to it on another node.
    use otp_core::gen_server::{GenServer, ReplyTo, ServerRef, handlers};

    use super::common::{pair, run_on};

    #[derive(GenServer)]
    #[gen_server(remote)]
    pub struct Tally {
        total: i64,
        waiting: Vec<ReplyTo<Self, i64>>,
    }

    #[handlers]
    impl Tally {
        #[init]
        fn init(start: i64) -> Self {
            Tally {
                total: start,
                waiting: Vec::new(),
            }
        }

        #[call]
        fn total(&self) -> i64 {
            self.total
        }

        #[cast]
        fn add(&mut self, by: i64) {
            self.total += by;
            for waiting in self.waiting.drain(..) {
                waiting.reply(self.total);
            }
        }

        /// Answers at the next `add` (a deferred reply, across nodes).
        #[call]
        fn next(&mut self, reply: ReplyTo<Self, i64>) {
            self.waiting.push(reply);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_generated_client_works_on_a_server_of_another_node() {
        let (a, b) = pair().await;
        run_on(b.node(), async {
            let tally = Tally::start(10).await.unwrap();
            otp_core::name::register("tally", tally.pid()).unwrap();
        })
        .await;
        let b_name = b.name().to_owned();
        let a_node = a.node();
        let (first, next, last) = run_on(a_node, async move {
            let tally = ServerRef::<Tally>::remote("tally", &b_name).await.unwrap();
            tally.add(5).unwrap();
            let first = tally.total().await.unwrap();
            let waiter = tally.clone();
            // Another process of a waits for the next total.
            let next = tokio::spawn(run_on(a_node, async move { waiter.next().await }));
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            tally.add(1).unwrap();
            (
                first,
                next.await.unwrap().unwrap(),
                tally.total().await.unwrap(),
            )
        })
        .await;
        assert_eq!((first, next, last), (15, 16, 16));
    }
}

#[tokio::test(start_paused = true)]
async fn a_remote_reference_works_from_code_outside_any_node() {
    // Made on node a, used from the test's own task, which runs on no distributed node: the
    // calls go through a, where the reference was made.
    let (a, b) = pair().await;
    counter_on(b.node(), None).await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    counter.cast(2).unwrap();
    assert_eq!(within(counter.call(Ask::Get)).await, Ok(2));
    assert!(counter.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_remote_call_dropped_by_a_full_mailbox_is_refused_at_once() {
    use otp_core::gen_server::StartOptions;
    use otp_core::process::{MailboxBound, Overflow};
    let (a, b) = pair().await;
    // One message of room, the oldest dropped to make room for a newer one.
    run_on(b.node(), async {
        let bound = MailboxBound::new(std::num::NonZeroUsize::MIN, Overflow::DropOldest);
        let counter = Counter::start_with(None, StartOptions::new().mailbox(bound))
            .await
            .unwrap();
        otp_core::name::register("counter", counter.pid()).unwrap();
    })
    .await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    let a_node = a.node();
    let call = |ask: Ask| {
        let counter = counter.clone();
        tokio::spawn(run_on(a_node, async move {
            counter.call_timeout(ask, Duration::from_secs(30)).await
        }))
    };
    // The server is busy with a slow call; a second waits in the mailbox; a third pushes it
    // out: its caller is told at once, as a local caller would be.
    let slow = call(Ask::Slow(5_000));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pushed_out = call(Ask::Get);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = tokio::time::Instant::now();
    let last = call(Ask::Get);
    assert_eq!(
        within(pushed_out).await.unwrap(),
        Err(CallError::MailboxFull)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused before the slow call ended"
    );
    assert_eq!(within(slow).await.unwrap(), Ok(0));
    assert_eq!(within(last).await.unwrap(), Ok(0));
}

/// A server that records every cast, in the order it handles them.
struct Recorder(Vec<u64>);

impl GenServer for Recorder {
    type Args = ();
    type Call = ();
    type Reply = Vec<u64>;
    type Cast = u64;
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init((): (), _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Recorder(Vec::new()))
    }
    async fn handle_call(&mut self, (): (), _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(std::mem::take(&mut self.0))
    }
    async fn handle_cast(&mut self, n: u64, _ctx: &mut Context<Self>) -> Action<Self> {
        self.0.push(n);
        Action::NoReply
    }
}

impl RemoteServer for Recorder {}

/// The casts a connection's reader hands to one process together (the runs of casts to one
/// pid that one read brings) arrive whole and in order (P-01), runs to two servers interleaved,
/// with casts that do not decode among them refused one by one, and a call after them sees
/// them all.
#[tokio::test(start_paused = true)]
async fn casts_in_runs_to_several_servers_arrive_whole_and_in_order() {
    let (a, b) = pair().await;
    let (one, two, other) = run_on(b.node(), async {
        (
            Recorder::start(()).await.unwrap().pid(),
            Recorder::start(()).await.unwrap().pid(),
            Other::start(()).await.unwrap().pid(),
        )
    })
    .await;
    let seen = run_on(a.node(), async move {
        let one = ServerRef::<Recorder>::from_remote_pid(one);
        let two = ServerRef::<Recorder>::from_remote_pid(two);
        // `Other`'s cast is `()`: a number does not decode as one.
        let wrong = ServerRef::<Recorder>::from_remote_pid(other);
        let (mut next_one, mut next_two) = (0, 0);
        for round in 0..20 {
            for _ in 0..300 {
                one.cast(next_one).unwrap();
                next_one += 1;
            }
            if round % 5 == 0 {
                wrong.cast(round).unwrap();
            }
            for _ in 0..100 {
                two.cast(next_two).unwrap();
                next_two += 1;
            }
            tokio::task::yield_now().await;
        }
        (one.call(()).await, two.call(()).await, wrong.cast(0))
    })
    .await;
    assert_eq!(seen.0, Ok((0..6_000).collect::<Vec<u64>>()));
    assert_eq!(seen.1, Ok((0..2_000).collect::<Vec<u64>>()));
    assert!(
        seen.2.is_ok(),
        "a cast that does not decode is refused there, not here"
    );
    // The refused casts did not end the connection.
    assert_eq!(a.nodes(), vec![b.name().to_owned()]);
}

/// A bounded mailbox meets each cast of a run as it comes, as it would a lone cast: while the
/// server is busy, a run of 100 casts fills its 5 places and the rest are dropped (policy
/// `DropNewest`).
#[tokio::test(start_paused = true)]
async fn a_bounded_mailbox_takes_a_run_of_casts_one_by_one() {
    use otp_core::gen_server::StartOptions;
    use otp_core::process::{MailboxBound, Overflow};
    let (a, b) = pair().await;
    let local = run_on(b.node(), async {
        let bound = MailboxBound::new(
            std::num::NonZeroUsize::new(5).unwrap(),
            Overflow::DropNewest,
        );
        let counter = Counter::start_with(None, StartOptions::new().mailbox(bound))
            .await
            .unwrap();
        otp_core::name::register("counter", counter.pid()).unwrap();
        counter
    })
    .await;
    let counter = remote_counter(a.node(), b.name()).await.unwrap();
    let slow = {
        let counter = counter.clone();
        tokio::spawn(run_on(a.node(), async move {
            counter
                .call_timeout(Ask::Slow(1_000), Duration::from_secs(30))
                .await
        }))
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    run_on(a.node(), async move {
        for _ in 0..100 {
            counter.cast(1).unwrap();
        }
    })
    .await;
    assert_eq!(within(slow).await.unwrap(), Ok(0));
    assert_eq!(local.call(Ask::Get).await, Ok(5));
}

/// A server whose receive times out after each cast, and whose first timeout code waits until
/// let go; its calls answer how many casts it handled.
struct Napper {
    entered: Option<mpsc::UnboundedSender<()>>,
    wake: std::sync::Arc<tokio::sync::Notify>,
    casts: u64,
}

impl GenServer for Napper {
    type Args = (
        mpsc::UnboundedSender<()>,
        std::sync::Arc<tokio::sync::Notify>,
    );
    type Call = ();
    type Reply = u64;
    type Cast = u64;
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init((entered, wake): Self::Args, _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Napper {
            entered: Some(entered),
            wake,
            casts: 0,
        })
    }
    async fn handle_call(&mut self, (): (), _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(self.casts)
    }
    async fn handle_cast(&mut self, _: u64, _ctx: &mut Context<Self>) -> Action<Self> {
        self.casts += 1;
        Action::Timeout(Duration::from_millis(1))
    }
    async fn handle_info(
        &mut self,
        info: otp_core::process::Info,
        _ctx: &mut Context<Self>,
    ) -> Action<Self> {
        if matches!(info, otp_core::process::Info::Timeout)
            && let Some(entered) = self.entered.take()
        {
            let _ = entered.send(());
            self.wake.notified().await;
        }
        Action::NoReply
    }
}

impl RemoteServer for Napper {}

/// A server running its timeout code (after `Action::Timeout`) does not hold up the
/// connection its casts come over: casts to it wait in its mailbox, and the casts and the call
/// to another server behind them on the same connection go through meanwhile.
#[tokio::test(start_paused = true)]
async fn a_server_in_its_timeout_code_does_not_hold_up_the_connection() {
    let (a, b) = pair().await;
    let (entered, mut entering) = mpsc::unbounded_channel();
    let wake = std::sync::Arc::new(tokio::sync::Notify::new());
    let (napper, recorder) = run_on(b.node(), {
        let wake = wake.clone();
        async move {
            (
                Napper::start((entered, wake)).await.unwrap().pid(),
                Recorder::start(()).await.unwrap().pid(),
            )
        }
    })
    .await;
    run_on(a.node(), async move {
        ServerRef::<Napper>::from_remote_pid(napper)
            .cast(0)
            .unwrap();
    })
    .await;
    within(entering.recv()).await.unwrap();
    let seen = run_on(a.node(), async move {
        let (napper, recorder) = (
            ServerRef::<Napper>::from_remote_pid(napper),
            ServerRef::<Recorder>::from_remote_pid(recorder),
        );
        // One batch on the wire: the napper's casts after another's, as a run of their own.
        recorder.cast(0).unwrap();
        for n in 1..=10 {
            napper.cast(n).unwrap();
        }
        for n in 1..10 {
            recorder.cast(n).unwrap();
        }
        recorder.call(()).await
    })
    .await;
    assert_eq!(seen, Ok((0..10).collect::<Vec<u64>>()));
    wake.notify_one();
    let casts = run_on(a.node(), async move {
        ServerRef::<Napper>::from_remote_pid(napper).call(()).await
    })
    .await;
    assert_eq!(casts, Ok(11));
}

/// A server that records the length of every value cast to it.
struct Lengths(Vec<usize>);

impl GenServer for Lengths {
    type Args = ();
    type Call = ();
    type Reply = Vec<usize>;
    type Cast = Vec<u8>;
    type Continue = ();
    const WIRE: Option<Wire<Self>> = Some(Wire::new());

    async fn init((): (), _ctx: &mut Context<Self>) -> Init<Self> {
        Init::Ok(Lengths(Vec::new()))
    }
    async fn handle_call(&mut self, (): (), _ctx: &mut Context<Self>) -> CallResult<Self> {
        CallResult::Reply(std::mem::take(&mut self.0))
    }
    async fn handle_cast(&mut self, value: Vec<u8>, _ctx: &mut Context<Self>) -> Action<Self> {
        self.0.push(value.len());
        Action::NoReply
    }
}

impl RemoteServer for Lengths {}

/// P-01: casts to one server travel in runs (one frame for many casts, a run ended by any
/// other frame, by a value too large for one, or at its most casts), and arrive whole and in
/// order whatever ends a run: runs longer than a frame holds, a value of 100 KB among small
/// ones, casts to another server and calls between them.
#[tokio::test(start_paused = true)]
async fn p01_casts_in_run_frames_arrive_whole_and_in_order() {
    let (a, b) = pair().await;
    let (one, two) = run_on(b.node(), async {
        (
            Lengths::start(()).await.unwrap().pid(),
            Lengths::start(()).await.unwrap().pid(),
        )
    })
    .await;
    let mut sent = Vec::new();
    for round in 0..30usize {
        let count = [1, 63, 64, 65, 200][round % 5];
        for i in 0..count {
            sent.push(if i == count / 2 && round % 3 == 0 {
                100_000
            } else {
                (round * 7 + i) % 300
            });
        }
    }
    let expected = sent.clone();
    let seen = run_on(a.node(), async move {
        let one = ServerRef::<Lengths>::from_remote_pid(one);
        let two = ServerRef::<Lengths>::from_remote_pid(two);
        let mut seen = Vec::new();
        for (i, len) in sent.into_iter().enumerate() {
            // Waiting for room when the 100 KB values fill the queue.
            one.cast_wait(vec![7u8; len]).await.unwrap();
            if i % 97 == 0 {
                two.cast_wait(vec![1]).await.unwrap();
            }
            if i % 1000 == 999 {
                seen.extend(one.call(()).await.unwrap());
            }
        }
        seen.extend(one.call(()).await.unwrap());
        (seen, two.call(()).await.unwrap().len())
    })
    .await;
    assert_eq!(seen.0, expected);
    assert_eq!(seen.1, expected.len().div_ceil(97));
}
