//! Issue 4, realism: costs the portfolio carries between fills.

use tradepulse_backtest::Engine;
use tradepulse_execution::{FillModel, SimConfig};
use tradepulse_model::{Bar, Bps, Money, Price, Quantity, Side, UnixNanos};
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
    let instrument = crate::fixtures::cent_instrument();
    let venue = SimConfig {
        fill_model: FillModel::Close,
        ..SimConfig::default()
    };
    let initial: Money = "10000".parse().unwrap();
    let account = tradepulse_portfolio::AccountConfig {
        short_borrow_bps: "1000".parse::<Bps>().unwrap(),
        ..tradepulse_portfolio::AccountConfig::margin("1".parse().unwrap())
    };
    let run = Engine::new(instrument, venue, initial)
        .with_account(account)
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

#[test]
fn several_instruments_share_one_cash_account() {
    use crate::fixtures::{config, data_file};
    use tradepulse_backtest::Backtest;
    let yaml = format!(
        r"
data: {{path: '{}'}}
instrument: {{symbol: SPX, tick_size: 0.000001}}
universe:
  - instrument: {{symbol: RW, tick_size: 0.01}}
    data: {{path: '{}'}}
strategy: {{kind: buy_and_hold, params: {{size: {{equity_fraction: 0.4}}}}}}
execution: {{taker_fee_bps: 10}}
portfolio: {{initial_cash: 1000000}}
",
        data_file("spx_1d.csv").display(),
        data_file("synthetic_rw_1m.csv").display()
    );
    let cfg = config(&yaml);
    let spx = cfg.data.load(&cfg.instrument).unwrap();
    let rw = cfg.universe[0]
        .data
        .load(&cfg.universe[0].instrument)
        .unwrap();
    let result = Backtest::run_on(&cfg, spx.clone()).unwrap();
    let run = &result.run;
    // One buy per instrument, each sized from the shared equity.
    let instruments: Vec<String> = run.fills.iter().map(|f| f.instrument.to_string()).collect();
    assert_eq!(instruments, ["SPX.SIM", "RW.SIM"]);
    let spent: f64 = run
        .fills
        .iter()
        .map(|f| f.fill.notional().as_f64() + f.fill.fee.as_f64())
        .sum();
    assert!((run.final_cash.as_f64() - (1_000_000.0 - spent)).abs() < 1e-6);
    assert!(
        spent > 700_000.0,
        "both legs sized on shared equity: {spent}"
    );
    // Equity is recorded once per distinct timestamp of the merged feeds.
    assert_eq!(run.timestamps.len(), spx.len() + rw.len());
    assert!(run.timestamps.windows(2).all(|w| w[0] < w[1]));
    // Final equity = cash + both positions at their last closes.
    assert_eq!(run.positions.len(), 2);
    let value: f64 = run
        .positions
        .iter()
        .map(|p| p.position.market_value(p.mark).as_f64())
        .sum();
    assert!((run.final_equity().as_f64() - (run.final_cash.as_f64() + value)).abs() < 1e-6);
    assert_eq!(result.summary.instrument, "SPX.SIM,RW.SIM");
}
