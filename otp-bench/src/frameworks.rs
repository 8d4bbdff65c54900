//! One [`Server`](crate::Server) implementation per framework, each in its own module.

use std::future::Future;

pub mod actix;
pub mod kameo;
pub mod otp;
pub mod otp_macro;
pub mod ractor;
pub mod tokio;

/// The number of worker threads of the tokio runtime every tokio-based framework runs on.
pub const WORKER_THREADS: usize = 2;

/// Runs `future` on a fresh tokio multi-thread runtime with [`WORKER_THREADS`] workers.
///
/// The future is spawned onto the runtime rather than driven by `block_on` itself, so that it
/// runs on one of the two workers and no third thread takes part.
pub fn tokio_two_workers<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = ::tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKER_THREADS)
        .enable_all()
        .build()
        .expect("failed to build the tokio runtime");
    runtime.block_on(async move {
        ::tokio::spawn(future)
            .await
            .expect("the benchmark task panicked")
    })
}
