// A `#[call]` returning `CallResult<Self>` instead of its reply.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(&self) -> CallResult<Self> {
        CallResult::Reply(CounterReply::Get(self.count))
    }
}

fn main() {}
