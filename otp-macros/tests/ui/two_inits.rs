// Two `#[init]` handlers.
use otp::prelude::*;

#[derive(GenServer)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[init]
    fn new() -> Self {
        Counter { count: 0 }
    }

    #[init]
    fn from_count(count: u64) -> Self {
        Counter { count }
    }

    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
