// A typed `#[info]` after the catch-all `Info` one: it would never run.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[info]
    fn on_any(&mut self, info: Info) {
        let _ = info;
    }

    #[info]
    fn on_add(&mut self, by: u64) {
        self.count += by;
    }
}

fn main() {}
