//! [`SweepReport`]: what a sweep found and how far to trust it (`sweep.json`), and the heatmap of
//! a two-parameter sweep.

use std::collections::BTreeMap;
use std::path::Path;

use tradepulse_backtest::ReturnPeriod;

use super::files::write_file;
use super::{SweepError, SweepResults, rank};
use crate::{DeflatedSharpe, LogitSummary, SharpeStats, deflated_sharpe_of_trials, pbo_cscv};

/// What a sweep found, and how much to trust it: written as `sweep.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepReport {
    /// The objective ranked on.
    pub objective: String,
    /// Trials in the files.
    pub trials: usize,
    /// Trials that ran.
    pub valid_trials: usize,
    /// The return series the overfitting statistics are computed on.
    pub returns: ReturnsUsed,
    /// The best trial.
    pub best: Option<BestTrial>,
    /// Deflated Sharpe Ratio of the best trial, deflated by every valid trial (per-period Sharpe
    /// ratios of the [`SweepReport::returns`] series; T = its `periods`).
    pub deflated_sharpe: Option<DeflatedSharpe>,
    /// Probability of Backtest Overfitting by CSCV over the valid trials' return series, cut
    /// into `pbo_blocks` blocks of periods.
    pub pbo: Option<PboSummary>,
    /// Why the PBO could not be computed, if it could not.
    pub pbo_unavailable: Option<String>,
}

/// The per-period return series of a sweep's trials.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReturnsUsed {
    /// What one period is (`sweep.returns`).
    pub period: ReturnPeriod,
    /// Returns per trial: the T of the Deflated Sharpe Ratio and of the PBO's blocks.
    pub periods: usize,
}

/// The best trial of a sweep.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BestTrial {
    /// Trial id.
    pub id: usize,
    /// Parameter values by name.
    pub params: BTreeMap<String, f64>,
    /// Its objective value.
    pub objective: Option<f64>,
}

/// The PBO without the per-split logits.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PboSummary {
    /// Probability of Backtest Overfitting.
    pub pbo: f64,
    /// Blocks S.
    pub blocks: usize,
    /// Splits C(S, S/2).
    pub splits: usize,
    /// Distribution of the logits.
    pub logits: LogitSummary,
    /// Slope of out-of-sample on in-sample performance across splits.
    pub degradation_slope: Option<f64>,
    /// Fraction of splits whose in-sample winner lost out of sample.
    pub prob_oos_loss: f64,
}

impl SweepReport {
    /// The report of `sweep`'s trials (all of a sweep's, or one shard's).
    #[must_use]
    pub fn of(sweep: &SweepResults) -> Self {
        let meta = &sweep.meta;
        let results = &sweep.results;
        let best = rank(results, meta.objective).first().map(|r| BestTrial {
            id: r.trial.id,
            params: meta
                .parameters
                .iter()
                .cloned()
                .zip(r.trial.values.iter().copied())
                .collect(),
            objective: r.objective(meta.objective),
        });
        let series: Vec<&[f64]> = results
            .iter()
            .filter(|r| r.outcome.is_ok())
            .map(|r| r.period_returns.as_slice())
            .collect();
        let sharpes: Vec<f64> = series
            .iter()
            .filter_map(|r| SharpeStats::from_returns(r).map(|s| s.sharpe))
            .collect();
        let deflated_sharpe = best
            .as_ref()
            .and_then(|b| results.iter().find(|r| r.trial.id == b.id))
            .and_then(|r| SharpeStats::from_returns(&r.period_returns))
            .and_then(|stats| deflated_sharpe_of_trials(&stats, &sharpes));
        let (pbo, pbo_unavailable) = match pbo_cscv(&series, meta.pbo_blocks) {
            Ok(p) => (
                Some(PboSummary {
                    pbo: p.pbo,
                    blocks: p.blocks,
                    splits: p.splits(),
                    logits: p.logit_summary,
                    degradation_slope: p.degradation_slope,
                    prob_oos_loss: p.prob_oos_loss,
                }),
                None,
            ),
            Err(e) => (None, Some(e.to_string())),
        };
        Self {
            objective: meta.objective.as_str().to_owned(),
            trials: results.len(),
            valid_trials: series.len(),
            returns: ReturnsUsed {
                period: meta.returns,
                periods: series.first().map_or(0, |s| s.len()),
            },
            best,
            deflated_sharpe,
            pbo,
            pbo_unavailable,
        }
    }

    /// Writes `sweep.json` into `dir`.
    pub(super) fn write(&self, dir: &Path) -> Result<(), SweepError> {
        let mut json = serde_json::to_string_pretty(self).map_err(|e| SweepError::File {
            path: dir.join("sweep.json"),
            reason: e.to_string(),
        })?;
        json.push('\n');
        write_file(dir, "sweep.json", &json)
    }
}

/// Writes `heatmap.html` (and its PNG) of the objective over the two parameters of `sweep`.
pub(super) fn write_heatmap(dir: &Path, sweep: &SweepResults) -> Result<(), SweepError> {
    let meta = &sweep.meta;
    let axis = |k: usize| {
        let mut v: Vec<f64> = sweep.results.iter().map(|r| r.trial.values[k]).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (axis(0), axis(1));
    let mut grid = vec![None; xs.len() * ys.len()];
    for r in sweep.results.iter().filter(|r| r.outcome.is_ok()) {
        let (x, y) = (r.trial.values[0], r.trial.values[1]);
        if let (Ok(ix), Ok(iy)) = (
            xs.binary_search_by(|v| v.total_cmp(&x)),
            ys.binary_search_by(|v| v.total_cmp(&y)),
        ) {
            grid[iy * xs.len() + ix] = r.objective(meta.objective);
        }
    }
    tradepulse_backtest::write_sweep_heatmap(
        &dir.join("heatmap.html"),
        &meta.parameters[0],
        &meta.parameters[1],
        &xs,
        &ys,
        &grid,
        meta.objective.as_str(),
    )
    .map_err(|e| SweepError::File {
        path: e.path.clone(),
        reason: e.to_string(),
    })
}
