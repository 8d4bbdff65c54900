// `mailbox = 0`: a mailbox that holds no message.
use otp::prelude::*;

#[derive(GenServer, Default)]
#[gen_server(mailbox = 0)]
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
