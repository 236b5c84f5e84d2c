//! Orders against the fake: instrument rules from exchangeInfo, partial fills and exact balances,
//! market orders, the documented rejections (-1013, -2010, -2011, -2013) and idempotent retries.

use rust_decimal::Decimal;
use tradepulse_fake_binance::Side as FakeSide;
use tradepulse_model::{ClientOrderId, Side};
use tradepulse_venue_binance::{
    Error, ErrorClass, FilterViolation, OrderRef, OrderUpdate, OrderUpdateKind, TradesQuery,
    UpdateSource,
};

use crate::support::*;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

#[tokio::test]
async fn exchange_info_gives_the_venue_rules_to_the_instrument() {
    let fake = fake().await;
    let rest = client(&fake);
    let rules = rest.symbol_rules(&["BTCUSDT"]).await.unwrap();
    assert_eq!(rules.len(), 1);
    let instrument = rules[0].instrument("BINANCE").unwrap();
    assert_eq!(instrument.id().as_str(), "BTCUSDT.BINANCE");
    assert_eq!(instrument.tick_size().to_string(), "0.01");
    assert_eq!(instrument.lot_size().to_string(), "0.00001");
    assert_eq!(instrument.min_notional().to_string(), "5.00");
    assert_eq!(instrument.quote_currency().as_str(), "USDT");
    assert_eq!(rules[0].market_lot.unwrap().max.to_string(), "100");
    let all = rest.symbol_rules(&["BTCUSDT", "ETHUSDT"]).await.unwrap();
    assert_eq!(all.len(), 2);
    let unknown = rest.exchange_info(&["NOPE"]).await.unwrap_err();
    assert_eq!(unknown.venue_code(), Some(-1121));
}

/// A limit buy takes two price levels (partial fill), rests, and is completed by an external
/// seller as maker; balances and trades match to the last decimal.
#[tokio::test]
async fn partial_fills_and_exact_balances() {
    let fake = fake().await;
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "0.3");
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50100", "0.2");
    let rest = client(&fake);
    let response = rest
        .submit_order(&limit_buy("pf-1", "1", "50100"))
        .await
        .unwrap();
    assert_eq!(response.status.as_deref(), Some("PARTIALLY_FILLED"));
    let updates = OrderUpdate::from_order_response(&response, UpdateSource::Response).unwrap();
    let fills: Vec<_> = updates
        .iter()
        .filter_map(|u| match &u.kind {
            OrderUpdateKind::Fill(f) => Some(f.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(updates[0].kind, OrderUpdateKind::Accepted);
    assert_eq!(fills.len(), 2);
    assert_eq!(fills[0].price.to_string(), "50000.0");
    assert_eq!(fills[0].quantity.to_string(), "0.3");
    assert_eq!(fills[0].fee.to_string(), "0.0003");
    assert_eq!(fills[0].fee_asset, "BTC");
    assert_eq!(fills[1].price.to_string(), "50100.0");

    let queried = rest
        .query_order(
            "BTCUSDT",
            OrderRef::Client(ClientOrderId::new("pf-1").unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(queried.executed_qty.as_deref(), Some("0.50000000"));
    assert_eq!(rest.open_orders(Some("BTCUSDT")).await.unwrap().len(), 1);

    // Spent 0.3 × 50000 + 0.2 × 50100 = 25020; the rest (0.5 × 50100) is locked.
    let account = rest.account().await.unwrap();
    let usdt = account.balance("USDT").unwrap();
    assert_eq!(usdt.locked.to_string(), "25050.00");
    assert_eq!(usdt.free.to_string(), "49930.00"); // 100000 - 25020 - 25050
    assert_eq!(account.balance("BTC").unwrap().free.to_string(), "2.4995");

    // An external seller hits the resting rest: maker fills at our price.
    assert_eq!(
        fake.take("BTCUSDT", FakeSide::Sell, "50000", "0.5"),
        d("0.5")
    );
    let trades = rest
        .my_trades(&TradesQuery {
            symbol: "BTCUSDT".into(),
            ..TradesQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        trades.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(trades[2].is_maker && !trades[0].is_maker);
    let filled = rest
        .query_order("BTCUSDT", OrderRef::OrderId(response.order_id))
        .await
        .unwrap();
    assert_eq!(filled.status.as_deref(), Some("FILLED"));
    let account = rest.account().await.unwrap();
    let usdt = account.balance("USDT").unwrap();
    assert_eq!(usdt.locked.to_string(), "0.00");
    assert_eq!(usdt.free.to_string(), "49930.00"); // 100000 - 25020 - 25050
    // 2 + 1 BTC bought less 0.1 % commission on each fill (0.0003 + 0.0002 + 0.0005).
    assert_eq!(account.balance("BTC").unwrap().free.to_string(), "2.999");
    assert!(rest.open_orders(Some("BTCUSDT")).await.unwrap().is_empty());
    // `from_id` pages from a trade id on.
    let later = rest
        .my_trades(&TradesQuery {
            symbol: "BTCUSDT".into(),
            from_id: Some(3),
            ..TradesQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
}

#[tokio::test]
async fn market_order_rest_expires_when_liquidity_runs_out() {
    let fake = fake().await;
    fake.add_liquidity("BTCUSDT", FakeSide::Buy, "49000", "0.1");
    let rest = client(&fake);
    let response = rest
        .submit_order(&market("m-1", Side::Sell, "0.25"))
        .await
        .unwrap();
    assert_eq!(response.status.as_deref(), Some("EXPIRED"));
    let kinds: Vec<_> = OrderUpdate::from_order_response(&response, UpdateSource::Response)
        .unwrap()
        .into_iter()
        .map(|u| u.kind)
        .collect();
    assert!(matches!(kinds[0], OrderUpdateKind::Accepted));
    assert!(
        matches!(&kinds[1], OrderUpdateKind::Fill(f) if f.quantity.to_string() == "0.1" && f.fee_asset == "USDT")
    );
    assert!(matches!(kinds[2], OrderUpdateKind::Expired { .. }));
    // Sold 0.1 BTC at 49000 less 0.1 % in USDT; the unfilled 0.15 BTC is free again.
    let (btc_free, btc_locked) = fake.balance("BTC");
    assert_eq!((btc_free, btc_locked), (d("1.9"), d("0")));
    assert_eq!(fake.balance("USDT").0, d("100000") + d("4900") - d("4.9"));
}

#[tokio::test]
async fn filter_failures_are_rejected_with_minus_1013_and_match_local_checks() {
    let fake = fake().await;
    let rest = client(&fake);
    let rules = rest.symbol_rules(&["BTCUSDT"]).await.unwrap().remove(0);
    let cases = [
        (
            limit_buy("f-1", "0.000015", "50000"),
            "Filter failure: LOT_SIZE",
            FilterViolation::LotSize,
        ),
        (
            limit_buy("f-2", "0.001", "50000.005"),
            "Filter failure: PRICE_FILTER",
            FilterViolation::Price,
        ),
        (
            limit_buy("f-3", "0.0001", "100"),
            "Filter failure: NOTIONAL",
            FilterViolation::Notional,
        ),
        (
            market("f-4", Side::Buy, "150"),
            "Filter failure: MARKET_LOT_SIZE",
            FilterViolation::MarketLotSize,
        ),
    ];
    for (order, message, violation) in cases {
        let error = rest.submit_order(&order).await.unwrap_err();
        let Error::Venue { code, msg, .. } = &error else {
            panic!("expected a venue error, got {error}")
        };
        assert_eq!((*code, msg.as_str()), (-1013, message));
        assert_eq!(error.class(), ErrorClass::Rejected);
        assert_eq!(rules.check(&order, None), Err(violation), "{message}");
    }
    assert!(
        rules
            .check(&limit_buy("ok", "0.001", "50000"), None)
            .is_ok()
    );
}

#[tokio::test]
async fn insufficient_balance_and_duplicate_ids_are_minus_2010() {
    let fake = fake().await;
    let rest = client(&fake);
    let error = rest
        .submit_order(&limit_buy("big", "3", "50000"))
        .await
        .unwrap_err();
    assert_eq!(error.venue_code(), Some(-2010));
    assert!(
        error.to_string().contains("insufficient balance"),
        "{error}"
    );
    assert_eq!(error.class(), ErrorClass::Rejected);

    rest.submit_order(&limit_buy("dup", "0.001", "40000"))
        .await
        .unwrap();
    let error = rest
        .submit_order(&limit_buy("dup", "0.001", "40000"))
        .await
        .unwrap_err();
    assert_eq!(error.venue_code(), Some(-2010));
    assert!(
        error.to_string().contains("Duplicate order sent."),
        "{error}"
    );
    assert_eq!(fake.orders_with_client_id("dup"), 1);
}

#[tokio::test]
async fn cancel_of_an_unknown_order_is_minus_2011() {
    let fake = fake().await;
    let rest = client(&fake);
    let placed = rest
        .submit_order(&limit_buy("c-1", "0.001", "40000"))
        .await
        .unwrap();
    let canceled = rest
        .cancel_order("BTCUSDT", OrderRef::OrderId(placed.order_id))
        .await
        .unwrap();
    assert_eq!(canceled.status.as_deref(), Some("CANCELED"));
    assert_eq!(canceled.orig_client_order_id.as_deref(), Some("c-1"));
    let updates = OrderUpdate::from_order_response(&canceled, UpdateSource::Response).unwrap();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].kind, OrderUpdateKind::Canceled);
    assert_eq!(updates[0].client_order_id.as_str(), "c-1");
    // The 40 USDT are free again.
    assert_eq!(fake.balance("USDT"), (d("100000"), d("0")));

    let again = rest
        .cancel_order("BTCUSDT", OrderRef::OrderId(placed.order_id))
        .await
        .unwrap_err();
    assert_eq!(again.venue_code(), Some(-2011));
    assert_eq!(again.class(), ErrorClass::Rejected);
    let unknown = rest
        .cancel_order(
            "BTCUSDT",
            OrderRef::Client(ClientOrderId::new("never").unwrap()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, Error::Venue { code: -2011, msg, .. } if msg == "Unknown order sent.")
    );
    let query = rest
        .query_order("BTCUSDT", OrderRef::OrderId(999))
        .await
        .unwrap_err();
    assert_eq!(query.venue_code(), Some(-2013));
}

/// The venue executes the order but answers "execution status unknown" (-1007): the client
/// finds the order by its client order id instead of sending a second one.
#[tokio::test]
async fn unknown_outcome_resolves_by_client_order_id_without_a_second_order() {
    let fake = fake().await;
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "1");
    let rest = client(&fake);
    fake.unknown_outcome_next_orders(1);
    let response = rest
        .submit_order(&market("idem-1", Side::Buy, "0.01"))
        .await
        .unwrap();
    assert_eq!(response.client_order_id, "idem-1");
    assert_eq!(response.status.as_deref(), Some("FILLED"));
    assert_eq!(fake.orders_with_client_id("idem-1"), 1);
    assert_eq!(fake.trades("BTCUSDT").len(), 1);
    assert_eq!(fake.stats().requests.get("POST /api/v3/order"), Some(&1));
}

/// An order that never reached the venue (a 503 before processing) is sent again with the same
/// client order id, after checking that it does not exist.
#[tokio::test]
async fn transient_failures_are_retried_with_the_same_client_order_id() {
    let fake = fake().await;
    let rest = client(&fake);
    fake.reject_next(
        "/api/v3/order",
        1,
        503,
        -1001,
        "Internal error; unable to process your request. Please try again.",
    );
    let response = rest
        .submit_order(&limit_buy("retry-1", "0.001", "40000"))
        .await
        .unwrap();
    assert_eq!(response.client_order_id, "retry-1");
    assert_eq!(fake.orders_with_client_id("retry-1"), 1);
    let stats = fake.stats();
    assert_eq!(stats.requests.get("POST /api/v3/order"), Some(&2));
    assert_eq!(
        stats.requests.get("GET /api/v3/order"),
        Some(&1),
        "looked up before re-sending"
    );

    fake.reject_next(
        "/api/v3/account",
        2,
        503,
        -1001,
        "Internal error; unable to process your request. Please try again.",
    );
    assert!(rest.account().await.is_ok());
    assert_eq!(fake.stats().requests.get("GET /api/v3/account"), Some(&3));
}
