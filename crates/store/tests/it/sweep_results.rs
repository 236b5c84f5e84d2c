//! The typed sweep API: shards saved with `save_sweep_results` come back as a `ShardSet` that
//! merges into exactly the whole sweep, and a stored field that is missing or corrupt is an
//! error naming the record and the field — never a default.

use tradepulse_research::sweep::{
    Objective, ReturnPeriod, Shard, ShardMeta, SweepResults, Trial, TrialMetrics, TrialResult,
};
use tradepulse_store::Error;

use crate::both_backends;
use crate::support::TestDb;

both_backends!(
    shards_round_trip_and_merge,
    large_shard_is_saved_in_batches,
    corrupt_or_missing_fields_are_errors,
    stored_sweeps_are_listed_from_their_shard_records,
);

/// Trial `id` of a two-parameter sweep; every fifth one could not run.
fn trial(id: usize) -> TrialResult {
    let x = id as f64;
    let outcome = if id % 5 == 3 {
        Err("fast must be below slow".to_owned())
    } else {
        Ok(TrialMetrics {
            total_return: Some(0.01 * x - 0.02),
            cagr: id.is_multiple_of(2).then_some(0.003 * x),
            volatility: Some(0.15),
            sharpe: Some(0.1 * x - 0.35),
            sortino: None,
            calmar: Some(1.0 / (x + 1.0)),
            max_drawdown: Some(0.2),
            win_rate: Some(0.5),
            profit_factor: None,
            fills: 2 * id,
            round_trips: id,
            final_equity: format!("1000{id}.123456789").parse().unwrap(),
        })
    };
    let period_returns = if outcome.is_ok() {
        (0..40)
            .map(|k| ((k * 7 + id) % 11) as f64 / 1000.0 - 0.005)
            .collect()
    } else {
        Vec::new()
    };
    TrialResult {
        trial: Trial {
            id,
            values: vec![x, 100.0 + 0.5 * x],
        },
        outcome,
        period_returns,
    }
}

fn shard_of(total: usize, shard: Shard) -> SweepResults {
    let results: Vec<TrialResult> = (0..total).filter(|&id| shard.owns(id)).map(trial).collect();
    SweepResults {
        meta: ShardMeta {
            config_hash: "00112233445566ff".into(),
            total_trials: total,
            parameters: vec!["fast".into(), "slow".into()],
            objective: Objective::Sharpe,
            pbo_blocks: 4,
            returns: ReturnPeriod::Bars(3),
            shard,
            trials: results.len(),
        },
        results,
    }
}

async fn shards_round_trip_and_merge(db: &TestDb) {
    let whole = shard_of(11, Shard::ALL);
    for i in [2, 0, 1] {
        let shard = shard_of(11, Shard::new(i, 3).unwrap());
        db.store.save_sweep_results("sw", &shard).await.unwrap();
    }
    // Re-running a shard replaces its rows instead of adding to them.
    let again = shard_of(11, Shard::new(1, 3).unwrap());
    db.store.save_sweep_results("sw", &again).await.unwrap();

    let set = db.store.sweep_shard_set("sw").await.unwrap();
    assert_eq!(set.len(), 3);
    assert_eq!(set.merge().unwrap(), whole);
    // The SQL view agrees: the objective column is the trial's Sharpe.
    let rows = db.store.sweep_trials("sw").await.unwrap();
    assert_eq!(rows.len(), 11);
    assert_eq!(rows[4].objective, Some(0.1 * 4.0 - 0.35));
    assert_eq!(rows[3].objective, None);
    assert!(db.store.sweep_shard_set("other").await.unwrap().is_empty());
}

/// `Store::sweeps` describes each sweep from its shard records: which shards are in, how many
/// trials they hold, whether the sweep is whole; the most recently stored first.
async fn stored_sweeps_are_listed_from_their_shard_records(db: &TestDb) {
    assert!(db.store.sweeps().await.unwrap().is_empty());
    db.store
        .save_sweep_results("whole", &shard_of(7, Shard::ALL))
        .await
        .unwrap();
    for i in [2, 0] {
        let shard = shard_of(11, Shard::new(i, 3).unwrap());
        db.store.save_sweep_results("part", &shard).await.unwrap();
    }
    let listed = db.store.sweeps().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["part", "whole"]);
    let (part, whole) = (&listed[0], &listed[1]);
    assert_eq!(
        part.shards,
        [Shard::new(0, 3).unwrap(), Shard::new(2, 3).unwrap()]
    );
    assert_eq!(part.trials_stored, 4 + 3);
    assert_eq!(part.meta.total_trials, 11);
    assert!(!part.is_complete());
    assert_eq!((whole.trials_stored, whole.shards.len()), (7, 1));
    assert!(whole.is_complete());
    assert!(whole.updated_at <= part.updated_at);
    db.store
        .save_sweep_results("part", &shard_of(11, Shard::new(1, 3).unwrap()))
        .await
        .unwrap();
    let part = db.store.sweeps().await.unwrap().remove(0);
    assert_eq!((part.id.as_str(), part.trials_stored), ("part", 11));
    assert!(part.is_complete());
}

async fn large_shard_is_saved_in_batches(db: &TestDb) {
    let whole = shard_of(613, Shard::ALL);
    db.store.save_sweep_results("big", &whole).await.unwrap();
    let merged = db
        .store
        .sweep_shard_set("big")
        .await
        .unwrap()
        .merge()
        .unwrap();
    assert_eq!(merged, whole);
}

/// Corrupts one stored value with raw SQL and expects the load to name it.
async fn expect_corrupt(db: &TestDb, sql: &str, record: &str, field: &str) {
    let sweep = "bad";
    db.store
        .save_sweep_results(sweep, &shard_of(6, Shard::ALL))
        .await
        .unwrap();
    db.raw_execute(sql).await.unwrap();
    let err = db.store.sweep_shard_set(sweep).await.unwrap_err();
    assert!(matches!(err, Error::CorruptSweep { .. }), "{sql}: {err}");
    let text = err.to_string();
    assert!(
        text.contains(record) && text.contains(field),
        "{sql}: '{text}' should name {record} and {field}"
    );
}

async fn corrupt_or_missing_fields_are_errors(db: &TestDb) {
    let cases = [
        (
            "UPDATE sweep_trials SET metrics_json = '{\"sharpe\": 0.1}' WHERE trial = 1",
            "trial 1",
            "missing field `total_return`",
        ),
        (
            "UPDATE sweep_trials SET returns_json = NULL WHERE trial = 2",
            "trial 2",
            "returns_json: missing",
        ),
        (
            "UPDATE sweep_trials SET params_json = '{\"fast\": 4}' WHERE trial = 4",
            "trial 4",
            "params_json: no `slow`",
        ),
        (
            "UPDATE sweep_trials SET objective = 99 WHERE trial = 0",
            "trial 0",
            "objective",
        ),
        (
            "UPDATE sweep_trials SET metrics_json = '{\"invalid\": 3}' WHERE trial = 3",
            "trial 3",
            "metrics_json",
        ),
        (
            "UPDATE sweep_shards SET meta_json = '{\"parameters\": [\"fast\", \"slow\"]}'",
            "shard record 0",
            "missing field `config_hash`",
        ),
        (
            "UPDATE sweep_shards SET trials = 5",
            "shard record 0",
            "with 5 trials",
        ),
    ];
    for (sql, record, field) in cases {
        expect_corrupt(db, sql, record, field).await;
    }
}
