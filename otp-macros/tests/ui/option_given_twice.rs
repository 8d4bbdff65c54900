// A `#[gen_server(...)]` option given twice.
use otp::prelude::*;

#[derive(GenServer, Default)]
#[gen_server(name = "counter", name = "other")]
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
