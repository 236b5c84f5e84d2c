//! [`SweepResults`] (one shard's trials and what they are), written to and read from a
//! directory, and [`ShardSet`]: the shards of one sweep, merged into exactly the unsharded
//! results.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tradepulse_backtest::Objective;

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
    /// Parameter names, in the order of every trial's values.
    pub parameters: Vec<String>,
    /// What the ranking maximises.
    pub objective: Objective,
    /// Blocks of the PBO's cross-validation.
    pub pbo_blocks: usize,
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
    /// unsharded run produces them.
    ///
    /// # Errors
    /// [`SweepError::Shards`] naming the shard when the set is empty or its shards disagree on
    /// the sweep's settings, or when two shards hold the same trial.
    pub fn merge(self) -> Result<SweepResults, SweepError> {
        let name = self.name;
        let mut shards = self.shards.into_iter();
        let Some((first_origin, first)) = shards.next() else {
            return Err(SweepError::Shards {
                shard: name,
                reason: "no shards to merge".into(),
            });
        };
        let mut meta = first.meta.clone();
        let mut results = first.results;
        for (origin, shard) in shards {
            let m = &shard.meta;
            if m.parameters != meta.parameters
                || m.objective != meta.objective
                || m.pbo_blocks != meta.pbo_blocks
            {
                return Err(SweepError::Shards {
                    shard: origin,
                    reason: format!(
                        "its parameters, objective or pbo_blocks differ from {first_origin}'s"
                    ),
                });
            }
            results.extend(shard.results);
        }
        results.sort_by_key(|r| r.trial.id);
        if let Some(pair) = results.windows(2).find(|w| w[0].trial.id == w[1].trial.id) {
            return Err(SweepError::Shards {
                shard: name,
                reason: format!("trial {} appears in more than one shard", pair[0].trial.id),
            });
        }
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
