//! Shared test inputs.

use std::path::PathBuf;

use tradepulse_backtest::BacktestConfig;
use tradepulse_data::{CsvOptions, load_bars_csv};
use tradepulse_model::Bar;

/// A file of the repository's `data/` directory.
pub fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

/// The daily S&P 500 bars shipped in the repository.
pub fn spx() -> Vec<Bar> {
    load_bars_csv(&data_file("spx_1d.csv"), &CsvOptions::default()).expect("spx_1d.csv loads")
}

/// A config built from YAML text, panicking with the error on failure.
pub fn config(yaml: &str) -> BacktestConfig {
    BacktestConfig::parse(yaml, "test.yaml".as_ref()).unwrap_or_else(|e| panic!("{e}"))
}

/// SMA(fast/slow) long-only with a fixed size, 10 bp fees, 1,000,000 cash.
pub fn sma_config(
    fill_model: &str,
    fast: usize,
    slow: usize,
    extra_params: &str,
) -> BacktestConfig {
    config(&format!(
        r"
data: {{path: unused.csv}}
instrument: {{symbol: SPX, tick_size: 0.000001}}
strategy:
  kind: sma_cross
  params: {{fast: {fast}, slow: {slow}, size: {{units: 1}}{extra_params}}}
execution: {{fill_model: {fill_model}, maker_fee_bps: 10, taker_fee_bps: 10}}
portfolio: {{initial_cash: 1000000}}
"
    ))
}

/// `X.SIM`: tick 0.01, lot 1, no minimum notional.
pub fn cent_instrument() -> tradepulse_model::Instrument {
    use tradepulse_model::{Instrument, InstrumentId, Money, Price, Quantity};
    Instrument::new(
        InstrumentId::new("X", "SIM").unwrap(),
        "USD",
        Price::from_raw(10_000_000),
        Quantity::from_units(1),
        Money::ZERO,
    )
    .unwrap()
}
