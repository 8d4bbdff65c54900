// A call argument whose type is not `Send`: it cannot be sent to the server.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Counter {
    count: u64,
}

#[handlers]
impl Counter {
    #[call]
    fn add(&mut self, by: std::rc::Rc<u8>) -> u64 {
        self.count += u64::from(*by);
        self.count
    }
}

fn main() {}
