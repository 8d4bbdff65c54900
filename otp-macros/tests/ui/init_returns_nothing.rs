// An `#[init]` that returns nothing instead of the server.
use otp::prelude::*;

#[derive(GenServer)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[init]
    fn init(start: u64) {
        let _ = start;
    }

    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
