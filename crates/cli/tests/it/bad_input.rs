//! Acceptance 9: each kind of bad input is a one-line error naming file:line (or the config key)
//! and exit code 2, never a panic.

use crate::harness::{GOOD_CSV, Scratch, stderr};

/// Runs a backtest on `csv` and returns its single stderr line, asserting exit code 2.
fn data_error(csv: &str) -> String {
    let s = Scratch::new();
    s.write("bars.csv", csv);
    config_error_with(&s, "config.yaml")
}

fn config_error_with(s: &Scratch, config: &str) -> String {
    let out = s.backtest(config);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line expected: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn config_error(yaml: &str) -> String {
    let s = Scratch::new();
    s.write("bad.yaml", yaml);
    config_error_with(&s, "bad.yaml")
}

fn replace_line(n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = GOOD_CSV.lines().collect();
    lines[n - 1] = line;
    lines.join("\n") + "\n"
}

#[test]
fn missing_data_file() {
    let s = Scratch::new();
    std::fs::remove_file(s.path("bars.csv")).unwrap();
    let err = config_error_with(&s, "config.yaml");
    assert!(
        err.contains("bars.csv: cannot read data file: No such file"),
        "{err}"
    );
}

#[test]
fn missing_config_file() {
    let s = Scratch::new();
    let err = config_error_with(&s, "nope.yaml");
    assert!(err.contains("nope.yaml: cannot read config"), "{err}");
}

#[test]
fn malformed_csv_row() {
    let err = data_error(&replace_line(3, "2024-01-01T00:01:00Z,100.5,102.0"));
    assert!(
        err.contains("bars.csv:3: row: expected 6 fields, found 3"),
        "{err}"
    );
}

#[test]
fn nan_price() {
    let err = data_error(&replace_line(
        4,
        "2024-01-01T00:02:00Z,101.5,NaN,100.5,101.0,900",
    ));
    assert!(
        err.contains("bars.csv:4: high: 'NaN' is not a decimal number"),
        "{err}"
    );
}

#[test]
fn non_positive_price() {
    let err = data_error(&replace_line(
        2,
        "2024-01-01T00:00:00Z,100.0,101.0,0,100.5,1000",
    ));
    assert!(
        err.contains("bars.csv:2: low: price must be positive, got 0"),
        "{err}"
    );
}

#[test]
fn high_below_low() {
    let err = data_error(&replace_line(
        5,
        "2024-01-01T00:03:00Z,101.0,100.0,103.0,102.5,1500",
    ));
    assert!(
        err.contains("bars.csv:5: row: high 100.0 is below low 103.0"),
        "{err}"
    );
}

#[test]
fn duplicate_timestamp() {
    let err = data_error(&replace_line(
        3,
        "2024-01-01T00:00:00Z,100.5,102.0,100.0,101.5,1200",
    ));
    assert!(
        err.contains("bars.csv:3: ts: 2024-01-01T00:00:00Z is not after"),
        "{err}"
    );
}

#[test]
fn decreasing_timestamp() {
    let err = data_error(&replace_line(
        4,
        "2023-12-31T23:59:00Z,101.5,101.5,100.5,101.0,900",
    ));
    assert!(err.contains("bars.csv:4: ts: 2023-12-31T23:59:00Z is not after the previous row's 2024-01-01T00:01:00Z"), "{err}");
}

#[test]
fn unknown_config_key() {
    let s = Scratch::new();
    let yaml = s
        .config("bars.csv")
        .replace("    slow: 2\n", "    slow: 2\n    slwo: 3\n");
    let err = config_error(&yaml);
    assert!(
        err.contains("bad.yaml:11:5: strategy.params.slwo: unknown field `slwo`"),
        "{err}"
    );
}

#[test]
fn wrong_value_type() {
    let s = Scratch::new();
    let yaml = s.config("bars.csv").replace("fast: 1", "fast: one");
    let err = config_error(&yaml);
    assert!(
        err.contains("bad.yaml:9:11: strategy.params.fast:"),
        "{err}"
    );
}

#[test]
fn inconsistent_values() {
    let s = Scratch::new();
    let yaml = s.config("bars.csv").replace("fast: 1", "fast: 5");
    let err = config_error(&yaml);
    assert!(
        err.contains("bad.yaml: strategy.params: fast (5) must be smaller than slow (2)"),
        "{err}"
    );
}
