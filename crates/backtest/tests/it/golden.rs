//! Golden report files: the sample backtest's `summary.json`, `trades.csv` and `fills.csv` are
//! compared byte for byte with `tests/golden/`. A change in fills, accounting, metrics or
//! formatting shows up here as a reviewable diff. Rewrite the files with `UPDATE_GOLDEN=1 cargo
//! test -p tradepulse-backtest --test it golden` only when the change is intended.

use std::path::PathBuf;

use tradepulse_backtest::Backtest;

use crate::fixtures::{config, data_file};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/sma_spx")
}

#[test]
fn sample_backtest_matches_golden_files() {
    let yaml = format!(
        r"
data: {{path: '{}'}}
instrument: {{symbol: SPX, tick_size: 0.000001}}
strategy: {{kind: sma_cross, params: {{fast: 10, slow: 50, size: {{equity_fraction: 0.95}}}}}}
execution: {{fill_model: next_open, taker_fee_bps: 10, slippage_bps: 2}}
portfolio: {{initial_cash: 1000000}}
",
        data_file("spx_1d.csv").display()
    );
    let out = tempfile::tempdir().unwrap();
    Backtest::run(&config(&yaml))
        .unwrap()
        .write(out.path())
        .unwrap();
    let golden = golden_dir();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for name in ["summary.json", "trades.csv", "fills.csv"] {
        let actual = std::fs::read_to_string(out.path().join(name)).unwrap();
        let path = golden.join(name);
        if update {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
        if actual != expected {
            let diff: Vec<String> = expected
                .lines()
                .zip(actual.lines())
                .enumerate()
                .filter(|(_, (e, a))| e != a)
                .take(5)
                .map(|(i, (e, a))| format!("line {}:\n  golden: {e}\n  actual: {a}", i + 1))
                .collect();
            panic!(
                "{name} differs from {} ({} vs {} lines):\n{}",
                path.display(),
                expected.lines().count(),
                actual.lines().count(),
                diff.join("\n")
            );
        }
    }
}
