//! Issue 4 acceptance 6: the HTML report and the sweep heatmap are complete, self-contained and
//! deterministic.

use std::path::Path;

use tradepulse_backtest::{Backtest, write_html_report, write_sweep_heatmap};

use crate::fixtures::{sma_config, spx};

fn sample_backtest() -> Backtest {
    Backtest::run_on(&sma_config("next_open", 10, 50, ""), spx()).unwrap()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Chart PNGs written beside the page (with the default `charts` feature).
const PNGS: [&str; 4] = [
    "equity.png",
    "candlesticks.png",
    "monthly_returns.png",
    "trade_pnl.png",
];

#[test]
fn report_has_every_section_and_is_self_contained() {
    let backtest = sample_backtest();
    let dir = tempfile::tempdir().unwrap();
    write_html_report(dir.path(), &backtest.summary, &backtest.run, &backtest.bars).unwrap();
    let html = String::from_utf8(read(dir.path(), "report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for id in [
        "metrics",
        "equity",
        "candlesticks",
        "monthly-returns",
        "trade-pnl",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{id}\">")),
            "missing section {id}"
        );
    }
    // Four inline charts, the terminal table's rows, and nothing fetched from elsewhere.
    assert_eq!(html.matches("<svg ").count(), 4);
    for row in ["Sharpe", "max drawdown", "round trips", "profit factor"] {
        assert!(
            html.contains(&format!("<td>{row}</td>")),
            "metrics row {row}"
        );
    }
    for external in ["src=", "href=", "@import", "url(", "<script", "<link"] {
        assert!(!html.contains(external), "report references {external}");
    }
    // 5,031 daily bars become at most 364 candles; every year 1999–2018 has a row.
    assert!(html.contains("5031 bars merged into 360 candles of 14 bars each"));
    for year in ["1999", "2008", "2018"] {
        assert!(
            html.contains(&format!(">{year}</text>")),
            "monthly row {year}"
        );
    }
    // The whole report stays small however long the run: the page is well under 1 MB.
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    if cfg!(feature = "charts") {
        for name in PNGS {
            let png = read(dir.path(), name);
            assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name} is not a PNG");
        }
    }
}

#[test]
fn report_is_byte_identical_across_runs() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for dir in &dirs {
        sample_backtest().write(dir.path()).unwrap();
    }
    let mut names = vec!["report.html"];
    if cfg!(feature = "charts") {
        names.extend(PNGS);
    }
    for name in names {
        assert!(
            read(dirs[0].path(), name) == read(dirs[1].path(), name),
            "{name} differs between identical runs"
        );
    }
}

#[test]
fn report_of_a_run_without_trades_still_renders() {
    // slow > bars: the strategy never trades.
    let backtest =
        Backtest::run_on(&sma_config("next_open", 10, 50, ""), spx()[..40].to_vec()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_html_report(dir.path(), &backtest.summary, &backtest.run, &backtest.bars).unwrap();
    let html = String::from_utf8(read(dir.path(), "report.html")).unwrap();
    assert!(html.contains("no closed round trips"));
}

#[test]
fn sweep_heatmap_marks_the_best_cell() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sweeps/heatmap.html");
    let xs = [5.0, 10.0, 20.0];
    let ys = [50.0, 100.0];
    let values = [Some(0.1), Some(0.4), None, Some(-0.2), Some(0.9), Some(0.3)];
    write_sweep_heatmap(&path, "fast", "slow", &xs, &ys, &values, "sharpe").unwrap();
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<section id=\"heatmap\">"));
    assert!(html.contains("Best sharpe = 0.9 at fast = 10, slow = 100"));
    assert!(
        html.contains(">–</text>"),
        "the missing trial is drawn as a dash"
    );
    let again = dir.path().join("again.html");
    write_sweep_heatmap(&again, "fast", "slow", &xs, &ys, &values, "sharpe").unwrap();
    assert_eq!(html, std::fs::read_to_string(&again).unwrap());
    if cfg!(feature = "charts") {
        assert_eq!(
            std::fs::read(path.with_extension("png")).unwrap(),
            std::fs::read(again.with_extension("png")).unwrap()
        );
    }
}

#[test]
fn sweep_heatmap_rejects_a_grid_of_the_wrong_size() {
    let dir = tempfile::tempdir().unwrap();
    let err = write_sweep_heatmap(
        &dir.path().join("h.html"),
        "fast",
        "slow",
        &[1.0, 2.0],
        &[3.0],
        &[Some(1.0)],
        "sharpe",
    )
    .unwrap_err();
    assert_eq!(err.source.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.source.to_string().contains("1 × 2 = 2 values"),
        "{err:?}"
    );
}
