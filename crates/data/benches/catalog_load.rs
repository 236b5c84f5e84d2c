//! Catalog load benchmark (issue 5: "loading 1M bars from the catalog ≤ 100 ms").
//!
//! Generates 1,000,000 one-minute bars with `RandomWalk` (≈ 694 UTC-day partitions), imports
//! them into a temporary catalog, then times `Catalog::load` of the whole instrument (median
//! and best of 10 runs, after one warm-up run; files are in the OS page cache, as in a
//! backtest sweep that re-reads the same data). Run with
//! `cargo bench -p tradepulse-data --bench catalog_load`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark binary")]

use std::path::Path;
use std::time::Instant;

use tradepulse_data::{Catalog, CsvOptions, RandomWalk, read_bars};
use tradepulse_model::InstrumentId;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n = 1_000_000;
    let mut csv = Vec::new();
    RandomWalk {
        bars: n,
        ..RandomWalk::default()
    }
    .write_csv(&mut csv)
    .unwrap();
    let bars = read_bars(csv.as_slice(), Path::new("walk.csv"), &CsvOptions::default(), n).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::new(dir.path());
    let id: InstrumentId = "WALK.SIM".parse().unwrap();
    let started = Instant::now();
    let report = catalog.import(&id, &bars).unwrap();
    let import = started.elapsed();
    let bytes: u64 = catalog
        .partitions()
        .unwrap()
        .iter()
        .map(|p| std::fs::metadata(&p.path).unwrap().len())
        .sum();
    println!(
        "catalog import: {} bars into {} partitions in {:.2} s ({:.1} MB on disk)",
        report.bars,
        report.partitions,
        import.as_secs_f64(),
        bytes as f64 / 1e6
    );
    assert_eq!(catalog.load(&id).unwrap(), bars);
    let mut times: Vec<f64> = (0..10)
        .map(|_| {
            let t = Instant::now();
            let loaded = catalog.load(&id).unwrap();
            let ms = t.elapsed().as_secs_f64() * 1e3;
            assert_eq!(loaded.len(), n);
            ms
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "catalog load: {n} bars  median {:.1} ms  best {:.1} ms  worst {:.1} ms  ({} threads)",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    );
}
