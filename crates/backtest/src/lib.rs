//! TradePulse backtester: the deterministic replay driver, performance metrics and reports.
//!
//! Sits above model, data, strategy and execution, and below research (sweeps, walk-forward),
//! the store, server and CLI. A run reads a [`BacktestConfig`], loads and validates the bars,
//! drives the strategy through the [`Engine`] (one thread, simulated clock,
//! [`SimVenue`](tradepulse_execution::SimVenue) fills), and produces a [`Summary`] plus report
//! files ([`write_report`]). Same config and data ⇒ byte-identical files.
//!
//! [`Backtest::run_with`] is the one place a run is put together from a config: a plain
//! backtest, every sweep trial and every walk-forward window go through it, so they all trade
//! through the same pipeline with the same settings.
//!
//! ```no_run
//! use std::path::Path;
//! use tradepulse_backtest::{BacktestConfig, Backtest};
//!
//! let config = BacktestConfig::load(Path::new("configs/backtests/sample.yaml"))?;
//! let backtest = Backtest::run(&config)?;
//! println!("{}", tradepulse_backtest::render_table(&backtest.summary));
//! backtest.write(&config.output.directory)?;
//! # Ok::<(), tradepulse_backtest::BacktestError>(())
//! ```
//!
//! Feature `charts` (default): PNG versions of the HTML report charts, drawn with plotters.

mod calendar;
mod config;
mod engine;
mod html;
mod metrics;
mod report;
mod trades;

use std::path::Path;

pub use calendar::{Annualization, CALENDAR_DAYS_PER_YEAR, EXCHANGE_DAYS_PER_YEAR};
pub use config::{
    BacktestConfig, ConfigError, DataConfig, DataFormat, MetricsConfig, Objective, OutputConfig,
    ParamValues, PortfolioConfig, ReturnPeriod, SearchMethod, SweepConfig, UniverseMember,
    WalkForwardConfig, WindowLength,
};
pub use engine::{Engine, EngineError, FillRecord, FinalPosition, RunResult};
pub use html::{
    ChartWindow, IndicatorPane, IndicatorSeries, chart_payload_json, write_html_report,
    write_html_report_with_indicators, write_sweep_heatmap,
};
pub use metrics::{ExactMoney, Summary};
pub use report::{ReportError, render_table, write_report};
pub use trades::RoundTrip;

use tradepulse_data::DataError;
use tradepulse_model::{Bar, Money};
use tradepulse_strategy::StrategySpec;

/// Why a backtest did not produce a report. Every variant is a problem with the input (fix it and
/// run again) except [`BacktestError::Report`] (disk or permissions).
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    /// The config file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data file.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The run itself.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Writing the report.
    #[error(transparent)]
    Report(#[from] ReportError),
}

/// How one call of [`Backtest::run_with`] departs from the config.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// The first `warmup_bars` bars are history only: the strategy sees them, its orders there
    /// are rejected with `WARM_UP`, and equity and metrics start after them (walk-forward test
    /// windows enter with their indicators formed on the training bars).
    pub warmup_bars: usize,
    /// Starting cash instead of `portfolio.initial_cash` (a walk-forward window starts with the
    /// equity the previous one ended with).
    pub initial_cash: Option<Money>,
    /// The annualisation to use instead of measuring the run's own timestamps: many runs on the
    /// same data (sweep trials, walk-forward windows) measure the data's calendar once.
    pub annualization: Option<Annualization>,
    /// Prefix sums of the closes of the `bars` given to [`Backtest::run_with`], computed once
    /// and shared by many runs on those bars (sweep trials): the strategy reads its moving
    /// averages' window sums from them instead of keeping its own (same results to the bit).
    pub close_sums: Option<std::sync::Arc<tradepulse_strategy::CloseSums>>,
}

/// What [`Backtest::run_with`] produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Fills, trades, equity.
    pub run: RunResult,
    /// Metrics.
    pub summary: Summary,
}

/// A completed backtest: the bars it ran on, what happened, and its metrics.
#[derive(Debug)]
pub struct Backtest {
    /// The bars.
    pub bars: Vec<Bar>,
    /// Fills, trades, equity.
    pub run: RunResult,
    /// Metrics.
    pub summary: Summary,
}

impl Backtest {
    /// Loads the data named by `config` and runs it.
    ///
    /// # Errors
    /// [`BacktestError`] for bad config values, bad data or an engine failure.
    pub fn run(config: &BacktestConfig) -> Result<Self, BacktestError> {
        let bars = config.data.load(&config.instrument)?;
        Self::run_on(config, bars)
    }

    /// Runs `config` on bars already in memory for its main instrument (the `data` section is not
    /// read; the `universe` members' files are).
    ///
    /// # Errors
    /// [`BacktestError`] for bad config values or an engine failure.
    pub fn run_on(config: &BacktestConfig, bars: Vec<Bar>) -> Result<Self, BacktestError> {
        let RunOutput { run, summary } =
            Self::run_with(config, &config.strategy, &bars, RunOptions::default())?;
        Ok(Self { bars, run, summary })
    }

    /// The one entry point that turns a config into a run: `strategy` (the config's own, or a
    /// sweep trial's variant of it) trades `bars` (the main instrument's; the `universe`
    /// members' files are loaded) with the config's execution, portfolio and metrics settings,
    /// adjusted by `options`. [`Backtest::run_on`], every sweep trial and every walk-forward
    /// window call it.
    ///
    /// # Errors
    /// [`BacktestError::Config`] for an instrument or strategy parameters that do not build,
    /// [`BacktestError::Data`] for an unreadable universe file, [`BacktestError::Engine`] if the
    /// run fails.
    pub fn run_with(
        config: &BacktestConfig,
        strategy: &StrategySpec,
        bars: &[Bar],
        options: RunOptions,
    ) -> Result<RunOutput, BacktestError> {
        let invalid = |field, reason: String| ConfigError::Invalid {
            path: "config".into(),
            field,
            reason,
        };
        let instrument = config
            .instrument
            .build()
            .map_err(|e| invalid("instrument", e.to_string()))?;
        let initial_cash = options
            .initial_cash
            .unwrap_or(config.portfolio.initial_cash);
        let mut engine = Engine::for_config(config, instrument.clone(), initial_cash)
            .with_warmup(options.warmup_bars);
        let mut ids = vec![instrument.id().to_string()];
        let mut member_bars = Vec::with_capacity(config.universe.len());
        for (i, member) in config.universe.iter().enumerate() {
            let field = if i == 0 {
                "universe[0].instrument"
            } else {
                "universe[].instrument"
            };
            let other = member
                .instrument
                .build()
                .map_err(|e| invalid(field, e.to_string()))?;
            ids.push(other.id().to_string());
            engine = engine.add_instrument(other);
            member_bars.push(member.data.load(&member.instrument)?);
        }
        // One strategy instance per instrument, each seeing only its own bars.
        let mut strategies = Vec::with_capacity(ids.len());
        for i in 0..ids.len() {
            // The shared sums are of `bars`, the first instrument's feed.
            let built = match &options.close_sums {
                Some(sums) if i == 0 => strategy.build_with_sums(sums),
                _ => strategy.build(),
            };
            strategies.push(built.map_err(|e| invalid("strategy.params", e.reason))?);
        }
        let mut feeds: Vec<&[Bar]> = vec![bars];
        feeds.extend(member_bars.iter().map(Vec::as_slice));
        let mut refs: Vec<&mut (dyn tradepulse_strategy::Strategy + Send)> = strategies
            .iter_mut()
            .map(|s| s.as_mut() as &mut (dyn tradepulse_strategy::Strategy + Send))
            .collect();
        let run = engine.run_many(&feeds, &mut refs)?;
        let annualization = options.annualization.unwrap_or_else(|| {
            Annualization::measure(&config.metrics, run.timestamps.iter().copied())
        });
        let summary = Summary::compute(
            strategy.kind(),
            &ids.join(","),
            &run,
            &config.metrics,
            annualization,
        );
        Ok(RunOutput { run, summary })
    }

    /// Writes the report files into `dir`: [`write_report`]'s files plus `report.html` (and its
    /// PNG charts with the `charts` feature, see [`write_html_report`]).
    ///
    /// # Errors
    /// [`ReportError`] naming the file that could not be written.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        // The two writers share nothing but `dir`, and on a million bars each takes a good part
        // of the report's time (`equity.csv`; the HTML payload and the PNG charts): written
        // side by side on rayon's pool. Each file's bytes are those of a sequential write.
        let (files, html) = rayon::join(
            || write_report(dir, &self.summary, &self.run),
            || write_html_report(dir, &self.summary, &self.run, &self.bars),
        );
        files?;
        html
    }
}
