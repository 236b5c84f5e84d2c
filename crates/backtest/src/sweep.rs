//! Parameter sweeps: grid or random search over strategy parameters, run in parallel on shared
//! bars, ranked by an objective, and split deterministically into shards.
//!
//! # Sharding
//!
//! Trials are numbered `0..n` in a fixed order (grid: lexicographic over the parameter names in
//! alphabetical order; random: draw order from the seed). Shard `i/N` runs the trials whose id is
//! `i mod N`. Every output row carries its trial id, so merging the shards' files and sorting by
//! id reproduces the unsharded files exactly ([`merge_shards`]).
//!
//! # Files
//!
//! - `trials.csv`: one row per trial in id order: parameters, status, objective and metrics.
//! - `returns.csv`: per trial, the equity returns over [`RETURN_PERIODS`] equal slices of the bars
//!   (the input of the overfitting diagnostics, small enough to ship between shards).
//! - `ranking.csv`: valid trials, best objective first (ties: lower id first).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use tradepulse_model::Bar;

use crate::config::BacktestConfig;
use crate::engine::Engine;
use crate::metrics::Summary;

/// Number of equal slices of the bars over which each trial's returns are kept.
pub const RETURN_PERIODS: usize = 256;

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

impl ParamValues {
    fn expand(&self, name: &str) -> Result<Vec<f64>, SweepError> {
        let bad = |reason: String| SweepError::Config {
            field: format!("sweep.parameters.{name}"),
            reason,
        };
        let values = match *self {
            Self::List(ref v) => v.clone(),
            Self::Range { from, to, step } => {
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
    /// The objective's value for a run (`None` when undefined; ranks last).
    #[must_use]
    pub fn value(self, s: &Summary) -> Option<f64> {
        match self {
            Self::Sharpe => s.sharpe,
            Self::Sortino => s.sortino,
            Self::Calmar => s.calmar,
            Self::TotalReturn => s.total_return,
            Self::Cagr => s.cagr,
            Self::ProfitFactor => s.profit_factor,
            Self::WinRate => s.win_rate,
            Self::MinDrawdown => s.max_drawdown.map(|d| -d),
        }
    }

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

/// Which part of the trials this process runs: `index/count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
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

/// A sweep that cannot run or whose files cannot be written or read.
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
    /// Reading or writing a sweep file.
    #[error("{}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// One parameter set.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Position in the full (unsharded) trial list.
    pub id: usize,
    /// Parameter values, in the order of [`SweepPlan::names`].
    pub values: Vec<f64>,
}

/// The full list of trials of a sweep.
#[derive(Debug, Clone)]
pub struct SweepPlan {
    /// Parameter names, alphabetical.
    pub names: Vec<String>,
    /// Every trial, by id.
    pub trials: Vec<Trial>,
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
            axes.push(values.expand(name)?);
        }
        if axes.is_empty() {
            return Err(SweepError::Config {
                field: "sweep.parameters".into(),
                reason: "name at least one parameter".into(),
            });
        }
        let mut trials = Vec::new();
        match sweep.method {
            SearchMethod::Grid => {
                let total = axes
                    .iter()
                    .try_fold(1usize, |acc, a| acc.checked_mul(a.len()));
                match total {
                    Some(n) if n <= 1_000_000 => {}
                    _ => {
                        return Err(SweepError::Config {
                            field: "sweep.parameters".into(),
                            reason:
                                "the grid has more than 1000000 combinations; use method: random"
                                    .into(),
                        });
                    }
                }
                let mut index = vec![0usize; axes.len()];
                loop {
                    let values = index.iter().zip(&axes).map(|(&i, a)| a[i]).collect();
                    trials.push(Trial {
                        id: trials.len(),
                        values,
                    });
                    // Odometer over the axes, last name fastest.
                    let mut k = axes.len();
                    loop {
                        if k == 0 {
                            return Ok(Self { names, trials });
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
            SearchMethod::Random => {
                let samples = sweep
                    .samples
                    .filter(|&n| (1..=1_000_000).contains(&n))
                    .ok_or_else(|| SweepError::Config {
                        field: "sweep.samples".into(),
                        reason: "random search needs samples in 1..=1000000".into(),
                    })?;
                let mut rng = tradepulse_data::SplitMix64::new(sweep.seed);
                let mut seen = std::collections::HashSet::new();
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
            }
        }
        Ok(Self { names, trials })
    }
}

/// What one trial produced.
#[derive(Debug, Clone)]
pub struct TrialResult {
    /// The trial.
    pub trial: Trial,
    /// Its metrics, or why it could not run (e.g. `fast >= slow`).
    pub outcome: Result<Summary, String>,
    /// Equity returns over [`RETURN_PERIODS`] slices (empty if it did not run).
    pub period_returns: Vec<f64>,
}

/// Runs the trials of `plan` that belong to `shard` on `bars`, in parallel (rayon's pool), and
/// calls `progress` after each. Results are in id order, independent of scheduling.
#[must_use]
pub fn run_trials(
    config: &BacktestConfig,
    plan: &SweepPlan,
    bars: &[Bar],
    shard: Shard,
    progress: &(dyn Fn() + Sync),
) -> Vec<TrialResult> {
    let trials: Vec<&Trial> = plan.trials.iter().filter(|t| shard.owns(t.id)).collect();
    trials
        .par_iter()
        .map(|trial| {
            let result = run_trial(config, plan, bars, trial);
            progress();
            result
        })
        .collect()
}

fn run_trial(
    config: &BacktestConfig,
    plan: &SweepPlan,
    bars: &[Bar],
    trial: &Trial,
) -> TrialResult {
    let outcome = (|| {
        let mut spec = config.strategy.clone();
        for (name, &value) in plan.names.iter().zip(&trial.values) {
            spec.set_parameter(name, value).map_err(|e| e.reason)?;
        }
        let mut strategy = spec.build().map_err(|e| e.reason)?;
        let instrument = config.instrument.build().map_err(|e| e.to_string())?;
        let run = Engine::for_config(config, instrument.clone(), config.portfolio.initial_cash)
            .run(bars, strategy.as_mut())
            .map_err(|e| e.to_string())?;
        let summary = Summary::compute(
            spec.kind(),
            instrument.id().as_str(),
            &run,
            config.metrics.periods_per_year,
        );
        Ok((
            summary,
            period_returns(run.initial_cash.as_f64(), &run.equity),
        ))
    })();
    match outcome {
        Ok((summary, returns)) => TrialResult {
            trial: trial.clone(),
            outcome: Ok(summary),
            period_returns: returns,
        },
        Err(reason) => TrialResult {
            trial: trial.clone(),
            outcome: Err(reason),
            period_returns: Vec::new(),
        },
    }
}

/// Returns of `equity` over [`RETURN_PERIODS`] equal slices (fewer if there are fewer bars).
#[must_use]
pub fn period_returns(initial: f64, equity: &[f64]) -> Vec<f64> {
    let periods = RETURN_PERIODS.min(equity.len());
    let mut previous = initial;
    (1..=periods)
        .map(|k| {
            let e = equity[k * equity.len() / periods - 1];
            let r = e / previous - 1.0;
            previous = e;
            r
        })
        .collect()
}

/// Valid trials ranked by `objective`, best first; ties and undefined values resolved by id.
#[must_use]
pub fn rank(results: &[TrialResult], objective: Objective) -> Vec<&TrialResult> {
    let mut ranked: Vec<&TrialResult> = results.iter().filter(|r| r.outcome.is_ok()).collect();
    let key = |r: &TrialResult| r.outcome.as_ref().ok().and_then(|s| objective.value(s));
    ranked.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.trial.id.cmp(&b.trial.id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.trial.id.cmp(&b.trial.id),
    });
    ranked
}

const METRICS: [&str; 12] = [
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "fills",
    "round_trips",
    "final_equity",
];

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| v.to_string())
}

/// The `trials.csv` header for parameter `names`.
#[must_use]
pub fn header(names: &[String]) -> String {
    let mut h = String::from("id");
    for n in names {
        let _ = write!(h, ",{n}");
    }
    h.push_str(",status,objective");
    for m in METRICS {
        let _ = write!(h, ",{m}");
    }
    h
}

/// A trial's `trials.csv` row.
#[must_use]
pub fn row(r: &TrialResult, objective: Objective) -> String {
    let mut line = r.trial.id.to_string();
    for v in &r.trial.values {
        let _ = write!(line, ",{v}");
    }
    match &r.outcome {
        Ok(s) => {
            let _ = write!(
                line,
                ",ok,{},{},{},{},{},{},{},{},{},{},{},{},{}",
                opt(objective.value(s)),
                opt(s.total_return),
                opt(s.cagr),
                opt(s.volatility),
                opt(s.sharpe),
                opt(s.sortino),
                opt(s.calmar),
                opt(s.max_drawdown),
                opt(s.win_rate),
                opt(s.profit_factor),
                s.fills,
                s.round_trips,
                s.final_equity.0
            );
        }
        Err(reason) => {
            // The reason is free text: keep the CSV well-formed.
            let clean = reason.replace([',', '\n', '"'], " ");
            let _ = write!(line, ",invalid: {clean},{}", ",".repeat(METRICS.len()));
        }
    }
    line
}

/// Writes `trials.csv`, `returns.csv` and `ranking.csv` for `results` (any subset of the trials,
/// e.g. one shard) into `dir`.
///
/// # Errors
/// [`SweepError::File`] naming the file that could not be written.
pub fn write_results(
    dir: &Path,
    names: &[String],
    results: &[TrialResult],
    objective: Objective,
) -> Result<(), SweepError> {
    let mut sorted: Vec<&TrialResult> = results.iter().collect();
    sorted.sort_by_key(|r| r.trial.id);
    let mut trials = header(names);
    trials.push('\n');
    let mut returns = String::from("id,returns\n");
    for r in &sorted {
        trials.push_str(&row(r, objective));
        trials.push('\n');
        if !r.period_returns.is_empty() {
            let _ = write!(returns, "{}", r.trial.id);
            for x in &r.period_returns {
                let _ = write!(returns, ",{x}");
            }
            returns.push('\n');
        }
    }
    let mut ranking = String::from("rank,");
    ranking.push_str(&header(names));
    ranking.push('\n');
    for (i, r) in rank(results, objective).iter().enumerate() {
        let _ = writeln!(ranking, "{},{}", i + 1, row(r, objective));
    }
    write_file(dir, "trials.csv", &trials)?;
    write_file(dir, "returns.csv", &returns)?;
    write_file(dir, "ranking.csv", &ranking)
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), SweepError> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| SweepError::File {
            path,
            reason: e.to_string(),
        })
}

/// Merges shard directories (each written by [`write_results`]) into `out`, giving exactly the
/// files an unsharded run writes. Fails if two shards hold the same trial or headers differ.
///
/// # Errors
/// [`SweepError::File`] for an unreadable, inconsistent or duplicated shard file.
pub fn merge_shards(shards: &[PathBuf], out: &Path) -> Result<(), SweepError> {
    let mut header_line: Option<String> = None;
    let mut rows: BTreeMap<usize, String> = BTreeMap::new();
    let mut returns: BTreeMap<usize, String> = BTreeMap::new();
    for dir in shards {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| SweepError::File {
                path,
                reason: e.to_string(),
            })
        };
        let trials = read("trials.csv")?;
        let mut lines = trials.lines();
        let head = lines.next().unwrap_or_default().to_owned();
        match &header_line {
            Some(h) if *h != head => {
                return Err(SweepError::File {
                    path: dir.join("trials.csv"),
                    reason: format!("header '{head}' differs from the first shard's '{h}'"),
                });
            }
            _ => header_line = Some(head),
        }
        for (map, text, name) in [
            (&mut rows, trials.clone(), "trials.csv"),
            (&mut returns, read("returns.csv")?, "returns.csv"),
        ] {
            for line in text.lines().skip(1) {
                let id = line
                    .split(',')
                    .next()
                    .and_then(|f| f.parse::<usize>().ok())
                    .ok_or_else(|| SweepError::File {
                        path: dir.join(name),
                        reason: format!("row without a trial id: '{line}'"),
                    })?;
                if map.insert(id, line.to_owned()).is_some() {
                    return Err(SweepError::File {
                        path: dir.join(name),
                        reason: format!("trial {id} appears in more than one shard"),
                    });
                }
            }
        }
    }
    let header_line = header_line.ok_or_else(|| SweepError::File {
        path: out.to_owned(),
        reason: "no shard directories given".into(),
    })?;
    let mut trials = header_line.clone() + "\n";
    for r in rows.values() {
        trials.push_str(r);
        trials.push('\n');
    }
    let mut returns_text = String::from("id,returns\n");
    for r in returns.values() {
        returns_text.push_str(r);
        returns_text.push('\n');
    }
    // Rank by the objective column, as `rank` does: defined values first, descending, then id.
    let objective_col = header_line
        .split(',')
        .position(|c| c == "objective")
        .unwrap_or(0);
    let status_col = header_line
        .split(',')
        .position(|c| c == "status")
        .unwrap_or(0);
    let mut valid: Vec<(usize, Option<f64>, &String)> = rows
        .iter()
        .filter(|(_, line)| line.split(',').nth(status_col) == Some("ok"))
        .map(|(&id, line)| {
            (
                id,
                line.split(',')
                    .nth(objective_col)
                    .and_then(|v| v.parse().ok()),
                line,
            )
        })
        .collect();
    valid.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => y.total_cmp(&x).then(a.0.cmp(&b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    });
    let mut ranking = format!("rank,{header_line}\n");
    for (i, (_, _, line)) in valid.iter().enumerate() {
        let _ = writeln!(ranking, "{},{line}", i + 1);
    }
    write_file(out, "trials.csv", &trials)?;
    write_file(out, "returns.csv", &returns_text)?;
    write_file(out, "ranking.csv", &ranking)?;
    let mut meta: Option<(String, PathBuf)> = None;
    for dir in shards {
        let path = dir.join("meta.json");
        let text = std::fs::read_to_string(&path).map_err(|e| SweepError::File {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        match &meta {
            Some((first, first_path)) if *first != text => {
                return Err(SweepError::File {
                    path,
                    reason: format!(
                        "objective or pbo_blocks differ from {}",
                        first_path.display()
                    ),
                });
            }
            _ => meta = Some((text, path)),
        }
    }
    if let Some((text, _)) = meta {
        write_file(out, "meta.json", &text)?;
    }
    report_from_files(out).map(|_| ())
}

/// What a sweep found, and how much to trust it: written as `sweep.json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepReport {
    /// The objective ranked on.
    pub objective: String,
    /// Trials in the files.
    pub trials: usize,
    /// Trials that ran.
    pub valid_trials: usize,
    /// The best trial.
    pub best: Option<BestTrial>,
    /// Deflated Sharpe Ratio of the best trial, deflated by every valid trial (per-period Sharpe
    /// ratios over the [`RETURN_PERIODS`] return slices).
    pub deflated_sharpe: Option<crate::DeflatedSharpe>,
    /// Probability of Backtest Overfitting by CSCV over the valid trials' return slices.
    pub pbo: Option<PboSummary>,
    /// Why the PBO could not be computed, if it could not.
    pub pbo_unavailable: Option<String>,
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
    pub logits: crate::LogitSummary,
    /// Slope of out-of-sample on in-sample performance across splits.
    pub degradation_slope: Option<f64>,
    /// Fraction of splits whose in-sample winner lost out of sample.
    pub prob_oos_loss: f64,
}

/// The settings a merge needs from the config, written as `meta.json` next to every shard.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
struct Meta {
    objective: Objective,
    pbo_blocks: usize,
}

/// Writes the files one shard leaves for [`merge_shards`] from rows kept elsewhere (e.g. read back
/// from the database): `trials.csv` from `header` and `rows`, `returns.csv` from each trial's
/// return slices, and `meta.json`.
///
/// # Errors
/// [`SweepError::File`] naming the file that could not be written.
pub fn write_shard_files(
    dir: &Path,
    header: &str,
    rows: &[(usize, String, Vec<f64>)],
    objective: Objective,
    pbo_blocks: usize,
) -> Result<(), SweepError> {
    let mut trials = format!("{header}\n");
    let mut returns = String::from("id,returns\n");
    for (id, row, series) in rows {
        trials.push_str(row);
        trials.push('\n');
        if !series.is_empty() {
            let _ = write!(returns, "{id}");
            for x in series {
                let _ = write!(returns, ",{x}");
            }
            returns.push('\n');
        }
    }
    write_file(dir, "trials.csv", &trials)?;
    write_file(dir, "returns.csv", &returns)?;
    let meta = serde_json::to_string(&Meta {
        objective,
        pbo_blocks,
    })
    .map_err(|e| SweepError::File {
        path: dir.join("meta.json"),
        reason: e.to_string(),
    })?;
    write_file(dir, "meta.json", &(meta + "\n"))
}

/// Writes every sweep file for `results` into `dir`: the CSVs of [`write_results`], then
/// `sweep.json` (best trial, DSR, PBO) and, for two parameters, `heatmap.html` / `.png` of the
/// objective. The report is computed from the CSVs, so a merged sweep gets the same one.
///
/// # Errors
/// [`SweepError::File`] naming the file that could not be written.
pub fn write_all(
    dir: &Path,
    names: &[String],
    results: &[TrialResult],
    sweep: &SweepConfig,
) -> Result<SweepReport, SweepError> {
    write_results(dir, names, results, sweep.objective)?;
    let meta = Meta {
        objective: sweep.objective,
        pbo_blocks: sweep.pbo_blocks,
    };
    let json = serde_json::to_string(&meta).map_err(|e| SweepError::File {
        path: dir.join("meta.json"),
        reason: e.to_string(),
    })?;
    write_file(dir, "meta.json", &(json + "\n"))?;
    report_from_files(dir)
}

/// Builds and writes `sweep.json` (and the heatmap) from the files in `dir`.
///
/// # Errors
/// [`SweepError::File`] for a missing or malformed sweep file.
pub fn report_from_files(dir: &Path) -> Result<SweepReport, SweepError> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| SweepError::File {
            path,
            reason: e.to_string(),
        })
    };
    let meta: Meta = serde_json::from_str(&read("meta.json")?).map_err(|e| SweepError::File {
        path: dir.join("meta.json"),
        reason: e.to_string(),
    })?;
    let trials_text = read("trials.csv")?;
    let header: Vec<&str> = trials_text
        .lines()
        .next()
        .unwrap_or_default()
        .split(',')
        .collect();
    let status_col = header
        .iter()
        .position(|c| *c == "status")
        .unwrap_or(header.len());
    let names: Vec<String> = header[1..status_col]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let rows: Vec<Vec<&str>> = trials_text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let value = |row: &[&str], col: usize| row.get(col).and_then(|v| v.parse::<f64>().ok());
    let valid: Vec<&Vec<&str>> = rows
        .iter()
        .filter(|r| r.get(status_col) == Some(&"ok"))
        .collect();

    let ranking_text = read("ranking.csv")?;
    let best = ranking_text.lines().nth(1).map(|line| {
        // ranking rows are "rank," + a trials row.
        let row: Vec<&str> = line.split(',').skip(1).collect();
        BestTrial {
            id: row.first().and_then(|v| v.parse().ok()).unwrap_or(0),
            params: names
                .iter()
                .enumerate()
                .filter_map(|(i, n)| value(&row, i + 1).map(|v| (n.clone(), v)))
                .collect(),
            objective: value(&row, status_col + 1),
        }
    });

    let mut returns: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for line in read("returns.csv")?.lines().skip(1) {
        let mut fields = line.split(',');
        if let Some(id) = fields.next().and_then(|f| f.parse().ok()) {
            returns.insert(id, fields.filter_map(|f| f.parse().ok()).collect());
        }
    }
    let series: Vec<&Vec<f64>> = returns.values().collect();
    let sharpes: Vec<f64> = series
        .iter()
        .filter_map(|r| crate::SharpeStats::from_returns(r).map(|s| s.sharpe))
        .collect();
    let deflated_sharpe = best
        .as_ref()
        .and_then(|b| returns.get(&b.id))
        .and_then(|r| crate::SharpeStats::from_returns(r))
        .and_then(|stats| crate::deflated_sharpe_of_trials(&stats, &sharpes));
    let (pbo, pbo_unavailable) = match crate::pbo_cscv(&series, meta.pbo_blocks) {
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
    let report = SweepReport {
        objective: meta.objective.as_str().to_owned(),
        trials: rows.len(),
        valid_trials: valid.len(),
        best,
        deflated_sharpe,
        pbo,
        pbo_unavailable,
    };
    let mut json = serde_json::to_string_pretty(&report).map_err(|e| SweepError::File {
        path: dir.join("sweep.json"),
        reason: e.to_string(),
    })?;
    json.push('\n');
    write_file(dir, "sweep.json", &json)?;

    if names.len() == 2 {
        let axis = |col: usize| {
            let mut v: Vec<f64> = rows.iter().filter_map(|r| value(r, col)).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (xs, ys) = (axis(1), axis(2));
        let mut grid = vec![None; xs.len() * ys.len()];
        for r in &valid {
            if let (Some(x), Some(y)) = (value(r, 1), value(r, 2))
                && let (Ok(ix), Ok(iy)) = (
                    xs.binary_search_by(|v| v.total_cmp(&x)),
                    ys.binary_search_by(|v| v.total_cmp(&y)),
                )
            {
                grid[iy * xs.len() + ix] = value(r, status_col + 1);
            }
        }
        crate::write_sweep_heatmap(
            &dir.join("heatmap.html"),
            &names[0],
            &names[1],
            &xs,
            &ys,
            &grid,
            meta.objective.as_str(),
        )
        .map_err(|e| SweepError::File {
            path: e.path.clone(),
            reason: e.to_string(),
        })?;
    }
    Ok(report)
}
