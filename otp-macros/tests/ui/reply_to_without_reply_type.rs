// A `ReplyTo<Self>` that does not name the type of the reply.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get_later(&mut self, reply: ReplyTo<Self>) {
        let _ = reply;
    }
}

fn main() {}
