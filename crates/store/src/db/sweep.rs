//! The typed sweep API: a shard's [`SweepResults`] in, a sweep's [`ShardSet`] out, and the one
//! mapping between research results and stored rows.
//!
//! | research | row |
//! |---|---|
//! | [`ShardMeta`] | `sweep_shards`: `shard_index`, `shard_count`, `trials` and the whole document as `meta_json` |
//! | [`TrialResult::trial`] | `sweep_trials.trial`, `params_json` (`{"name": value, …}`) |
//! | [`TrialResult::outcome`] | `metrics_json`: the [`TrialMetrics`] object, or `{"invalid": reason}` |
//! | the objective's value | `objective` (for SQL queries; checked against the metrics when read) |
//! | [`TrialResult::period_returns`] | `returns_json` (a JSON array; `[]` for a trial that did not run) |
//!
//! Reading is strict: a missing or undecodable field is [`Error::CorruptSweep`] naming the
//! sweep, the record and the field, never a default.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use tradepulse_model::UnixNanos;
use tradepulse_research::sweep::{
    Shard, ShardMeta, ShardSet, SweepResults, Trial, TrialMetrics, TrialResult,
};

use super::Store;
use super::records::{SweepShard, SweepTrial};
use crate::error::{Error, Result};

/// Trials per transaction when saving a shard: a batch lands whole or not at all, and a shard
/// of thousands of trials does not hold one huge transaction open.
const TRIALS_PER_BATCH: usize = 250;

impl Store {
    /// Stores one shard's results under `sweep_id`: its trials in batches (one transaction per
    /// batch, [`Store::save_sweep_trials`]), then its shard record. The record comes last, so a
    /// shard that fails half-way has none and a merge reports it missing; re-running a shard
    /// replaces its rows.
    ///
    /// # Errors
    /// Database failures; [`Error::InvalidValue`] for a trial id beyond `i64`.
    pub async fn save_sweep_results(&self, sweep_id: &str, results: &SweepResults) -> Result<()> {
        let created_at = now();
        let meta = &results.meta;
        let rows = results
            .results
            .iter()
            .map(|r| trial_row(sweep_id, meta, r, created_at))
            .collect::<Result<Vec<SweepTrial>>>()?;
        for batch in rows.chunks(TRIALS_PER_BATCH) {
            self.save_sweep_trials(batch).await?;
        }
        self.save_sweep_shard(&shard_row(sweep_id, meta, created_at)?)
            .await
    }

    /// Every shard of `sweep_id` stored by [`Store::save_sweep_results`], with its trials, as a
    /// [`ShardSet`] to merge. Trials whose shard has no record (it did not finish) are left out,
    /// so the merge names that shard as missing.
    ///
    /// # Errors
    /// Database failures; [`Error::CorruptSweep`] for a record or trial with a missing or
    /// undecodable field.
    pub async fn sweep_shard_set(&self, sweep_id: &str) -> Result<ShardSet> {
        let shards = self.sweep_shards(sweep_id).await?;
        let trials = self.sweep_trials(sweep_id).await?;
        let mut set = ShardSet::named(format!("sweep '{sweep_id}'"));
        for record in &shards {
            let meta = shard_meta(record)?;
            let label = meta.shard.to_string();
            let results = trials
                .iter()
                .filter(|t| t.shard == label)
                .map(|t| trial_result(t, &meta))
                .collect::<Result<Vec<TrialResult>>>()?;
            set.push(
                format!("sweep '{sweep_id}' shard {label} (database)"),
                SweepResults { meta, results },
            );
        }
        Ok(set)
    }
}

/// A stored sweep as its shard records describe it (no trial is read).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSweep {
    /// The sweep id.
    pub id: String,
    /// The first stored shard's metadata: the sweep's parameters, objective and size.
    pub meta: ShardMeta,
    /// The shards stored, by index.
    pub shards: Vec<Shard>,
    /// Trials those shards ran.
    pub trials_stored: usize,
    /// When the last shard was stored.
    pub updated_at: UnixNanos,
}

impl StoredSweep {
    /// Every shard of the sweep is stored (whether they agree is checked by a merge).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        let count = self.meta.shard.count();
        self.shards.len() == count && (0..count).all(|i| self.shards.iter().any(|s| s.index() == i))
    }
}

impl Store {
    /// Every stored sweep, the most recently stored first, from its shard records.
    ///
    /// # Errors
    /// Database failures; [`Error::CorruptSweep`] for a shard record whose metadata does not
    /// decode.
    pub async fn sweeps(&self) -> Result<Vec<StoredSweep>> {
        let records = self.all_sweep_shards().await?;
        let mut sweeps: Vec<StoredSweep> = Vec::new();
        for record in &records {
            let meta = shard_meta(record)?;
            match sweeps.last_mut() {
                Some(last) if last.id == record.sweep_id => {
                    last.shards.push(meta.shard);
                    last.trials_stored += meta.trials;
                    last.updated_at = last.updated_at.max(record.created_at);
                }
                _ => sweeps.push(StoredSweep {
                    id: record.sweep_id.clone(),
                    shards: vec![meta.shard],
                    trials_stored: meta.trials,
                    updated_at: record.created_at,
                    meta,
                }),
            }
        }
        sweeps.sort_by(|a, b| {
            b.updated_at
                .cmp(&a.updated_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(sweeps)
    }
}

fn now() -> UnixNanos {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    UnixNanos::new(nanos)
}

fn to_i64(value: usize, what: &'static str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::InvalidValue {
        what,
        reason: "does not fit a 64-bit integer",
    })
}

/// The row of one trial.
fn trial_row(
    sweep_id: &str,
    meta: &ShardMeta,
    r: &TrialResult,
    created_at: UnixNanos,
) -> Result<SweepTrial> {
    let params: Map<String, Value> = meta
        .parameters
        .iter()
        .zip(&r.trial.values)
        .map(|(name, value)| (name.clone(), Value::from(*value)))
        .collect();
    let metrics = match &r.outcome {
        Ok(m) => serde_json::to_value(m).map_err(|source| Error::Encode {
            what: "sweep trial metrics",
            source,
        })?,
        Err(reason) => Value::Object(Map::from_iter([(
            "invalid".to_owned(),
            Value::from(reason.clone()),
        )])),
    };
    Ok(SweepTrial {
        sweep_id: sweep_id.to_owned(),
        trial: to_i64(r.trial.id, "sweep trial id")?,
        shard: meta.shard.to_string(),
        params: Value::Object(params),
        metrics,
        objective: r.objective(meta.objective),
        returns: Some(r.period_returns.clone()),
        created_at,
    })
}

/// The record of one shard.
fn shard_row(sweep_id: &str, meta: &ShardMeta, created_at: UnixNanos) -> Result<SweepShard> {
    Ok(SweepShard {
        sweep_id: sweep_id.to_owned(),
        shard_index: to_i64(meta.shard.index(), "shard index")?,
        shard_count: to_i64(meta.shard.count(), "shard count")?,
        trials: to_i64(meta.trials, "shard trial count")?,
        meta: serde_json::to_value(meta).map_err(|source| Error::Encode {
            what: "sweep shard metadata",
            source,
        })?,
        created_at,
    })
}

/// A shard record's metadata, checked against its key columns.
fn shard_meta(record: &SweepShard) -> Result<ShardMeta> {
    let corrupt = |reason: String| Error::CorruptSweep {
        sweep_id: record.sweep_id.clone(),
        record: format!("shard record {}", record.shard_index),
        reason,
    };
    let meta: ShardMeta = serde_json::from_value(record.meta.clone())
        .map_err(|e| corrupt(format!("meta_json: {e}")))?;
    let columns = (record.shard_index, record.shard_count, record.trials);
    let document = (
        i64::try_from(meta.shard.index()).ok(),
        i64::try_from(meta.shard.count()).ok(),
        i64::try_from(meta.trials).ok(),
    );
    if (Some(columns.0), Some(columns.1), Some(columns.2)) != document {
        return Err(corrupt(format!(
            "columns say shard {}/{} with {} trials, meta_json says {} with {}",
            columns.0, columns.1, columns.2, meta.shard, meta.trials
        )));
    }
    Ok(meta)
}

/// One stored trial, decoded strictly against its shard's metadata.
fn trial_result(row: &SweepTrial, meta: &ShardMeta) -> Result<TrialResult> {
    let corrupt = |reason: String| Error::CorruptSweep {
        sweep_id: row.sweep_id.clone(),
        record: format!("trial {}", row.trial),
        reason,
    };
    let id = usize::try_from(row.trial).map_err(|_| corrupt("trial: negative id".into()))?;
    let params = row
        .params
        .as_object()
        .ok_or_else(|| corrupt(format!("params_json: {} is not an object", row.params)))?;
    let mut values = Vec::with_capacity(meta.parameters.len());
    for name in &meta.parameters {
        let value = params
            .get(name)
            .ok_or_else(|| corrupt(format!("params_json: no `{name}`")))?;
        values.push(
            value.as_f64().ok_or_else(|| {
                corrupt(format!("params_json: `{name}` is {value}, not a number"))
            })?,
        );
    }
    if let Some(extra) = params.keys().find(|k| !meta.parameters.contains(k)) {
        return Err(corrupt(format!(
            "params_json: `{extra}` is not a parameter of this sweep ({})",
            meta.parameters.join(", ")
        )));
    }
    let outcome = match row.metrics.as_object() {
        Some(object) if object.contains_key("invalid") => match object.get("invalid") {
            Some(Value::String(reason)) if object.len() == 1 => Err(reason.clone()),
            _ => {
                return Err(corrupt(format!(
                    "metrics_json: {} is neither metrics nor {{\"invalid\": reason}}",
                    row.metrics
                )));
            }
        },
        _ => Ok(serde_json::from_value::<TrialMetrics>(row.metrics.clone())
            .map_err(|e| corrupt(format!("metrics_json: {e}")))?),
    };
    let returns = row.returns.clone().ok_or_else(|| {
        corrupt("returns_json: missing (written before schema version 2? re-run the shard)".into())
    })?;
    match (&outcome, returns.is_empty()) {
        (Ok(_), true) => {
            return Err(corrupt(
                "returns_json: a trial that ran has no returns".into(),
            ));
        }
        (Err(_), false) => {
            return Err(corrupt(
                "returns_json: a trial that did not run has returns".into(),
            ));
        }
        _ => {}
    }
    if let Some(k) = returns.iter().position(|r| !r.is_finite()) {
        return Err(corrupt(format!("returns_json: return {k} is not finite")));
    }
    let result = TrialResult {
        trial: Trial { id, values },
        outcome,
        period_returns: returns,
    };
    let derived = result.objective(meta.objective);
    if row.objective.map(f64::to_bits) != derived.map(f64::to_bits) {
        return Err(corrupt(format!(
            "objective: {:?} disagrees with the {} in metrics_json ({derived:?})",
            row.objective,
            meta.objective.as_str()
        )));
    }
    if row.shard != meta.shard.to_string() || !meta.shard.owns(id) {
        return Err(corrupt(format!(
            "shard: '{}' does not own this trial",
            row.shard
        )));
    }
    Ok(result)
}
