// A handler named `stop`: its client method would be hidden by `ServerRef::stop`.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[cast]
    fn stop(&mut self) {
        self.count = 0;
    }
}

fn main() {}
