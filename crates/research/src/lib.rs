//! TradePulse research: parameter sweeps, walk-forward analysis and the overfitting statistics
//! that say how far to trust what a search found.
//!
//! # Where it sits
//! Above `tradepulse-backtest`, below the store and the CLI. Every trial and every walk-forward
//! window is one backtest run through [`Backtest::run_with`](tradepulse_backtest::Backtest::run_with),
//! so research never assembles an engine of its own: a trial trades exactly as `tradepulse
//! backtest` would with the same parameters. Sync and tokio-free; trials run in parallel on
//! rayon's pool, and every output is independent of the thread count.
//!
//! # Main types
//! - [`sweep`]: [`SweepPlan`](sweep::SweepPlan) expands a config's `sweep:` section into
//!   numbered trials, [`run_trials`](sweep::run_trials) runs those of one
//!   [`Shard`](sweep::Shard), [`write_all`](sweep::write_all) writes `trials.csv`,
//!   `returns.csv`, `ranking.csv`, `sweep.json` and the heatmap, and
//!   [`merge_shards`](sweep::merge_shards) merges shard directories into exactly the unsharded
//!   files.
//! - [`walk_forward`]: optimise on rolling or anchored training windows, trade out of sample,
//!   stitch.
//! - Overfitting statistics on per-period returns: [`deflated_sharpe`] (Bailey & López de Prado)
//!   and [`pbo_cscv`] (probability of backtest overfitting by combinatorially symmetric
//!   cross-validation). A sweep feeds them each trial's returns per trading day, bar or block
//!   of bars ([`sweep::PeriodReturns`], aggregated as the trial runs) and reports T.
//!
//! The schema of the `sweep:` and `walk_forward:` sections is declared with the rest of the
//! config in `tradepulse-backtest` ([`SweepConfig`](tradepulse_backtest::SweepConfig),
//! [`WalkForwardConfig`](tradepulse_backtest::WalkForwardConfig)): one file, one schema.
//!
//! # Example
//! ```
//! use tradepulse_research::{SharpeStats, deflated_sharpe};
//!
//! // The best of 100 trials with a per-period Sharpe of 0.1 over 1,000 returns: significant on
//! // its own, not once the selection is accounted for.
//! let best = SharpeStats { sharpe: 0.1, skewness: 0.0, kurtosis: 3.0, observations: 1000 };
//! let dsr = deflated_sharpe(&best, 100, 0.0025).unwrap();
//! assert!(dsr.psr > 0.99 && dsr.dsr < 0.5);
//! ```
//!
//! # Features
//! None.

mod overfit;
pub mod sweep;
pub mod walk_forward;

pub use overfit::{
    DeflatedSharpe, LogitSummary, MAX_CSCV_BLOCKS, OverfitError, Pbo, SharpeStats, deflated_sharpe,
    deflated_sharpe_of_trials, expected_max_sharpe, pbo_cscv, pbo_cscv_by, probabilistic_sharpe,
};
