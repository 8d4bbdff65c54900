// An `#[info]` handler with no message to handle.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[info]
    fn on_tick(&mut self) {
        self.count += 1;
    }
}

fn main() {}
