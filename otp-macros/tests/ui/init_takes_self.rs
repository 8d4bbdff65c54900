// An `#[init]` that takes `self`: init builds the server.
use otp::prelude::*;

#[derive(GenServer)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[init]
    fn init(&mut self, start: u64) -> Self {
        Counter { count: start }
    }

    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
