//! CLI integration tests: the real binary, real files, exit codes and messages.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]

mod backtest;
mod bad_input;
mod catalog;
mod exec;
mod exec_crash;
mod exec_process;
#[path = "../../../live/tests/it/fake_vault.rs"]
mod fake_vault;
mod harness;
mod indicators;
mod serve;
/// The store tests' missing-service rule (fail under CI, one notice per binary elsewhere).
#[path = "../../../store/tests/it/skip.rs"]
#[allow(dead_code, reason = "this binary needs no Redis")]
mod skip;
mod sweep_store;
mod vault;
