// A handler taking the context twice.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(&self, ctx: &mut Context<Self>, again: &mut Context<Self>) -> u64 {
        let _ = (ctx, again);
        self.count
    }
}

fn main() {}
