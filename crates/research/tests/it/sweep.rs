//! Issue 4: sweeps, sharding and walk-forward.

use tradepulse_research::sweep::{self, Objective, Shard, SweepPlan};
use tradepulse_research::walk_forward;

use crate::fixtures::{SWEEP, config, spx};

#[test]
fn grid_enumerates_every_combination_in_a_fixed_order() {
    let plan = SweepPlan::new(&config(SWEEP)).unwrap();
    assert_eq!(plan.names, ["fast", "slow"]);
    let values: Vec<Vec<f64>> = plan.trials.iter().map(|t| t.values.clone()).collect();
    assert_eq!(values.len(), 9);
    assert_eq!(values[0], [5.0, 20.0]);
    assert_eq!(values[1], [5.0, 40.0]);
    assert_eq!(values[8], [20.0, 60.0]);
}

#[test]
fn random_search_is_seeded_and_deduplicated() {
    let yaml = SWEEP.replace(
        "  objective: sharpe",
        "  method: random\n  samples: 6\n  seed: 7\n  objective: sharpe",
    );
    let a = SweepPlan::new(&config(&yaml)).unwrap();
    let b = SweepPlan::new(&config(&yaml)).unwrap();
    assert_eq!(a.trials, b.trials);
    assert_eq!(a.trials.len(), 6);
    let mut keys: Vec<String> = a.trials.iter().map(|t| format!("{:?}", t.values)).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 6);
}

#[test]
fn unknown_parameter_is_a_clear_error() {
    let yaml = SWEEP.replace("    fast: [5, 10, 20]", "    fsat: [5, 10, 20]");
    let err = SweepPlan::new(&config(&yaml)).unwrap_err().to_string();
    assert!(
        err.contains("sweep.parameters.fsat: sma_cross has no parameter 'fsat'"),
        "{err}"
    );
}

#[test]
fn invalid_combinations_are_reported_not_ranked() {
    let cfg = config(SWEEP);
    let plan = SweepPlan::new(&cfg).unwrap();
    let results = sweep::run_trials(&cfg, &plan, &spx()[..600], Shard::ALL, &|| {});
    // fast 20 / slow 20 is invalid.
    let invalid: Vec<usize> = results
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.trial.id)
        .collect();
    assert_eq!(invalid, [6]);
    assert_eq!(sweep::rank(&results, Objective::Sharpe).len(), 8);
}

#[test]
fn merging_shards_gives_exactly_the_unsharded_files() {
    let cfg = config(SWEEP);
    let plan = SweepPlan::new(&cfg).unwrap();
    let bars = &spx()[..1500];
    let whole = tempfile::tempdir().unwrap();
    let all = plan.run(&cfg, bars, Shard::ALL, &|| {}).unwrap();
    let report = all.write(whole.path()).unwrap();
    assert_eq!(report.valid_trials, 8);
    assert!(report.deflated_sharpe.is_some());

    let shard_dirs: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, dir) in shard_dirs.iter().enumerate() {
        let part = plan
            .run(&cfg, bars, Shard::new(i, 4).unwrap(), &|| {})
            .unwrap();
        assert!(part.results.iter().all(|r| r.trial.id % 4 == i));
        part.write(dir.path()).unwrap();
    }
    let merged = tempfile::tempdir().unwrap();
    let paths: Vec<_> = shard_dirs
        .iter()
        .rev()
        .map(|d| d.path().to_owned())
        .collect();
    sweep::merge_shards(&paths, merged.path()).unwrap();
    for name in [
        "trials.csv",
        "returns.csv",
        "ranking.csv",
        "meta.json",
        "sweep.json",
        "heatmap.html",
    ] {
        let a = std::fs::read_to_string(whole.path().join(name)).unwrap();
        let b = std::fs::read_to_string(merged.path().join(name)).unwrap();
        assert_eq!(a, b, "{name}");
    }
    // Read back, the files are the results that were written.
    assert_eq!(sweep::SweepResults::read(whole.path()).unwrap(), all);
    // A shard given twice is refused.
    let twice = [paths[0].clone(), paths[0].clone()];
    assert!(sweep::merge_shards(&twice, merged.path()).is_err());
}

#[test]
fn shard_syntax() {
    assert!("2/8".parse::<Shard>().is_ok());
    for bad in ["8/8", "1/0", "x/2", "3"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}

#[test]
fn walk_forward_windows_roll_and_anchor() {
    let bars = spx();
    let mut cfg = config(SWEEP);
    let wf = cfg.walk_forward.clone().unwrap();
    let rolling = walk_forward::windows(&wf, &bars).unwrap();
    assert_eq!(rolling[0], (0, 1000, 1500));
    assert_eq!(rolling[1], (500, 1500, 2000));
    // 8 full windows and a last, shorter test window (bars 5000..5031).
    assert_eq!(rolling.len(), 9);
    assert_eq!(rolling[8], (4000, 5000, 5031));
    let mut anchored = wf.clone();
    anchored.anchored = true;
    let a = walk_forward::windows(&anchored, &bars).unwrap();
    assert_eq!(a[1], (0, 1500, 2000));
    // Durations on timestamps: 365 days of daily bars ≈ 251 bars.
    cfg.walk_forward = Some(
        config(&SWEEP.replace(
            "walk_forward: {train: 1000, test: 500}",
            "walk_forward: {train: 730d, test: 365d}",
        ))
        .walk_forward
        .unwrap(),
    );
    let d = walk_forward::windows(cfg.walk_forward.as_ref().unwrap(), &bars).unwrap();
    let test_len = d[0].2 - d[0].1;
    assert!((248..=254).contains(&test_len), "{test_len}");
}

#[test]
fn walk_forward_stitches_out_of_sample_windows() {
    let bars = spx();
    let cfg = config(SWEEP);
    let result = walk_forward::run(&cfg, &bars, &|| {}).unwrap();
    assert_eq!(result.windows.len(), 9);
    // The stitched run covers exactly the test windows, in order, without overlap.
    let expected: usize = result
        .windows
        .iter()
        .map(|w| w.test_end - w.train_end)
        .sum();
    assert_eq!(result.oos.bars, expected);
    assert_eq!(result.oos.equity.len(), expected);
    assert_eq!(result.oos_bars[0].ts, bars[1000].ts);
    for w in &result.windows {
        assert!(w.best.is_some());
        assert_eq!(w.train_trials.len(), 9);
    }
    // Each window's test run starts where the previous ended: equity is continuous.
    assert!(result.summary.final_equity.0.as_f64() > 0.0);
}

#[test]
fn malformed_window_lengths_are_errors_not_panics() {
    let bars = spx();
    for bad in ["90д", "d", "", "0d", "-5d", "5y", "99999999999999999999d"] {
        let yaml = SWEEP.replace(
            "walk_forward: {train: 1000, test: 500}",
            &format!("walk_forward: {{train: '{bad}', test: 500}}"),
        );
        let cfg = config(&yaml);
        let err = walk_forward::windows(cfg.walk_forward.as_ref().unwrap(), &bars).unwrap_err();
        assert!(
            err.to_string().contains("walk_forward.train"),
            "{bad}: {err}"
        );
    }
}

/// Sweep files and walk-forward outputs do not depend on how many threads ran the trials.
#[test]
fn outputs_are_byte_identical_across_thread_counts() {
    let cfg = config(SWEEP);
    let bars = &spx()[..2000];
    let files = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (sweep_dir, wf_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        pool.install(|| {
            let plan = SweepPlan::new(&cfg).unwrap();
            plan.run(&cfg, bars, Shard::ALL, &|| {})
                .unwrap()
                .write(sweep_dir.path())
                .unwrap();
            let wf = walk_forward::run(&cfg, bars, &|| {}).unwrap();
            walk_forward::write(wf_dir.path(), &wf, bars, cfg.sweep.as_ref().unwrap()).unwrap();
        });
        let read = |dir: &std::path::Path, names: &[&str]| -> Vec<String> {
            names
                .iter()
                .map(|n| std::fs::read_to_string(dir.join(n)).unwrap())
                .collect()
        };
        (
            read(
                sweep_dir.path(),
                &[
                    "trials.csv",
                    "returns.csv",
                    "ranking.csv",
                    "meta.json",
                    "sweep.json",
                ],
            ),
            read(
                wf_dir.path(),
                &["windows.csv", "oos_equity.csv", "summary.json"],
            ),
        )
    };
    assert_eq!(files(1), files(3));
}
