// A handler returning `impl Trait`.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn get(&self) -> impl std::fmt::Display {
        self.count
    }
}

fn main() {}
