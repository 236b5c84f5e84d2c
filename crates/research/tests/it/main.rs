//! Integration tests of research: sweeps, shards, walk-forward and overfitting statistics.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]

mod fixtures;
mod overfit_noise;
mod returns;
mod shards;
mod sweep;
mod walk_forward;
