//! One trial: its parameters ([`Trial`]), what it produced ([`TrialResult`]) and the metrics a
//! sweep keeps of it ([`TrialMetrics`]).

use serde::{Deserialize, Serialize};
use tradepulse_backtest::{Objective, Summary};
use tradepulse_model::Money;

/// One parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Position in the full (unsharded) trial list.
    pub id: usize,
    /// Parameter values, in the order of [`SweepPlan::names`](super::SweepPlan::names).
    pub values: Vec<f64>,
}

/// The metrics of one trial that a sweep ranks on and writes to `trials.csv` (the columns after
/// `objective`), and stores as JSON. Every field is required when read back: a missing one is an
/// error, never a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialMetrics {
    /// Final / initial − 1.
    #[serde(deserialize_with = "Option::deserialize")]
    pub total_return: Option<f64>,
    /// Compound annual growth.
    #[serde(deserialize_with = "Option::deserialize")]
    pub cagr: Option<f64>,
    /// Annualised volatility.
    #[serde(deserialize_with = "Option::deserialize")]
    pub volatility: Option<f64>,
    /// Annualised Sharpe ratio.
    #[serde(deserialize_with = "Option::deserialize")]
    pub sharpe: Option<f64>,
    /// Annualised Sortino ratio.
    #[serde(deserialize_with = "Option::deserialize")]
    pub sortino: Option<f64>,
    /// CAGR / max drawdown.
    #[serde(deserialize_with = "Option::deserialize")]
    pub calmar: Option<f64>,
    /// Largest fall from a peak (a fraction ≥ 0).
    #[serde(deserialize_with = "Option::deserialize")]
    pub max_drawdown: Option<f64>,
    /// Winning round trips / round trips.
    #[serde(deserialize_with = "Option::deserialize")]
    pub win_rate: Option<f64>,
    /// Gross wins / gross losses.
    #[serde(deserialize_with = "Option::deserialize")]
    pub profit_factor: Option<f64>,
    /// Fills.
    pub fills: usize,
    /// Closed round trips.
    pub round_trips: usize,
    /// Exact final equity.
    pub final_equity: Money,
}

impl From<&Summary> for TrialMetrics {
    fn from(s: &Summary) -> Self {
        Self {
            total_return: s.total_return,
            cagr: s.cagr,
            volatility: s.volatility,
            sharpe: s.sharpe,
            sortino: s.sortino,
            calmar: s.calmar,
            max_drawdown: s.max_drawdown,
            win_rate: s.win_rate,
            profit_factor: s.profit_factor,
            fills: s.fills,
            round_trips: s.round_trips,
            final_equity: s.final_equity.0,
        }
    }
}

impl TrialMetrics {
    /// The value of `objective` (`None` when undefined; such trials rank last).
    #[must_use]
    pub fn objective(&self, objective: Objective) -> Option<f64> {
        match objective {
            Objective::Sharpe => self.sharpe,
            Objective::Sortino => self.sortino,
            Objective::Calmar => self.calmar,
            Objective::TotalReturn => self.total_return,
            Objective::Cagr => self.cagr,
            Objective::ProfitFactor => self.profit_factor,
            Objective::WinRate => self.win_rate,
            Objective::MinDrawdown => self.max_drawdown.map(|d| -d),
        }
    }
}

/// What one trial produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialResult {
    /// The trial.
    pub trial: Trial,
    /// Its metrics, or why it could not run (e.g. `fast >= slow`).
    pub outcome: Result<TrialMetrics, String>,
    /// Its return per period of the sweep's [`ReturnPeriod`](super::ReturnPeriod) (empty if it
    /// did not run).
    pub period_returns: Vec<f64>,
}

impl TrialResult {
    /// The trial's value of `objective` (`None` if it did not run or the value is undefined).
    #[must_use]
    pub fn objective(&self, objective: Objective) -> Option<f64> {
        self.outcome
            .as_ref()
            .ok()
            .and_then(|m| m.objective(objective))
    }
}
