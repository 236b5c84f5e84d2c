//! Backtest engine throughput: `sma_cross` 10/50 over 1,000,000 one-minute bars held in memory.
//!
//! Measures the event loop alone (venue matching, strategy, booking, equity marking) — the
//! headline "bars per second on one thread" of docs/PERFORMANCE.md — and, separately, the
//! metrics pass. CSV loading and report writing are measured by the `tradepulse backtest`
//! command itself (it prints a timing line).
//!
//! Run with `cargo bench -p tradepulse-backtest --bench engine`.
//!
//! Time is the benchmark thread's **CPU time** (`tradepulse-bench-clock`), not wall
//! time: the development machine has two cores shared with compilers and other work, and wall
//! time there measures the neighbours as much as the engine. On an idle machine the two agree.

#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented function"
)]
#![allow(
    clippy::expect_used,
    reason = "a benchmark setup failure should abort loudly"
)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tradepulse_backtest::{Annualization, BacktestConfig, Engine, Summary};
use tradepulse_bench_clock::ThreadCpuTime;
use tradepulse_data::{CsvOptions, RandomWalk, read_bars};
use tradepulse_model::Bar;

const BARS: usize = 1_000_000;

// The allocator the `tradepulse` binary uses, so the benchmark measures what the command runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn bars() -> Vec<Bar> {
    let mut csv = Vec::new();
    RandomWalk {
        bars: BARS,
        ..RandomWalk::default()
    }
    .write_csv(&mut csv)
    .expect("generate");
    read_bars(
        csv.as_slice(),
        Path::new("bench.csv"),
        &CsvOptions::default(),
        BARS,
    )
    .expect("parse")
}

fn config() -> BacktestConfig {
    BacktestConfig::parse(
        "data: {path: unused.csv}
instrument: {symbol: RW, tick_size: 0.01}
strategy: {kind: sma_cross, params: {fast: 10, slow: 50, size: {units: 1}}}
execution: {fill_model: next_open, taker_fee_bps: 10}
portfolio: {initial_cash: 1000000}
risk:
  max_order_quantity: 100
  max_order_notional: 100000
  max_position: 100
  max_gross_exposure: 1000000
  max_open_orders: 10
  order_rate: {per_strategy: {orders: 100, seconds: 1}}
  price_band: {max_deviation_bps: 1000}
  daily_loss_limit: 500000
  max_drawdown: 0.9
",
        Path::new("bench.yaml"),
    )
    .expect("config")
}

fn engine(c: &mut Criterion<ThreadCpuTime>) {
    let bars = bars();
    let config = config();
    let instrument = config.instrument.build().expect("instrument");
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BARS as u64));
    group.bench_function("sma_cross_10_50_1M_bars", |b| {
        b.iter(|| {
            let mut strategy = config.strategy.build().expect("strategy");
            let engine =
                Engine::for_config(&config, instrument.clone(), config.portfolio.initial_cash);
            black_box(
                engine
                    .run(black_box(&bars), strategy.as_mut())
                    .expect("run"),
            )
        });
    });
    // The loop's own cost per bar: a strategy that trades once.
    let hold = BacktestConfig::parse(
        "data: {path: unused.csv}
instrument: {symbol: RW, tick_size: 0.01}
strategy: {kind: buy_and_hold, params: {size: {units: 1}}}
portfolio: {initial_cash: 1000000}
",
        Path::new("hold.yaml"),
    )
    .expect("config");
    group.bench_function("buy_and_hold_1M_bars", |b| {
        b.iter(|| {
            let mut strategy = hold.strategy.build().expect("strategy");
            let engine = Engine::new(
                instrument.clone(),
                hold.execution,
                hold.portfolio.initial_cash,
            );
            black_box(
                engine
                    .run(black_box(&bars), strategy.as_mut())
                    .expect("run"),
            )
        });
    });
    let mut strategy = config.strategy.build().expect("strategy");
    let run = Engine::new(
        instrument.clone(),
        config.execution,
        config.portfolio.initial_cash,
    )
    .run(&bars, strategy.as_mut())
    .expect("run");
    group.bench_function("metrics_1M_bars", |b| {
        let metrics = config.metrics.clone();
        b.iter(|| {
            let annualization = Annualization::measure(&metrics, run.timestamps.iter().copied());
            black_box(Summary::compute(
                "sma_cross",
                "RW.SIM",
                &run,
                &metrics,
                annualization,
            ))
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = engine
}
criterion_main!(benches);
