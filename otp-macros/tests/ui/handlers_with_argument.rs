// `#[handlers]` given an argument: the options go on the struct.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers(name = "counter")]
impl Counter {
    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
