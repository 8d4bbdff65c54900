// A handler taking `self` by value, which would consume the server.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(self) -> u64 {
        self.count
    }
}

fn main() {}
