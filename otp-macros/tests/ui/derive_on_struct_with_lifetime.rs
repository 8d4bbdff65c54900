// `#[derive(GenServer)]` on a struct with a lifetime parameter: a server cannot borrow.
use otp::prelude::*;

#[derive(GenServer)]
struct Greeter<'a> {
    greeting: &'a str,
}

fn main() {}
