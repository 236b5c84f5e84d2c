//! `tradepulse indicators` and `tradepulse analyze` (issue 3): the real binary on a small file.

use crate::harness::{Scratch, run, stderr};

/// 60 one-minute bars of a gentle oscillation.
fn bars(s: &Scratch) {
    let mut csv = String::from("ts,open,high,low,close,volume\n");
    for i in 0..60 {
        let p = 100.0 + (f64::from(i) * 0.4).sin() * 2.0;
        csv.push_str(&format!(
            "2024-01-01T{:02}:{:02}:00Z,{p:.2},{:.2},{:.2},{p:.2},{}\n",
            i / 60,
            i % 60,
            p + 0.5,
            p - 0.5,
            1000 + i
        ));
    }
    s.write("bars.csv", &csv);
}

#[test]
fn list_names_every_indicator() {
    let s = Scratch::new();
    let out = run(s.dir.path(), &["indicators", "--list"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for name in ["rsi", "macd", "bbands", "ollivier_ricci", "vpin"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{text}"
        );
    }
}

#[test]
fn indicators_write_one_column_per_output_with_empty_warm_up() {
    let s = Scratch::new();
    bars(&s);
    let out = run(
        s.dir.path(),
        &[
            "indicators",
            "--data",
            "bars.csv",
            "--ind",
            "rsi:14",
            "--ind",
            "macd:12:26:9",
            "--output",
            "ind.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let csv = std::fs::read_to_string(s.path("ind.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "ts,rsi_14,macd_12_26_9_macd,macd_12_26_9_signal,macd_12_26_9_hist"
    );
    assert_eq!(lines.len(), 61);
    assert!(lines[14].ends_with(",,,,"), "warm-up row: {}", lines[14]);
    assert!(
        !lines[15].split(',').nth(1).unwrap().is_empty(),
        "first RSI: {}",
        lines[15]
    );
}

#[test]
fn unknown_indicator_is_bad_input() {
    let s = Scratch::new();
    let out = run(
        s.dir.path(),
        &["indicators", "--data", "bars.csv", "--ind", "rsx:14"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown indicator"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn analyze_prints_json_and_writes_the_series() {
    let s = Scratch::new();
    bars(&s);
    let out = run(
        s.dir.path(),
        &[
            "analyze",
            "--data",
            "bars.csv",
            "--window",
            "10",
            "--json",
            "--output",
            "series.csv",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        json.starts_with("{\"kuramoto_r\":") && json.contains("\"regime\":"),
        "{json}"
    );
    let csv = std::fs::read_to_string(s.path("series.csv")).unwrap();
    assert!(csv.starts_with("ts,kuramoto_r,entropy,delta_entropy,ollivier_ricci"));
    assert_eq!(csv.lines().count(), 61);
}

#[test]
fn analyze_rejects_a_tiny_window() {
    let s = Scratch::new();
    let out = run(
        s.dir.path(),
        &["analyze", "--data", "bars.csv", "--window", "1"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("window"), "{}", stderr(&out));
}
