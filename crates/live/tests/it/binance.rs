//! The engine on Binance (the fake): opening balances taken from the venue, orders through
//! the adapter, and a restart that finds the fills made while it was down.

use std::time::Duration;

use tradepulse_fake_binance::{
    DOCS_API_KEY, DOCS_SECRET_KEY, FakeBinance, FakeConfig, Side as FakeSide,
};
use tradepulse_live::{
    Engine, EngineConfig, EngineHandle, Registry, StaticSecrets, binance_credentials, binance_venue,
};
use tradepulse_model::{Asset, ClientOrderId, InstrumentId, OrderKind, Side, TimeInForce};
use tradepulse_venue_binance::BinanceConfig;

use crate::support::{WAIT, sqlite, wait_ready};

fn config(fake: &FakeBinance) -> BinanceConfig {
    let mut c = BinanceConfig::custom(&fake.rest_url(), &fake.ws_api_url(), &fake.stream_url());
    c.reconnect_min_ms = 20;
    c.reconnect_max_ms = 200;
    c
}

async fn engine(fake: &FakeBinance, store: tradepulse_store::Store) -> EngineHandle {
    let secrets = StaticSecrets::default()
        .with("BINANCE_API_KEY", DOCS_API_KEY)
        .with("BINANCE_SECRET_KEY", DOCS_SECRET_KEY);
    let credentials = binance_credentials(&secrets, "BINANCE").unwrap();
    let venue = binance_venue(&config(fake), credentials, "BINANCE", &["BTCUSDT"])
        .await
        .unwrap();
    let mut config = EngineConfig::new("exec", Asset::new("USDT").unwrap());
    config.reconcile.retry = Duration::from_millis(100);
    config.reconcile.interval = Duration::from_millis(300);
    let engine = Engine::start(config, store, venue, Vec::new(), &Registry::new())
        .await
        .unwrap();
    wait_ready(&engine).await;
    engine
}

fn btc() -> InstrumentId {
    "BTCUSDT.BINANCE".parse().unwrap()
}

fn order(id: &str, side: Side, qty: &str, kind: OrderKind) -> tradepulse_live::SubmitRequest {
    tradepulse_live::SubmitRequest {
        client_order_id: Some(ClientOrderId::new(id).unwrap()),
        strategy: "api".into(),
        instrument: btc(),
        side,
        quantity: qty.parse().unwrap(),
        kind,
        time_in_force: TimeInForce::Gtc,
        decided_at: None,
    }
}

async fn assert_balances_match(engine: &EngineHandle, fake: &FakeBinance) {
    for _ in 0..100 {
        let local = engine.balances().await.unwrap();
        let all_equal = ["USDT", "BTC", "ETH"].iter().all(|asset| {
            let (free, locked) = fake.balance(asset);
            let venue: tradepulse_model::Money = (free + locked).to_string().parse().unwrap();
            let ours = local
                .iter()
                .find(|b| b.asset.as_str() == *asset)
                .map_or(tradepulse_model::Money::ZERO, |b| b.total);
            ours == venue
        });
        if all_equal {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "balances differ: local {:?}, venue USDT {:?} BTC {:?}",
        engine.balances().await.unwrap(),
        fake.balance("USDT"),
        fake.balance("BTC")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_balances_fills_and_a_restart_agree_with_the_venue() {
    let fake = FakeBinance::start(FakeConfig::default()).await.unwrap();
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "1");
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(&fake, sqlite(&dir).await).await;
    // The account's opening balances came from the venue.
    assert_balances_match(&engine, &fake).await;
    // A public trade gives risk its reference price for market orders.
    for _ in 0..100 {
        if fake.market_sessions() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fake.push_book_ticker("BTCUSDT", "49990", "1", "50000", "1");
    fake.push_trade("BTCUSDT", 1, "50000", "0.01", false);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let bought = engine
        .submit(order("b-1", Side::Buy, "0.2", OrderKind::Market), WAIT)
        .await
        .unwrap();
    assert!(
        matches!(bought.order.status(), "filled" | "accepted"),
        "{bought:?}"
    );
    let resting = engine
        .submit(
            order(
                "b-2",
                Side::Sell,
                "0.5",
                OrderKind::Limit {
                    price: "60000".parse().unwrap(),
                },
            ),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(resting.order.status(), "accepted");
    assert_balances_match(&engine, &fake).await;
    engine
        .shutdown(false, Duration::from_secs(2))
        .await
        .unwrap();

    // While the engine is down, a taker fills part of the resting sell.
    assert_eq!(
        fake.take("BTCUSDT", FakeSide::Buy, "60000", "0.3")
            .to_string(),
        "0.3"
    );
    let engine = self::engine(&fake, sqlite(&dir).await).await;
    let b2 = engine
        .order(ClientOrderId::new("b-2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b2.filled, "0.3".parse().unwrap());
    assert_eq!(b2.status(), "partially_filled");
    assert_balances_match(&engine, &fake).await;
    assert_eq!(fake.orders_with_client_id("b-1"), 1);
    let store = engine.store().clone();
    let audit = store.audit_log(100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "reconcile.fill" && a.target == "b-2"),
        "{audit:?}"
    );
    engine.shutdown(true, Duration::from_secs(2)).await.unwrap();
    assert_eq!(fake.order_status("b-2").as_deref(), Some("CANCELED"));
}
