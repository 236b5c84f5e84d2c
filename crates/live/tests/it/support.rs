//! Fixtures: a sim engine on a SQLite file, bars, requests.

use std::sync::Arc;
use std::time::Duration;

use tradepulse_execution::{FillModel, SimConfig, SimVenue};
use tradepulse_live::{
    Engine, EngineConfig, EngineHandle, OrderFilter, Registry, SimSnapshots, StrategySetup,
    SubmitRequest, VenueSetup,
};
use tradepulse_model::{
    Asset, Bar, ClientOrderId, Instrument, InstrumentId, Money, OrderKind, Price, Quantity, Side,
    TimeInForce, UnixNanos,
};
use tradepulse_store::{DatabaseUrl, Store};
use tradepulse_strategy::StrategySpec;

pub fn btc() -> Instrument {
    Instrument::new(
        InstrumentId::new("BTCUSD", "SIM").unwrap(),
        "USD",
        "0.01".parse().unwrap(),
        "0.001".parse().unwrap(),
        Money::ZERO,
    )
    .unwrap()
    .with_base_asset(Asset::new("BTC").unwrap())
}

pub async fn sqlite(dir: &tempfile::TempDir) -> Store {
    Store::connect(&DatabaseUrl::sqlite_file(&dir.path().join("live.db")))
        .await
        .unwrap()
}

pub async fn sim_engine(store: Store) -> (EngineHandle, Registry) {
    let mut config = EngineConfig::new("exec", Asset::new("USD").unwrap());
    config.opening_cash = Some("100000".parse().unwrap());
    config.reconcile.policy.lost_after_nanos = 0;
    let venue = VenueSetup {
        venue: Box::new(SimVenue::new(SimConfig {
            fill_model: FillModel::Close,
            taker_fee_bps: "10".parse().unwrap(),
            ..SimConfig::default()
        })),
        instruments: vec![btc()],
        snapshots: Arc::new(SimSnapshots::default()),
        prices: None,
    };
    let registry = Registry::new();
    let engine = Engine::start(config, store, venue, Vec::new(), &registry)
        .await
        .unwrap();
    wait_ready(&engine).await;
    (engine, registry)
}

pub async fn wait_ready(engine: &EngineHandle) {
    for _ in 0..500 {
        if engine.is_ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the engine did not become ready: {:?}",
        engine.status().await
    );
}

pub fn bar(price: &str) -> Bar {
    let p: Price = price.parse().unwrap();
    Bar {
        ts: UnixNanos::new(0),
        open: p,
        high: p,
        low: p,
        close: p,
        volume: 1e9,
    }
}

pub fn request(id: Option<&str>, side: Side, qty: &str, kind: OrderKind) -> SubmitRequest {
    SubmitRequest {
        client_order_id: id.map(|t| ClientOrderId::new(t).unwrap()),
        strategy: "api".into(),
        instrument: btc().id().clone(),
        side,
        quantity: qty.parse::<Quantity>().unwrap(),
        kind,
        time_in_force: TimeInForce::Gtc,
        decided_at: None,
    }
}

pub fn limit(price: &str) -> OrderKind {
    OrderKind::Limit {
        price: price.parse().unwrap(),
    }
}

pub const WAIT: Duration = Duration::from_secs(2);

/// An engine on the sim venue (fills at the bar's close) running `sma_cross` (5/20, long
/// only, one unit) as `sma-btc` on [`btc`], with or without strategy checkpoints.
pub async fn sma_engine(store: Store, checkpoints: bool) -> EngineHandle {
    let mut config = EngineConfig::new("core", Asset::new("USD").unwrap());
    config.opening_cash = Some("10000000".parse().unwrap());
    config.checkpoints = checkpoints;
    let spec: StrategySpec = serde_json::from_value(serde_json::json!({
        "kind": "sma_cross",
        "params": {"fast": 5, "slow": 20, "size": {"units": 1}, "direction": "long_only"}
    }))
    .unwrap();
    let strategy = StrategySetup {
        name: "sma-btc".into(),
        instrument: btc().id().clone(),
        strategy: spec.build().unwrap(),
        canary: false,
    };
    let venue = VenueSetup {
        venue: Box::new(SimVenue::new(SimConfig {
            fill_model: FillModel::Close,
            ..SimConfig::default()
        })),
        instruments: vec![btc()],
        snapshots: Arc::new(SimSnapshots::default()),
        prices: None,
    };
    let engine = Engine::start(config, store, venue, vec![strategy], &Registry::new())
        .await
        .unwrap();
    wait_ready(&engine).await;
    engine
}

/// The strategy's orders, oldest first: side, quantity and fill price (a bar's close, so the
/// bar that decided it).
pub async fn decisions(engine: &EngineHandle) -> Vec<(Side, Quantity, Option<Price>)> {
    let mut orders = engine
        .orders(OrderFilter {
            strategy: Some("sma-btc".into()),
            limit: Some(OrderFilter::MAX_LIMIT),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    orders.sort_by_key(|o| (o.created_at, o.request.client_order_id));
    orders
        .iter()
        .map(|o| (o.request.side, o.request.quantity, o.avg_fill_price))
        .collect()
}

/// The close of bar `i` of a wave with a drift, two decimals: SMA(5) crosses SMA(20) every
/// dozen bars or so, so [`sma_engine`] trades often.
pub fn wave(i: usize) -> String {
    let x = i as f64;
    let level = 50_000.0 + 20.0 * x + 900.0 * (x / 4.5).sin() + 300.0 * (x / 1.7).cos();
    format!("{level:.2}")
}
