// Two `#[info]` handlers for the same type: the second would never run.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[info]
    fn on_add(&mut self, by: u64) {
        self.count += by;
    }

    #[info]
    fn on_sub(&mut self, by: u64) {
        self.count -= by;
    }
}

fn main() {}
