//! The exec API over real HTTP on loopback, against the sim venue and SQLite (PostgreSQL through
//! a proxy for the store fault; the process-level
//! tests — SIGTERM, kill -9 — are the binary's, in `crates/cli/tests`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]
#![allow(missing_docs, reason = "tests")]

mod api;
mod core;
mod faults;
/// The store tests' missing-service rule (fail under CI, one notice per binary elsewhere).
#[path = "../../../store/tests/it/skip.rs"]
#[allow(dead_code, reason = "a part of it")]
mod skip;
