//! Issue 10, point 2: no sequence of intents, over random prices and random strategies, takes
//! the account beyond a configured limit. Checked at every fill, at the fill's own price (where
//! the position, the exposure and the cash change), and at the end.

use proptest::prelude::*;
use tradepulse_execution::{
    FillModel, NoJournal, OrderIds, Pipeline, PipelineEvent, SimConfig, SimVenue,
};
use tradepulse_model::{
    Asset, Bar, Instrument, InstrumentId, Money, OrderKind, Price, Quantity, Side, TimeInForce,
    UnixNanos,
};
use tradepulse_portfolio::{AccountConfig, Portfolio};
use tradepulse_risk::{RiskConfig, RiskEngine, Shortfall};
use tradepulse_strategy::{Context, Strategy as TradingStrategy};

/// One thing the random strategy does after a bar.
#[derive(Debug, Clone)]
enum Act {
    Order {
        buy: bool,
        lots: i32,
        /// 0 market, 1 limit, 2 stop, 3 IOC limit.
        kind: u8,
        /// Limit/trigger distance from the close, in ticks (−200..200).
        offset: i64,
    },
    CancelAll,
}

fn act() -> impl Strategy<Value = Act> {
    prop_oneof![
        4 => (any::<bool>(), 1i32..60, 0u8..4, -200i64..200)
            .prop_map(|(buy, lots, kind, offset)| Act::Order { buy, lots, kind, offset }),
        1 => Just(Act::CancelAll),
    ]
}

struct Random {
    plan: Vec<Vec<Act>>,
    bar: usize,
}

impl TradingStrategy for Random {
    fn name(&self) -> &str {
        "random"
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        let acts = self.plan.get(self.bar).cloned().unwrap_or_default();
        self.bar += 1;
        let tick = ctx.instrument().tick_size().raw();
        for a in acts {
            match a {
                Act::CancelAll => ctx.cancel_all(),
                Act::Order {
                    buy,
                    lots,
                    kind,
                    offset,
                } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    let price = Price::from_raw((bar.close.raw() + offset * tick).max(tick));
                    let (kind, tif) = match kind {
                        0 => (OrderKind::Market, TimeInForce::Gtc),
                        1 => (OrderKind::Limit { price }, TimeInForce::Gtc),
                        2 => (OrderKind::Stop { trigger: price }, TimeInForce::Gtc),
                        _ => (OrderKind::Limit { price }, TimeInForce::Ioc),
                    };
                    ctx.submit(side, Quantity::from_units(lots), kind, tif);
                }
            }
        }
    }
}

fn bars(moves: &[(i64, i64, u8)]) -> Vec<Bar> {
    // Prices in cents; a move is (gap at the open, move to the close, range); gaps make fills
    // land far from the close the orders were checked at.
    let mut price = 10_000i64;
    moves
        .iter()
        .enumerate()
        .map(|(i, &(gap, close_move, range))| {
            let open = (price + gap).max(100);
            let close = (open + close_move).max(100);
            price = close;
            let high = open.max(close) + i64::from(range);
            let low = (open.min(close) - i64::from(range)).max(50);
            let c = |cents: i64| Price::from_raw(cents * 10_000_000);
            Bar {
                ts: UnixNanos::new(i as i64 * 3_600 * UnixNanos::NANOS_PER_SECOND),
                open: c(open),
                high: c(high),
                low: c(low),
                close: c(close),
                volume: 1e6,
            }
        })
        .collect()
}

fn instrument() -> Instrument {
    Instrument::new(
        InstrumentId::new("X", "SIM").unwrap(),
        "USD",
        Price::from_raw(10_000_000),
        Quantity::from_units(1),
        Money::ZERO,
    )
    .unwrap()
}

struct Limits {
    max_position: i64,
    max_gross: i128,
    max_net: i128,
    max_open: usize,
}

fn run(
    bars: &[Bar],
    plan: Vec<Vec<Act>>,
    margin: bool,
    shrink: bool,
    fill_model: FillModel,
) -> Result<(), TestCaseError> {
    let limits = Limits {
        max_position: 150,
        max_gross: 20_000 * 1_000_000_000,
        max_net: 15_000 * 1_000_000_000,
        max_open: 6,
    };
    let mut risk = RiskConfig {
        max_position: Some(Quantity::from_raw(limits.max_position * 1_000_000_000)),
        max_gross_exposure: Some(Money::from_raw(limits.max_gross)),
        max_net_exposure: Some(Money::from_raw(limits.max_net)),
        max_open_orders: Some(limits.max_open),
        ..RiskConfig::default()
    };
    if shrink {
        risk.buying_power.on_shortfall = Shortfall::Shrink;
    }
    let account = if margin {
        AccountConfig::margin("2".parse().unwrap())
    } else {
        AccountConfig::cash()
    };
    let portfolio = Portfolio::new(
        Asset::new("USD").unwrap(),
        "10000".parse().unwrap(),
        account,
    );
    let venue = SimVenue::new(SimConfig {
        fill_model,
        taker_fee_bps: "20".parse().unwrap(),
        slippage_bps: "10".parse().unwrap(),
        ..SimConfig::default()
    });
    let mut pipeline = Pipeline::new(
        portfolio,
        RiskEngine::new(risk).unwrap(),
        Box::new(venue),
        Box::new(NoJournal),
    );
    let key = pipeline.add_instrument(instrument()).unwrap();
    pipeline.add_strategy(
        "random",
        key,
        Some(Box::new(Random { plan, bar: 0 })),
        OrderIds {
            prefix: "r".into(),
            first_sequence: 1,
        },
    );
    pipeline.start(bars[0].ts).unwrap();
    let mut fills = 0;
    // Cash as the fills move it, kept here independently of the portfolio (no borrow or
    // financing accrues in this setup), so each fill is checked at its own moment.
    let mut cash: i128 = 10_000 * 1_000_000_000;
    for bar in bars {
        pipeline.on_bar(key, bar, bar.ts).unwrap();
        let events: Vec<PipelineEvent> = pipeline.drain_events().collect();
        for event in &events {
            if let PipelineEvent::Fill { fill, booking, .. } = event {
                fills += 1;
                let notional = fill.notional().raw();
                cash += match fill.side {
                    Side::Buy => -notional,
                    Side::Sell => notional,
                } - fill.fee.raw();
                check_at_fill(cash, fill.price, booking, &limits, margin)?;
            }
        }
        prop_assert!(pipeline.orders().open_orders() <= limits.max_open);
    }
    pipeline.stop(bars[bars.len() - 1].ts).unwrap();
    let p = pipeline.portfolio();
    prop_assert_eq!(
        p.cash().raw(),
        cash,
        "the portfolio's cash and the fills' disagree"
    );
    prop_assert!(p.position(key).quantity().raw().abs() <= limits.max_position * 1_000_000_000);
    if !margin {
        prop_assert!(!p.cash().is_negative(), "cash {}", p.cash());
        prop_assert!(!p.position(key).quantity().is_negative());
    }
    let _ = fills;
    Ok(())
}

/// The account right after a fill, valued at the fill's price. Exposure and leverage are
/// checked on fills that grow the position: a price move can carry a held position past them,
/// and reducing is then always allowed.
fn check_at_fill(
    cash: i128,
    price: Price,
    booking: &tradepulse_portfolio::Booking,
    limits: &Limits,
    margin: bool,
) -> Result<(), TestCaseError> {
    let position = booking.position_after;
    let grew = position.raw().abs() > booking.position_before.raw().abs();
    prop_assert!(
        position.raw().abs() <= limits.max_position * 1_000_000_000,
        "position {position}"
    );
    let value = price.notional(position).raw();
    // A price move can carry a held position's value past the exposure limits; a fill that
    // grows the position never may.
    prop_assert!(
        !grew || value.abs() <= limits.max_gross,
        "gross exposure {value}"
    );
    prop_assert!(
        !grew || value.abs() <= limits.max_net,
        "net exposure {value}"
    );
    if margin {
        let equity = cash + value;
        let capacity = Money::from_raw(equity).scaled("2".parse().unwrap()).raw();
        prop_assert!(
            !grew || value.abs() <= capacity,
            "exposure {value} beyond 2 × equity {equity}"
        );
    } else {
        prop_assert!(cash >= 0, "cash {cash} after a fill");
        prop_assert!(
            !position.is_negative(),
            "a cash account went short: {position}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_no_intent_sequence_breaks_a_limit(
        moves in proptest::collection::vec((-800i64..800, -400i64..400, 0u8..200), 5..60),
        plan in proptest::collection::vec(proptest::collection::vec(act(), 0..4), 60),
        margin in any::<bool>(),
        shrink in any::<bool>(),
        close in any::<bool>(),
    ) {
        let fill_model = if close { FillModel::Close } else { FillModel::NextOpen };
        run(&bars(&moves), plan, margin, shrink, fill_model)?;
    }
}
