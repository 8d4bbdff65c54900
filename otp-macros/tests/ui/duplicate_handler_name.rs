// Two handlers with the same name.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(&self) -> u64 {
        self.count
    }

    #[cast]
    fn get(&mut self, by: u64) {
        self.count += by;
    }
}

fn main() {}
