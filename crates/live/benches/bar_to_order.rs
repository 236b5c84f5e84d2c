//! Issue 13 point 10 benchmark: bar → strategy decision → order at the venue, in-process, as
//! the engine thread runs it for the core service: a bar reaches the pipeline, `sma_cross`
//! decides on it, the order passes the risk checks and the order manager, is journaled
//! (write-ahead) and handed to the venue, which fills it (simulated venue, fill at the close).
//!
//! ```sh
//! cargo bench -p tradepulse-live --bench bar_to_order            # 20,000 bars per case
//! BARS=100000 cargo bench -p tradepulse-live --bench bar_to_order
//! ```
//!
//! The closes alternate between two prices, so a 1/2-bar crossover decides an order on every
//! bar (buy, sell, buy, …): each timed bar is one whole decision-to-order path. Cases: no
//! journal, and a SQLite journal (one commit per order) with `database_sync: full` (on disk
//! before the order leaves) and `normal` (handed to the operating system before it leaves). Printed as percentiles of
//! each bar's time; no criterion, because the tail is what matters.
#![allow(
    clippy::expect_used,
    reason = "a benchmark setup failure should abort loudly"
)]

use std::time::{Duration, Instant};

use tradepulse_execution::{
    FillModel, Journal, NoJournal, OrderIds, Pipeline, SimConfig, SimVenue,
};
use tradepulse_live::StoreJournal;
use tradepulse_model::{Asset, Bar, Instrument, InstrumentId, Money, Price, UnixNanos};
use tradepulse_portfolio::{AccountConfig, Portfolio};
use tradepulse_risk::{RiskConfig, RiskEngine};
use tradepulse_store::{DatabaseUrl, SqliteSync, Store, StoreOptions};
use tradepulse_strategy::StrategySpec;

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

/// Times `bars` bars that each make `sma_cross` send one market order.
fn run(journal: Box<dyn Journal + '_>, bars: usize) -> Vec<Duration> {
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
    let key = pipeline.add_instrument(instrument()).expect("instrument");
    let spec: StrategySpec = serde_json::from_value(serde_json::json!({
        "kind": "sma_cross",
        "params": {"fast": 1, "slow": 2, "size": {"units": 0.01}}
    }))
    .expect("strategy spec");
    pipeline.add_strategy(
        "bench",
        key,
        Some(spec.build().expect("strategy")),
        OrderIds {
            prefix: "bench".into(),
            first_sequence: 1,
        },
    );
    pipeline.start(wall_nanos()).expect("start");
    let low: Price = "50000".parse().expect("price");
    let high: Price = "50100".parse().expect("price");
    let bar = |n: usize| {
        let close = if n.is_multiple_of(2) { low } else { high };
        Bar {
            ts: UnixNanos::new(1_700_000_000_000_000_000 + n as i64 * 60_000_000_000),
            open: close,
            high: close,
            low: close,
            close,
            volume: 1e9,
        }
    };
    // The first bars only warm the averages up.
    for n in 0..3 {
        pipeline.on_bar(key, &bar(n), wall_nanos()).expect("bar");
        pipeline.drain_events().for_each(drop);
    }
    let mut times = Vec::with_capacity(bars);
    let sent_before = pipeline.stats().orders_sent;
    for n in 3..bars + 3 {
        let b = bar(n);
        let started = Instant::now();
        pipeline.on_bar(key, &b, wall_nanos()).expect("bar");
        pipeline.drain_events().for_each(drop);
        times.push(started.elapsed());
    }
    let stats = pipeline.stats();
    assert_eq!(
        stats.rejected(),
        0,
        "the benchmark's orders must all pass risk"
    );
    assert_eq!(
        stats.orders_sent - sent_before,
        bars as u64,
        "every timed bar decided one order"
    );
    times
}

fn report(case: &str, mut times: Vec<Duration>) {
    times.sort_unstable();
    let at = |q: f64| {
        let i = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[i].as_secs_f64() * 1e6
    };
    println!(
        "{case:<22} {:>8} {:>9.1} {:>9.1} {:>9.1} {:>10.1}",
        times.len(),
        at(0.50),
        at(0.99),
        at(0.999),
        at(1.0),
    );
}

fn main() {
    let bars: usize = std::env::var("BARS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    println!(
        "{:<22} {:>8} {:>9} {:>9} {:>9} {:>10}",
        "case", "bars", "p50 µs", "p99 µs", "p99.9 µs", "max µs"
    );
    let _ = run(Box::new(NoJournal), bars.min(5_000));
    report("no journal", run(Box::new(NoJournal), bars));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temporary directory");
    for (name, sync, file) in [
        ("SQLite journal, full", SqliteSync::Full, "full.db"),
        ("SQLite journal, normal", SqliteSync::Normal, "normal.db"),
    ] {
        let url = DatabaseUrl::sqlite_file(&dir.path().join(file));
        let store = runtime
            .block_on(Store::connect_with(
                &url,
                StoreOptions {
                    sqlite_sync: sync,
                    ..StoreOptions::default()
                },
            ))
            .expect("SQLite store");
        report(
            name,
            run(
                Box::new(
                    StoreJournal::new(store.clone(), runtime.handle().clone()).expect("journal"),
                ),
                bars.min(20_000),
            ),
        );
        runtime.block_on(store.close());
    }
}
