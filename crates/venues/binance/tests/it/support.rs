//! A fake Binance per test and clients pointed at it.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tradepulse_fake_binance::{
    ApiKeySpec, DOCS_API_KEY, DOCS_SECRET_KEY, FakeBinance, FakeConfig, FakeKey,
};
use tradepulse_model::ClientOrderId;
use tradepulse_venue_binance::{BinanceConfig, Credentials, NewOrder, RestClient};

/// The Ed25519 API key registered by [`fake_with_ed25519`].
pub const ED25519_API_KEY: &str = "ed25519-test-key";
/// Its private key's seed (RFC 8032 §7.1 TEST 1).
pub const ED25519_SEED: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

pub async fn fake() -> FakeBinance {
    fake_with(FakeConfig::default()).await
}

pub async fn fake_with(config: FakeConfig) -> FakeBinance {
    FakeBinance::start(config).await.unwrap()
}

pub fn ed25519_credentials() -> Credentials {
    Credentials::ed25519_seed(ED25519_API_KEY.into(), &ED25519_SEED)
}

pub fn register_ed25519(fake: &FakeBinance) {
    let public = ed25519_credentials().ed25519_public_key().unwrap();
    fake.add_key(ApiKeySpec {
        api_key: ED25519_API_KEY.to_owned(),
        key: FakeKey::Ed25519(public),
    });
}

/// Client settings for tests: short reconnect delays and deadlines.
pub fn config(fake: &FakeBinance) -> BinanceConfig {
    let mut config =
        BinanceConfig::custom(&fake.rest_url(), &fake.ws_api_url(), &fake.stream_url());
    config.reconnect_min_ms = 20;
    config.reconnect_max_ms = 200;
    config.request_timeout_ms = 5_000;
    config.ws_timeout_ms = 5_000;
    config.ws_idle_timeout_ms = 10_000;
    config
}

pub fn docs_hmac() -> Credentials {
    Credentials::hmac(DOCS_API_KEY.into(), DOCS_SECRET_KEY.into())
}

pub fn client(fake: &FakeBinance) -> RestClient {
    RestClient::new(&config(fake), Some(docs_hmac())).unwrap()
}

pub fn limit_buy(id: &str, qty: &str, price: &str) -> NewOrder {
    NewOrder {
        symbol: "BTCUSDT".to_owned(),
        side: tradepulse_model::Side::Buy,
        order_type: "LIMIT",
        time_in_force: Some("GTC"),
        quantity: qty.parse().unwrap(),
        price: Some(price.parse().unwrap()),
        stop_price: None,
        client_order_id: ClientOrderId::new(id).unwrap(),
    }
}

pub fn market(id: &str, side: tradepulse_model::Side, qty: &str) -> NewOrder {
    NewOrder {
        symbol: "BTCUSDT".to_owned(),
        side,
        order_type: "MARKET",
        time_in_force: None,
        quantity: qty.parse().unwrap(),
        price: None,
        stop_price: None,
        client_order_id: ClientOrderId::new(id).unwrap(),
    }
}

/// Receives events until `pick` returns `Some`, failing the test after 10 s.
pub async fn wait_for<E: std::fmt::Debug, T>(
    rx: &mut UnboundedReceiver<E>,
    what: &str,
    mut pick: impl FnMut(&E) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(remaining, rx.recv()).await {
            Ok(Some(event)) => {
                if let Some(found) = pick(&event) {
                    return found;
                }
            }
            Ok(None) => panic!("stream ended while waiting for {what}"),
            Err(_) => panic!("no {what} within 10 s"),
        }
    }
}

/// Everything the stream sends within `window`.
pub async fn drain<E>(rx: &mut UnboundedReceiver<E>, window: Duration) -> Vec<E> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        out.push(event);
    }
    out
}

/// Polls `condition` every 10 ms for up to 5 s.
pub async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
