//! Integration tests of the Binance adapter against the local fake Binance
//! (`tradepulse-fake-binance`), one module per concern.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]
#![allow(missing_docs, reason = "tests")]

mod limits;
mod market;
mod orders;
mod signing;
mod support;
mod user_stream;
mod venue;
