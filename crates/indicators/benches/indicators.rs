//! Criterion benchmarks of the hot indicators (issue 3, acceptance 6).
//!
//! Run with `cargo bench -p tradepulse-indicators`. What each group measures:
//! - `batch/<ind>/<n>`: one `batch_into` call over `n` inputs into a reused output buffer
//!   (throughput in elements, so criterion prints elements/s; ns per element = 1e9 / that).
//!   Compared with TA-Lib's C code measured on the same machine at 1M inputs.
//! - `batch_alloc/<ind>`: `batch` allocating its output, to show the first-touch cost.
//! - `stream/<ind>`: `update` called once per input over 1M inputs, the live-trading path
//!   (ns per update, same conversion).
//! - `stream_window/<ind>/<w>`: streaming `update` over 100k inputs for the order-statistics
//!   indicators (CCI on candles, entropy and ΔH with 10 bins on returns) at windows 50, 200
//!   and 1000: ns per update should grow like log w, not like w.
//! - `hurst/{rs,dfa}/<w>`: streaming `HurstRs` / `HurstDfa` `update` over 200k increments of
//!   the walk at windows 128, 512 and 2048 (ns per update; the cost grows with the number of
//!   scales, i.e. like log w).
//! - `ollivier_ricci/window_200`: one update of the windowed Ollivier–Ricci curvature that
//!   completes a 200-bar random-walk window (the edge changes and the exact transport problems
//!   of the stale edges), and `ollivier_ricci/spx_2008_200` on the busiest 200-bar window of
//!   `data/spx_1d.csv` (steady state), `…_cold` the first full window there (every edge solved).
//! - `ollivier_ricci_stream/<series>/<w>`: `OllivierRicci(w, 0.005, 0.5)` streamed over a whole
//!   series (a 5,000-bar log random walk, the 5,031 S&P 500 closes), w = 200 and 1000; the
//!   setup also prints the median, 99th percentile and maximum of single updates.
//!
//! Inputs are a deterministic random walk so runs are comparable. Time is the benchmark
//! thread's CPU time (`tradepulse-bench-clock`): on this shared 2-core machine wall time
//! measures the neighbours too; on a quiet machine the two agree.

#![allow(
    clippy::unwrap_used,
    reason = "benchmark setup: a failed unwrap is a broken benchmark"
)]
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tradepulse_bench_clock::ThreadCpuTime;
use tradepulse_indicators::{
    Atr, Bollinger, Candle, Cci, DeltaEntropy, Ema, Entropy, HurstDfa, HurstRs, Indicator,
    OllivierRicci, Rsi, Sma, TransitionGraph,
};

mod series;
use series::log_walk;

fn walk(n: usize) -> Vec<f64> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut p = 1000.0;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            p += ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0;
            p
        })
        .collect()
}

fn candles(closes: &[f64]) -> Vec<Candle> {
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let spread = 0.5 + (i % 7) as f64 * 0.1;
            Candle::new(c, c + spread, c - spread, c, 1000.0)
        })
        .collect()
}

fn batch(c: &mut Criterion<ThreadCpuTime>) {
    let mut g = c.benchmark_group("batch");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for n in [1_000_000usize, 10_000_000] {
        let x = walk(n);
        let bars = candles(&x);
        g.throughput(Throughput::Elements(n as u64));
        // `batch_into` with a reused output buffer: the loop itself, as TA-Lib is measured
        // (caller-provided output array).
        let mut out = Vec::new();
        g.bench_with_input(BenchmarkId::new("sma_50", n), &x, |b, x| {
            let mut i = Sma::new(50).unwrap();
            b.iter(|| black_box(i.batch_into(black_box(x), &mut out)));
        });
        g.bench_with_input(BenchmarkId::new("ema_50", n), &x, |b, x| {
            let mut i = Ema::new(50).unwrap();
            b.iter(|| black_box(i.batch_into(black_box(x), &mut out)));
        });
        g.bench_with_input(BenchmarkId::new("rsi_14", n), &x, |b, x| {
            let mut i = Rsi::new(14).unwrap();
            b.iter(|| black_box(i.batch_into(black_box(x), &mut out)));
        });
        g.bench_with_input(BenchmarkId::new("atr_14", n), &bars, |b, x| {
            let mut i = Atr::new(14).unwrap();
            b.iter(|| black_box(i.batch_into(black_box(x), &mut out)));
        });
        // ATR over high/low/close columns, the layout TA-Lib reads.
        let (high, low): (Vec<f64>, Vec<f64>) = bars.iter().map(|c| (c.high, c.low)).unzip();
        g.bench_with_input(BenchmarkId::new("atr_14_columns", n), &x, |b, x| {
            let mut i = Atr::new(14).unwrap();
            b.iter(|| {
                black_box(
                    i.batch_columns_into(&high, &low, black_box(x), &mut out)
                        .unwrap(),
                )
            });
        });
        let mut bands = Vec::new();
        g.bench_with_input(BenchmarkId::new("bbands_20_2", n), &x, |b, x| {
            let mut i = Bollinger::new(20, 2.0, 2.0).unwrap();
            b.iter(|| black_box(i.batch_into(black_box(x), &mut bands)));
        });
    }
    g.finish();
    // `batch` allocating a fresh output per call: adds the cost of page-faulting new memory.
    let mut g = c.benchmark_group("batch_alloc");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = 1_000_000usize;
    let x = walk(n);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("sma_50", |b| {
        let mut i = Sma::new(50).unwrap();
        b.iter(|| black_box(i.batch(black_box(&x))));
    });
    g.bench_function("bbands_20_2", |b| {
        let mut i = Bollinger::new(20, 2.0, 2.0).unwrap();
        b.iter(|| black_box(i.batch(black_box(&x))));
    });
    g.finish();
}

fn stream_all<I: Indicator>(ind: &mut I, xs: &[I::Input]) -> usize {
    ind.reset();
    let mut ready = 0;
    for &x in xs {
        if black_box(ind.update(black_box(x))).is_some() {
            ready += 1;
        }
    }
    ready
}

fn stream(c: &mut Criterion<ThreadCpuTime>) {
    let mut g = c.benchmark_group("stream");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = 1_000_000usize;
    let x = walk(n);
    let bars = candles(&x);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("sma_50", |b| {
        let mut i = Sma::new(50).unwrap();
        b.iter(|| stream_all(&mut i, &x));
    });
    g.bench_function("ema_50", |b| {
        let mut i = Ema::new(50).unwrap();
        b.iter(|| stream_all(&mut i, &x));
    });
    g.bench_function("rsi_14", |b| {
        let mut i = Rsi::new(14).unwrap();
        b.iter(|| stream_all(&mut i, &x));
    });
    g.bench_function("atr_14", |b| {
        let mut i = Atr::new(14).unwrap();
        b.iter(|| stream_all(&mut i, &bars));
    });
    g.bench_function("bbands_20_2", |b| {
        let mut i = Bollinger::new(20, 2.0, 2.0).unwrap();
        b.iter(|| stream_all(&mut i, &x));
    });
    g.bench_function("cci_14", |b| {
        let mut i = Cci::new(14).unwrap();
        b.iter(|| stream_all(&mut i, &bars));
    });
    g.finish();
}

/// Streaming cost against the window length of the indicators kept in an order-statistics tree.
fn stream_window(c: &mut Criterion<ThreadCpuTime>) {
    let mut g = c.benchmark_group("stream_window");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = 100_000usize;
    let x = walk(n + 1);
    let bars = candles(&x[1..]);
    let returns: Vec<f64> = x.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
    g.throughput(Throughput::Elements(n as u64));
    for w in [50usize, 200, 1000] {
        g.bench_with_input(BenchmarkId::new("cci", w), &bars, |b, bars| {
            let mut i = Cci::new(w).unwrap();
            b.iter(|| stream_all(&mut i, bars));
        });
        g.bench_with_input(BenchmarkId::new("entropy_10", w), &returns, |b, r| {
            let mut i = Entropy::new(w, 10).unwrap();
            b.iter(|| stream_all(&mut i, r));
        });
        g.bench_with_input(BenchmarkId::new("delta_entropy_10", w), &returns, |b, r| {
            let mut i = DeltaEntropy::new(w, 10).unwrap();
            b.iter(|| stream_all(&mut i, r));
        });
    }
    g.finish();
}

/// Streaming Hurst estimators against the window length.
fn hurst(c: &mut Criterion<ThreadCpuTime>) {
    let mut g = c.benchmark_group("hurst");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let n = 200_000usize;
    let increments: Vec<f64> = walk(n + 1).windows(2).map(|w| w[1] - w[0]).collect();
    g.throughput(Throughput::Elements(n as u64));
    for w in [128usize, 512, 2048] {
        g.bench_with_input(BenchmarkId::new("rs", w), &increments, |b, x| {
            let mut i = HurstRs::new(w).unwrap();
            b.iter(|| stream_all(&mut i, x));
        });
        g.bench_with_input(BenchmarkId::new("dfa", w), &increments, |b, x| {
            let mut i = HurstDfa::new(w).unwrap();
            b.iter(|| stream_all(&mut i, x));
        });
    }
    g.finish();
}

fn ricci(c: &mut Criterion<ThreadCpuTime>) {
    let mut g = c.benchmark_group("ollivier_ricci");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    // A daily-like random walk (≈1% moves) over 200 bars with 0.5% levels: a few dozen nodes.
    let x: Vec<f64> = walk(400)
        .iter()
        .map(|p| 1000.0 + (p - 1000.0) * 10.0)
        .collect();
    let mut ind = OllivierRicci::new(200, 0.005, 0.5).unwrap();
    for &p in &x[..399] {
        ind.update(p);
    }
    // Each iteration updates a fresh copy of the warmed-up indicator, so every measured update
    // sees the same 200-bar window (re-feeding one indicator would flatten its window). The
    // copy has seen 399 prices (a full window before this one), so the update is one
    // incremental step.
    let size = ind
        .clone()
        .update(x[399])
        .map(|_| TransitionGraph::from_prices(&x[200..], 0.005));
    if let Some(g) = size {
        eprintln!(
            "ollivier_ricci/window_200: graph of {} nodes, {} edges",
            g.node_count(),
            g.edges().count()
        );
    }
    g.bench_function("window_200", |b| {
        b.iter_batched(
            || ind.clone(),
            |mut i| black_box(i.update(black_box(x[399]))),
            BatchSize::SmallInput,
        );
    });
    // The busiest 200-bar window of the repo's S&P 500 file (late 2008: 0.5% levels give the
    // largest graph of any window in data/).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/spx_1d.csv");
    if let Ok(text) = std::fs::read_to_string(&path) {
        let closes: Vec<f64> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(4)?.parse().ok())
            .collect();
        if closes.len() >= 2600 {
            let window = &closes[2400..2600];
            let graph = TransitionGraph::from_prices(window, 0.005);
            eprintln!(
                "ollivier_ricci/spx_2008_200: graph of {} nodes, {} edges",
                graph.node_count(),
                graph.edges().count()
            );
            // Steady state: the indicator has seen the 200 bars before the window, so the
            // update is one incremental step (edge changes + the stale edges re-solved).
            let mut ind = OllivierRicci::new(200, 0.005, 0.5).unwrap();
            for &p in &closes[2201..2599] {
                ind.update(p);
            }
            g.bench_function("spx_2008_200", |b| {
                b.iter_batched(
                    || ind.clone(),
                    |mut i| black_box(i.update(black_box(window[199]))),
                    BatchSize::SmallInput,
                );
            });
            // Cold: the first full window, every edge solved (what each update cost before the
            // streaming form, and what loading a checkpoint costs once).
            let mut cold = OllivierRicci::new(200, 0.005, 0.5).unwrap();
            for &p in &window[..199] {
                cold.update(p);
            }
            g.bench_function("spx_2008_200_cold", |b| {
                b.iter_batched(
                    || cold.clone(),
                    |mut i| black_box(i.update(black_box(window[199]))),
                    BatchSize::SmallInput,
                );
            });
        }
    }
    g.finish();
}

fn spx_closes() -> Option<Vec<f64>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/spx_1d.csv");
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(4)?.parse().ok())
            .collect(),
    )
}

/// Streaming `OllivierRicci(w, 0.005, 0.5)` over a whole series: ns per update (the warm-up
/// updates included, they are a small part), plus a one-off printout of the median, 99th
/// percentile and slowest single update after warm-up, each update replayed on five copies of
/// the state before it and the fastest kept (so that preemption on a busy machine does not
/// count as the update's cost).
fn ricci_stream(c: &mut Criterion<ThreadCpuTime>) {
    let mut g = c.benchmark_group("ollivier_ricci_stream");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let mut series = vec![("walk", log_walk(5_000))];
    if let Some(spx) = spx_closes() {
        series.push(("spx", spx));
    }
    for (name, xs) in &series {
        for w in [200usize, 1000] {
            let mut ind = OllivierRicci::new(w, 0.005, 0.5).unwrap();
            let mut times: Vec<u128> = xs
                .iter()
                .enumerate()
                .filter_map(|(i, &x)| {
                    let replayed = (i >= w - 1).then(|| {
                        (0..5)
                            .map(|_| {
                                let mut copy = ind.clone();
                                let t = std::time::Instant::now();
                                black_box(copy.update(black_box(x)));
                                t.elapsed().as_nanos()
                            })
                            .min()
                            .unwrap_or(0)
                    });
                    ind.update(x);
                    replayed
                })
                .collect();
            times.sort_unstable();
            if let Some(&max) = times.last() {
                eprintln!(
                    "ollivier_ricci_stream/{name}_{w}: {} updates after warm-up, median {} ns, \
                     p99 {} ns, max {} ns",
                    times.len(),
                    times[times.len() / 2],
                    times[times.len() * 99 / 100],
                    max
                );
            }
            g.throughput(Throughput::Elements(xs.len() as u64));
            g.bench_with_input(BenchmarkId::new(*name, w), xs, |b, xs| {
                let mut ind = OllivierRicci::new(w, 0.005, 0.5).unwrap();
                b.iter(|| stream_all(&mut ind, xs));
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = batch, stream, stream_window, hurst, ricci, ricci_stream
}
criterion_main!(benches);
