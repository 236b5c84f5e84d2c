//! Integration tests of `tradepulse-indicators`: TA-Lib fixtures, properties (batch equals
//! streaming, no panic on any `f64`), and the meaning of the geometric family.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

mod alloc;
mod geometric;
mod planted;
mod properties;
mod regimes;
mod talib;
