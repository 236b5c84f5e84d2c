//! Integration tests of `tradepulse-store` against the real services: every repository test
//! runs on SQLite and on PostgreSQL (a fresh schema per test); Redis tests use a key prefix
//! per test.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]
#![allow(missing_docs, reason = "tests")]

mod skip;
mod support;

mod core_state;
mod db_faults;
mod db_repo;
mod indicator_checkpoints;
mod live_journal;
mod redis_state;
mod redis_streams;
mod services;
mod sweep_results;
