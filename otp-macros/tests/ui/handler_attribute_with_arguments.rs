// A handler attribute with arguments: `#[call(foo)]`.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call(foo)]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
