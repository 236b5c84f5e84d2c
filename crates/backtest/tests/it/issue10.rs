//! Issue 10, point 3: correctness fixes found in review. Each test fails on the engine before the
//! pipeline (commit f18e4dd).

use tradepulse_backtest::{Backtest, Engine, RunResult};
use tradepulse_execution::{FillModel, SimConfig};
use tradepulse_model::{
    Bar, Instrument, InstrumentId, Liquidity, Money, OrderEventKind, OrderKind, Price, Quantity,
    Ratio, RejectReason, Side, TimeInForce, UnixNanos,
};
use tradepulse_risk::{RiskConfig, Shortfall};
use tradepulse_strategy::{BuyAndHold, BuyAndHoldParams, Context, Size, Strategy};

use crate::fixtures::cent_instrument;

fn p(s: &str) -> Price {
    s.parse().unwrap()
}

fn bar(i: i64, o: &str, h: &str, l: &str, c: &str, volume: f64) -> Bar {
    Bar {
        ts: UnixNanos::new(i * 60 * UnixNanos::NANOS_PER_SECOND),
        open: p(o),
        high: p(h),
        low: p(l),
        close: p(c),
        volume,
    }
}

type Action = Box<dyn FnMut(Option<usize>, &mut Context<'_>) + Send>;

/// Runs `act` in `on_start` (with `None`) and after each bar (with its index), and records
/// every order event it receives.
struct Script {
    act: Action,
    bars_seen: usize,
    events: Vec<OrderEventKind>,
}

impl Script {
    fn new(act: impl FnMut(Option<usize>, &mut Context<'_>) + Send + 'static) -> Self {
        Self {
            act: Box::new(act),
            bars_seen: 0,
            events: Vec::new(),
        }
    }
}

impl Strategy for Script {
    fn name(&self) -> &str {
        "script"
    }
    fn on_start(&mut self, ctx: &mut Context<'_>) {
        (self.act)(None, ctx);
    }
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut Context<'_>) {
        (self.act)(Some(self.bars_seen), ctx);
        self.bars_seen += 1;
    }
    fn on_order_event(&mut self, event: &tradepulse_model::OrderEvent, _ctx: &mut Context<'_>) {
        self.events.push(event.kind);
    }
}

fn costs(fill_model: FillModel) -> SimConfig {
    SimConfig {
        fill_model,
        maker_fee_bps: "1".parse().unwrap(),
        taker_fee_bps: "10".parse().unwrap(),
        slippage_bps: "100".parse().unwrap(),
        ..SimConfig::default()
    }
}

fn run(venue: SimConfig, bars: &[Bar], strategy: &mut (dyn Strategy + Send)) -> RunResult {
    Engine::new(cent_instrument(), venue, "100000".parse().unwrap())
        .run(bars, strategy)
        .unwrap()
}

/// A buy limit above the close, sent in `close` mode, crosses the book at that close: it pays
/// the taker fee and slippage (never beyond its limit). Before: a maker fill at the close.
#[test]
fn marketable_limit_sent_in_close_mode_is_a_taker() {
    let bars = [
        bar(0, "100", "101", "99", "100", 1e6),
        bar(1, "100", "101", "99", "100", 1e6),
    ];
    let mut s = Script::new(|bar, ctx| {
        if bar == Some(0) {
            ctx.submit(
                Side::Buy,
                Quantity::from_units(1),
                OrderKind::Limit { price: p("105") },
                TimeInForce::Gtc,
            );
        }
    });
    let r = run(costs(FillModel::Close), &bars, &mut s);
    let fill = r.fills[0].fill;
    assert_eq!(fill.liquidity, Liquidity::Taker);
    assert_eq!(fill.ts, bars[0].ts);
    // 100 + 1 % slippage = 101, within the limit; 10 bp taker fee.
    assert_eq!(fill.price, p("101"));
    assert_eq!(fill.fee, "0.101".parse::<Money>().unwrap());
}

/// The slippage of a marketable limit stops at its limit.
#[test]
fn marketable_limit_never_fills_beyond_its_limit() {
    let bars = [
        bar(0, "100", "101", "99", "100", 1e6),
        bar(1, "100", "101", "99", "100", 1e6),
    ];
    let mut s = Script::new(|bar, ctx| {
        if bar == Some(0) {
            ctx.submit(
                Side::Buy,
                Quantity::from_units(1),
                OrderKind::Limit { price: p("100.5") },
                TimeInForce::Gtc,
            );
        }
    });
    let r = run(costs(FillModel::Close), &bars, &mut s);
    assert_eq!(r.fills[0].fill.price, p("100.5"));
    assert_eq!(r.fills[0].fill.liquidity, Liquidity::Taker);
}

/// An IOC limit meets the market once, at the next open: marketable there, it takes liquidity.
#[test]
fn ioc_limit_at_its_first_chance_is_a_taker() {
    let bars = [
        bar(0, "100", "101", "99", "100", 1e6),
        bar(1, "100", "101", "99", "100", 1e6),
    ];
    let mut s = Script::new(|bar, ctx| {
        if bar == Some(0) {
            ctx.submit(
                Side::Buy,
                Quantity::from_units(1),
                OrderKind::Limit { price: p("102") },
                TimeInForce::Ioc,
            );
        }
    });
    let r = run(costs(FillModel::NextOpen), &bars, &mut s);
    let fill = r.fills[0].fill;
    assert_eq!(fill.liquidity, Liquidity::Taker);
    assert_eq!(fill.price, p("101"));
}

/// A stop-limit whose trigger the open gaps through becomes a limit marketable at that open: a
/// taker fill.
#[test]
fn stop_limit_triggered_at_the_open_is_a_taker() {
    let bars = [
        bar(0, "100", "101", "99", "100", 1e6),
        bar(1, "100", "101", "99", "100", 1e6),
        bar(2, "103", "104", "102", "103", 1e6),
    ];
    let mut s = Script::new(|bar, ctx| {
        if bar == Some(0) {
            ctx.submit(
                Side::Buy,
                Quantity::from_units(1),
                OrderKind::StopLimit {
                    trigger: p("102"),
                    limit: p("106"),
                },
                TimeInForce::Gtc,
            );
        }
    });
    let r = run(costs(FillModel::NextOpen), &bars, &mut s);
    let fill = r.fills[0].fill;
    assert_eq!(fill.ts, bars[2].ts);
    assert_eq!(fill.liquidity, Liquidity::Taker);
    // 103 + 1 % = 104.03, within the 106 limit.
    assert_eq!(fill.price, p("104.03"));
}

fn btc() -> Instrument {
    Instrument::new(
        InstrumentId::new("BTC", "SIM").unwrap(),
        "USD",
        p("0.01"),
        "0.001".parse().unwrap(),
        Money::ZERO,
    )
    .unwrap()
}

/// The participation cap counts lots, not whole units: 50 % of a bar of 0.5 BTC is 0.25 BTC.
/// Before: the cap was floored to whole units (0) and the order never filled.
#[test]
fn participation_cap_is_counted_in_lots() {
    let bars = [
        bar(0, "100", "101", "99", "100", 0.5),
        bar(1, "100", "101", "99", "100", 0.5),
        bar(2, "100", "101", "99", "100", 0.5),
    ];
    let venue = SimConfig {
        max_participation: Some("0.5".parse().unwrap()),
        ..SimConfig::default()
    };
    let mut s = Script::new(|bar, ctx| {
        if bar == Some(0) {
            ctx.market(Side::Buy, "0.4".parse().unwrap());
        }
    });
    let r = Engine::new(btc(), venue, "100000".parse().unwrap())
        .run(&bars, &mut s)
        .unwrap();
    let filled: Vec<String> = r
        .fills
        .iter()
        .map(|f| f.fill.quantity.to_string())
        .collect();
    assert_eq!(filled, ["0.25", "0.15"]);
}

/// `max_participation: 1` on a bar whose volume does not fit a `Quantity` (above 9.2e9 units)
/// caps nothing. Before: the conversion overflowed and the order never filled.
#[test]
fn participation_cap_on_a_huge_volume_does_not_overflow() {
    let bars = [
        bar(0, "1", "1", "1", "1", 5e12),
        bar(1, "1", "1", "1", "1", 5e12),
    ];
    let venue = SimConfig {
        max_participation: Some(Ratio::from_raw(1_000_000_000)),
        ..SimConfig::default()
    };
    let mut s = Script::new(|bar, ctx| {
        if bar == Some(0) {
            ctx.market(Side::Buy, Quantity::from_units(1000));
        }
    });
    let r = run(venue, &bars, &mut s);
    assert_eq!(r.fills.len(), 1);
    assert_eq!(r.fills[0].fill.quantity, Quantity::from_units(1000));
}

/// Bars where the strategy sizes at 100 % of equity on bar 0's close (100), and the next open
/// gaps up 10 %.
fn gap_up() -> Vec<Bar> {
    vec![
        bar(0, "100", "100", "100", "100", 1e9),
        bar(1, "110", "111", "109", "110", 1e9),
        bar(2, "110", "111", "109", "110", 1e9),
    ]
}

fn invest(fraction: &str) -> BuyAndHold {
    BuyAndHold::new(BuyAndHoldParams {
        size: Size::EquityFraction(fraction.parse().unwrap()),
    })
    .unwrap()
}

/// `equity_fraction` sized at a close cannot overspend when the fill comes at a gapped open plus
/// costs: the venue refuses the order for lack of buying power. Before: cash went negative.
#[test]
fn equity_fraction_cannot_overspend_on_a_gapped_open() {
    // 98 % of equity at 100 is 980 units; at the open (110) plus 1 % slippage they cost
    // 108,878 of the 100,000 cash.
    let mut strategy = invest("0.98");
    let r = run(costs(FillModel::NextOpen), &gap_up(), &mut strategy);
    assert!(r.final_cash >= Money::ZERO, "cash {}", r.final_cash);
    assert!(
        r.rejections
            .iter()
            .any(|(reason, _)| *reason == RejectReason::InsufficientBuyingPower),
        "{:?}",
        r.rejections
    );
    // The strategy retries at bar 1's close (890 units at 110) and that order fits at bar 2's
    // open: it ends up invested.
    assert_eq!(r.fills.len(), 1);
    assert_eq!(r.fills[0].fill.ts, gap_up()[2].ts);
    assert_eq!(r.fills[0].fill.quantity, Quantity::from_units(890));
}

/// With `on_shortfall: shrink`, the gapped fill takes what the cash pays for.
#[test]
fn shortfall_shrink_fills_what_the_cash_pays_for() {
    let mut risk = RiskConfig::default();
    risk.buying_power.on_shortfall = Shortfall::Shrink;
    let mut strategy = invest("1");
    let r = Engine::new(
        cent_instrument(),
        costs(FillModel::NextOpen),
        "100000".parse().unwrap(),
    )
    .with_risk(risk)
    .run(&gap_up(), &mut strategy)
    .unwrap();
    let first = r.fills[0].fill;
    assert_eq!(first.ts, gap_up()[1].ts);
    // 1,000 units sized at 100; at 110 + 1 % = 111.1 with a 10 bp fee, 899 units fit.
    assert_eq!(first.quantity, Quantity::from_units(899));
    assert!(r.final_cash >= Money::ZERO);
}

/// `buy_and_hold` retries after a rejection: a walk-forward warm-up refuses its first order, and
/// it buys once trading starts. Before: it gave up after the warm-up rejection and stayed flat.
#[test]
fn buy_and_hold_retries_after_a_warm_up_rejection() {
    let bars: Vec<Bar> = (0..6)
        .map(|i| bar(i, "100", "101", "99", "100", 1e6))
        .collect();
    let mut strategy = BuyAndHold::new(BuyAndHoldParams {
        size: Size::Units(Quantity::from_units(3)),
    })
    .unwrap();
    let r = Engine::new(
        cent_instrument(),
        SimConfig::default(),
        "100000".parse().unwrap(),
    )
    .with_warmup(3)
    .run(&bars, &mut strategy)
    .unwrap();
    assert_eq!(r.positions[0].position.quantity(), Quantity::from_units(3));
    assert_eq!(r.fills.len(), 1);
    assert_eq!(r.fills[0].fill.ts, bars[4].ts);
}

/// A trailing stop sent in `on_start` has seen no price yet: its trail starts at bar 0's open,
/// not bar 0's close (which the strategy had not seen). Before: the trail began at bar 0's close
/// (90), so a buy trailing stop 5 above it triggered at bar 0's open (100).
#[test]
fn trailing_stop_from_on_start_does_not_trail_bar_0s_close() {
    let bars = [
        bar(0, "100", "101", "89", "90", 1e6),
        bar(1, "91", "92", "90", "91", 1e6),
        bar(2, "91", "96", "90", "95", 1e6),
    ];
    let mut s = Script::new(|bar, ctx| {
        if bar.is_none() {
            ctx.submit(
                Side::Buy,
                Quantity::from_units(1),
                OrderKind::TrailingStop { offset: p("5") },
                TimeInForce::Gtc,
            );
        }
    });
    let r = run(SimConfig::default(), &bars, &mut s);
    // Bar 0: trail 100 (its open) → trigger 105, not reached; the low (89) becomes the best.
    // Bar 1: trigger 94, not reached (high 92); bar 2: high 96 ≥ 94 → fills at the trigger.
    assert_eq!(r.fills.len(), 1, "{:?}", r.fills);
    assert_eq!(r.fills[0].fill.ts, bars[2].ts);
    assert_eq!(r.fills[0].fill.price, p("94"));
    assert!(s.events.contains(&OrderEventKind::Accepted));
}

/// The sample backtest runs through the risk engine without a single rejection: the defaults
/// never get in the way.
#[test]
fn the_sample_runs_without_rejections() {
    let config = tradepulse_backtest::BacktestConfig::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../configs/backtests/sample.yaml"),
    );
    // The sample's data path is relative to the repository root.
    let mut config = config.unwrap();
    config.data.path = crate::fixtures::data_file("spx_1d.csv");
    let backtest = Backtest::run(&config).unwrap();
    assert_eq!(backtest.run.orders_rejected, 0);
    assert!(backtest.run.fills.len() > 50);
}
