//! Rate limits: usage headers exposed, 429 + Retry-After waited out without sending during the
//! wait (Binance bans IPs that do), long waits returned to the caller.

use std::time::{Duration, Instant};

use tradepulse_fake_binance::{FakeConfig, LimitSpec};
use tradepulse_venue_binance::{Error, ErrorClass, RestClient};

use crate::support::*;

fn tight_limits() -> FakeConfig {
    FakeConfig {
        limits: LimitSpec {
            weight_limit: 50,
            weight_window: Duration::from_secs(1),
            weight_interval: (1, "SECOND".to_owned()),
            ..LimitSpec::default()
        },
        ..FakeConfig::default()
    }
}

#[tokio::test]
async fn weight_and_order_count_headers_are_tracked() {
    let fake = fake().await;
    let rest = client(&fake);
    rest.account().await.unwrap();
    let snapshot = rest.rate_limits();
    assert_eq!(snapshot.used_weight.len(), 1);
    assert_eq!(snapshot.used_weight[0].interval, "1M");
    assert_eq!(snapshot.used_weight[0].count, 20, "account weighs 20");
    assert!(snapshot.order_count.is_empty());
    rest.submit_order(&limit_buy("w-1", "0.001", "40000"))
        .await
        .unwrap();
    let snapshot = rest.rate_limits();
    assert_eq!(snapshot.used_weight[0].count, 21);
    let orders: Vec<(String, u64)> = snapshot
        .order_count
        .iter()
        .map(|u| (u.interval.clone(), u.count))
        .collect();
    assert_eq!(orders, vec![("10S".to_owned(), 1), ("1D".to_owned(), 1)]);
}

/// Weight 50 per second, account weighs 20: the third call in a second gets a 429 with
/// Retry-After; the client waits it out and no request reaches the venue meanwhile.
#[tokio::test]
async fn http_429_is_backed_off_for_retry_after() {
    let fake = fake_with(tight_limits()).await;
    let rest = client(&fake);
    let started = Instant::now();
    for _ in 0..4 {
        rest.account().await.unwrap();
    }
    let stats = fake.stats();
    assert!(stats.http_429 >= 1, "{stats:?}");
    assert_eq!(
        stats.requests_during_backoff, 0,
        "the client sent during Retry-After"
    );
    assert_eq!(stats.http_418, 0);
    assert_eq!(rest.rate_limits().http_429, stats.http_429);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it did not wait"
    );
}

/// A Retry-After longer than the client may wait by itself is returned as a transient error, and
/// the next call fails locally without touching the venue until the wait is over.
#[tokio::test]
async fn long_retry_after_is_returned_and_held_locally() {
    let mut limits = tight_limits();
    limits.limits.weight_window = Duration::from_secs(30);
    limits.limits.weight_interval = (30, "SECOND".to_owned());
    let fake = fake_with(limits).await;
    let mut config = config(&fake);
    config.max_backoff_ms = 200;
    let rest = RestClient::new(&config, Some(docs_hmac())).unwrap();
    rest.account().await.unwrap();
    rest.account().await.unwrap();
    let error = rest.account().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::RateLimited {
                status: 429,
                code: Some(-1003),
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(error.class(), ErrorClass::Transient);
    assert!(error.retry_after().unwrap() >= Duration::from_secs(20));
    let sent = fake.stats().requests.get("GET /api/v3/account").copied();
    let held = rest.account().await.unwrap_err();
    assert!(
        matches!(held, Error::RateLimited { status: 0, .. }),
        "{held}"
    );
    assert_eq!(
        fake.stats().requests.get("GET /api/v3/account").copied(),
        sent
    );
    assert_eq!(fake.stats().requests_during_backoff, 0);
    assert!(rest.rate_limits().retry_after.is_some());
}

/// A client that ignores Retry-After earns an IP ban (418); our client then gets the ban as a
/// fatal error with its Retry-After and sends nothing more until it has passed.
#[tokio::test]
async fn an_ip_ban_is_fatal_and_held_locally() {
    let mut config = tight_limits();
    config.limits.weight_window = Duration::from_secs(30);
    config.limits.ban_after_violations = 1;
    config.limits.ban = Duration::from_secs(120);
    let fake = fake_with(config).await;
    // A careless client: exhausts the weight (exchangeInfo weighs 20), then keeps sending.
    let http = reqwest::Client::new();
    let info = format!("{}/api/v3/exchangeInfo", fake.rest_url());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(http.get(&info).send().await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 429, 418]);
    let rest = client(&fake);
    let error = rest.exchange_info(&["BTCUSDT"]).await.unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { status: 418, .. }),
        "{error}"
    );
    assert_eq!(error.class(), ErrorClass::Fatal);
    assert!(error.retry_after().unwrap() > Duration::from_secs(100));
    let before = fake
        .stats()
        .requests
        .get("GET /api/v3/exchangeInfo")
        .copied();
    assert!(rest.exchange_info(&["BTCUSDT"]).await.is_err());
    assert_eq!(
        fake.stats()
            .requests
            .get("GET /api/v3/exchangeInfo")
            .copied(),
        before
    );
    assert_eq!(rest.rate_limits().http_418, 1);
}
