// A `#[cast]` that returns a value: a cast has nobody to answer.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[cast]
    fn add(&mut self, by: u64) -> u64 {
        self.count += by;
        self.count
    }
}

fn main() {}
