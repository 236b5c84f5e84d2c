//! Request security against the fake: Binance's documented request and signature, Ed25519 keys,
//! wrong keys, and server-time sync with recvWindow (-1021).

use tradepulse_fake_binance::{DOCS_API_KEY, FakeConfig, SymbolSpec};
use tradepulse_venue_binance::{Credentials, ErrorClass, RestClient};

use crate::support::*;

/// rest-api.md "SIGNED Endpoint Examples for POST /api/v3/order": the exact query string and
/// signature of the documentation, sent at the documented timestamp, is accepted by the fake.
#[tokio::test]
async fn documented_hmac_request_is_accepted() {
    let mut config = FakeConfig::default();
    config
        .symbols
        .push(SymbolSpec::new("LTC", "BTC", "0.1", "1", "0"));
    config.manual_clock_ms = Some(1_499_827_319_559 + 200);
    let fake = fake_with(config).await;
    let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71";
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/api/v3/order?{query}", fake.rest_url()))
        .header("X-MBX-APIKEY", DOCS_API_KEY)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["symbol"], "LTCBTC");
    assert_eq!(body["status"], "NEW");
    // One changed byte and the same signature: -1022.
    let tampered = query.replace("price=0.1", "price=0.2");
    let response = http
        .post(format!("{}/api/v3/order?{tampered}", fake.rest_url()))
        .header("X-MBX-APIKEY", DOCS_API_KEY)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], -1022);
}

#[tokio::test]
async fn hmac_client_signs_every_signed_endpoint() {
    let fake = fake().await;
    let rest = client(&fake);
    let account = rest.account().await.unwrap();
    assert!(account.can_trade);
    assert_eq!(account.balance("BTC").unwrap().free.to_string(), "2.00");
    assert_eq!(fake.stats().signature_rejections, 0);
}

#[tokio::test]
async fn ed25519_keys_sign_rest_requests() {
    let fake = fake().await;
    register_ed25519(&fake);
    let rest = RestClient::new(&config(&fake), Some(ed25519_credentials())).unwrap();
    assert!(rest.account().await.unwrap().can_trade);
    rest.open_orders(Some("BTCUSDT")).await.unwrap();
    assert_eq!(fake.stats().signature_rejections, 0);
}

#[tokio::test]
async fn a_wrong_secret_is_a_fatal_signature_error_without_secrets_in_it() {
    let fake = fake().await;
    let secret = "definitely-not-the-secret-0123456789";
    let rest = RestClient::new(
        &config(&fake),
        Some(Credentials::hmac(DOCS_API_KEY.into(), secret.into())),
    )
    .unwrap();
    let error = rest.account().await.unwrap_err();
    assert_eq!(error.venue_code(), Some(-1022));
    assert_eq!(error.class(), ErrorClass::Fatal);
    let text = format!("{error} {error:?} {rest:?}");
    assert!(
        !text.contains(secret) && !text.contains(DOCS_API_KEY),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_api_keys_are_refused() {
    let fake = fake().await;
    let rest = RestClient::new(
        &config(&fake),
        Some(Credentials::hmac("nobody".into(), "x".into())),
    )
    .unwrap();
    let error = rest.account().await.unwrap_err();
    assert_eq!(error.venue_code(), Some(-2015));
    assert_eq!(error.class(), ErrorClass::Fatal);
}

/// The venue's clock runs 30 s ahead, then 30 s behind: each first signed request is refused with
/// -1021, the client resynchronises its clock and the retry goes through.
#[tokio::test]
async fn clock_skew_is_resynchronised_after_minus_1021() {
    let fake = fake().await;
    let rest = client(&fake);
    fake.move_time(30_000);
    rest.account().await.unwrap();
    assert_eq!(fake.stats().timestamp_rejections, 1);
    assert!(
        (rest.clock_offset_ms() - 30_000).abs() < 1_000,
        "offset {}",
        rest.clock_offset_ms()
    );
    fake.move_time(-60_000);
    rest.account().await.unwrap();
    assert_eq!(fake.stats().timestamp_rejections, 2);
    assert!((rest.clock_offset_ms() + 30_000).abs() < 1_000);
    // Synchronised explicitly, no further rejection.
    rest.sync_time().await.unwrap();
    rest.account().await.unwrap();
    assert_eq!(fake.stats().timestamp_rejections, 2);
}
