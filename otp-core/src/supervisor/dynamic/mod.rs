//! [`DynamicSupervisor`]: a supervisor of children started at run time, each known by its pid —
//! its options, its process, and the handle to it, as for the static
//! [`Supervisor`](super::Supervisor).

mod handle;
mod options;
mod server;

pub use self::handle::{DynamicSupervisor, DynamicSupervisorRef};
pub use self::options::DynamicOptions;
