//! Issue 11, point 4: periods per year follow the data's real calendar, the summary says which
//! it used, and CAGR/Calmar are not extrapolated from samples shorter than a month.

use tradepulse_backtest::{Backtest, Summary};
use tradepulse_data::{CsvOptions, load_bars_csv};
use tradepulse_model::Bar;

use crate::fixtures::{config, data_file};

fn bars(file: &str) -> Vec<Bar> {
    load_bars_csv(&data_file(file), &CsvOptions::default()).unwrap()
}

fn run(bars: Vec<Bar>, tick: &str, metrics: &str) -> Summary {
    let yaml = format!(
        "data: {{path: unused.csv}}
instrument: {{symbol: X, tick_size: {tick}}}
strategy: {{kind: sma_cross, params: {{fast: 10, slow: 50, size: {{units: 1}}}}}}
execution: {{taker_fee_bps: 1}}
portfolio: {{initial_cash: 1000000}}
metrics: {{{metrics}}}
"
    );
    Backtest::run_on(&config(&yaml), bars).unwrap().summary
}

/// Per-bar Sharpe ratio of the run's equity curve (mean / sample stdev of bar returns).
fn per_bar_sharpe(summary: &Summary) -> f64 {
    let ppy = summary.periods_per_year.unwrap();
    summary.sharpe.unwrap() / ppy.sqrt()
}

/// `es_10s` is 45 hours of E-mini futures with the Labor Day closure in the middle. Counting
/// those 45 hours as if the market traded every hour of every day of the year (bars ÷ years
/// spanned, 1.98 million bars a year) inflated the Sharpe ratio; the calendar is 252 trading
/// days of bars per full day. However the full day is counted, the figure cannot exceed what
/// the sample's own bar rate per *open* hour gives over an E-mini year of 252 × 23 hours.
#[test]
fn es_10s_is_annualised_on_trading_days_not_calendar_hours() {
    let es = bars("es_10s.csv");
    let (first, last) = (es[0].ts.as_nanos(), es[es.len() - 1].ts.as_nanos());
    let hour = 3_600e9;
    let closed: f64 = es
        .windows(2)
        .map(|w| (w[1].ts.as_nanos() - w[0].ts.as_nanos()) as f64)
        .filter(|gap| *gap > hour)
        .sum();
    let open_hours = ((last - first) as f64 - closed) / hour;
    let es_year = es.len() as f64 / open_hours * 23.0 * 252.0;
    let span_rate = (es.len() - 1) as f64 / ((last - first) as f64 / (365.25 * 24.0 * hour));

    let s = run(es, "0.25", "");
    let ppy = s.periods_per_year.unwrap();
    assert_eq!(s.annualization.trading_days_per_year, Some(252.0));
    // Sep 2 (Labor Day, closed from 15:30 UTC) is the sample's only full UTC day.
    assert_eq!(s.annualization.bars_per_trading_day, Some(4230.0));
    assert_eq!(ppy, 252.0 * 4230.0);
    assert!(ppy <= es_year, "{ppy} > {es_year}");
    assert!(
        ppy < 0.6 * span_rate,
        "{ppy} vs the 24/7 extrapolation {span_rate}"
    );
    assert!(
        s.annualization.basis.contains("the market closes"),
        "{}",
        s.annualization.basis
    );
    // Sharpe is the per-bar Sharpe scaled by √(periods per year) and nothing else.
    let expected = per_bar_sharpe(&s) * ppy.sqrt();
    assert!((s.sharpe.unwrap() - expected).abs() < 1e-12);
    assert!(s.sharpe.unwrap().abs() < (per_bar_sharpe(&s) * span_rate.sqrt()).abs());
}

#[test]
fn cagr_and_calmar_are_null_with_a_reason_below_the_minimum_sample() {
    let s = run(bars("es_10s.csv"), "0.25", "");
    assert_eq!(s.cagr, None);
    assert_eq!(s.calmar, None);
    let why = s.cagr_unavailable.as_deref().unwrap();
    assert!(
        why.contains("1.9 days") && why.contains("min_sample_days (30)"),
        "{why}"
    );
    let json = serde_json::to_value(&s).unwrap();
    assert!(json["cagr"].is_null() && json["calmar"].is_null());
    assert_eq!(json["cagr_unavailable"], why);
    // A lower minimum brings them back; a long sample has them anyway.
    let s = run(bars("es_10s.csv"), "0.25", "min_sample_days: 1");
    assert!(s.cagr.is_some() && s.cagr_unavailable.is_none());
    let s = run(bars("spx_1d.csv"), "0.000001", "");
    assert!(s.cagr.is_some() && s.calmar.is_some() && s.cagr_unavailable.is_none());
}

#[test]
fn daily_exchange_data_is_252_and_round_the_clock_minutes_are_365_days() {
    let s = run(bars("spx_1d.csv"), "0.000001", "");
    assert_eq!(s.periods_per_year, Some(252.0));
    assert_eq!(s.annualization.bars_per_trading_day, Some(1.0));
    assert!(
        s.annualization.basis.contains("no bars on Saturdays"),
        "{}",
        s.annualization.basis
    );
    let s = run(bars("synthetic_rw_1m.csv"), "0.01", "");
    assert_eq!(s.annualization.trading_days_per_year, Some(365.0));
    assert_eq!(s.annualization.bars_per_trading_day, Some(1440.0));
    assert_eq!(s.periods_per_year, Some(525_600.0));
}

#[test]
fn metrics_section_overrides_the_calendar_and_the_summary_says_so() {
    let s = run(
        bars("es_10s.csv"),
        "0.25",
        "trading_days_per_year: 250, bars_per_trading_day: 8280",
    );
    assert_eq!(s.periods_per_year, Some(250.0 * 8280.0));
    assert!(
        s.annualization
            .basis
            .contains("metrics.trading_days_per_year")
    );
    assert!(
        s.annualization
            .basis
            .contains("metrics.bars_per_trading_day")
    );
    let s = run(bars("es_10s.csv"), "0.25", "periods_per_year: 1000");
    assert_eq!(s.periods_per_year, Some(1000.0));
    assert_eq!(s.annualization.basis, "metrics.periods_per_year");
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["annualization"]["basis"], "metrics.periods_per_year");
}

#[test]
fn bad_metrics_values_are_config_errors() {
    for (bad, field) in [
        ("trading_days_per_year: 0", "metrics.trading_days_per_year"),
        ("bars_per_trading_day: -3", "metrics.bars_per_trading_day"),
        ("min_sample_days: -1", "metrics.min_sample_days"),
    ] {
        let yaml = format!(
            "data: {{path: unused.csv}}
instrument: {{symbol: X, tick_size: 0.01}}
strategy: {{kind: buy_and_hold, params: {{size: {{units: 1}}}}}}
portfolio: {{initial_cash: 1000}}
metrics: {{{bad}}}
"
        );
        let err = tradepulse_backtest::BacktestConfig::parse(&yaml, "m.yaml".as_ref())
            .unwrap_err()
            .to_string();
        assert!(err.contains(field), "{bad}: {err}");
    }
}
