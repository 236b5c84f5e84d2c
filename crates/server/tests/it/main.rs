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

/// The newest `limit` audit entries once `settled` holds for them (within 5 s): the API's
/// audit log is written by a task of its own, a few milliseconds after each answer.
pub(crate) async fn audit_when(
    store: &tradepulse_store::Store,
    limit: i64,
    settled: impl Fn(&[tradepulse_store::AuditEntry]) -> bool,
) -> Vec<tradepulse_store::AuditEntry> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let audit = store.audit_log(limit).await.unwrap();
        if settled(&audit) || std::time::Instant::now() > deadline {
            return audit;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
/// The store tests' missing-service rule (fail under CI, one notice per binary elsewhere).
#[path = "../../../store/tests/it/skip.rs"]
#[allow(dead_code, reason = "a part of it")]
mod skip;
