//! Parameter sweeps: grid or random search over strategy parameters, run in parallel on shared
//! bars, ranked by an objective, and split deterministically into shards.
//!
//! # Sharding
//!
//! Trials are numbered `0..n` in a fixed order (grid: lexicographic over the parameter names in
//! alphabetical order; random: draw order from the seed). Shard `i/N` runs the trials whose id is
//! `i mod N`. A shard's [`SweepResults`] carry its [`ShardMeta`] and every trial's id, so the
//! shards of one sweep — read back from their directories or from the store as a [`ShardSet`] —
//! merge into exactly the results of an unsharded run ([`ShardSet::merge`], [`merge_shards`]).
//!
//! # Files
//!
//! [`SweepResults::write`] writes, and [`SweepResults::read`] reads back:
//! - `trials.csv`: one row per trial in id order: parameters, status, objective and metrics.
//! - `returns.csv`: per trial, its return per period (`sweep.returns`: trading day by default,
//!   bar, or block of N bars; see [`PeriodReturns`]), the input of the overfitting statistics.
//! - `meta.json`: the [`ShardMeta`]: the sweep's identity (a hash of its canonical config and
//!   its bars), the shard's index, the shard count and its trial count, and the settings a
//!   merge and the diagnostics need.
//!
//! and, derived from those, `ranking.csv` (valid trials, best objective first; ties: lower id
//! first), `sweep.json` ([`SweepReport`]: best trial, DSR, PBO) and, for two parameters,
//! `heatmap.html` / `.png`.

use std::path::PathBuf;

use rayon::prelude::*;
use tradepulse_backtest::{
    Annualization, Backtest, BacktestConfig, BacktestError, ConfigError, RunOptions, RunOutput,
};
pub use tradepulse_backtest::{Objective, ParamValues, ReturnPeriod, SearchMethod, SweepConfig};
use tradepulse_model::Bar;

mod files;
mod identity;
mod report;
mod returns;
mod shard;
mod trial;

pub use report::{BestTrial, PboSummary, ReturnsUsed, SweepReport};
pub(crate) use returns::check as check_returns;
pub use returns::{PeriodReturns, period_count};
pub use shard::{ShardMeta, ShardSet, SweepResults, merge_shards};
pub use trial::{Trial, TrialMetrics, TrialResult};

/// Expands one parameter's values.
fn expand(values: &ParamValues, name: &str) -> Result<Vec<f64>, SweepError> {
    let bad = |reason: String| SweepError::Config {
        field: format!("sweep.parameters.{name}"),
        reason,
    };
    let values = match *values {
        ParamValues::List(ref v) => v.clone(),
        ParamValues::Range { from, to, step } => {
            if !(step > 0.0 && from.is_finite() && to.is_finite() && to >= from) {
                return Err(bad(format!(
                    "needs finite from <= to and step > 0, got from {from}, to {to}, step {step}"
                )));
            }
            let n = ((to - from) / step + 1e-9).floor() as usize + 1;
            if n > 100_000 {
                return Err(bad(format!("{n} values is more than 100000")));
            }
            // from + k·step, with the float noise of repeated addition avoided.
            (0..n).map(|k| from + k as f64 * step).collect()
        }
    };
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return Err(bad("needs at least one finite value".into()));
    }
    Ok(values)
}

/// Which part of the trials this process runs: `index/count`. Stored as `{"index", "count"}`,
/// read back through [`Shard::new`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "ShardFields")]
pub struct Shard {
    index: usize,
    count: usize,
}

/// [`Shard`]'s stored form, before validation.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ShardFields {
    index: usize,
    count: usize,
}

impl TryFrom<ShardFields> for Shard {
    type Error = SweepError;

    fn try_from(fields: ShardFields) -> Result<Self, SweepError> {
        Self::new(fields.index, fields.count)
    }
}

impl Shard {
    /// The whole sweep.
    pub const ALL: Self = Self { index: 0, count: 1 };

    /// Shard `index` of `count`.
    ///
    /// # Errors
    /// If `count` is zero or `index >= count`.
    pub fn new(index: usize, count: usize) -> Result<Self, SweepError> {
        if count == 0 || index >= count {
            return Err(SweepError::Shard(format!("{index}/{count}")));
        }
        Ok(Self { index, count })
    }

    /// This shard's index, `0..count`.
    #[must_use]
    pub const fn index(self) -> usize {
        self.index
    }

    /// Number of shards the sweep is cut into.
    #[must_use]
    pub const fn count(self) -> usize {
        self.count
    }

    /// Trials of a `total`-trial sweep that belong to this shard.
    #[must_use]
    pub const fn trials_of(self, total: usize) -> usize {
        if total > self.index {
            (total - self.index).div_ceil(self.count)
        } else {
            0
        }
    }

    /// True if trial `id` belongs to this shard.
    #[must_use]
    pub const fn owns(self, id: usize) -> bool {
        id % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl std::str::FromStr for Shard {
    type Err = SweepError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || SweepError::Shard(s.to_owned());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        Self::new(
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        )
    }
}

/// A sweep that cannot run, or whose files or shards cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The config has no `sweep` section.
    #[error("the config has no `sweep:` section (see docs/configuration.md)")]
    Missing,
    /// A bad value in the `sweep` section.
    #[error("{field}: {reason}")]
    Config {
        /// Dotted key.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// A malformed `--shard`.
    #[error("--shard must be INDEX/COUNT with 0 <= INDEX < COUNT, got '{0}'")]
    Shard(String),
    /// Reading or writing a sweep file failed (disk, permissions).
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A sweep file does not hold what it should: a missing column, a value that does not
    /// parse, a row that contradicts another file.
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line (0: the file as a whole).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Shards that do not make up one sweep: one is missing, given twice, or belongs to
    /// another sweep. `shard` names where it came from (a directory, or the database).
    #[error("{shard}: {reason}")]
    Shards {
        /// The offending shard's origin, or the sweep when a shard is missing.
        shard: String,
        /// What is wrong.
        reason: String,
    },
}

/// The full list of trials of a sweep, and how they are ranked.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// Parameter names, alphabetical.
    pub names: Vec<String>,
    /// Every trial, by id.
    pub trials: Vec<Trial>,
    /// What the ranking maximises.
    pub objective: Objective,
    /// Blocks of the PBO's cross-validation.
    pub pbo_blocks: usize,
    /// The period of each trial's return series.
    pub returns: ReturnPeriod,
}

impl SweepPlan {
    /// Expands the `sweep` section into trials.
    ///
    /// # Errors
    /// [`SweepError::Config`] for an unknown parameter, an empty or malformed value list, a
    /// random search without `samples`, or more than 1,000,000 trials.
    pub fn new(config: &BacktestConfig) -> Result<Self, SweepError> {
        let sweep = config.sweep.as_ref().ok_or(SweepError::Missing)?;
        if !config.universe.is_empty() {
            return Err(SweepError::Config {
                field: "universe".into(),
                reason:
                    "sweeps and walk-forward run on a single instrument for now; remove `universe`"
                        .into(),
            });
        }
        let known = config.strategy.parameter_names();
        let mut names = Vec::new();
        let mut axes = Vec::new();
        for (name, values) in &sweep.parameters {
            if !known.contains(&name.as_str()) {
                return Err(SweepError::Config {
                    field: format!("sweep.parameters.{name}"),
                    reason: format!(
                        "{} has no parameter '{name}' (sweepable: {})",
                        config.strategy.kind(),
                        known.join(", ")
                    ),
                });
            }
            names.push(name.clone());
            axes.push(expand(values, name)?);
        }
        if axes.is_empty() {
            return Err(SweepError::Config {
                field: "sweep.parameters".into(),
                reason: "name at least one parameter".into(),
            });
        }
        let trials = match sweep.method {
            SearchMethod::Grid => grid(&axes)?,
            SearchMethod::Random => random(&axes, sweep.samples, sweep.seed)?,
        };
        Ok(Self {
            names,
            trials,
            objective: sweep.objective,
            pbo_blocks: sweep.pbo_blocks,
            returns: sweep.returns,
        })
    }

    /// Runs the trials that belong to `shard` on `bars` ([`run_trials`]) and labels them with
    /// the plan's settings, ready to be written ([`SweepResults::write`]) or stored.
    ///
    /// # Errors
    /// [`SweepError::Config`] if the trials' return series would not fit in memory (see
    /// `sweep.returns`).
    pub fn run(
        &self,
        config: &BacktestConfig,
        bars: &[Bar],
        shard: Shard,
        progress: &(dyn Fn() + Sync),
    ) -> Result<SweepResults, SweepError> {
        returns::check(
            self.returns,
            self.trials.len(),
            period_count(self.returns, bars),
        )?;
        let results = run_trials(config, self, bars, shard, progress);
        Ok(SweepResults {
            meta: ShardMeta {
                config_hash: identity::config_hash(config, bars),
                total_trials: self.trials.len(),
                parameters: self.names.clone(),
                objective: self.objective,
                pbo_blocks: self.pbo_blocks,
                returns: self.returns,
                shard,
                trials: results.len(),
            },
            results,
        })
    }
}

/// Every combination of `axes`, lexicographic (last axis fastest).
fn grid(axes: &[Vec<f64>]) -> Result<Vec<Trial>, SweepError> {
    let total = axes
        .iter()
        .try_fold(1usize, |acc, a| acc.checked_mul(a.len()));
    if total.is_none_or(|n| n > 1_000_000) {
        return Err(SweepError::Config {
            field: "sweep.parameters".into(),
            reason: "the grid has more than 1000000 combinations; use method: random".into(),
        });
    }
    let mut trials = Vec::new();
    let mut index = vec![0usize; axes.len()];
    loop {
        let values = index.iter().zip(axes).map(|(&i, a)| a[i]).collect();
        trials.push(Trial {
            id: trials.len(),
            values,
        });
        // Odometer over the axes, last name fastest.
        let mut k = axes.len();
        loop {
            if k == 0 {
                return Ok(trials);
            }
            k -= 1;
            index[k] += 1;
            if index[k] < axes[k].len() {
                break;
            }
            index[k] = 0;
        }
    }
}

/// `samples` seeded draws from `axes`, duplicates dropped, in draw order.
fn random(axes: &[Vec<f64>], samples: Option<usize>, seed: u64) -> Result<Vec<Trial>, SweepError> {
    let samples = samples
        .filter(|&n| (1..=1_000_000).contains(&n))
        .ok_or_else(|| SweepError::Config {
            field: "sweep.samples".into(),
            reason: "random search needs samples in 1..=1000000".into(),
        })?;
    let mut rng = tradepulse_data::SplitMix64::new(seed);
    let mut seen = std::collections::HashSet::new();
    let mut trials = Vec::new();
    // Bounded: at most 20 draws per wanted sample, so a small space cannot loop.
    for _ in 0..samples.saturating_mul(20) {
        if trials.len() == samples {
            break;
        }
        let values: Vec<f64> = axes
            .iter()
            .map(|a| a[(rng.next_u64() % a.len() as u64) as usize])
            .collect();
        let key: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        if seen.insert(key) {
            trials.push(Trial {
                id: trials.len(),
                values,
            });
        }
    }
    Ok(trials)
}

/// Runs the trials of `plan` that belong to `shard` on `bars`, in parallel (rayon's pool), and
/// calls `progress` after each. Results are in id order, independent of scheduling. Every trial
/// is annualised with the calendar of `bars`, measured once.
#[must_use]
pub fn run_trials(
    config: &BacktestConfig,
    plan: &SweepPlan,
    bars: &[Bar],
    shard: Shard,
    progress: &(dyn Fn() + Sync),
) -> Vec<TrialResult> {
    let annualization = Annualization::measure(&config.metrics, bars.iter().map(|b| b.ts));
    run_trials_annualized(config, plan, bars, shard, &annualization, progress)
}

/// [`run_trials`] with a given annualisation (walk-forward uses the whole data's).
pub(crate) fn run_trials_annualized(
    config: &BacktestConfig,
    plan: &SweepPlan,
    bars: &[Bar],
    shard: Shard,
    annualization: &Annualization,
    progress: &(dyn Fn() + Sync),
) -> Vec<TrialResult> {
    let periods = period_count(plan.returns, bars);
    let trials: Vec<&Trial> = plan.trials.iter().filter(|t| shard.owns(t.id)).collect();
    let shared = SharedInputs::new(config, bars);
    trials
        .par_iter()
        .map(|trial| {
            let result = run_trial(config, plan, bars, trial, annualization, periods, &shared);
            progress();
            result
        })
        .collect()
}

/// What every trial of a sweep would otherwise compute for itself from the same bars, computed
/// once and shared read-only by all of them (across threads): the prefix sums of the closes,
/// from which each trial's moving averages, of whatever windows, are read.
#[derive(Debug, Default)]
struct SharedInputs {
    close_sums: Option<std::sync::Arc<tradepulse_strategy::CloseSums>>,
}

impl SharedInputs {
    /// The inputs the config's strategy can use (none for a strategy without moving averages).
    fn new(config: &BacktestConfig, bars: &[Bar]) -> Self {
        let close_sums = matches!(
            config.strategy,
            tradepulse_strategy::StrategySpec::SmaCross(_)
        )
        .then(|| std::sync::Arc::new(tradepulse_strategy::CloseSums::new(bars)));
        Self { close_sums }
    }
}

/// One trial: the config's strategy with the trial's parameters, through the one backtest
/// entry point.
fn run_trial(
    config: &BacktestConfig,
    plan: &SweepPlan,
    bars: &[Bar],
    trial: &Trial,
    annualization: &Annualization,
    periods: usize,
    shared: &SharedInputs,
) -> TrialResult {
    let outcome = (|| {
        let mut spec = config.strategy.clone();
        for (name, &value) in plan.names.iter().zip(&trial.values) {
            spec.set_parameter(name, value).map_err(|e| e.reason)?;
        }
        let options = RunOptions {
            annualization: Some(annualization.clone()),
            close_sums: shared.close_sums.clone(),
            ..RunOptions::default()
        };
        let RunOutput { run, summary } =
            Backtest::run_with(config, &spec, bars, options).map_err(|e| trial_error(&e))?;
        let mut returns = PeriodReturns::new(plan.returns, run.initial_cash.as_f64(), periods);
        for (&ts, &equity) in run.timestamps.iter().zip(&run.equity) {
            returns.push(ts, equity);
        }
        Ok((TrialMetrics::from(&summary), returns.finish()))
    })();
    match outcome {
        Ok((metrics, returns)) => TrialResult {
            trial: trial.clone(),
            outcome: Ok(metrics),
            period_returns: returns,
        },
        Err(reason) => TrialResult {
            trial: trial.clone(),
            outcome: Err(reason),
            period_returns: Vec::new(),
        },
    }
}

/// Why a trial could not run, as `trials.csv` shows it: a parameter problem is its bare reason
/// (`fast must be below slow`), anything else the whole message.
fn trial_error(error: &BacktestError) -> String {
    match error {
        BacktestError::Config(ConfigError::Invalid { reason, .. }) => reason.clone(),
        other => other.to_string(),
    }
}

/// Valid trials ranked by `objective`, best first; ties and undefined values resolved by id.
#[must_use]
pub fn rank<'a>(
    results: impl IntoIterator<Item = &'a TrialResult>,
    objective: Objective,
) -> Vec<&'a TrialResult> {
    let mut ranked: Vec<&TrialResult> = results.into_iter().filter(|r| r.outcome.is_ok()).collect();
    ranked.sort_by(
        |a, b| match (a.objective(objective), b.objective(objective)) {
            (Some(x), Some(y)) => y.total_cmp(&x).then(a.trial.id.cmp(&b.trial.id)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.trial.id.cmp(&b.trial.id),
        },
    );
    ranked
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tradepulse_data::{CsvOptions, RandomWalk, read_bars};

    use super::*;

    fn bars(n: usize) -> Vec<Bar> {
        let mut csv = Vec::new();
        RandomWalk {
            bars: n,
            seed: 9,
            ..RandomWalk::default()
        }
        .write_csv(&mut csv)
        .unwrap();
        read_bars(
            csv.as_slice(),
            Path::new("rw.csv"),
            &CsvOptions::default(),
            n,
        )
        .unwrap()
    }

    /// Every field of two trial results, floats compared by their bits.
    fn assert_bit_identical(a: &TrialResult, b: &TrialResult) {
        let bits = |x: Option<f64>| x.map(f64::to_bits);
        assert_eq!(a.trial.id, b.trial.id);
        let values = |r: &TrialResult| {
            r.trial
                .values
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(values(a), values(b));
        let returns = |r: &TrialResult| {
            r.period_returns
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(returns(a), returns(b), "trial {}", a.trial.id);
        match (&a.outcome, &b.outcome) {
            (Ok(x), Ok(y)) => {
                let TrialMetrics {
                    total_return,
                    cagr,
                    volatility,
                    sharpe,
                    sortino,
                    calmar,
                    max_drawdown,
                    win_rate,
                    profit_factor,
                    fills,
                    round_trips,
                    final_equity,
                } = x;
                let id = a.trial.id;
                assert_eq!(bits(*total_return), bits(y.total_return), "trial {id}");
                assert_eq!(bits(*cagr), bits(y.cagr), "trial {id}");
                assert_eq!(bits(*volatility), bits(y.volatility), "trial {id}");
                assert_eq!(bits(*sharpe), bits(y.sharpe), "trial {id}");
                assert_eq!(bits(*sortino), bits(y.sortino), "trial {id}");
                assert_eq!(bits(*calmar), bits(y.calmar), "trial {id}");
                assert_eq!(bits(*max_drawdown), bits(y.max_drawdown), "trial {id}");
                assert_eq!(bits(*win_rate), bits(y.win_rate), "trial {id}");
                assert_eq!(bits(*profit_factor), bits(y.profit_factor), "trial {id}");
                assert_eq!(*fills, y.fills, "trial {id}");
                assert_eq!(*round_trips, y.round_trips, "trial {id}");
                assert_eq!(*final_equity, y.final_equity, "trial {id}");
            }
            (Err(x), Err(y)) => assert_eq!(x, y),
            _ => panic!("trial {}: one ran and the other did not", a.trial.id),
        }
    }

    /// A sweep whose trials share their indicator inputs (one set of close sums for every
    /// window of every trial, read from two threads) gives, trial by trial and bit by bit, what
    /// each trial run on its own gives.
    #[test]
    fn shared_indicator_inputs_change_no_trial_result() {
        let config = BacktestConfig::parse(
            "data: {path: unused.csv}
instrument: {symbol: RW, tick_size: 0.01}
strategy: {kind: sma_cross, params: {fast: 10, slow: 50, size: {units: 1}, direction: long_short}}
execution: {fill_model: next_open, taker_fee_bps: 10}
portfolio: {initial_cash: 1000000}
sweep:
  objective: sharpe
  returns: {bars: 500}
  parameters:
    fast: {from: 2, to: 47, step: 5}
    slow: {from: 10, to: 100, step: 15}
",
            Path::new("sweep.yaml"),
        )
        .unwrap();
        let bars = bars(40_000);
        let plan = SweepPlan::new(&config).unwrap();
        assert_eq!(plan.trials.len(), 70);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let shared = pool.install(|| run_trials(&config, &plan, &bars, Shard::ALL, &|| ()));
        assert!(SharedInputs::new(&config, &bars).close_sums.is_some());

        let annualization = Annualization::measure(&config.metrics, bars.iter().map(|b| b.ts));
        let periods = period_count(plan.returns, &bars);
        let alone = SharedInputs::default();
        assert_eq!(shared.len(), plan.trials.len());
        let mut ran = 0;
        for (trial, result) in plan.trials.iter().zip(&shared) {
            let independent = run_trial(
                &config,
                &plan,
                &bars,
                trial,
                &annualization,
                periods,
                &alone,
            );
            assert_bit_identical(result, &independent);
            ran += usize::from(result.outcome.as_ref().is_ok_and(|m| m.fills > 0));
        }
        // The comparison covers trials that traded, not only invalid ones (fast >= slow).
        assert!(ran > 40, "{ran} trials traded");
    }

    /// Below the trial metrics: the whole run and summary of a backtest reading the shared sums
    /// equal the plain backtest's (every fill, every equity point, every metric).
    #[test]
    fn shared_close_sums_change_no_run_output() {
        let config = BacktestConfig::parse(
            "data: {path: unused.csv}
instrument: {symbol: RW, tick_size: 0.01}
strategy: {kind: sma_cross, params: {fast: 7, slow: 30, size: {equity_fraction: 0.5}}}
execution: {fill_model: next_open, taker_fee_bps: 10}
portfolio: {initial_cash: 1000000}
",
            Path::new("one.yaml"),
        )
        .unwrap();
        let bars = bars(20_000);
        let sums = std::sync::Arc::new(tradepulse_strategy::CloseSums::new(&bars));
        let plain =
            Backtest::run_with(&config, &config.strategy, &bars, RunOptions::default()).unwrap();
        let with_sums = Backtest::run_with(
            &config,
            &config.strategy,
            &bars,
            RunOptions {
                close_sums: Some(sums),
                ..RunOptions::default()
            },
        )
        .unwrap();
        assert!(
            plain.run.fills.len() > 100,
            "{} fills, {:?}",
            plain.run.fills.len(),
            plain.run.rejections
        );
        // Debug prints every field, floats in shortest round-trip form (distinct bits, distinct
        // text).
        assert_eq!(format!("{:?}", plain.run), format!("{:?}", with_sums.run));
        assert_eq!(
            format!("{:?}", plain.summary),
            format!("{:?}", with_sums.summary)
        );
    }
}
