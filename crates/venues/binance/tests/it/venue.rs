//! `BinanceVenue` as the pipeline drives it: sync submit/cancel, reports through `poll`, each once.

use std::time::Duration;

use tradepulse_execution::{ExecutionReport, Submission, Unchecked, Venue, VenueError};
use tradepulse_fake_binance::Side as FakeSide;
use tradepulse_model::{
    ClientOrderId, Instrument, OrderEventKind, OrderKind, OrderRequest, RejectReason, Side,
    TimeInForce, UnixNanos,
};
use tradepulse_venue_binance::BinanceVenue;

use crate::support::*;

fn request(id: &str, side: Side, qty: &str, kind: OrderKind) -> Submission {
    Submission::Single(OrderRequest {
        client_order_id: ClientOrderId::new(id).unwrap(),
        instrument: "BTCUSDT.BINANCE".parse().unwrap(),
        side,
        quantity: qty.parse().unwrap(),
        kind,
        time_in_force: TimeInForce::Gtc,
    })
}

async fn venue(fake: &tradepulse_fake_binance::FakeBinance) -> (BinanceVenue, Instrument) {
    let mut venue = BinanceVenue::start(client(fake), "BINANCE", &["BTCUSDT"])
        .await
        .unwrap();
    let instrument = venue.instruments().unwrap().remove(0);
    venue.add_instrument(&instrument).unwrap();
    (venue, instrument)
}

/// Polls until `done` holds for the reports collected so far (5 s at most).
async fn poll_until(
    venue: &mut BinanceVenue,
    done: impl Fn(&[ExecutionReport]) -> bool,
) -> Vec<ExecutionReport> {
    let mut reports = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !done(&reports) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reports so far: {reports:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        venue.poll(UnixNanos::EPOCH, &mut reports);
    }
    reports
}

#[tokio::test]
async fn instruments_carry_the_venue_rules_and_unknown_ones_are_refused() {
    let fake = fake().await;
    let (mut venue, instrument) = venue(&fake).await;
    assert_eq!(instrument.tick_size().to_string(), "0.01");
    assert_eq!(instrument.base_asset().unwrap().as_str(), "BTC");
    assert!(matches!(
        venue.add_instrument(&instrument),
        Err(VenueError::Duplicate(_))
    ));
    let other = Instrument::new(
        "ETHUSDT.BINANCE".parse().unwrap(),
        "USDT",
        instrument.tick_size(),
        instrument.lot_size(),
        instrument.min_notional(),
    )
    .unwrap();
    assert!(matches!(
        venue.add_instrument(&other),
        Err(VenueError::UnknownInstrument { .. })
    ));
    assert_eq!(venue.name(), "binance");
}

/// A market order against two price levels: one acceptance and two fills with the venue's order
/// id, trade ids and fee asset, although the venue's stream reports them again.
#[tokio::test]
async fn market_order_reports_acceptance_and_fills_once() {
    let fake = fake().await;
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "0.01");
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50001", "0.01");
    let (mut venue, _) = venue(&fake).await;
    let mut reports = Vec::new();
    venue.submit(
        request("v-1", Side::Buy, "0.02", OrderKind::Market),
        None,
        UnixNanos::EPOCH,
        &mut Unchecked,
        &mut reports,
    );
    assert!(reports.is_empty(), "a live venue reports later");
    assert_eq!(venue.working_orders(), 1);
    let reports = poll_until(&mut venue, |r| {
        r.iter()
            .filter(|r| matches!(r, ExecutionReport::Fill(_)))
            .count()
            == 2
    })
    .await;
    let mut all = reports;
    all.extend(poll_until(&mut venue, |_| true).await);
    tokio::time::sleep(Duration::from_millis(300)).await; // let the stream's copies arrive
    venue.poll(UnixNanos::EPOCH, &mut all);
    let fills: Vec<_> = all
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Fill(f) => Some(f),
            ExecutionReport::Order(_) => None,
        })
        .collect();
    assert_eq!(fills.len(), 2, "{all:?}");
    assert_eq!(fills[0].trade_id.as_str(), "1");
    assert_eq!(fills[1].price.to_string(), "50001.0");
    assert_eq!(fills[0].fee_asset.as_str(), "BTC");
    assert_eq!(fills[0].venue_order_id.as_str(), "1");
    let accepted = all
        .iter()
        .filter(|r| matches!(r, ExecutionReport::Order(e) if e.kind == OrderEventKind::Accepted))
        .count();
    assert_eq!(accepted, 1);
    assert_eq!(venue.working_orders(), 0);
}

#[tokio::test]
async fn venue_rejections_map_to_model_reasons() {
    let fake = fake().await;
    let (mut venue, _) = venue(&fake).await;
    let mut reports = Vec::new();
    let limit = |price: &str| OrderKind::Limit {
        price: price.parse().unwrap(),
    };
    venue.submit(
        request("r-1", Side::Buy, "5", limit("50000")),
        None,
        UnixNanos::EPOCH,
        &mut Unchecked,
        &mut reports,
    );
    venue.submit(
        request("r-2", Side::Buy, "0.001", limit("50000.001")),
        None,
        UnixNanos::EPOCH,
        &mut Unchecked,
        &mut reports,
    );
    venue.submit(
        request("r-3", Side::Buy, "0.00001", limit("100")),
        None,
        UnixNanos::EPOCH,
        &mut Unchecked,
        &mut reports,
    );
    let reports = poll_until(&mut venue, |r| r.len() >= 3).await;
    let reasons: Vec<_> = reports
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Order(e) => match e.kind {
                OrderEventKind::Rejected(reason) => {
                    Some((e.client_order_id.as_str().to_owned(), reason))
                }
                _ => None,
            },
            ExecutionReport::Fill(_) => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec![
            ("r-1".to_owned(), RejectReason::InsufficientBalance),
            ("r-2".to_owned(), RejectReason::InvalidPrice),
            ("r-3".to_owned(), RejectReason::BelowMinNotional),
        ]
    );
    assert_eq!(venue.working_orders(), 0);
}

#[tokio::test]
async fn cancel_reports_canceled_then_cancel_rejected() {
    let fake = fake().await;
    let (mut venue, instrument) = venue(&fake).await;
    let mut reports = Vec::new();
    let id = ClientOrderId::new("x-1").unwrap();
    venue.submit(
        request(
            "x-1",
            Side::Buy,
            "0.001",
            OrderKind::Limit {
                price: "40000".parse().unwrap(),
            },
        ),
        None,
        UnixNanos::EPOCH,
        &mut Unchecked,
        &mut reports,
    );
    poll_until(&mut venue, |r| {
        r.iter()
            .any(|r| matches!(r, ExecutionReport::Order(e) if e.kind == OrderEventKind::Accepted))
    })
    .await;
    venue.cancel(instrument.id(), id, UnixNanos::EPOCH, &mut reports);
    venue.cancel(instrument.id(), id, UnixNanos::EPOCH, &mut reports);
    let reports = poll_until(&mut venue, |r| {
        r.iter().any(|r| matches!(r, ExecutionReport::Order(e) if matches!(e.kind, OrderEventKind::CancelRejected(_))))
    })
    .await;
    let kinds: Vec<_> = reports
        .iter()
        .filter_map(|r| match r {
            ExecutionReport::Order(e) => Some(e.kind),
            ExecutionReport::Fill(_) => None,
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            OrderEventKind::Canceled,
            OrderEventKind::CancelRejected(RejectReason::UnknownOrder)
        ]
    );
    assert_eq!(venue.working_orders(), 0);
    assert_eq!(fake.order_status("x-1").as_deref(), Some("CANCELED"));
}
