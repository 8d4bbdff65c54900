//! Cross-crate integration tests of the otp workspace, in `tests/`; the library itself is empty.
