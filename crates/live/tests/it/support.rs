//! Fixtures: a sim engine on a SQLite file, bars, requests.

use std::sync::Arc;
use std::time::Duration;

use tradepulse_execution::{FillModel, SimConfig, SimVenue};
use tradepulse_live::{
    Engine, EngineConfig, EngineHandle, Registry, SimSnapshots, SubmitRequest, VenueSetup,
};
use tradepulse_model::{
    Asset, Bar, ClientOrderId, Instrument, InstrumentId, Money, OrderKind, Price, Quantity, Side,
    TimeInForce, UnixNanos,
};
use tradepulse_store::{DatabaseUrl, Store};

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
