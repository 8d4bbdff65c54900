// `#[derive(GenServer)]` on a union.
use otp::prelude::*;

#[derive(GenServer)]
union Bits {
    int: u64,
    float: f64,
}

fn main() {}
