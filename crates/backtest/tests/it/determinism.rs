//! Acceptance 7: the same config and data give byte-identical report files.

use tradepulse_backtest::Backtest;

use crate::fixtures::{config, data_file};

#[test]
fn same_config_same_bytes() {
    let yaml = format!(
        r"
data: {{path: '{}'}}
instrument: {{symbol: ES, tick_size: 0.25}}
strategy: {{kind: sma_cross, params: {{fast: 5, slow: 20, size: {{equity_fraction: 0.5}}, direction: long_short}}}}
execution: {{fill_model: next_open, taker_fee_bps: 1.5, slippage_bps: 1}}
portfolio: {{initial_cash: 250000, account: margin}}
",
        data_file("es_10s.csv").display()
    );
    let cfg = config(&yaml);
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for dir in &dirs {
        Backtest::run(&cfg).unwrap().write(dir.path()).unwrap();
    }
    for name in ["summary.json", "trades.csv", "fills.csv", "equity.csv"] {
        let a = std::fs::read(dirs[0].path().join(name)).unwrap();
        let b = std::fs::read(dirs[1].path().join(name)).unwrap();
        assert!(!a.is_empty(), "{name} is empty");
        assert!(a == b, "{name} differs between identical runs");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dirs[0].path().join("summary.json")).unwrap())
            .unwrap();
    for key in [
        "bars_processed",
        "fills",
        "round_trips",
        "final_equity",
        "total_return",
        "cagr",
        "volatility",
        "sharpe",
        "sortino",
        "max_drawdown",
        "max_drawdown_duration",
        "calmar",
        "win_rate",
        "profit_factor",
        "exposure",
        "fees_paid",
        "turnover",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["bars_processed"], 10_151);
    assert!(summary["fills"].as_u64().unwrap() > 100);
}
