// A call argument that is borrowed (`&str`): messages are moved to the server.
use otp::prelude::*;

#[derive(GenServer, Default)]
struct Names {
    names: Vec<String>,
}

#[handlers]
impl Names {
    #[call]
    fn add(&mut self, name: &str) -> usize {
        self.names.push(name.to_owned());
        self.names.len()
    }
}

fn main() {}
