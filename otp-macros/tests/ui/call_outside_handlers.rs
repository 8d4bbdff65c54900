// A `#[call]` on a free fn, outside any `#[handlers]` block.
use otp::prelude::*;

#[call]
fn get() -> u64 {
    42
}

fn main() {
    let _ = get();
}
