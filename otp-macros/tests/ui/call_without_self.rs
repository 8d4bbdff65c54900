// A `#[call]` on a fn that takes no `self`.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn answer() -> u64 {
        42
    }
}

fn main() {}
