//! The user-data stream over the WebSocket API: HMAC (`subscribe.signature`) and Ed25519
//! (`session.logon` + `subscribe`) sessions, execution reports and balances, and disconnects
//! with a REST catch-up that neither loses nor duplicates a fill.

use std::collections::BTreeMap;
use std::time::Duration;

use tradepulse_fake_binance::Side as FakeSide;
use tradepulse_model::Side;
use tradepulse_venue_binance::{
    OrderRef, OrderUpdateKind, RestClient, UpdateSource, UserDataStream, UserStreamConfig,
    UserStreamEvent,
};

use crate::support::*;

fn stream(
    rest: &RestClient,
) -> (
    UserDataStream,
    tokio::sync::mpsc::UnboundedReceiver<UserStreamEvent>,
) {
    UserDataStream::spawn(
        rest.clone(),
        UserStreamConfig {
            symbols: vec!["BTCUSDT".to_owned()],
        },
    )
    .unwrap()
}

/// Waits for `Connected`; the events before it (the catch-up's) are appended to `seen`.
async fn connected_after(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<UserStreamEvent>,
    seen: &mut Vec<UserStreamEvent>,
) -> (u64, u64) {
    wait_for(rx, "Connected", |e| {
        seen.push(e.clone());
        match e {
            UserStreamEvent::Connected {
                caught_up_fills,
                caught_up_orders,
            } => Some((*caught_up_fills, *caught_up_orders)),
            _ => None,
        }
    })
    .await
}

async fn connected(rx: &mut tokio::sync::mpsc::UnboundedReceiver<UserStreamEvent>) -> (u64, u64) {
    connected_after(rx, &mut Vec::new()).await
}

/// Trade id → (quantity, source) of every fill in `events`, failing on a duplicate.
fn fills(events: &[UserStreamEvent]) -> BTreeMap<u64, (String, UpdateSource)> {
    let mut out = BTreeMap::new();
    for event in events {
        if let UserStreamEvent::Order(update) = event
            && let OrderUpdateKind::Fill(fill) = &update.kind
        {
            let previous = out.insert(fill.trade_id, (fill.quantity.to_string(), update.source));
            assert!(
                previous.is_none(),
                "trade {} delivered twice",
                fill.trade_id
            );
        }
    }
    out
}

#[tokio::test]
async fn hmac_subscription_delivers_execution_reports_and_balances() {
    let fake = fake().await;
    let rest = client(&fake);
    let (_stream, mut rx) = stream(&rest);
    connected(&mut rx).await;
    assert_eq!(fake.user_subscriptions(), 1);
    let placed = rest
        .submit_order(&limit_buy("s-1", "0.5", "40000"))
        .await
        .unwrap();
    let accepted = wait_for(&mut rx, "acceptance", |e| match e {
        UserStreamEvent::Order(u) if u.kind == OrderUpdateKind::Accepted => Some(u.clone()),
        _ => None,
    })
    .await;
    assert_eq!(accepted.client_order_id.as_str(), "s-1");
    assert_eq!(accepted.order_id, placed.order_id);
    let locked = wait_for(&mut rx, "balances", |e| match e {
        UserStreamEvent::Balances {
            balances,
            snapshot: false,
            ..
        } => balances
            .iter()
            .find(|b| b.asset == "USDT")
            .map(|b| b.locked.to_string()),
        _ => None,
    })
    .await;
    assert_eq!(locked, "20000.00");
    fake.take("BTCUSDT", FakeSide::Sell, "40000", "0.2");
    let fill = wait_for(&mut rx, "fill", |e| match e {
        UserStreamEvent::Order(u) => match &u.kind {
            OrderUpdateKind::Fill(f) => Some(f.clone()),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert_eq!(
        (fill.trade_id, fill.quantity.to_string(), fill.side),
        (1, "0.2".to_owned(), Side::Buy)
    );
    assert_eq!(fill.liquidity, tradepulse_model::Liquidity::Maker);
    rest.cancel_order("BTCUSDT", OrderRef::OrderId(placed.order_id))
        .await
        .unwrap();
    let canceled = wait_for(&mut rx, "cancel", |e| match e {
        UserStreamEvent::Order(u) if u.kind == OrderUpdateKind::Canceled => Some(u.clone()),
        _ => None,
    })
    .await;
    // The cancel report names the cancelled order, not the cancel request.
    assert_eq!(canceled.client_order_id.as_str(), "s-1");
}

#[tokio::test]
async fn ed25519_session_logon_subscribes() {
    let fake = fake().await;
    register_ed25519(&fake);
    let rest = RestClient::new(&config(&fake), Some(ed25519_credentials())).unwrap();
    let (_stream, mut rx) = stream(&rest);
    connected(&mut rx).await;
    rest.submit_order(&limit_buy("ed-1", "0.001", "40000"))
        .await
        .unwrap();
    let accepted = wait_for(&mut rx, "acceptance", |e| match e {
        UserStreamEvent::Order(u) if u.kind == OrderUpdateKind::Accepted => Some(u.client_order_id),
        _ => None,
    })
    .await;
    assert_eq!(accepted.as_str(), "ed-1");
    assert_eq!(fake.stats().signature_rejections, 0);
}

/// Fills and a cancel happen while the stream is down (connections dropped, new ones refused);
/// after reconnecting, the catch-up delivers exactly the missed ones, and live fills continue
/// without a duplicate.
#[tokio::test]
async fn disconnect_and_catch_up_lose_and_duplicate_nothing() {
    let fake = fake().await;
    let rest = client(&fake);
    let (stream, mut rx) = stream(&rest);
    connected(&mut rx).await;
    let a = rest
        .submit_order(&limit_buy("gap-a", "1", "40000"))
        .await
        .unwrap();
    let b = rest
        .submit_order(&limit_buy("gap-b", "0.1", "39000"))
        .await
        .unwrap();
    fake.take("BTCUSDT", FakeSide::Sell, "40000", "0.1"); // trade 1, live
    let mut events = Vec::new();
    events.push(
        wait_for(&mut rx, "live fill", |e| match e {
            UserStreamEvent::Order(u) if matches!(u.kind, OrderUpdateKind::Fill(_)) => {
                Some(e.clone())
            }
            _ => None,
        })
        .await,
    );

    fake.refuse_websockets(true);
    fake.drop_connections();
    wait_for(&mut rx, "disconnect", |e| {
        matches!(e, UserStreamEvent::Disconnected { .. }).then_some(())
    })
    .await;
    fake.take("BTCUSDT", FakeSide::Sell, "40000", "0.3"); // trade 2, missed
    fake.take("BTCUSDT", FakeSide::Sell, "40000", "0.2"); // trade 3, missed
    rest.cancel_order("BTCUSDT", OrderRef::OrderId(b.order_id))
        .await
        .unwrap(); // missed
    fake.refuse_websockets(false);

    let (caught_up_fills, caught_up_orders) = connected_after(&mut rx, &mut events).await;
    assert_eq!((caught_up_fills, caught_up_orders), (2, 1));
    fake.take("BTCUSDT", FakeSide::Sell, "40000", "0.4"); // trade 4, live again
    events.extend(drain(&mut rx, Duration::from_millis(500)).await);
    let fills = fills(&events);
    assert_eq!(fills.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3, 4]);
    assert_eq!(fills[&2], ("0.3".to_owned(), UpdateSource::CatchUp));
    assert_eq!(fills[&3], ("0.2".to_owned(), UpdateSource::CatchUp));
    assert_eq!(fills[&4].1, UpdateSource::Stream);
    let cancels: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            UserStreamEvent::Order(u) if u.kind == OrderUpdateKind::Canceled => {
                Some(u.client_order_id)
            }
            _ => None,
        })
        .collect();
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].as_str(), "gap-b");
    // Every venue trade of order A arrived exactly once, and its quantities add up.
    let venue: Vec<u64> = fake
        .trades("BTCUSDT")
        .iter()
        .filter(|t| t.1 == a.order_id)
        .map(|t| t.0)
        .collect();
    assert_eq!(venue, vec![1, 2, 3, 4]);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, UserStreamEvent::Balances { snapshot: true, .. }))
    );
    assert_eq!(stream.stats().caught_up_fills, 2);
    assert!(stream.stats().connects >= 2);
    assert_eq!(fake.order_status("gap-a").as_deref(), Some("FILLED"));
}

/// The venue sends every report twice and late: fills known from the REST response first are
/// not repeated when the stream's copies arrive.
#[tokio::test]
async fn delayed_and_duplicated_reports_are_delivered_once() {
    let fake = fake().await;
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "0.05");
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50010", "0.05");
    let rest = client(&fake);
    let (stream, mut rx) = stream(&rest);
    connected(&mut rx).await;
    fake.set_duplicate_reports(true);
    fake.set_report_delay(Duration::from_millis(300));
    let response = rest
        .submit_order(&market("dd-1", Side::Buy, "0.08"))
        .await
        .unwrap();
    // The response (two taker fills) arrives before the delayed stream copies.
    assert_eq!(
        stream.ingest_response(&response).unwrap(),
        3,
        "accepted + two fills"
    );
    let events = drain(&mut rx, Duration::from_millis(1_200)).await;
    let fills = fills(&events);
    assert_eq!(fills.len(), 2);
    assert!(
        fills
            .values()
            .all(|(_, source)| *source == UpdateSource::Response)
    );
    let accepted = events
        .iter()
        .filter(|e| matches!(e, UserStreamEvent::Order(u) if u.kind == OrderUpdateKind::Accepted))
        .count();
    assert_eq!(accepted, 1);
    // NEW + 2 TRADE reports, each sent twice: 6 copies, 3 of them new via the response.
    assert_eq!(stream.stats().duplicates_dropped, 6);
}
