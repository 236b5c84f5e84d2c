//! The schema of a config's `sweep:` and `walk_forward:` sections.
//!
//! They are part of the one backtest config file (one schema, unknown keys are errors with their
//! line), so their types are declared here, next to [`BacktestConfig`](crate::BacktestConfig).
//! What they mean — expanding the grid, running the trials, laying out the windows — is
//! `tradepulse-research`'s; this module only describes what may be written.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The `sweep` section of a config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Grid (every combination) or random (a seeded sample).
    #[serde(default)]
    pub method: SearchMethod,
    /// Number of random draws (random search only).
    #[serde(default)]
    pub samples: Option<usize>,
    /// Seed of the random search.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// What to maximise.
    #[serde(default)]
    pub objective: Objective,
    /// Parameter name (as under `strategy.params`) → values to try.
    pub parameters: BTreeMap<String, ParamValues>,
    /// Blocks for the PBO's combinatorially symmetric cross-validation (even, ≥ 4).
    #[serde(default = "default_blocks")]
    pub pbo_blocks: usize,
    /// The periods of the return series each trial keeps for the Deflated Sharpe Ratio and the
    /// PBO.
    #[serde(default)]
    pub returns: ReturnPeriod,
}

/// The period of the return series a sweep keeps per trial (`sweep.returns`): one return per
/// period, the change of equity from the end of one period to the end of the next (the first
/// against the initial cash). The number of periods is the T of the overfitting statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ReturnPeriod {
    /// One return per trading day (UTC date with bars): T is the number of trading days, whatever
    /// the bar interval.
    #[default]
    TradingDay,
    /// One return per bar: T is the number of bars (small data only: every trial keeps T
    /// numbers).
    Bar,
    /// One return per block of `bars` consecutive bars (the last block may be shorter).
    Bars(usize),
}

fn default_seed() -> u64 {
    42
}

fn default_blocks() -> usize {
    16
}

/// Grid or random search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SearchMethod {
    /// Every combination.
    #[default]
    Grid,
    /// `samples` seeded draws, duplicates removed.
    Random,
}

/// Values of one parameter.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ParamValues {
    /// An explicit list, e.g. `[5, 10, 20]`.
    List(Vec<f64>),
    /// `from`, `from + step`, … up to and including `to`.
    Range {
        /// First value.
        from: f64,
        /// Last value (included if reached).
        to: f64,
        /// Increment (> 0).
        step: f64,
    },
}

/// The metric a sweep maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    /// Annualised Sharpe ratio.
    #[default]
    Sharpe,
    /// Annualised Sortino ratio.
    Sortino,
    /// CAGR / max drawdown.
    Calmar,
    /// Final / initial − 1.
    TotalReturn,
    /// Compound annual growth.
    Cagr,
    /// Gross wins / gross losses.
    ProfitFactor,
    /// Winning round trips / round trips.
    WinRate,
    /// The negated max drawdown (so that smaller drawdowns rank higher).
    MinDrawdown,
}

impl Objective {
    /// Snake-case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sharpe => "sharpe",
            Self::Sortino => "sortino",
            Self::Calmar => "calmar",
            Self::TotalReturn => "total_return",
            Self::Cagr => "cagr",
            Self::ProfitFactor => "profit_factor",
            Self::WinRate => "win_rate",
            Self::MinDrawdown => "min_drawdown",
        }
    }
}

/// The `walk_forward` section of a config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkForwardConfig {
    /// Training window length.
    pub train: WindowLength,
    /// Test window length.
    pub test: WindowLength,
    /// Distance between consecutive windows (default: the test length, so test windows tile).
    #[serde(default)]
    pub step: Option<WindowLength>,
    /// Anchored (expanding) training windows instead of rolling ones.
    #[serde(default)]
    pub anchored: bool,
}

/// A window length: a number of bars or a duration such as `90d`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum WindowLength {
    /// A bar count.
    Bars(usize),
    /// A duration: an integer and a unit (`s`, `m`, `h`, `d`, `w`), e.g. `12h`.
    Duration(String),
}
