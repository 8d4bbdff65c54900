// A `#[gen_server(remote)]` server whose call takes an argument that is not serde: it cannot
// cross nodes, and the error points at the argument.
use otp::prelude::*;

struct Secret(u64);

#[derive(GenServer, Default)]
#[gen_server(remote)]
struct Vault {
    total: u64,
}

#[handlers]
impl Vault {
    #[call]
    fn open(&mut self, with: Secret) -> u64 {
        self.total += with.0;
        self.total
    }
}

fn main() {}
