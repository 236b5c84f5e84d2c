//! Integration tests of the live runtime against the real store (SQLite; PostgreSQL in the
//! crash test of `tradepulse-server`) and the fake Binance.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]
#![allow(missing_docs, reason = "tests")]

mod binance;
mod binance_feed;
mod checkpoints;
mod fake_vault;
mod sim;
mod support;
mod vault;
