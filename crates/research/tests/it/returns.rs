//! Issue 11, point 5: the Deflated Sharpe Ratio and the PBO of a sweep use each trial's
//! per-period returns — one per trading day by default, or per bar, or per block of N bars —
//! and `sweep.json` reports the period and T (it used to be 256 slices whatever the data).

use tradepulse_backtest::BacktestConfig;
use tradepulse_data::{CsvOptions, load_bars_csv};
use tradepulse_model::Bar;
use tradepulse_research::sweep::{Shard, SweepPlan, SweepReport, SweepResults};

use crate::fixtures::{SWEEP, config, data_file, spx};

fn sweep(cfg: &BacktestConfig, bars: &[Bar]) -> (SweepResults, SweepReport, serde_json::Value) {
    let results = SweepPlan::new(cfg)
        .unwrap()
        .run(cfg, bars, Shard::ALL, &|| {})
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = results.write(dir.path()).unwrap();
    let json =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sweep.json")).unwrap())
            .unwrap();
    (results, report, json)
}

fn with_returns(returns: &str) -> BacktestConfig {
    config(&SWEEP.replace(
        "  objective: sharpe",
        &format!("  objective: sharpe\n  returns: {returns}"),
    ))
}

#[test]
fn dsr_and_pbo_use_one_return_per_trading_day_by_default() {
    let bars = &spx()[..1500];
    let (results, report, json) = sweep(&config(SWEEP), bars);
    // Daily bars: one return per bar, every trial the same 1,500 periods.
    assert_eq!(
        json["returns"],
        serde_json::json!({"period": "trading_day", "periods": 1500})
    );
    assert_eq!(report.deflated_sharpe.unwrap().stats.observations, 1500);
    assert!(
        results
            .results
            .iter()
            .filter(|r| r.outcome.is_ok())
            .all(|r| r.period_returns.len() == 1500)
    );
    assert_eq!(report.pbo.unwrap().blocks, 16);
}

#[test]
fn per_period_returns_compound_to_the_trials_total_return() {
    let (results, _, _) = sweep(&config(SWEEP), &spx()[..1500]);
    for r in results.results.iter().filter(|r| r.outcome.is_ok()) {
        let total = r.outcome.as_ref().unwrap().total_return.unwrap();
        let compounded: f64 = r.period_returns.iter().map(|x| 1.0 + x).product::<f64>() - 1.0;
        assert!(
            (compounded - total).abs() < 1e-9,
            "trial {}: {compounded} vs {total}",
            r.trial.id
        );
    }
}

#[test]
fn the_period_is_configurable_and_t_is_reported() {
    let spx = spx();
    let (_, report, json) = sweep(&with_returns("{bars: 10}"), &spx[..1500]);
    assert_eq!(
        json["returns"],
        serde_json::json!({"period": {"bars": 10}, "periods": 150})
    );
    assert_eq!(report.deflated_sharpe.unwrap().stats.observations, 150);
    let (_, _, json) = sweep(&with_returns("bar"), &spx[..1500]);
    assert_eq!(json["returns"]["periods"], 1500);

    // Intraday data: 45 hours of 10-second bars are 3 trading days (too few for a PBO over 16
    // blocks, which says so), or 29 blocks of an hour's 360 bars.
    let es = load_bars_csv(&data_file("es_10s.csv"), &CsvOptions::default()).unwrap();
    let es_config = |returns: &str| {
        config(
            &SWEEP
                .replace("tick_size: 0.000001", "tick_size: 0.25")
                .replace(
                    "  objective: sharpe",
                    &format!("  objective: sharpe\n  returns: {returns}\n  pbo_blocks: 4"),
                ),
        )
    };
    let (_, report, json) = sweep(&es_config("trading_day"), &es);
    assert_eq!(json["returns"]["periods"], 3);
    assert!(report.pbo.is_none());
    assert!(
        report
            .pbo_unavailable
            .unwrap()
            .contains("3 returns per trial are too few")
    );
    let (_, report, json) = sweep(&es_config("{bars: 360}"), &es);
    assert_eq!(
        json["returns"],
        serde_json::json!({"period": {"bars": 360}, "periods": 29})
    );
    assert!(report.pbo.is_some());
}

#[test]
fn a_sweep_whose_returns_would_not_fit_in_memory_is_refused() {
    let yaml = SWEEP
        .replace("fast: [5, 10, 20]", "fast: {from: 1, to: 60, step: 1}")
        .replace(
            "slow: {from: 20, to: 60, step: 20}",
            "slow: {from: 1, to: 60, step: 1}",
        )
        .replace("  objective: sharpe", "  objective: sharpe\n  returns: bar");
    let cfg = config(&yaml);
    let err = SweepPlan::new(&cfg)
        .unwrap()
        .run(&cfg, &spx(), Shard::ALL, &|| panic!("no trial may run"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("sweep.returns: 3600 trials × 5031 periods"),
        "{err}"
    );
}
