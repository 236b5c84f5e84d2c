//! Issue 11, point 3: a shard records the sweep's identity (config hash), its index, the shard
//! count and its trial count; a merge refuses a missing, duplicated or foreign shard and names
//! it; a results file without the objective column is an error.

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tradepulse_backtest::BacktestConfig;
use tradepulse_model::Bar;
use tradepulse_research::sweep::{self, Shard, SweepError, SweepPlan, SweepResults};

use crate::fixtures::{SWEEP, config, spx};

fn bars() -> Vec<Bar> {
    spx()[..800].to_vec()
}

/// Runs every shard of a `count`-way split into its own directory.
fn shards(cfg: &BacktestConfig, bars: &[Bar], count: usize) -> Vec<TempDir> {
    let plan = SweepPlan::new(cfg).unwrap();
    (0..count)
        .map(|i| {
            let dir = tempfile::tempdir().unwrap();
            plan.run(cfg, bars, Shard::new(i, count).unwrap(), &|| {})
                .unwrap()
                .write(dir.path())
                .unwrap();
            dir
        })
        .collect()
}

fn paths(dirs: &[&TempDir]) -> Vec<PathBuf> {
    dirs.iter().map(|d| d.path().to_owned()).collect()
}

fn merge_error(dirs: &[&TempDir]) -> String {
    let out = tempfile::tempdir().unwrap();
    let err = sweep::merge_shards(&paths(dirs), out.path()).unwrap_err();
    assert!(matches!(err, SweepError::Shards { .. }), "{err}");
    err.to_string()
}

fn meta(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap()
}

#[test]
fn a_shard_records_the_sweeps_identity_its_place_and_its_trial_count() {
    let cfg = config(SWEEP);
    let dirs = shards(&cfg, &bars(), 4);
    // 9 trials over 4 shards: shard 1 runs trials 1 and 5.
    let m = meta(dirs[1].path());
    assert_eq!(m["shard"], serde_json::json!({"index": 1, "count": 4}));
    assert_eq!(m["trials"], 2);
    assert_eq!(m["total_trials"], 9);
    let hash = m["config_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16, "{hash}");
    assert!(dirs.iter().all(|d| meta(d.path())["config_hash"] == hash));
}

#[test]
fn the_config_hash_is_the_sweeps_settings_and_data() {
    let hash = |yaml: &str, bars: &[Bar]| {
        let cfg = config(yaml);
        SweepPlan::new(&cfg)
            .unwrap()
            .run(&cfg, bars, Shard::new(0, 9).unwrap(), &|| {})
            .unwrap()
            .meta
            .config_hash
    };
    let bars = bars();
    let base = hash(SWEEP, &bars);
    // Where the files go, comments and key order are not part of the identity …
    let restyled = format!(
        "# same sweep\noutput: {{directory: elsewhere}}\n{}",
        SWEEP.replace(
            "execution: {taker_fee_bps: 10}\nportfolio: {initial_cash: 1000000}",
            "portfolio: {initial_cash: 1000000}\nexecution: {taker_fee_bps: 10}"
        )
    );
    assert_eq!(hash(&restyled, &bars), base);
    // … the costs and the data are.
    assert_ne!(
        hash(
            &SWEEP.replace("taker_fee_bps: 10", "taker_fee_bps: 11"),
            &bars
        ),
        base
    );
    assert_ne!(hash(SWEEP, &bars[..799]), base);
}

#[test]
fn merge_refuses_a_missing_shard_and_names_it() {
    let dirs = shards(&config(SWEEP), &bars(), 4);
    let err = merge_error(&[&dirs[0], &dirs[1], &dirs[3]]);
    assert!(err.contains("shard 2/4 is missing"), "{err}");
}

#[test]
fn merge_refuses_a_duplicated_shard_and_names_both_copies() {
    let cfg = config(SWEEP);
    let dirs = shards(&cfg, &bars(), 3);
    let copy = shards(&cfg, &bars(), 3).remove(1);
    let err = merge_error(&[&dirs[0], &dirs[1], &copy, &dirs[2]]);
    assert!(err.contains("shard 1/3 is given twice"), "{err}");
    assert!(err.contains(&dirs[1].path().display().to_string()), "{err}");
    assert!(err.contains(&copy.path().display().to_string()), "{err}");
}

#[test]
fn merge_refuses_a_foreign_shard_and_names_it() {
    let dirs = shards(&config(SWEEP), &bars(), 3);
    // Shard 2 of a sweep with other costs, and one of the same sweep on other data.
    let other_costs = shards(
        &config(&SWEEP.replace("taker_fee_bps: 10", "taker_fee_bps: 20")),
        &bars(),
        3,
    )
    .remove(2);
    let other_data = shards(&config(SWEEP), &bars()[..700], 3).remove(2);
    for foreign in [&other_costs, &other_data] {
        let err = merge_error(&[&dirs[0], &dirs[1], foreign]);
        assert!(
            err.starts_with(&foreign.path().display().to_string()),
            "{err}"
        );
        assert!(err.contains("another sweep"), "{err}");
    }
    // A shard of the same sweep cut another way is foreign too.
    let four = shards(&config(SWEEP), &bars(), 4).remove(3);
    let err = merge_error(&[&dirs[0], &dirs[1], &dirs[2], &four]);
    assert!(err.contains("of 4 shards"), "{err}");
}

#[test]
fn merge_refuses_a_shard_that_lost_a_trial() {
    let dirs = shards(&config(SWEEP), &bars(), 2);
    // Shard 1 runs trials 1, 3, 5, 7; drop trial 7 (its row and its returns).
    for name in ["trials.csv", "returns.csv"] {
        let path = dirs[1].path().join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with("7,")).collect();
        std::fs::write(&path, kept.join("\n") + "\n").unwrap();
    }
    let err = merge_error(&[&dirs[0], &dirs[1]]);
    assert!(
        err.starts_with(&dirs[1].path().display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("runs 4 trials") && err.contains("holds 3"),
        "{err}"
    );
}

#[test]
fn a_results_file_without_the_objective_column_is_an_error() {
    let dir = shards(&config(SWEEP), &bars(), 1).remove(0);
    let path = dir.path().join("trials.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let objective = text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .position(|c| c == "objective")
        .unwrap();
    let dropped: String = text
        .lines()
        .map(|line| {
            let mut fields: Vec<&str> = line.split(',').collect();
            fields.remove(objective);
            fields.join(",") + "\n"
        })
        .collect();
    std::fs::write(&path, dropped).unwrap();
    let err = SweepResults::read(dir.path()).unwrap_err();
    assert!(
        matches!(err, SweepError::Malformed { line: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no `objective` column"), "{err}");
    let out = tempfile::tempdir().unwrap();
    assert!(sweep::merge_shards(&[dir.path().to_owned()], out.path()).is_err());
}
