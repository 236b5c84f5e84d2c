//! Backtest configs: any text parses into a valid config or gives an error, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tradepulse_backtest::BacktestConfig;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = BacktestConfig::parse(text, Path::new("fuzz.yaml"));
    }
});
