//! `tradepulse backtest CONFIG`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use tradepulse_backtest::{Backtest, BacktestConfig, render_table};
use tradepulse_model::UnixNanos;
use tradepulse_store::{DatabaseUrl, NewBacktestRun, RunId, Store};

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
    /// Also store the run (config, metrics, round trips) in this database — `postgres://…`,
    /// `sqlite://PATH` or a SQLite file path — where `tradepulse serve` lists it
    /// (`GET /v1/backtests`).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Runs the backtest and writes its report.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let started = Instant::now();
    let started_at = super::wall_clock();
    let (config, document) = BacktestConfig::load_with_document(&args.config)
        .map_err(tradepulse_backtest::BacktestError::from)?;
    let bars = config
        .data
        .load(&config.instrument)
        .map_err(tradepulse_backtest::BacktestError::from)?;
    let loaded = Instant::now();
    let backtest = Backtest::run_on(&config, bars)?;
    let ran = Instant::now();
    let dir = args.output.as_ref().unwrap_or(&config.output.directory);
    backtest.write(dir)?;
    let stored = match &args.database_url {
        Some(url) => Some(store_run(
            url,
            &args.config,
            document,
            &backtest,
            started_at,
        )?),
        None => None,
    };
    let written = Instant::now();
    if !args.quiet {
        crate::output::print(&format!(
            "{}\nreport written to {}\n",
            render_table(&backtest.summary),
            dir.display()
        ))?;
        if let Some(id) = stored {
            crate::output::print(&format!("stored as run {id}\n"))?;
        }
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

/// Saves the run (one transaction) and returns its id.
fn store_run(
    url: &str,
    path: &Path,
    document: serde_json::Value,
    backtest: &Backtest,
    started_at: UnixNanos,
) -> anyhow::Result<RunId> {
    let name = path.file_stem().map_or_else(
        || "backtest".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let record =
        NewBacktestRun::from_backtest(&name, document, backtest, started_at, super::wall_clock());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let url = DatabaseUrl::resolve(Some(url)).map_err(super::token::store_error)?;
        let store = Store::connect(&url)
            .await
            .map_err(super::token::store_error)?;
        let id = store.save_run(&record).await;
        store.close().await;
        id.with_context(|| format!("storing the run in {}", url.redacted()))
    })
}
