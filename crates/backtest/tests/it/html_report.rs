//! Issue 4 acceptance 6 and issue 15 acceptance 4: the HTML report is one self-contained file
//! whose interactive charts are the inlined chart module drawing an inline JSON payload, and it
//! is deterministic; the sweep heatmap is complete and deterministic.

use std::path::Path;

use serde_json::Value;
use tradepulse_backtest::{
    Backtest, IndicatorPane, IndicatorSeries, write_html_report, write_html_report_with_indicators,
    write_sweep_heatmap,
};
use tradepulse_data::{CsvOptions, RandomWalk, load_bars_csv};

use crate::fixtures::{sma_config, spx};

/// The committed chart bundle, which every report inlines verbatim.
const CHARTS_JS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/tradepulse-charts.js"
));

fn sample_backtest() -> Backtest {
    Backtest::run_on(&sma_config("next_open", 10, 50, ""), spx()).unwrap()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn report(dir: &Path) -> String {
    String::from_utf8(read(dir, "report.html")).unwrap()
}

/// The JSON payload embedded in the page.
fn payload(html: &str) -> Value {
    let open = r#"<script type="application/json" id="tradepulse-report">"#;
    let start = html.find(open).expect("payload element") + open.len();
    let len = html[start..].find("</script>").expect("payload end");
    serde_json::from_str(&html[start..start + len]).expect("payload is JSON")
}

fn panel<'a>(payload: &'a Value, kind: &str) -> &'a Value {
    payload["panels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} panel"))
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

/// Fills the candle panel's markers stand for.
fn marked(candles: &Value) -> usize {
    candles["markers"]["count"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as usize)
        .sum()
}

/// Chart PNGs written beside the page (with the default `charts` feature).
const PNGS: [&str; 4] = [
    "equity.png",
    "candlesticks.png",
    "monthly_returns.png",
    "trade_pnl.png",
];

#[test]
fn report_inlines_the_chart_module_and_its_data() {
    let backtest = sample_backtest();
    let dir = tempfile::tempdir().unwrap();
    write_html_report(dir.path(), &backtest.summary, &backtest.run, &backtest.bars).unwrap();
    let html = report(dir.path());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<section id=\"metrics\">"));
    for row in ["Sharpe", "max drawdown", "round trips", "profit factor"] {
        assert!(
            html.contains(&format!("<td>{row}</td>")),
            "metrics row {row}"
        );
    }
    // The module is inlined verbatim and started on the payload.
    assert!(html.contains(CHARTS_JS.trim_end()), "bundle not inlined");
    assert!(html.contains(r#"TradePulseCharts.renderEmbedded("charts", "tradepulse-report")"#));
    // Nothing is fetched: no external script, stylesheet, import or URL outside the bundle
    // (whose only URL is the TradingView logo link it never draws here).
    let page = html.replace(CHARTS_JS.trim_end(), "");
    for external in ["src=", "@import", "url(", "<link", "http://"] {
        assert!(!page.contains(external), "report references {external}");
    }
    assert_eq!(
        page.matches("https://").count(),
        1,
        "only the attribution link"
    );
    assert!(page.contains("TradingView Lightweight Charts"));

    let data = payload(&html);
    assert_eq!(data["schema"], 1);
    let kinds: Vec<&str> = data["panels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["equity", "candles", "monthly_returns", "trade_pnl"]);
    // 5,031 daily bars: every bar is a candle and an equity point.
    let equity = panel(&data, "equity");
    assert_eq!(len(&equity["time"]), 5031);
    assert_eq!(len(&equity["drawdown"]), 5031);
    assert_eq!(equity["initial"], 1_000_000.0);
    let candles = panel(&data, "candles");
    assert_eq!(candles["bars_per_candle"], 1);
    assert_eq!(len(&candles["close"]), 5031);
    assert_eq!(candles["instrument"], "SPX.SIM");
    // Every fill is on a marker.
    assert_eq!(marked(candles), backtest.run.fills.len());
    assert!(marked(candles) > 10);
    let first_bar = backtest.bars[0].ts.as_nanos() / 1_000_000_000;
    assert_eq!(candles["time"][0], first_bar);
    let years: Vec<i64> = panel(&data, "monthly_returns")["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_i64().unwrap())
        .collect();
    assert_eq!(years, (1999..=2018).collect::<Vec<_>>());
    let trades = panel(&data, "trade_pnl");
    assert_eq!(len(&trades["pnl"]), backtest.run.round_trips.len());
    // The page stays small: the bundle plus the run's data.
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
    let data = payload(&report(dir.path()));
    assert_eq!(len(&panel(&data, "trade_pnl")["pnl"]), 0);
    assert_eq!(len(&panel(&data, "candles")["markers"]["time"]), 0);
    assert_eq!(len(&panel(&data, "candles")["time"]), 40);
}

#[test]
fn indicators_are_drawn_as_given_and_follow_merged_candles() {
    let backtest = sample_backtest();
    let n = backtest.bars.len();
    let ramp = IndicatorSeries {
        name: "ramp".into(),
        pane: IndicatorPane::Own,
        values: (0..n).map(|i| (i >= 3).then_some(i as f64 * 0.5)).collect(),
    };
    let dir = tempfile::tempdir().unwrap();
    write_html_report_with_indicators(
        dir.path(),
        &backtest.summary,
        &backtest.run,
        &backtest.bars,
        std::slice::from_ref(&ramp),
    )
    .unwrap();
    let data = payload(&report(dir.path()));
    let ind = &panel(&data, "candles")["indicators"][0];
    assert_eq!(ind["name"], "ramp");
    assert_eq!(ind["pane"], "own");
    assert_eq!(len(&ind["value"]), n);
    assert_eq!(ind["value"][2], Value::Null, "warm-up stays empty");
    assert_eq!(ind["value"][10], 5.0);
}

/// A long run: the page is bounded by the downsampling, every fill is still marked and every
/// round trip kept.
#[test]
fn long_run_report_is_downsampled() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("walk.csv");
    let walk = RandomWalk {
        bars: 200_000,
        ..RandomWalk::default()
    };
    walk.write_csv(std::fs::File::create(&csv).unwrap())
        .unwrap();
    let bars = load_bars_csv(&csv, &CsvOptions::default()).unwrap();
    let backtest = Backtest::run_on(&sma_config("next_open", 10, 50, ""), bars).unwrap();
    let out = dir.path().join("out");
    write_html_report(&out, &backtest.summary, &backtest.run, &backtest.bars).unwrap();
    let html = report(&out);
    let data = payload(&html);
    let equity = panel(&data, "equity");
    assert!(len(&equity["time"]) <= 8_000, "{}", len(&equity["time"]));
    assert_eq!(equity["source_points"], 200_000);
    // The deepest drawdown survives the reduction exactly.
    let deepest = equity["drawdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .fold(0.0, f64::min);
    let max_dd = backtest.summary.max_drawdown.unwrap();
    assert!((deepest + max_dd).abs() < 1e-6, "{deepest} vs {max_dd}");
    let candles = panel(&data, "candles");
    assert_eq!(candles["bars_per_candle"], 34);
    assert!(len(&candles["time"]) <= 6_000);
    assert_eq!(marked(candles), backtest.run.fills.len());
    assert_eq!(
        len(&panel(&data, "trade_pnl")["pnl"]),
        backtest.run.round_trips.len()
    );
    assert!(html.len() < 2_500_000, "{} bytes", html.len());
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

/// Issue 15 acceptance 3: the dashboard's chart of a run is the report's payload for the
/// visible range at the screen's resolution — only that range, never more candles than asked,
/// every fill of the range marked, and the whole run's payload equal to the report's.
#[test]
fn a_chart_window_holds_only_its_range_at_its_resolution() {
    use tradepulse_backtest::{ChartWindow, chart_payload_json};
    let b = sample_backtest();
    let whole: Value = serde_json::from_str(&chart_payload_json(
        "t",
        &b.run,
        &b.bars,
        &[],
        &ChartWindow::WHOLE_RUN,
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_html_report(dir.path(), &b.summary, &b.run, &b.bars).unwrap();
    let reported = payload(&report(dir.path()));
    assert_eq!(panel(&whole, "candles"), panel(&reported, "candles"));
    assert_eq!(panel(&whole, "equity"), panel(&reported, "equity"));

    let (from, to) = (b.bars[1000].ts, b.bars[2999].ts);
    let window = ChartWindow {
        from: Some(from),
        to: Some(to),
        points: 500,
        range_only: false,
    };
    let part: Value =
        serde_json::from_str(&chart_payload_json("t", &b.run, &b.bars, &[], &window)).unwrap();
    let candles = panel(&part, "candles");
    assert_eq!(candles["source_bars"], 2000);
    assert_eq!(
        len(&candles["time"]),
        500,
        "2,000 bars at 500 points: 4 a candle"
    );
    assert_eq!(candles["bars_per_candle"], 4);
    let secs = |t: tradepulse_model::UnixNanos| t.as_nanos().div_euclid(1_000_000_000);
    assert_eq!(candles["time"][0], secs(from));
    let times = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect()
    };
    assert!(
        times(&candles["time"])
            .iter()
            .all(|&t| t >= secs(from) && t <= secs(to))
    );
    // Every fill inside the range, and none outside, is marked.
    let inside = b
        .run
        .fills
        .iter()
        .filter(|f| f.fill.ts >= from && f.fill.ts < b.bars[3000].ts)
        .count();
    assert!(inside > 0, "the range should hold fills");
    assert_eq!(marked(candles), inside);
    let equity = panel(&part, "equity");
    let equity_times = times(&equity["time"]);
    assert!(equity_times.len() <= 2000);
    assert!(
        equity_times
            .iter()
            .all(|&t| t >= secs(from) && t <= secs(to))
    );
    assert_eq!(equity["source_points"], 2000);
    // The deepest drawdown of the range is kept, measured from the whole run's peak.
    let drawdown: Vec<f64> = equity["drawdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_f64().unwrap())
        .collect();
    let peak_before = b.run.equity[..3000]
        .iter()
        .fold(b.run.initial_cash.as_f64(), |p, &e| p.max(e));
    let mut peak = b.run.equity[..1000]
        .iter()
        .fold(b.run.initial_cash.as_f64(), |p, &e| p.max(e));
    let mut deepest = 0.0f64;
    for &e in &b.run.equity[1000..3000] {
        peak = peak.max(e);
        deepest = deepest.min(-(peak - e) / peak);
    }
    assert!(peak <= peak_before);
    let min = drawdown.iter().copied().fold(0.0, f64::min);
    assert!((min - deepest).abs() < 1e-6, "{min} vs {deepest}");
    // An empty range is an empty chart, not an error.
    let none = ChartWindow {
        from: Some(tradepulse_model::UnixNanos::new(0)),
        to: Some(tradepulse_model::UnixNanos::new(1)),
        points: 100,
        range_only: true,
    };
    let empty: Value =
        serde_json::from_str(&chart_payload_json("t", &b.run, &b.bars, &[], &none)).unwrap();
    assert_eq!(len(&panel(&empty, "candles")["time"]), 0);
    assert_eq!(len(&panel(&empty, "equity")["time"]), 0);
    assert_eq!(len(&empty["panels"]), 2, "range only: equity and candles");
}
