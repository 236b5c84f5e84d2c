//! Issue 4, realism: costs the portfolio carries between fills.

use tradepulse_backtest::Engine;
use tradepulse_execution::{FillModel, SimConfig};
use tradepulse_model::{
    Bar, Bps, Instrument, InstrumentId, Money, Price, Quantity, Side, UnixNanos,
};
use tradepulse_strategy::{Context, Strategy};

/// Sells one unit short after the first bar and holds.
struct ShortOnce(bool);

impl Strategy for ShortOnce {
    fn name(&self) -> &str {
        "short"
    }
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut Context<'_>) {
        if !self.0 {
            ctx.market(Side::Sell, Quantity::from_units(1));
            self.0 = true;
        }
    }
}

#[test]
fn short_positions_pay_borrow_on_calendar_time() {
    let price = Price::from_raw(100_000_000_000);
    let bars: Vec<Bar> = (0..11)
        .map(|d| Bar {
            ts: UnixNanos::new(d * UnixNanos::NANOS_PER_DAY),
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 1e6,
        })
        .collect();
    let instrument = Instrument::new(
        InstrumentId::new("X", "SIM").unwrap(),
        "USD",
        Price::from_raw(10_000_000),
        Quantity::from_units(1),
        Money::ZERO,
    )
    .unwrap();
    let venue = SimConfig {
        fill_model: FillModel::Close,
        ..SimConfig::default()
    };
    let initial: Money = "10000".parse().unwrap();
    let run = Engine::new(instrument, venue, initial)
        .with_short_borrow("1000".parse::<Bps>().unwrap())
        .run(&bars, &mut ShortOnce(false))
        .unwrap();
    // Short 100 at 10 %/year for 10 days: 100 × 0.1 × 10 / 365.25.
    let expected = 100.0 * 0.1 * 10.0 / 365.25;
    assert!(
        (run.borrow_paid.as_f64() - expected).abs() < 1e-6,
        "{}",
        run.borrow_paid
    );
    // Cash = initial + short proceeds − borrow; equity = cash − 100.
    let equity = run.final_equity().as_f64();
    assert!((equity - (10_000.0 - expected)).abs() < 1e-6, "{equity}");
}
