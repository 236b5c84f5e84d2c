//! `tradepulse backtest CONFIG`.

use std::path::PathBuf;
use std::time::Instant;

use tradepulse_backtest::{Backtest, BacktestConfig, render_table};

/// Arguments of `backtest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backtest config (YAML), e.g. configs/backtests/sample.yaml.
    pub config: PathBuf,
    /// Write the report here instead of the config's `output.directory`.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print nothing on success (the report files are still written).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs the backtest and writes its report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let config =
        BacktestConfig::load(&args.config).map_err(tradepulse_backtest::BacktestError::from)?;
    let bars = config
        .data
        .load(&config.instrument)
        .map_err(tradepulse_backtest::BacktestError::from)?;
    let loaded = Instant::now();
    let backtest = Backtest::run_on(&config, bars)?;
    let ran = Instant::now();
    let dir = args.output.as_ref().unwrap_or(&config.output.directory);
    backtest.write(dir)?;
    let written = Instant::now();
    if !args.quiet {
        crate::output::print(&format!(
            "{}\nreport written to {}\n",
            render_table(&backtest.summary),
            dir.display()
        ))?;
        let run_secs = (ran - loaded).as_secs_f64();
        // Timing goes to stderr so stdout stays identical between runs.
        eprintln!(
            "timing: load {:.1} ms, run {:.1} ms ({:.1} M bars/s), report {:.1} ms, total {:.1} ms",
            (loaded - started).as_secs_f64() * 1e3,
            run_secs * 1e3,
            backtest.summary.bars_processed as f64 / run_secs.max(1e-9) / 1e6,
            (written - ran).as_secs_f64() * 1e3,
            (written - started).as_secs_f64() * 1e3,
        );
    }
    Ok(())
}
