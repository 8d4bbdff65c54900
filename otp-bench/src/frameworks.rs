//! One implementation per framework, each in its own module: a [`Server`](crate::Server) (and a
//! [`Supervision`](crate::Supervision)) for the local workloads, a
//! [`Remote`](crate::remote::Remote) or a runner of its own for the remote ones.

pub mod actix;
pub mod beam;
pub mod kameo;
pub mod otp;
pub mod otp_macro;
pub mod ractor;
pub mod tcp_rmp;
pub mod tokio;
