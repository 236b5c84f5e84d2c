//! Acceptance 5: no look-ahead.
//!
//! The strategy API gives a strategy the current bar and the present state only, so anything it
//! decides on bar t is a function of bars 0..=t. The property test proves it from the outside:
//! two series that agree up to bar k but differ afterwards must produce the same decisions, fills
//! and equity up to bar k. A signal built from the next bar's return would make them differ, so it
//! cannot be expressed through the API. The unit tests pin the fill timing of each mode.

use proptest::prelude::*;
use tradepulse_backtest::{Backtest, Engine};
use tradepulse_execution::{FillModel, SimConfig};
use tradepulse_model::{Bar, Fill, Money, Price, Quantity, Side, UnixNanos};
use tradepulse_strategy::{Context, Strategy};

use crate::fixtures::sma_config;

fn bar(i: i64, open_cents: i64, close_cents: i64) -> Bar {
    let (o, c) = (
        Price::from_raw(open_cents * 10_000_000),
        Price::from_raw(close_cents * 10_000_000),
    );
    Bar {
        ts: UnixNanos::new(i * 60 * UnixNanos::NANOS_PER_SECOND),
        open: o,
        high: o.max(c),
        low: o.min(c),
        close: c,
        volume: 100.0,
    }
}

fn series(moves: &[i64]) -> Vec<Bar> {
    let mut price = 10_000i64;
    moves
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let open = price;
            price = (price + m).max(100);
            bar(i as i64, open, price)
        })
        .collect()
}

/// Logs what the strategy saw at every bar, next to an SMA(2/5) long-short decision.
struct Recorder {
    inner: Box<dyn Strategy + Send>,
    log: Vec<(i64, i64, i128)>,
}

impl Strategy for Recorder {
    fn name(&self) -> &str {
        "rec"
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        self.log.push((
            bar.ts.as_nanos(),
            ctx.position().quantity().raw(),
            ctx.cash().raw(),
        ));
        self.inner.on_bar(bar, ctx);
    }
    fn on_fill(&mut self, fill: &Fill, ctx: &mut Context<'_>) {
        self.inner.on_fill(fill, ctx);
    }
}

/// What a run observed (per bar: ts, position, cash), its fills (ts, price) and its equity curve.
type Trace = (Vec<(i64, i64, i128)>, Vec<(i64, i64)>, Vec<f64>);

fn run(bars: &[Bar], fill_model: FillModel) -> Trace {
    let cfg = sma_config("next_open", 2, 5, ", direction: long_short");
    let mut strategy = Recorder {
        inner: cfg.strategy.build().unwrap(),
        log: Vec::new(),
    };
    let instrument = cfg.instrument.build().unwrap();
    let venue = SimConfig {
        fill_model,
        ..cfg.execution
    };
    let result = Engine::new(instrument, venue, cfg.portfolio.initial_cash)
        .run(bars, &mut strategy)
        .unwrap();
    let fills = result
        .fills
        .iter()
        .map(|f| (f.fill.ts.as_nanos(), f.fill.price.raw()))
        .collect();
    (strategy.log, fills, result.equity)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_decisions_depend_only_on_the_past(
        moves in proptest::collection::vec(-300i64..300, 30..80),
        other in proptest::collection::vec(-300i64..300, 80),
        cut in 10usize..30,
        close_mode in any::<bool>(),
    ) {
        let a = series(&moves);
        let mut b_moves = moves[..cut].to_vec();
        b_moves.extend_from_slice(&other[..moves.len() - cut]);
        let b = series(&b_moves);
        let mode = if close_mode { FillModel::Close } else { FillModel::NextOpen };
        let (log_a, fills_a, eq_a) = run(&a, mode);
        let (log_b, fills_b, eq_b) = run(&b, mode);
        // Everything observed or done through bar cut-1 is identical.
        prop_assert_eq!(&log_a[..cut], &log_b[..cut]);
        let before = |f: &Vec<(i64, i64)>| -> Vec<(i64, i64)> {
            f.iter().copied().filter(|(ts, _)| *ts < a[cut].ts.as_nanos()).collect()
        };
        prop_assert_eq!(before(&fills_a), before(&fills_b));
        prop_assert_eq!(&eq_a[..cut], &eq_b[..cut]);
    }
}

/// Buys one unit after seeing bar `at`.
struct BuyAt(usize, usize);

impl Strategy for BuyAt {
    fn name(&self) -> &str {
        "buy_at"
    }
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut Context<'_>) {
        if self.1 == self.0 {
            ctx.market(Side::Buy, Quantity::from_units(1));
        }
        self.1 += 1;
    }
}

fn fill_of(mode: FillModel) -> Fill {
    let bars: Vec<Bar> = (0..5)
        .map(|i| bar(i, 10_000 + i * 100, 10_050 + i * 100))
        .collect();
    let instrument = crate::fixtures::cent_instrument();
    let venue = SimConfig {
        fill_model: mode,
        ..SimConfig::default()
    };
    let run = Engine::new(instrument, venue, Money::from_raw(1_000_000_000_000_000))
        .run(&bars, &mut BuyAt(2, 0))
        .unwrap();
    assert_eq!(run.fills.len(), 1);
    run.fills[0].fill
}

#[test]
fn next_open_fills_at_the_following_bars_open() {
    let fill = fill_of(FillModel::NextOpen);
    // Decided on bar 2 (open 102.00, close 102.50) → bar 3's open, 103.00.
    assert_eq!(
        fill.ts,
        UnixNanos::new(3 * 60 * UnixNanos::NANOS_PER_SECOND)
    );
    assert_eq!(fill.price.to_string(), "103.0");
}

#[test]
fn close_mode_fills_at_the_decision_bars_close() {
    let fill = fill_of(FillModel::Close);
    assert_eq!(
        fill.ts,
        UnixNanos::new(2 * 60 * UnixNanos::NANOS_PER_SECOND)
    );
    assert_eq!(fill.price.to_string(), "102.5");
}

#[test]
fn an_order_on_the_last_bar_never_fills_in_next_open_mode() {
    let cfg = sma_config("next_open", 2, 5, "");
    let bars: Vec<Bar> = (0..4).map(|i| bar(i, 10_000, 10_000)).collect();
    let result = Backtest::run_on(&cfg, bars).unwrap();
    assert!(result.run.fills.is_empty());
}
