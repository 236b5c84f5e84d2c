//! Market data over the combined stream: kline, trade and bookTicker events, and a reconnect
//! whose gap is backfilled from REST klines exactly once.

use std::time::Duration;

use rust_decimal::Decimal;
use tradepulse_fake_binance::{FakeBinance, KlineSpec};
use tradepulse_venue_binance::{MarketDataStream, MarketEvent, MarketSubscription, RestClient};

use crate::support::*;

const MINUTE: i64 = 60_000;

fn kline(open_time: i64, close: &str, closed: bool) -> KlineSpec {
    let close: Decimal = close.parse().unwrap();
    KlineSpec {
        open_time,
        close_time: open_time + MINUTE - 1,
        open: close - Decimal::ONE,
        high: close + Decimal::ONE,
        low: close - Decimal::TWO,
        close,
        volume: "12.5".parse().unwrap(),
        trades: 7,
        closed,
    }
}

fn subscriptions() -> Vec<MarketSubscription> {
    vec![
        MarketSubscription::Kline {
            symbol: "BTCUSDT".into(),
            interval: "1m".into(),
        },
        MarketSubscription::Trade {
            symbol: "BTCUSDT".into(),
        },
        MarketSubscription::BookTicker {
            symbol: "BTCUSDT".into(),
        },
    ]
}

async fn start(
    fake: &FakeBinance,
) -> (
    MarketDataStream,
    tokio::sync::mpsc::UnboundedReceiver<MarketEvent>,
) {
    let rest = RestClient::new(&config(fake), None).unwrap();
    rest.sync_time().await.unwrap();
    let (stream, mut rx) = MarketDataStream::spawn(rest, subscriptions()).unwrap();
    wait_for(&mut rx, "Connected", |e| {
        matches!(e, MarketEvent::Connected).then_some(())
    })
    .await;
    eventually("the fake registers the session", || {
        fake.market_sessions() == 1
    })
    .await;
    (stream, rx)
}

#[tokio::test]
async fn kline_trade_and_book_ticker_events_map_to_the_model() {
    let fake = fake().await;
    let (_stream, mut rx) = start(&fake).await;
    let base = (fake.now_ms() / MINUTE - 5) * MINUTE;
    fake.push_kline("BTCUSDT", "1m", kline(base, "50000", false));
    fake.push_trade("BTCUSDT", 77, "50000.5", "0.25", true);
    fake.push_book_ticker("BTCUSDT", "49999.99", "1.5", "50000.01", "2");
    let bar = wait_for(&mut rx, "bar", |e| match e {
        MarketEvent::Bar { bar, closed, .. } => Some((*bar, *closed)),
        _ => None,
    })
    .await;
    assert_eq!(bar.0.close.to_string(), "50000.0");
    assert_eq!(bar.0.ts.as_nanos(), base * 1_000_000);
    assert!((bar.0.volume - 12.5).abs() < 1e-12);
    assert!(!bar.1);
    let trade = wait_for(&mut rx, "trade", |e| match e {
        MarketEvent::Trade {
            trade_id,
            price,
            quantity,
            buyer_is_maker,
            ..
        } => Some((
            *trade_id,
            price.to_string(),
            quantity.to_string(),
            *buyer_is_maker,
        )),
        _ => None,
    })
    .await;
    assert_eq!(trade, (77, "50000.5".to_owned(), "0.25".to_owned(), true));
    let quote = wait_for(&mut rx, "quote", |e| match e {
        MarketEvent::Quote {
            bid, ask, ask_qty, ..
        } => Some((bid.to_string(), ask.to_string(), ask_qty.to_string())),
        _ => None,
    })
    .await;
    assert_eq!(
        quote,
        ("49999.99".to_owned(), "50000.01".to_owned(), "2".to_owned())
    );
}

/// Bar 1 arrives live; the connection drops and reconnects are refused while bars 2 and 3 close
/// (and bar 4 forms); after reconnecting, 2 and 3 come from the REST backfill, the live repeat of
/// 3 is dropped, and 4 arrives live when it closes: every closed bar once, in order.
#[tokio::test]
async fn reconnect_backfills_the_gap_from_rest_klines() {
    let fake = fake().await;
    let (stream, mut rx) = start(&fake).await;
    let base = (fake.now_ms() / MINUTE - 10) * MINUTE;
    fake.push_kline("BTCUSDT", "1m", kline(base, "100", true));
    wait_for(&mut rx, "bar 1", |e| {
        matches!(e, MarketEvent::Bar { closed: true, .. }).then_some(())
    })
    .await;

    fake.refuse_websockets(true);
    fake.drop_connections();
    wait_for(&mut rx, "disconnect", |e| {
        matches!(e, MarketEvent::Disconnected { .. }).then_some(())
    })
    .await;
    fake.store_kline("BTCUSDT", "1m", kline(base + MINUTE, "101", true));
    fake.store_kline("BTCUSDT", "1m", kline(base + 2 * MINUTE, "102", true));
    // Forming: its close time is in the future on the venue's clock.
    let forming = KlineSpec {
        close_time: fake.now_ms() + MINUTE,
        ..kline(base + 3 * MINUTE, "103", false)
    };
    fake.store_kline("BTCUSDT", "1m", forming);
    fake.refuse_websockets(false);

    let mut events = Vec::new();
    let gap = wait_for(&mut rx, "gap", |e| {
        events.push(e.clone());
        match e {
            MarketEvent::Gap {
                backfilled, after, ..
            } => Some((*backfilled, after.as_nanos())),
            _ => None,
        }
    })
    .await;
    assert_eq!(gap, (2, base * 1_000_000));
    eventually("the fake registers the new session", || {
        fake.market_sessions() == 1
    })
    .await;
    fake.push_kline("BTCUSDT", "1m", kline(base + 2 * MINUTE, "102", true)); // late live repeat
    fake.push_kline("BTCUSDT", "1m", kline(base + 3 * MINUTE, "103", true));
    events.extend(drain(&mut rx, Duration::from_millis(500)).await);
    let closed: Vec<(i64, bool)> = events
        .iter()
        .filter_map(|event| match event {
            MarketEvent::Bar {
                bar,
                closed: true,
                backfilled,
                ..
            } => Some(((bar.ts.as_nanos() / 1_000_000 - base) / MINUTE, *backfilled)),
            _ => None,
        })
        .collect();
    assert_eq!(closed, vec![(1, true), (2, true), (3, false)], "{events:?}");
    let stats = stream.stats();
    assert_eq!(stats.backfilled_bars, 2);
    assert_eq!(stats.duplicate_bars, 1);
    assert_eq!(stats.connects, 2);
}

/// The venue's clock an hour behind this machine's, and a client that never synchronised: the
/// backfill reads the venue's clock itself, so the kline still forming there is not handed
/// over as closed (it arrives live when it closes), and the closed ones are.
#[tokio::test]
async fn a_backfill_judges_closed_klines_by_the_venues_clock() {
    let local = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let venue_now = (local - 3_600_000) / MINUTE * MINUTE + 30_000;
    let fake = fake_with(tradepulse_fake_binance::FakeConfig {
        manual_clock_ms: Some(venue_now),
        ..tradepulse_fake_binance::FakeConfig::default()
    })
    .await;
    let rest = RestClient::new(&config(&fake), None).unwrap();
    let (_stream, mut rx) = MarketDataStream::spawn(
        rest,
        vec![MarketSubscription::Kline {
            symbol: "BTCUSDT".into(),
            interval: "1m".into(),
        }],
    )
    .unwrap();
    eventually("the fake registers the session", || {
        fake.market_sessions() == 1
    })
    .await;
    let base = venue_now / MINUTE * MINUTE - 5 * MINUTE;
    fake.push_kline("BTCUSDT", "1m", kline(base, "100", true));
    wait_for(&mut rx, "bar 0", |e| {
        matches!(e, MarketEvent::Bar { closed: true, .. }).then_some(())
    })
    .await;
    fake.refuse_websockets(true);
    fake.drop_connections();
    wait_for(&mut rx, "disconnect", |e| {
        matches!(e, MarketEvent::Disconnected { .. }).then_some(())
    })
    .await;
    for i in 1..=4 {
        fake.store_kline("BTCUSDT", "1m", kline(base + i * MINUTE, "101", true));
    }
    // Opened 30 s ago on the venue's clock: forming there, long over on this machine's.
    fake.store_kline("BTCUSDT", "1m", kline(base + 5 * MINUTE, "105", false));
    fake.refuse_websockets(false);
    let gap = wait_for(&mut rx, "gap", |e| match e {
        MarketEvent::Gap { backfilled, .. } => Some(*backfilled),
        _ => None,
    })
    .await;
    assert_eq!(gap, 4, "the four closed klines, not the forming one");
    eventually("the fake registers the new session", || {
        fake.market_sessions() == 1
    })
    .await;
    fake.move_time(MINUTE);
    fake.push_kline("BTCUSDT", "1m", kline(base + 5 * MINUTE, "105", true));
    let live = wait_for(&mut rx, "the formerly forming kline, closed", |e| match e {
        MarketEvent::Bar {
            bar,
            closed: true,
            backfilled,
            ..
        } => Some((bar.ts.as_nanos() / 1_000_000, *backfilled)),
        _ => None,
    })
    .await;
    assert_eq!(live, (base + 5 * MINUTE, false));
}
