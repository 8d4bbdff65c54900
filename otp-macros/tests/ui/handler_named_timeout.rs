// A handler named `timeout`: its client method would be hidden by `WithTimeout::timeout` (on
// `counter.with_timeout(..)`).
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn timeout(&self) -> u64 {
        self.count
    }
}

fn main() {}
