//! Every row of the fill table in `SimVenue`'s module docs, plus rejections, TIF and costs.

use tradepulse_execution::{
    ExecutionReport as VenueEvent, FillModel, SimConfig, SimVenue, Submission, Unchecked, Venue,
};
use tradepulse_model::{
    Bar, ClientOrderId, Fill, Instrument, InstrumentId, Liquidity, Money, OrderEventKind,
    OrderKind, OrderRequest, Price, Quantity, RejectReason, Side, TimeInForce, UnixNanos,
};

fn p(s: &str) -> Price {
    s.parse().unwrap()
}

fn instrument() -> Instrument {
    Instrument::new(
        InstrumentId::new("ES", "SIM").unwrap(),
        "USD",
        p("0.25"),
        Quantity::from_units(1),
        "10".parse().unwrap(),
    )
    .unwrap()
}

fn bar(minute: i64, o: &str, h: &str, l: &str, c: &str) -> Bar {
    Bar {
        ts: UnixNanos::new(minute * 60 * UnixNanos::NANOS_PER_SECOND),
        open: p(o),
        high: p(h),
        low: p(l),
        close: p(c),
        volume: 1000.0,
    }
}

fn order(id: &str, side: Side, kind: OrderKind, tif: TimeInForce) -> OrderRequest {
    OrderRequest {
        client_order_id: ClientOrderId::new(id).unwrap(),
        instrument: instrument().id().clone(),
        side,
        quantity: Quantity::from_units(2),
        kind,
        time_in_force: tif,
    }
}

/// The venue as the pipeline drives it, with the calls these tests make: the venue sees each
/// bar before any decision on it (`submit` passes the decision bar, shown once), and every fill
/// is affordable (the pipeline's funds check is tested with the pipeline).
struct Sim {
    venue: SimVenue,
    id: InstrumentId,
    seen: Option<UnixNanos>,
}

impl Sim {
    fn new(config: SimConfig) -> Self {
        let mut venue = SimVenue::new(config);
        venue.add_instrument(&instrument()).unwrap();
        Self {
            venue,
            id: instrument().id().clone(),
            seen: None,
        }
    }

    fn see(&mut self, bar: &Bar, out: &mut Vec<VenueEvent>) {
        if self.seen != Some(bar.ts) {
            self.on_bar(bar, out);
        }
    }

    fn on_bar(&mut self, bar: &Bar, out: &mut Vec<VenueEvent>) {
        self.seen = Some(bar.ts);
        self.venue.on_bar(&self.id, bar, &mut Unchecked, out);
    }

    fn submit(&mut self, request: OrderRequest, decision: &Bar, out: &mut Vec<VenueEvent>) {
        self.see(decision, out);
        self.venue.submit(
            Submission::Single(request),
            Some(decision),
            decision.ts,
            &mut Unchecked,
            out,
        );
    }

    fn submit_oco(
        &mut self,
        a: OrderRequest,
        b: OrderRequest,
        decision: &Bar,
        out: &mut Vec<VenueEvent>,
    ) {
        self.see(decision, out);
        self.venue.submit(
            Submission::Oco(a, b),
            Some(decision),
            decision.ts,
            &mut Unchecked,
            out,
        );
    }

    fn submit_bracket(
        &mut self,
        entry: OrderRequest,
        stop_loss: OrderRequest,
        take_profit: OrderRequest,
        decision: &Bar,
        out: &mut Vec<VenueEvent>,
    ) {
        self.see(decision, out);
        let submission = Submission::Bracket {
            entry,
            stop_loss,
            take_profit,
        };
        self.venue
            .submit(submission, Some(decision), decision.ts, &mut Unchecked, out);
    }

    fn cancel(&mut self, id: ClientOrderId, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        self.venue.cancel(&self.id, id, ts, out);
    }

    fn working_orders(&self) -> usize {
        self.venue.working_orders()
    }
}

fn venue(mode: FillModel) -> Sim {
    Sim::new(SimConfig {
        fill_model: mode,
        maker_fee_bps: "1".parse().unwrap(),
        taker_fee_bps: "5".parse().unwrap(),
        ..SimConfig::default()
    })
}

fn fills(events: &[VenueEvent]) -> Vec<Fill> {
    events
        .iter()
        .filter_map(|e| match e {
            VenueEvent::Fill(f) => Some(*f),
            VenueEvent::Order(_) => None,
        })
        .collect()
}

fn kinds(events: &[VenueEvent]) -> Vec<OrderEventKind> {
    events
        .iter()
        .filter_map(|e| match e {
            VenueEvent::Order(o) => Some(o.kind),
            VenueEvent::Fill(_) => None,
        })
        .collect()
}

/// Submits `request` after bar 0 and shows the venue bar 1; returns all events.
fn next_bar(request: OrderRequest, next: Bar) -> Vec<VenueEvent> {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    v.submit(request, &bar(0, "100", "101", "99", "100"), &mut out);
    v.on_bar(&next, &mut out);
    out
}

#[test]
fn market_fills_at_next_open_as_taker() {
    let out = next_bar(
        order("m", Side::Buy, OrderKind::Market, TimeInForce::Gtc),
        bar(1, "102", "103", "101", "102.5"),
    );
    let f = fills(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].price, p("102"));
    assert_eq!(f[0].liquidity, Liquidity::Taker);
    // 5 bp of 204.
    assert_eq!(f[0].fee.to_string(), "0.102");
}

#[test]
fn buy_limit_gapped_through_fills_at_the_open() {
    let out = next_bar(
        order(
            "l",
            Side::Buy,
            OrderKind::Limit { price: p("99") },
            TimeInForce::Gtc,
        ),
        bar(1, "98", "99.5", "97", "99"),
    );
    assert_eq!(fills(&out)[0].price, p("98"));
    assert_eq!(fills(&out)[0].liquidity, Liquidity::Maker);
}

#[test]
fn buy_limit_inside_the_range_fills_at_the_limit() {
    let out = next_bar(
        order(
            "l",
            Side::Buy,
            OrderKind::Limit { price: p("99") },
            TimeInForce::Gtc,
        ),
        bar(1, "100", "101", "98.5", "100"),
    );
    assert_eq!(fills(&out)[0].price, p("99"));
    assert_eq!(fills(&out)[0].fee.to_string(), "0.0198");
}

#[test]
fn sell_limit_not_reached_keeps_working() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    v.submit(
        order(
            "l",
            Side::Sell,
            OrderKind::Limit { price: p("105") },
            TimeInForce::Gtc,
        ),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar(1, "100", "104.75", "99", "104"), &mut out);
    assert!(fills(&out).is_empty());
    assert_eq!(v.working_orders(), 1);
    v.on_bar(&bar(2, "104", "106", "103", "105.5"), &mut out);
    assert_eq!(fills(&out)[0].price, p("105"));
}

#[test]
fn buy_stop_gapped_through_fills_at_the_worse_open() {
    let out = next_bar(
        order(
            "s",
            Side::Buy,
            OrderKind::Stop { trigger: p("101") },
            TimeInForce::Gtc,
        ),
        bar(1, "103", "104", "102", "103"),
    );
    assert_eq!(fills(&out)[0].price, p("103"));
    assert_eq!(fills(&out)[0].liquidity, Liquidity::Taker);
}

#[test]
fn sell_stop_inside_the_range_fills_at_the_trigger() {
    let out = next_bar(
        order(
            "s",
            Side::Sell,
            OrderKind::Stop { trigger: p("99") },
            TimeInForce::Gtc,
        ),
        bar(1, "100", "100.5", "98", "98.5"),
    );
    assert_eq!(fills(&out)[0].price, p("99"));
}

#[test]
fn stop_limit_triggered_at_open_fills_at_the_open_when_within_the_limit() {
    let out = next_bar(
        order(
            "sl",
            Side::Buy,
            OrderKind::StopLimit {
                trigger: p("101"),
                limit: p("102"),
            },
            TimeInForce::Gtc,
        ),
        bar(1, "101.5", "103", "101", "102"),
    );
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::Accepted, OrderEventKind::Triggered]
    );
    assert_eq!(fills(&out)[0].price, p("101.5"));
}

#[test]
fn stop_limit_triggered_inside_the_bar_below_its_trigger_waits_for_the_next_bar() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    v.submit(
        order(
            "sl",
            Side::Buy,
            OrderKind::StopLimit {
                trigger: p("101"),
                limit: p("100.5"),
            },
            TimeInForce::Gtc,
        ),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar(1, "100", "101.5", "99", "101"), &mut out);
    assert!(fills(&out).is_empty(), "path inside a bar is unknown");
    assert_eq!(kinds(&out).last(), Some(&OrderEventKind::Triggered));
    v.on_bar(&bar(2, "101", "101.25", "100", "100.75"), &mut out);
    assert_eq!(fills(&out)[0].price, p("100.5"));
}

#[test]
fn ioc_limit_not_marketable_at_the_open_is_cancelled() {
    let out = next_bar(
        order(
            "ioc",
            Side::Buy,
            OrderKind::Limit { price: p("99") },
            TimeInForce::Ioc,
        ),
        // The low reaches 99 later in the bar, but IOC only gets the open.
        bar(1, "100", "101", "98", "100"),
    );
    assert!(fills(&out).is_empty());
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::Accepted, OrderEventKind::Canceled]
    );
}

#[test]
fn fok_market_in_close_mode_fills_at_the_close() {
    let mut v = venue(FillModel::Close);
    let mut out = Vec::new();
    v.submit(
        order("fok", Side::Sell, OrderKind::Market, TimeInForce::Fok),
        &bar(0, "100", "101", "99", "100.25"),
        &mut out,
    );
    assert_eq!(fills(&out)[0].price, p("100.25"));
    assert_eq!(v.working_orders(), 0);
}

#[test]
fn close_mode_rests_an_unmarketable_limit() {
    let mut v = venue(FillModel::Close);
    let mut out = Vec::new();
    v.submit(
        order(
            "l",
            Side::Buy,
            OrderKind::Limit { price: p("99") },
            TimeInForce::Gtc,
        ),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    assert!(fills(&out).is_empty());
    v.on_bar(&bar(1, "99.5", "100", "98", "99"), &mut out);
    assert_eq!(fills(&out)[0].price, p("99"));
}

#[test]
fn day_order_expires_on_the_next_utc_day() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    v.submit(
        order(
            "d",
            Side::Buy,
            OrderKind::Limit { price: p("90") },
            TimeInForce::Day,
        ),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar(60 * 23, "100", "101", "99", "100"), &mut out);
    assert_eq!(v.working_orders(), 1);
    v.on_bar(&bar(60 * 24, "100", "101", "89", "100"), &mut out);
    assert!(fills(&out).is_empty());
    assert_eq!(kinds(&out).last(), Some(&OrderEventKind::Expired));
}

#[test]
fn slippage_moves_taker_fills_against_the_trader_and_rounds_to_the_tick() {
    let mut v = Sim::new(SimConfig {
        slippage_bps: "10".parse().unwrap(),
        ..SimConfig::default()
    });
    let mut out = Vec::new();
    v.submit(
        order("b", Side::Buy, OrderKind::Market, TimeInForce::Gtc),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.submit(
        order("s", Side::Sell, OrderKind::Market, TimeInForce::Gtc),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar(1, "100", "101", "99", "100"), &mut out);
    let f = fills(&out);
    // 100 × (1 ± 0.001) = 100.1 / 99.9 → ticks of 0.25 against the trader.
    assert_eq!(f[0].price, p("100.25"));
    assert_eq!(f[1].price, p("99.75"));
}

/// The venue refuses only what a venue would; the order's own rules (quantity, lot, tick,
/// minimum notional) are the risk engine's, checked before anything is sent (see
/// `tradepulse-risk`).
#[test]
fn the_venue_refuses_unknown_instruments_working_ids_and_unknown_cancels() {
    let mut v = venue(FillModel::NextOpen);
    let b = bar(0, "100", "101", "99", "100");
    let mut other = order("other", Side::Buy, OrderKind::Market, TimeInForce::Gtc);
    other.instrument = InstrumentId::new("NQ", "SIM").unwrap();
    let mut out = Vec::new();
    v.submit(other, &b, &mut out);
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::Rejected(RejectReason::UnknownInstrument)]
    );
    let mut out = Vec::new();
    for _ in 0..2 {
        v.submit(
            order(
                "dup",
                Side::Buy,
                OrderKind::Limit { price: p("90") },
                TimeInForce::Gtc,
            ),
            &b,
            &mut out,
        );
    }
    // The first is in flight (it reaches the venue at the next open); the second reuses a
    // working id.
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::Rejected(
            RejectReason::DuplicateClientOrderId
        )]
    );
    let mut out = Vec::new();
    v.cancel(ClientOrderId::new("ghost").unwrap(), b.ts, &mut out);
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::CancelRejected(RejectReason::UnknownOrder)]
    );
    assert_eq!(RejectReason::BelowMinNotional.code(), "BELOW_MIN_NOTIONAL");
    let _ = Money::ZERO;
}

/// Orders are acknowledged when they reach the venue, with the venue's id; fills carry it and
/// a venue trade id of their own.
#[test]
fn orders_are_acknowledged_on_arrival_with_venue_ids() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    v.submit(
        order("a", Side::Buy, OrderKind::Market, TimeInForce::Gtc),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    assert!(out.is_empty(), "in flight until the next open: {out:?}");
    v.on_bar(&bar(1, "101", "102", "100", "101"), &mut out);
    let VenueEvent::Order(ack) = out[0] else {
        panic!("expected the acknowledgement first: {out:?}");
    };
    assert_eq!(ack.kind, OrderEventKind::Accepted);
    let venue_id = ack.venue_order_id.unwrap();
    let f = fills(&out);
    assert_eq!(f[0].venue_order_id, venue_id);
    assert_eq!(f[0].trade_id.as_str(), "T1");
    assert_eq!(f[0].fee_asset.as_str(), "USD");
}

#[test]
fn cancel_removes_a_working_order() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    v.submit(
        order(
            "c",
            Side::Buy,
            OrderKind::Limit { price: p("90") },
            TimeInForce::Gtc,
        ),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    // Cancelled while still in flight: it never reached the venue, so no acknowledgement.
    v.cancel(
        ClientOrderId::new("c").unwrap(),
        UnixNanos::new(1),
        &mut out,
    );
    assert_eq!(kinds(&out), vec![OrderEventKind::Canceled]);
    assert_eq!(v.working_orders(), 0);
    // Once working, a cancel follows its acknowledgement.
    let mut out = Vec::new();
    v.submit(
        order(
            "d",
            Side::Buy,
            OrderKind::Limit { price: p("90") },
            TimeInForce::Gtc,
        ),
        &bar(1, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar(2, "100", "101", "99", "100"), &mut out);
    v.cancel(
        ClientOrderId::new("d").unwrap(),
        UnixNanos::new(3),
        &mut out,
    );
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::Accepted, OrderEventKind::Canceled]
    );
}

fn bar_with_volume(minute: i64, price: &str, volume: f64) -> Bar {
    Bar {
        volume,
        ..bar(minute, price, price, price, price)
    }
}

#[test]
fn participation_cap_fills_partially_across_bars() {
    let mut v = Sim::new(SimConfig {
        max_participation: Some("0.1".parse().unwrap()),
        ..SimConfig::default()
    });
    let mut out = Vec::new();
    let mut big = order("big", Side::Buy, OrderKind::Market, TimeInForce::Gtc);
    big.quantity = Quantity::from_units(25);
    v.submit(big, &bar(0, "100", "101", "99", "100"), &mut out);
    // 10 % of 120 = 12; of 95 = 9.5 → 9 lots; the last 4 on the third bar.
    v.on_bar(&bar_with_volume(1, "101", 120.0), &mut out);
    v.on_bar(&bar_with_volume(2, "102", 95.0), &mut out);
    v.on_bar(&bar_with_volume(3, "103", 1000.0), &mut out);
    let f = fills(&out);
    let got: Vec<(String, String)> = f
        .iter()
        .map(|f| (f.quantity.to_string(), f.price.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("12".into(), "101.0".into()),
            ("9".into(), "102.0".into()),
            ("4".into(), "103.0".into())
        ]
    );
    assert_eq!(v.working_orders(), 0);
}

#[test]
fn fok_that_cannot_fill_entirely_is_cancelled_without_a_fill() {
    let mut v = Sim::new(SimConfig {
        max_participation: Some("0.01".parse().unwrap()),
        ..SimConfig::default()
    });
    let mut out = Vec::new();
    v.submit(
        order("fok", Side::Buy, OrderKind::Market, TimeInForce::Fok),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar_with_volume(1, "100", 100.0), &mut out);
    assert!(fills(&out).is_empty());
    assert_eq!(
        kinds(&out),
        vec![OrderEventKind::Accepted, OrderEventKind::Canceled]
    );
}

#[test]
fn spread_and_square_root_impact_cost_the_taker() {
    let config = SimConfig {
        spread_bps: "20".parse().unwrap(),
        impact_coefficient: "0.1".parse().unwrap(),
        ..SimConfig::default()
    };
    let mut v = Sim::new(config);
    let mut out = Vec::new();
    let mut buy = order("b", Side::Buy, OrderKind::Market, TimeInForce::Gtc);
    buy.quantity = Quantity::from_units(4);
    v.submit(buy, &bar(0, "100", "101", "99", "100"), &mut out);
    // half spread 10 bp + 0.1 × √(4 / 10000) = 0.002 = 20 bp → 30 bp: 100 → 100.30 → tick 100.50.
    v.on_bar(&bar_with_volume(1, "100", 10_000.0), &mut out);
    assert_eq!(fills(&out)[0].price, p("100.5"));
    // Limit fills pay neither.
    let mut v = Sim::new(config);
    let mut out = Vec::new();
    v.submit(
        order(
            "l",
            Side::Buy,
            OrderKind::Limit { price: p("99") },
            TimeInForce::Gtc,
        ),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    v.on_bar(&bar(1, "100", "100", "98", "99"), &mut out);
    assert_eq!(fills(&out)[0].price, p("99"));
}

#[test]
fn latency_delays_the_first_execution() {
    let mut v = Sim::new(SimConfig {
        latency_ms: 90_000,
        ..SimConfig::default()
    });
    let mut out = Vec::new();
    v.submit(
        order("m", Side::Buy, OrderKind::Market, TimeInForce::Gtc),
        &bar(0, "100", "101", "99", "100"),
        &mut out,
    );
    // Bar 1 opens at 60 s: the order reaches the venue at 60 + 90 = 150 s, so bar 2 (120 s) is
    // still too early and bar 3 (180 s) fills it.
    for m in 1..=3 {
        v.on_bar(
            &bar(m, &format!("{}", 100 + m), "110", "90", "100"),
            &mut out,
        );
    }
    let f = fills(&out);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].price, p("103"));
}

#[test]
fn a_partially_filled_stop_keeps_filling_as_a_market_order() {
    let mut v = Sim::new(SimConfig {
        max_participation: Some("0.5".parse().unwrap()),
        ..SimConfig::default()
    });
    let mut out = Vec::new();
    let mut stop = order(
        "s",
        Side::Sell,
        OrderKind::Stop { trigger: p("99") },
        TimeInForce::Gtc,
    );
    stop.quantity = Quantity::from_units(4);
    v.submit(stop, &bar(0, "100", "101", "99.5", "100"), &mut out);
    v.on_bar(
        &Bar {
            volume: 4.0,
            ..bar(1, "100", "100", "98", "98.5")
        },
        &mut out,
    );
    // Back above the trigger, but the stop already fired.
    v.on_bar(
        &Bar {
            volume: 4.0,
            ..bar(2, "100", "101", "99.5", "100")
        },
        &mut out,
    );
    let f = fills(&out);
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[0].quantity, f[0].price),
        (Quantity::from_units(2), p("99"))
    );
    assert_eq!(
        (f[1].quantity, f[1].price),
        (Quantity::from_units(2), p("100"))
    );
}

fn bracket(v: &mut Sim, out: &mut Vec<VenueEvent>, entry: OrderKind) {
    let e = order("e", Side::Buy, entry, TimeInForce::Gtc);
    let sl = order(
        "sl",
        Side::Sell,
        OrderKind::Stop { trigger: p("98") },
        TimeInForce::Gtc,
    );
    let tp = order(
        "tp",
        Side::Sell,
        OrderKind::Limit { price: p("104") },
        TimeInForce::Gtc,
    );
    v.submit_bracket(e, sl, tp, &bar(0, "100", "101", "99", "100"), out);
}

fn fill_ids(events: &[VenueEvent]) -> Vec<String> {
    fills(events)
        .iter()
        .map(|f| format!("{}@{}", f.client_order_id, f.price))
        .collect()
}

#[test]
fn bracket_take_profit_cancels_the_stop_loss() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    bracket(&mut v, &mut out, OrderKind::Market);
    assert_eq!(v.working_orders(), 1, "exits wait for the entry");
    v.on_bar(&bar(1, "100", "101", "99", "100.5"), &mut out);
    assert_eq!(
        v.working_orders(),
        2,
        "exits released after the entry filled"
    );
    // This bar would reach the take-profit; the exits work from the bar after their release.
    v.on_bar(&bar(2, "101", "105", "100", "104.5"), &mut out);
    assert_eq!(fill_ids(&out), ["e@100.0", "tp@104.0"]);
    assert_eq!(v.working_orders(), 0);
    let k = kinds(&out);
    assert_eq!(k.last(), Some(&OrderEventKind::Canceled), "{k:?}");
}

#[test]
fn bracket_stop_loss_wins_when_one_bar_reaches_both() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    bracket(&mut v, &mut out, OrderKind::Market);
    v.on_bar(&bar(1, "100", "101", "99", "100.5"), &mut out);
    v.on_bar(&bar(2, "100", "106", "97", "100"), &mut out);
    assert_eq!(fill_ids(&out), ["e@100.0", "sl@98.0"]);
    assert_eq!(v.working_orders(), 0);
}

#[test]
fn bracket_exits_are_rejected_when_the_entry_never_fills() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    bracket(&mut v, &mut out, OrderKind::Limit { price: p("90") });
    v.on_bar(&bar(1, "100", "101", "99", "100"), &mut out);
    v.cancel(
        ClientOrderId::new("e").unwrap(),
        UnixNanos::new(1),
        &mut out,
    );
    let k = kinds(&out);
    assert_eq!(
        &k[k.len() - 3..],
        [
            OrderEventKind::Canceled,
            OrderEventKind::Rejected(RejectReason::ParentNotFilled),
            OrderEventKind::Rejected(RejectReason::ParentNotFilled)
        ]
    );
}

#[test]
fn an_invalid_bracket_member_rejects_the_whole_group() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    let e = order("e", Side::Buy, OrderKind::Market, TimeInForce::Gtc);
    // The stop-loss reuses the entry's id: the venue refuses it, and so the whole group.
    let sl = order(
        "e",
        Side::Sell,
        OrderKind::Stop { trigger: p("98") },
        TimeInForce::Gtc,
    );
    let tp = order(
        "tp",
        Side::Sell,
        OrderKind::Limit { price: p("104") },
        TimeInForce::Gtc,
    );
    v.submit_bracket(e, sl, tp, &bar(0, "100", "101", "99", "100"), &mut out);
    assert_eq!(
        kinds(&out),
        [
            OrderEventKind::Rejected(RejectReason::DuplicateClientOrderId),
            OrderEventKind::Rejected(RejectReason::DuplicateClientOrderId),
            OrderEventKind::Rejected(RejectReason::LinkedOrderRejected)
        ]
    );
    assert_eq!(v.working_orders(), 0);
}

#[test]
fn oco_fill_cancels_the_partner() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    let stop = order(
        "stop",
        Side::Sell,
        OrderKind::Stop { trigger: p("95") },
        TimeInForce::Gtc,
    );
    let target = order(
        "target",
        Side::Sell,
        OrderKind::Limit { price: p("103") },
        TimeInForce::Gtc,
    );
    v.submit_oco(stop, target, &bar(0, "100", "101", "99", "100"), &mut out);
    v.on_bar(&bar(1, "101", "103.5", "100", "103"), &mut out);
    assert_eq!(fill_ids(&out), ["target@103.0"]);
    assert_eq!(v.working_orders(), 0);
    assert_eq!(kinds(&out).last(), Some(&OrderEventKind::Canceled));
}

#[test]
fn trailing_stop_follows_the_high_and_fills_at_its_trigger() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    let trail = order(
        "t",
        Side::Sell,
        OrderKind::TrailingStop { offset: p("2") },
        TimeInForce::Gtc,
    );
    // Decided at a close of 100: the trigger starts at 98.
    v.submit(trail, &bar(0, "100", "101", "99", "100"), &mut out);
    v.on_bar(&bar(1, "100", "105", "99", "104"), &mut out); // low 99 > 98; best → 105
    v.on_bar(&bar(2, "104.5", "106", "104", "105.5"), &mut out); // trigger 103; best → 106
    assert!(fills(&out).is_empty());
    v.on_bar(&bar(3, "105", "105", "101", "102"), &mut out); // trigger 104: fills at 104
    assert_eq!(fill_ids(&out), ["t@104.0"]);
}

#[test]
fn buy_trailing_stop_gapping_through_fills_at_the_open() {
    let mut v = venue(FillModel::NextOpen);
    let mut out = Vec::new();
    let trail = order(
        "t",
        Side::Buy,
        OrderKind::TrailingStop { offset: p("1") },
        TimeInForce::Gtc,
    );
    v.submit(trail, &bar(0, "100", "101", "99", "100"), &mut out);
    v.on_bar(&bar(1, "99.5", "100.5", "95", "96"), &mut out); // high 100.5 < 101; best → 95
    v.on_bar(&bar(2, "97.5", "98", "97", "97.5"), &mut out); // opens above 96: fills at 97.5
    assert_eq!(fill_ids(&out), ["t@97.5"]);
}
