// A `#[cast]` taking a `ReplyTo`: a cast has no caller to reply to.
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
    fn add(&mut self, by: u64, reply: ReplyTo<Self, u64>) {
        self.count += by;
        reply.reply(self.count);
    }
}

fn main() {}
