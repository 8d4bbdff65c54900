// A `#[terminate]` taking a message: it takes only the exit reason and the context.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[terminate]
    fn on_exit(&mut self, last: u64) {
        self.count = last;
    }
}

fn main() {}
