// An option value of the wrong type: `call_timeout` takes milliseconds or "infinity".
use otp::prelude::*;

#[derive(GenServer, Default)]
#[gen_server(call_timeout = "soon")]
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
