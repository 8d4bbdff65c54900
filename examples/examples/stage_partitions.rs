//! A partitioned fan-out: each user's payments go to one ledger, and arrive there in order.
//!
//! ```text
//!                          ┌──▶ ledger 0   users 4, 8
//! payments ── partition ───┼──▶ ledger 1   users 1, 5
//! producer    user_id % 4  ├──▶ ledger 2   users 2, 6
//!                          └──▶ ledger 3   users 3, 7
//! ```
//!
//! The producer makes payments `(user_id, amount)` of 8 users, in an arbitrary mix, and numbers
//! each user's payments 0, 1, 2, ... Its dispatcher is `Dispatch::partition(4, hash)`, the hash
//! being `user_id % 4`: each payment goes to the one consumer of its partition, and a partition
//! keeps its events in the order they were emitted, so a ledger sees all of its users' payments,
//! in order, and no other ledger sees any of them (what a per-user balance needs). Each ledger
//! subscribes to its partition with `SubscribeTo::partition(p)` and prints each user it meets.
//!
//! Once the 400 payments have been handled, a summary checks, user by user, that one ledger got
//! them all, the one of the user's partition, in order, with the amounts the producer made.
//!
//! The producer makes payments only when asked.
//!
//! ```sh
//! cargo run -p otp-examples --example stage_partitions
//! ```

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use otp::process::{ExitReason, wait_exit};
use otp::stage::{
    Dispatch, Emit, Nothing, ProducerOptions, Stage, StageCallResult, StageContext, StageInit,
    StageRef, SubscribeOptions, SubscribeTo, Subscription,
};

/// How many payments the producer makes.
const TOTAL: usize = 400;
/// How many users pay: 1 to 8.
const USERS: u64 = 8;
/// How many partitions, and ledgers.
const PARTITIONS: usize = 4;
/// The run is a failure if the payments have not all been handled by then.
const DEADLINE: Duration = Duration::from_secs(30);

/// A payment: the user's `seq`-th (from 0).
#[derive(Clone, Copy, Debug)]
struct Payment {
    user: u64,
    seq: u64,
    amount: u64,
}

/// The partition of a user's payments: the partition dispatcher's hash.
fn partition(user: u64) -> usize {
    (user % PARTITIONS as u64) as usize
}

/// Per user: the payments' sequence numbers, and their amounts' sum.
type Accounts = BTreeMap<u64, (Vec<u64>, u64)>;

/// How many payments `accounts` hold.
fn count(accounts: &Accounts) -> usize {
    accounts.values().map(|(seqs, _)| seqs.len()).sum()
}

/// The producer: [`TOTAL`] payments of users picked by a pseudo-random generator.
#[derive(Default)]
struct Payments {
    /// The generator's state.
    random: u64,
    /// What it made, per user: its reply to a call.
    accounts: Accounts,
}

impl Payments {
    /// The next `n` payments (fewer once it has made [`TOTAL`]).
    fn make(&mut self, n: usize) -> Vec<Payment> {
        let n = n.min(TOTAL - count(&self.accounts));
        let mut payments = Vec::with_capacity(n);
        for _ in 0..n {
            // A linear congruential generator: the same mix of users on every run.
            self.random = self
                .random
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1);
            let r = self.random >> 33;
            let (user, amount) = (1 + r % USERS, 1 + (r / USERS) % 100);
            let (seqs, sum) = self.accounts.entry(user).or_default();
            let seq = seqs.len() as u64;
            seqs.push(seq);
            *sum += amount;
            payments.push(Payment { user, seq, amount });
        }
        payments
    }
}

impl Stage for Payments {
    type Args = ();
    type In = Nothing;
    type Out = Payment;
    type Call = ();
    type Reply = Accounts;
    type Cast = ();

    async fn init((): (), _: &mut StageContext<Self>) -> StageInit<Self> {
        let hash = |p: &Payment| Some(partition(p.user));
        let options = ProducerOptions::producer().dispatcher(Dispatch::partition(PARTITIONS, hash));
        StageInit::Producer(Payments::default(), options)
    }

    async fn handle_demand(&mut self, demand: usize, _: &mut StageContext<Self>) -> Emit<Payment> {
        Emit::Events(self.make(demand))
    }

    async fn handle_call(&mut self, (): (), _: &mut StageContext<Self>) -> StageCallResult<Self> {
        StageCallResult::Reply(self.accounts.clone(), Vec::new())
    }
}

/// A consumer of one partition: the accounts of the users it sees.
struct Ledger {
    partition: usize,
    accounts: Accounts,
}

impl Stage for Ledger {
    type Args = (usize, StageRef<Payments>);
    type In = Payment;
    type Out = Nothing;
    type Call = ();
    type Reply = Accounts;
    type Cast = ();

    async fn init(args: Self::Args, _: &mut StageContext<Self>) -> StageInit<Self> {
        let (partition, payments) = args;
        let options = SubscribeOptions::new().max_demand(10);
        let to = SubscribeTo::new(&payments, options).partition(partition);
        let accounts = Accounts::new();
        StageInit::Consumer(
            Ledger {
                partition,
                accounts,
            },
            vec![to],
        )
    }

    async fn handle_events(
        &mut self,
        payments: Vec<Payment>,
        _: &Subscription<Payment>,
        _: &mut StageContext<Self>,
    ) -> Emit<Nothing> {
        for Payment { user, seq, amount } in payments {
            let (seqs, sum) = self.accounts.entry(user).or_insert_with(|| {
                println!(
                    "    [ledger {}] sees user {user} (payment {seq})",
                    self.partition
                );
                Default::default()
            });
            seqs.push(seq);
            *sum += amount;
        }
        Emit::none()
    }

    async fn handle_call(&mut self, (): (), _: &mut StageContext<Self>) -> StageCallResult<Self> {
        StageCallResult::Reply(self.accounts.clone(), Vec::new())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    otp_examples::log_to_stderr();
    if let Err(e) = run().await {
        eprintln!("The fan-out failed: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("Stage partitions: {TOTAL} payments of {USERS} users, {PARTITIONS} ledgers.\n");
    let payments = StageRef::<Payments>::start(()).await?;
    let mut ledgers = Vec::new();
    for p in 0..PARTITIONS {
        ledgers.push(StageRef::<Ledger>::start((p, payments.clone())).await?);
    }

    // Until the ledgers have handled every payment: each is asked for its accounts.
    let started = Instant::now();
    let books = loop {
        let mut books = Vec::new();
        for ledger in &ledgers {
            books.push(ledger.call(()).await?);
        }
        let handled: usize = books.iter().map(count).sum();
        if handled >= TOTAL {
            break books;
        }
        if started.elapsed() > DEADLINE {
            return Err(format!("only {handled} of {TOTAL} payments handled").into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let made = payments.call(()).await?;

    // The ledgers' subscriptions are permanent: when the producer stops, they stop too.
    println!("\nAll payments handled: the producer stops, and its ledgers follow it.");
    let exits = join_all(ledgers.iter().map(|l| wait_exit(l.pid())));
    payments.stop(ExitReason::Normal).await?;
    exits.await;

    println!("\nSummary, user by user:");
    let mut all_good = books.iter().map(count).sum::<usize>() == TOTAL;
    for (user, account) in &made {
        // The ledgers that saw this user: exactly one, the one of its partition, with the
        // payments as made.
        let owners: Vec<usize> = (0..PARTITIONS)
            .filter(|&p| books[p].contains_key(user))
            .collect();
        let p = partition(*user);
        let good = owners == [p] && books[p][user] == *account;
        all_good &= good;
        let verdict = if good {
            "all of them, in order"
        } else {
            "NOT as made"
        };
        let (n, sum) = (account.0.len(), account.1);
        println!(
            "  user {user}: {n} payments worth {sum}, seen by ledger(s) {owners:?}: {verdict}"
        );
    }
    if !all_good {
        return Err("the ledgers do not hold the payments as made".into());
    }
    println!(
        "All {TOTAL} payments delivered: each user's to exactly one ledger, in the order they \
         were made."
    );
    Ok(())
}
