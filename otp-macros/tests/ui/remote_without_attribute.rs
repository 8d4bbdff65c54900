// A server without `#[gen_server(remote)]` addressed on another node: its messages have no wire
// form, so a reference to it there is a compile error that names the attribute.
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
}

async fn far_counter() {
    let _ = ServerRef::<Counter>::remote("counter", "b@host").await;
}

fn main() {
    drop(far_counter());
}
