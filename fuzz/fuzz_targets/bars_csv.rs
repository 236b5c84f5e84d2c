//! Bar CSV files: any bytes load as validated bars or give an error, never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tradepulse_data::{CsvOptions, read_bars};

fuzz_target!(|data: &[u8]| {
    if let Ok(bars) = read_bars(data, Path::new("fuzz.csv"), &CsvOptions::default(), 0) {
        assert!(!bars.is_empty());
        assert!(bars.windows(2).all(|w| w[0].ts < w[1].ts));
        assert!(bars.iter().all(|b| b.validate().is_ok()));
    }
});
