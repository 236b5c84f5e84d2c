//! One backtest of the engine benchmark's workload (sma_cross 10/50 with risk limits on
//! 1,000,000 synthetic bars held in memory), for profilers that count instructions:
//!
//! ```sh
//! cargo build --release -p tradepulse-backtest --example engine_run
//! valgrind --tool=callgrind target/release/examples/engine_run [buy_and_hold]
//! ```

#![allow(
    clippy::expect_used,
    reason = "an example that aborts loudly on a broken setup"
)]

use std::path::Path;

use tradepulse_backtest::{BacktestConfig, Engine};
use tradepulse_data::{CsvOptions, RandomWalk, read_bars};

// The allocator the `tradepulse` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let strategy = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sma_cross".into());
    let params = if strategy == "buy_and_hold" {
        "{size: {units: 1}}"
    } else {
        "{fast: 10, slow: 50, size: {units: 1}, direction: long_only}"
    };
    let config = BacktestConfig::parse(
        &format!(
            "data: {{path: unused.csv}}
instrument: {{symbol: RW, tick_size: 0.01}}
strategy: {{kind: {strategy}, params: {params}}}
execution: {{fill_model: next_open, taker_fee_bps: 10}}
portfolio: {{initial_cash: 1000000}}
risk:
  max_order_quantity: 100
  max_order_notional: 100000
  max_position: 100
  max_gross_exposure: 1000000
  max_open_orders: 10
  order_rate: {{per_strategy: {{orders: 100, seconds: 1}}}}
  price_band: {{max_deviation_bps: 1000}}
  daily_loss_limit: 500000
  max_drawdown: 0.9
"
        ),
        Path::new("engine_run.yaml"),
    )
    .expect("config");
    let mut csv = Vec::new();
    RandomWalk::default().write_csv(&mut csv).expect("generate");
    let bars = read_bars(
        csv.as_slice(),
        Path::new("rw.csv"),
        &CsvOptions::default(),
        1_000_000,
    )
    .expect("parse");
    let instrument = config.instrument.build().expect("instrument");
    let mut s = config.strategy.build().expect("strategy");
    let started = std::time::Instant::now();
    let run = Engine::for_config(&config, instrument, config.portfolio.initial_cash)
        .run(&bars, s.as_mut())
        .expect("run");
    eprintln!(
        "{} fills, final equity {}, {:.1} ms",
        run.fills.len(),
        run.final_equity(),
        started.elapsed().as_secs_f64() * 1e3
    );
}
