//! One implementation per framework, each in its own module: a [`Server`](crate::Server) (and a
//! [`Supervision`](crate::Supervision)) for the local workloads, a
//! [`Remote`](crate::remote::Remote) or a runner of its own for the remote ones, a
//! [`Pipeline`](crate::pipeline::Pipeline) for the pipeline ones.

pub mod actix;
pub mod beam;
pub mod kameo;
pub mod otp;
pub mod otp_macro;
pub mod otp_stage;
pub mod ractor;
pub mod tcp_rmp;
pub mod tokio;
pub mod tokio_pipeline;

// otp-dist's place in the remote workloads. `otp_dist.rs` is written against the API otp-dist
// is expected to have and has never been compiled: otp-dist does not exist in this tree yet.
// The steps that plug it in are at the top of that file.
pub mod otp_dist;
