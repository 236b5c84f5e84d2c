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

/// A 3 × 3 grid of `sma_cross` windows (trial 6, fast 20 / slow 20, is invalid) with a
/// walk-forward layout.
pub const SWEEP: &str = r"
data: {path: unused.csv}
instrument: {symbol: SPX, tick_size: 0.000001}
strategy: {kind: sma_cross, params: {fast: 10, slow: 50, size: {units: 1}}}
execution: {taker_fee_bps: 10}
portfolio: {initial_cash: 1000000}
sweep:
  objective: sharpe
  parameters:
    fast: [5, 10, 20]
    slow: {from: 20, to: 60, step: 20}
walk_forward: {train: 1000, test: 500}
";
