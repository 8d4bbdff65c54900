// A `#[handlers]` block for a struct without `#[derive(GenServer)]`.
use otp::prelude::*;

#[derive(Default)]
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
