//! Issue 12 benchmark: the in-process order path, intent → risk → order manager → journal
//! (write-ahead) → venue call, one intent at a time, as the engine thread runs it.
//!
//! ```sh
//! cargo bench -p tradepulse-live --bench submit_latency            # 20,000 intents per case
//! ORDERS=100000 cargo bench -p tradepulse-live --bench submit_latency
//! ```
//!
//! Three cases, each with the simulated venue filling every market order at once (so the
//! portfolio books a fill per intent too): no journal (the pure pipeline), a SQLite journal and
//! a PostgreSQL journal (one durable commit per intent, the worst case: the engine batches
//! intents that wait together under one commit). PostgreSQL is taken from
//! `TRADEPULSE_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`), in a schema of
//! its own that is dropped afterwards; where it is unreachable the case says so and is skipped.
//!
//! Each intent is timed alone with the monotonic clock; the figures are percentiles of those
//! times. Printed as a table; no criterion, because what matters here is the tail, not a mean.
#![allow(
    clippy::expect_used,
    reason = "a benchmark setup failure should abort loudly"
)]

use std::time::{Duration, Instant};

use tradepulse_execution::{
    FillModel, Journal, NoJournal, OrderIds, Pipeline, SimConfig, SimVenue,
};
use tradepulse_live::StoreJournal;
use tradepulse_model::{
    Asset, Bar, Instrument, InstrumentId, Money, OrderIdPrefix, OrderKind, OrderRequest, Price,
    Quantity, Side, TimeInForce, UnixNanos,
};
use tradepulse_portfolio::{AccountConfig, Portfolio};
use tradepulse_risk::{RiskConfig, RiskEngine};
use tradepulse_store::{DatabaseUrl, Store, StoreOptions};

fn instrument() -> Instrument {
    Instrument::new(
        InstrumentId::new("BTCUSD", "SIM").expect("valid id"),
        "USD",
        "0.01".parse().expect("tick"),
        "0.0001".parse().expect("lot"),
        Money::ZERO,
    )
    .expect("valid instrument")
    .with_base_asset(Asset::new("BTC").expect("asset"))
}

fn wall_nanos() -> UnixNanos {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    UnixNanos::new(i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
}

/// Times `orders` market orders, alternately buying and selling 0.01 BTC at a 50,000 USD bar.
fn run(journal: Box<dyn Journal + '_>, orders: usize) -> Vec<Duration> {
    let portfolio = Portfolio::new(
        Asset::new("USD").expect("asset"),
        "1000000".parse().expect("cash"),
        AccountConfig::cash(),
    );
    let venue = SimVenue::new(SimConfig {
        fill_model: FillModel::Close,
        taker_fee_bps: "10".parse().expect("fee"),
        ..SimConfig::default()
    });
    let risk = RiskEngine::new(RiskConfig::default()).expect("default risk config");
    let mut pipeline = Pipeline::new(portfolio, risk, Box::new(venue), journal);
    let btc = instrument();
    let key = pipeline.add_instrument(btc.clone()).expect("instrument");
    let slot = pipeline.add_strategy(
        "bench",
        key,
        None,
        OrderIds {
            prefix: "bench".into(),
            first_sequence: 1,
        },
    );
    let price: Price = "50000".parse().expect("price");
    let bar = Bar {
        ts: wall_nanos(),
        open: price,
        high: price,
        low: price,
        close: price,
        volume: 1e9,
    };
    let now = wall_nanos();
    pipeline.start(now).expect("start");
    pipeline.on_bar(key, &bar, now).expect("bar");
    let ids = OrderIdPrefix::new("bench-s1");
    let quantity: Quantity = "0.01".parse().expect("quantity");
    let mut times = Vec::with_capacity(orders);
    for n in 0..orders {
        let started = Instant::now();
        pipeline.set_time(wall_nanos());
        let request = OrderRequest {
            client_order_id: ids.id(n as u64 + 1),
            instrument: btc.id().clone(),
            side: if n.is_multiple_of(2) {
                Side::Buy
            } else {
                Side::Sell
            },
            quantity,
            kind: OrderKind::Market,
            time_in_force: TimeInForce::Ioc,
        };
        pipeline.submit(slot, request).expect("submit");
        pipeline.drain_events().for_each(drop);
        times.push(started.elapsed());
    }
    let stats = pipeline.stats();
    assert_eq!(
        stats.rejected(),
        0,
        "the benchmark's intents must all pass risk"
    );
    assert_eq!(stats.fills, orders as u64, "every intent fills at once");
    times
}

fn report(case: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    let at = |q: f64| {
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1e6
    };
    let total: Duration = times.iter().sum();
    println!(
        "{case:<22} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>10.1} {:>12.0}",
        times.len(),
        at(0.50),
        at(0.99),
        at(0.999),
        at(1.0),
        times.len() as f64 / total.as_secs_f64(),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful either.
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    println!(
        "{:<22} {:>8} {:>9} {:>9} {:>9} {:>10} {:>12}",
        "case", "intents", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "intents/s"
    );

    // Warm the allocator and caches once, then measure.
    let _ = run(Box::new(NoJournal), orders.min(5_000));
    report("no journal", run(Box::new(NoJournal), orders));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let dir = tempfile::tempdir().expect("temporary directory");
    let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
    let store = runtime
        .block_on(Store::connect(&url))
        .expect("SQLite store");
    let journaled = orders.min(20_000);
    report(
        "SQLite journal",
        run(
            Box::new(StoreJournal::new(store.clone(), runtime.handle().clone()).expect("journal")),
            journaled,
        ),
    );
    runtime.block_on(store.close());

    let raw = std::env::var("TRADEPULSE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("bench_submit_{}", std::process::id());
    let options = StoreOptions {
        pg_schema: Some(schema.clone()),
        connect_timeout: Duration::from_secs(3),
        ..StoreOptions::default()
    };
    let connected = DatabaseUrl::parse(&raw)
        .map_err(|e| e.to_string())
        .and_then(|url| {
            runtime
                .block_on(Store::connect_with(&url, options))
                .map_err(|e| e.to_string())
        });
    match connected {
        Ok(store) => {
            report(
                "PostgreSQL journal",
                run(
                    Box::new(
                        StoreJournal::new(store.clone(), runtime.handle().clone())
                            .expect("journal"),
                    ),
                    journaled,
                ),
            );
            let drop_schema = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
            runtime.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&raw).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(drop_schema))
                        .execute(&mut conn)
                        .await;
                }
            });
            runtime.block_on(store.close());
        }
        Err(e) => println!("PostgreSQL journal     skipped: {e} (set TRADEPULSE_TEST_PG_URL)"),
    }
}
