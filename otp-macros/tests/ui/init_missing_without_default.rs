// No `#[init]`, and the struct has no `Default` to start from.
use otp::prelude::*;

#[derive(GenServer)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
