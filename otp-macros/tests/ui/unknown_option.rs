// An unknown `#[gen_server(...)]` option.
use otp::prelude::*;

#[derive(GenServer, Default)]
#[gen_server(timeout = 500)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
