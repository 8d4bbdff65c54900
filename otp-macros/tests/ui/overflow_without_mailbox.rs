// `overflow` without `mailbox`: only a bounded mailbox overflows.
use otp::prelude::*;

#[derive(GenServer, Default)]
#[gen_server(overflow = "drop_oldest")]
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
