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

use tradepulse_data::{Catalog, CatalogCompression, CsvOptions, RandomWalk, read_bars};
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
    let bars = read_bars(
        csv.as_slice(),
        Path::new("walk.csv"),
        &CsvOptions::default(),
        n,
    )
    .unwrap();
    for compression in [CatalogCompression::None, CatalogCompression::Snappy] {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path()).with_compression(compression);
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
            "catalog {compression:?} import: {} bars into {} partitions in {:.2} s ({:.1} MB on disk)",
            report.bars,
            report.partitions,
            import.as_secs_f64(),
            bytes as f64 / 1e6
        );
        assert_eq!(catalog.load(&id).unwrap(), bars);
        let cpu_before = process_cpu_ms();
        let mut times: Vec<f64> = (0..10)
            .map(|_| {
                let t = Instant::now();
                let loaded = catalog.load(&id).unwrap();
                let ms = t.elapsed().as_secs_f64() * 1e3;
                assert_eq!(loaded.len(), n);
                ms
            })
            .collect();
        let cpu_per_load = (process_cpu_ms() - cpu_before) / 10.0;
        times.sort_by(f64::total_cmp);
        println!(
            "catalog {compression:?} load: {n} bars  median {:.1} ms  best {:.1} ms  worst {:.1} ms  \
             ({} threads; CPU time {cpu_per_load:.0} ms per load)",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        );
    }
}

/// User + system CPU time of this process so far (all threads), from `/proc/self/stat`
/// (Linux; 0 elsewhere). Reported because wall time on a shared machine overstates the cost.
fn process_cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Clock ticks are 100 per second on Linux (USER_HZ).
    (ticks(11) + ticks(12)) * 10.0
}
