//! otp-dist
