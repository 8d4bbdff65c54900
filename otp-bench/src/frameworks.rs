//! One [`Server`](crate::Server) implementation per framework, each in its own module.

pub mod actix;
pub mod kameo;
pub mod otp;
pub mod otp_macro;
pub mod ractor;
pub mod tokio;
