// `remote` is a flag: it takes no value.
use otp::prelude::*;

#[derive(GenServer, Default)]
#[gen_server(remote = true)]
struct Counter;

#[handlers]
impl Counter {}

fn main() {}
