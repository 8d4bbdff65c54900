// A generic handler fn: its message has no single type.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[cast]
    fn add<T: Into<u64>>(&mut self, by: T) {
        self.count += by.into();
    }
}

fn main() {}
