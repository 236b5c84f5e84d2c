//! [`SweepResults`] (one shard's trials and what they are), written to and read from a
//! directory, and [`ShardSet`]: the shards of one sweep, merged into exactly the unsharded
//! results.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tradepulse_backtest::{Objective, ReturnPeriod};

use super::files::{
    parse_returns, parse_trials, ranking_csv, read_file, returns_csv, trials_csv, write_file,
};
use super::report::{SweepReport, write_heatmap};
use super::trial::TrialResult;
use super::{Shard, SweepError};

/// What a set of trial results is: the sweep's settings a merge and the diagnostics need, and
/// which shard of it these are. Written as `meta.json`; every field is required when read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardMeta {
    /// The sweep's identity: a hash of its config (canonical, without `output`) and of its
    /// bars. Every shard of one sweep has the same.
    pub config_hash: String,
    /// Trials in the whole sweep.
    pub total_trials: usize,
    /// Parameter names, in the order of every trial's values.
    pub parameters: Vec<String>,
    /// What the ranking maximises.
    pub objective: Objective,
    /// Blocks of the PBO's cross-validation.
    pub pbo_blocks: usize,
    /// The period of every trial's return series.
    pub returns: ReturnPeriod,
    /// Which shard (`0/1` for a whole sweep).
    pub shard: Shard,
    /// Trials in this shard.
    pub trials: usize,
}

/// One shard's (or a whole sweep's) trial results, in id order, and their [`ShardMeta`].
#[derive(Debug, Clone, PartialEq)]
pub struct SweepResults {
    /// What these results are.
    pub meta: ShardMeta,
    /// Every trial of the shard, in id order.
    pub results: Vec<TrialResult>,
}

impl SweepResults {
    /// Writes every sweep file into `dir` (created if missing): `trials.csv`, `returns.csv`,
    /// `ranking.csv`, `meta.json`, `sweep.json` and, for two parameters, `heatmap.html` / `.png`.
    /// Returns the report written as `sweep.json`.
    ///
    /// # Errors
    /// [`SweepError::File`] naming the file that could not be written.
    pub fn write(&self, dir: &Path) -> Result<SweepReport, SweepError> {
        let names = &self.meta.parameters;
        let objective = self.meta.objective;
        write_file(
            dir,
            "trials.csv",
            &trials_csv(names, &self.results, objective),
        )?;
        write_file(dir, "returns.csv", &returns_csv(&self.results))?;
        write_file(
            dir,
            "ranking.csv",
            &ranking_csv(names, &self.results, objective),
        )?;
        let meta = serde_json::to_string(&self.meta).map_err(|e| SweepError::File {
            path: dir.join("meta.json"),
            reason: e.to_string(),
        })?;
        write_file(dir, "meta.json", &(meta + "\n"))?;
        let report = SweepReport::of(self);
        report.write(dir)?;
        if names.len() == 2 {
            write_heatmap(dir, self)?;
        }
        Ok(report)
    }

    /// Reads the results [`SweepResults::write`] left in `dir` (`meta.json`, `trials.csv`,
    /// `returns.csv`; the other files are derived from them).
    ///
    /// # Errors
    /// [`SweepError::File`] for a file that cannot be read, [`SweepError::Malformed`] naming the
    /// file, line and column of anything that does not parse or does not agree with
    /// `meta.json`.
    pub fn read(dir: &Path) -> Result<Self, SweepError> {
        let (path, text) = read_file(dir, "meta.json")?;
        let meta: ShardMeta = serde_json::from_str(&text).map_err(|e| SweepError::Malformed {
            path: path.clone(),
            line: e.line(),
            reason: e.to_string(),
        })?;
        let (path, text) = read_file(dir, "trials.csv")?;
        let mut results = parse_trials(&path, &text, &meta.parameters, meta.objective)?;
        let (returns_path, returns) = read_file(dir, "returns.csv")?;
        parse_returns(&returns_path, &returns, &mut results)?;
        Ok(Self { meta, results })
    }
}

/// The shards of one sweep, each labelled with where it came from (a directory, a database
/// row), ready to be merged.
#[derive(Debug, Clone)]
pub struct ShardSet {
    /// What the set is, for messages about it as a whole (a shard missing).
    name: String,
    shards: Vec<(String, SweepResults)>,
}

impl ShardSet {
    /// An empty set called `name` in messages (e.g. `sweep 'sma-spx'`).
    #[must_use]
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            shards: Vec::new(),
        }
    }

    /// Number of shards in the set.
    #[must_use]
    pub fn len(&self) -> usize {
        self.shards.len()
    }

    /// True if the set holds no shard.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }

    /// The shards, in the order they were added.
    pub fn shards(&self) -> impl Iterator<Item = &SweepResults> {
        self.shards.iter().map(|(_, s)| s)
    }

    /// Adds a shard; `origin` names it in error messages.
    pub fn push(&mut self, origin: impl Into<String>, shard: SweepResults) {
        self.shards.push((origin.into(), shard));
    }

    /// Reads every directory ([`SweepResults::read`]); each is named by its path.
    ///
    /// # Errors
    /// As [`SweepResults::read`].
    pub fn read_dirs(dirs: &[PathBuf]) -> Result<Self, SweepError> {
        let mut set = Self::named("sweep-merge");
        for dir in dirs {
            set.push(dir.display().to_string(), SweepResults::read(dir)?);
        }
        Ok(set)
    }

    /// Merges the shards into the results of the whole sweep (shard `0/1`), exactly as an
    /// unsharded run produces them. The set must be the whole sweep: every shard `0..N` once,
    /// all of the same sweep (same identity and settings), each holding exactly its trials.
    ///
    /// # Errors
    /// [`SweepError::Shards`] naming the offending shard's origin: a shard of another sweep
    /// (its config hash, settings or shard count differ), a shard given twice, a shard whose
    /// trials do not match what its metadata says it ran; or naming the set when a shard is
    /// missing or the set is empty.
    pub fn merge(self) -> Result<SweepResults, SweepError> {
        let Self { name, shards } = self;
        let Some((first_origin, first)) = shards.first() else {
            return Err(SweepError::Shards {
                shard: name,
                reason: "no shards to merge".into(),
            });
        };
        let reference = first.meta.clone();
        let first_origin = first_origin.clone();
        let mut seen: Vec<Option<&str>> = vec![None; reference.shard.count()];
        for (origin, shard) in &shards {
            let bad = |reason: String| SweepError::Shards {
                shard: origin.clone(),
                reason,
            };
            let m = &shard.meta;
            if m.config_hash != reference.config_hash {
                return Err(bad(format!(
                    "belongs to another sweep: its config hash {} differs from {} of {first_origin} \
                     (other settings or other data)",
                    m.config_hash, reference.config_hash
                )));
            }
            if m.parameters != reference.parameters
                || m.objective != reference.objective
                || m.pbo_blocks != reference.pbo_blocks
                || m.returns != reference.returns
                || m.total_trials != reference.total_trials
            {
                return Err(bad(format!(
                    "belongs to another sweep: its parameters, objective, pbo_blocks, returns or \
                     trial count differ from {first_origin}'s"
                )));
            }
            if m.shard.count() != reference.shard.count() {
                return Err(bad(format!(
                    "is shard {} of {} shards, but {first_origin} is one of {}",
                    m.shard,
                    m.shard.count(),
                    reference.shard.count()
                )));
            }
            if let Some(other) = seen[m.shard.index()].replace(origin) {
                return Err(bad(format!(
                    "shard {} is given twice: {other} and {origin}",
                    m.shard
                )));
            }
            let expected = m.shard.trials_of(m.total_trials);
            if m.trials != expected || shard.results.len() != expected {
                return Err(bad(format!(
                    "shard {} of a {}-trial sweep runs {expected} trials; its metadata says {} and \
                     it holds {}",
                    m.shard,
                    m.total_trials,
                    m.trials,
                    shard.results.len()
                )));
            }
            if let Some(r) = shard
                .results
                .iter()
                .find(|r| !m.shard.owns(r.trial.id) || r.trial.id >= m.total_trials)
            {
                return Err(bad(format!(
                    "holds trial {}, which is not one of shard {}'s",
                    r.trial.id, m.shard
                )));
            }
            if let Some(pair) = shard
                .results
                .windows(2)
                .find(|w| w[0].trial.id >= w[1].trial.id)
            {
                return Err(bad(format!(
                    "trial {} follows trial {}: trials must be distinct and in id order",
                    pair[1].trial.id, pair[0].trial.id
                )));
            }
        }
        let missing: Vec<String> = seen
            .iter()
            .enumerate()
            .filter(|(_, origin)| origin.is_none())
            .map(|(i, _)| format!("{i}/{}", reference.shard.count()))
            .collect();
        if !missing.is_empty() {
            let given: Vec<String> = shards
                .iter()
                .map(|(origin, s)| format!("{} from {origin}", s.meta.shard))
                .collect();
            return Err(SweepError::Shards {
                shard: name,
                reason: format!(
                    "shard {} {} missing (given: {})",
                    missing.join(", "),
                    if missing.len() == 1 { "is" } else { "are" },
                    given.join("; ")
                ),
            });
        }
        // Every trial is owned by exactly one shard index and each index appears once, so the
        // trials are distinct and together they are the whole sweep.
        let mut results: Vec<TrialResult> =
            shards.into_iter().flat_map(|(_, s)| s.results).collect();
        results.sort_by_key(|r| r.trial.id);
        let mut meta = reference;
        meta.shard = Shard::ALL;
        meta.trials = results.len();
        Ok(SweepResults { meta, results })
    }
}

/// Merges shard directories (each written by [`SweepResults::write`]) into `out`, giving
/// exactly the files an unsharded run writes. Returns the merged report.
///
/// # Errors
/// As [`ShardSet::read_dirs`], [`ShardSet::merge`] and [`SweepResults::write`].
pub fn merge_shards(dirs: &[PathBuf], out: &Path) -> Result<SweepReport, SweepError> {
    ShardSet::read_dirs(dirs)?.merge()?.write(out)
}
