// A handler named `start`, which the generated start functions already use.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
    running: bool,
}

#[handlers]
impl Counter {
    #[cast]
    fn start(&mut self) {
        self.running = true;
        self.count = 0;
    }
}

fn main() {}
