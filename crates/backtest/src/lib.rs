//! TradePulse backtester: the deterministic event loop, performance metrics and reports.
//!
//! Sits above model, data, strategy and execution, and below the store, server and CLI. A run
//! reads a [`BacktestConfig`], loads and validates the bars, drives the strategy through the
//! [`Engine`] (one thread, simulated clock, [`SimVenue`](tradepulse_execution::SimVenue) fills),
//! and produces a [`Summary`] plus report files ([`write_report`]). Same config and data ⇒
//! byte-identical files.
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

mod config;
mod engine;
mod html;
mod metrics;
mod overfit;
mod report;
pub mod sweep;
mod trades;
pub mod walk_forward;

use std::path::Path;

pub use config::{
    BacktestConfig, ConfigError, DataConfig, DataFormat, MetricsConfig, OutputConfig,
    PortfolioConfig, UniverseMember,
};
pub use engine::{Engine, EngineError, FillRecord, FinalPosition, RunResult};
pub use html::{
    IndicatorPane, IndicatorSeries, write_html_report, write_html_report_with_indicators,
    write_sweep_heatmap,
};
pub use metrics::{ExactMoney, Summary};
pub use overfit::{
    DeflatedSharpe, LogitSummary, MAX_CSCV_BLOCKS, OverfitError, Pbo, SharpeStats, deflated_sharpe,
    deflated_sharpe_of_trials, expected_max_sharpe, pbo_cscv, pbo_cscv_by, probabilistic_sharpe,
};
pub use report::{ReportError, render_table, write_report};
pub use trades::RoundTrip;

use tradepulse_data::DataError;
use tradepulse_model::Bar;

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
        let invalid = |field, reason: String| ConfigError::Invalid {
            path: "config".into(),
            field,
            reason,
        };
        let instrument = config
            .instrument
            .build()
            .map_err(|e| invalid("instrument", e.to_string()))?;
        let mut engine =
            Engine::for_config(config, instrument.clone(), config.portfolio.initial_cash);
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
        for _ in &ids {
            strategies.push(
                config
                    .strategy
                    .build()
                    .map_err(|e| invalid("strategy.params", e.reason))?,
            );
        }
        let mut feeds: Vec<&[Bar]> = vec![&bars];
        feeds.extend(member_bars.iter().map(Vec::as_slice));
        let mut refs: Vec<&mut (dyn tradepulse_strategy::Strategy + Send)> = strategies
            .iter_mut()
            .map(|s| s.as_mut() as &mut (dyn tradepulse_strategy::Strategy + Send))
            .collect();
        let run = engine.run_many(&feeds, &mut refs)?;
        let summary = Summary::compute(
            config.strategy.kind(),
            &ids.join(","),
            &run,
            config.metrics.periods_per_year,
        );
        Ok(Self { bars, run, summary })
    }

    /// Writes the report files into `dir`: [`write_report`]'s files plus `report.html` (and its
    /// PNG charts with the `charts` feature, see [`write_html_report`]).
    ///
    /// # Errors
    /// [`ReportError`] naming the file that could not be written.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        write_report(dir, &self.summary, &self.run)?;
        write_html_report(dir, &self.summary, &self.run, &self.bars)
    }
}
