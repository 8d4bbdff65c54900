// An `#[info]` handler taking two messages.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[info]
    fn on_add(&mut self, by: u64, times: u32) {
        self.count += by * u64::from(times);
    }
}

fn main() {}
