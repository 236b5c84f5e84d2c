//! Integration tests of the backtester: an independent reference, no look-ahead, determinism.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]

mod determinism;
mod fixtures;
mod golden;
mod html_report;
mod issue10;
mod lookahead;
mod overfit_noise;
mod realism;
mod reference;
mod sweep;
