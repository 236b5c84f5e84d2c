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
