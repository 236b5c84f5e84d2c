//! Faults: unreachable databases fail fast with a clear, redacted error; a lost connection is
//! retried with backoff while readiness is false; a failed write leaves nothing half-written.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;
use tradepulse_model::UnixNanos;
use tradepulse_store::{
    Action, DatabaseUrl, Error, NewBacktestRun, RetryPolicy, RunTrade, Store, StoreOptions,
};

use crate::support::{FlakyProxy, TestDb, pg_url, unique_name};

fn run_with_trades(n: i64) -> NewBacktestRun {
    let trade = |i: i64| RunTrade {
        instrument: "ETHUSDT.BINANCE".parse().unwrap(),
        side: tradepulse_model::Side::Buy,
        quantity: "1".parse().unwrap(),
        entry_ts: UnixNanos::new(i),
        entry_price: "2000".parse().unwrap(),
        exit_ts: UnixNanos::new(i + 1),
        exit_price: "2001".parse().unwrap(),
        pnl: "1".parse().unwrap(),
        fees: "0.1".parse().unwrap(),
    };
    NewBacktestRun {
        name: "faulty".into(),
        strategy: "s".into(),
        config: json!({}),
        started_at: UnixNanos::new(0),
        finished_at: UnixNanos::new(1),
        metrics: BTreeMap::from([("sharpe".to_owned(), 1.0)]),
        trades: (0..n).map(trade).collect(),
    }
}

#[tokio::test]
async fn unreachable_postgres_fails_fast_without_leaking_the_password() {
    let url = DatabaseUrl::parse("postgres://app:hunter2@127.0.0.1:1/trade").unwrap();
    let started = Instant::now();
    let err = Store::connect(&url).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            Error::Unreachable { .. } | Error::ConnectTimeout { .. }
        ),
        "{err:?}"
    );
    assert_eq!(err.action(), Action::Retry);
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("app:***@127.0.0.1:1"), "{shown}");
}

#[tokio::test]
async fn silent_server_hits_the_connect_timeout() {
    // A listener that accepts TCP but never speaks the protocol.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = silent.local_addr().unwrap().port();
    let _keep = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let url = DatabaseUrl::parse(&format!("postgres://u:pw@127.0.0.1:{port}/db")).unwrap();
    let options = StoreOptions {
        connect_timeout: Duration::from_millis(300),
        ..StoreOptions::default()
    };
    let started = Instant::now();
    let err = Store::connect_with(&url, options).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            err,
            Error::ConnectTimeout { .. } | Error::Unreachable { .. }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("u:***@"), "{err}");
}

#[tokio::test]
async fn sqlite_in_a_missing_directory_is_a_clear_error() {
    let url = DatabaseUrl::parse("/nonexistent-dir-tradepulse/sub/tp.db").unwrap();
    let err = Store::connect(&url).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("/nonexistent-dir-tradepulse/sub/tp.db"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_urls_are_rejected_before_connecting() {
    let err = DatabaseUrl::parse("mysql://root:pw@h/db").unwrap_err();
    assert_eq!(err.action(), Action::FixInput);
    let url = DatabaseUrl::parse(&pg_url()).unwrap();
    let options = StoreOptions {
        pg_schema: Some("Robert'); DROP TABLE x;--".into()),
        ..StoreOptions::default()
    };
    let err = Store::connect_with(&url, options).await.unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }), "{err:?}");
}

/// Connection lost mid-run: the write retries with backoff, readiness is false meanwhile,
/// and once the link is back the run is committed whole, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_connection_is_retried_and_run_is_written_whole() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let proxy = FlakyProxy::start("127.0.0.1:5432").await;
    let url = DatabaseUrl::parse(&format!(
        "postgres://postgres@127.0.0.1:{}/test",
        proxy.port
    ))
    .unwrap();
    let options = StoreOptions {
        connect_timeout: Duration::from_millis(300),
        migrate_on_start: false,
        retry: RetryPolicy {
            max_attempts: 30,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
        },
        application_name: Some(unique_name("flaky")),
        ..db.options.clone()
    };
    let store = Store::connect_with(&url, options).await.unwrap();
    store.save_run(&run_with_trades(10)).await.unwrap();
    assert!(store.is_ready());

    proxy.cut().await;
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { store.save_run(&run_with_trades(300)).await })
    };
    let mut saw_not_ready = false;
    for _ in 0..500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        saw_not_ready |= !store.is_ready();
        if saw_not_ready {
            break;
        }
    }
    assert!(saw_not_ready, "readiness stayed true during the outage");
    assert!(
        !writer.is_finished(),
        "the write cannot finish while the link is down"
    );
    proxy.restore();
    let id = writer.await.unwrap().unwrap();
    assert!(store.is_ready());
    assert_eq!(store.run_trades(id).await.unwrap().len(), 300);
    assert_eq!(db.store.run_count().await.unwrap(), 2);
    store.close().await;
    db.finish().await;
}

/// Without retries the failure surfaces as a transient error and readiness flips; the next
/// successful call restores it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_backends_surface_as_transient_then_recover() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let proxy = FlakyProxy::start("127.0.0.1:5432").await;
    let url = DatabaseUrl::parse(&format!(
        "postgres://postgres@127.0.0.1:{}/test",
        proxy.port
    ))
    .unwrap();
    let options = StoreOptions {
        connect_timeout: Duration::from_millis(300),
        migrate_on_start: false,
        retry: RetryPolicy::NONE,
        ..db.options.clone()
    };
    let store = Store::connect_with(&url, options).await.unwrap();
    store.ping().await.unwrap();
    proxy.cut().await;
    let err = store.save_run(&run_with_trades(1)).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(!store.is_ready());
    assert_eq!(db.store.run_count().await.unwrap(), 0);
    proxy.restore();
    // Pooled connections that died in the outage fail once each (transient), then the pool
    // reconnects.
    let mut attempts = 0;
    while store.ping().await.is_err() {
        attempts += 1;
        assert!(attempts < 10, "no recovery after the link came back");
        assert!(!store.is_ready());
    }
    assert!(store.is_ready());
    store.save_run(&run_with_trades(1)).await.unwrap();
    store.close().await;
    db.finish().await;
}

/// `tradepulse db migrate` logic: applies once, then reports up to date.
#[test]
fn migrate_database_applies_then_is_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cli.db");
    let url = path.to_str().unwrap();
    let first = tradepulse_store::migrate_database(Some(url)).unwrap();
    assert_eq!(first.applied, [1, 2, 3, 4, 5]);
    assert_eq!(first.current, Some(5));
    assert!(
        first
            .to_string()
            .starts_with("applied 5 migration(s) [1, 2, 3, 4, 5] to SQLite"),
        "{first}"
    );
    let second = tradepulse_store::migrate_database(Some(url)).unwrap();
    assert!(second.applied.is_empty());
    assert!(
        second
            .to_string()
            .contains("is up to date (schema version 5)"),
        "{second}"
    );
}

#[test]
fn migrate_database_unreachable_is_a_clear_error() {
    let started = Instant::now();
    let err =
        tradepulse_store::migrate_database(Some("postgres://u:pw@127.0.0.1:1/db")).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(
        err.to_string()
            .contains("cannot connect to PostgreSQL at postgres://u:***@127.0.0.1:1/db"),
        "{err}"
    );
}
