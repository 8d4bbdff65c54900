// `#[handlers]` on a trait impl instead of the server's inherent impl.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

trait Get {
    fn get(&self) -> u64;
}

#[handlers]
impl Get for Counter {
    #[call]
    fn get(&self) -> u64 {
        self.count
    }
}

fn main() {}
