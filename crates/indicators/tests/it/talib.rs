//! Every standard indicator against TA-Lib's output on the repo's datasets.
//!
//! Fixtures are written by `crates/indicators/fixtures/generate.py` (TA-Lib C 0.8.1 through
//! the PyPI wrapper `ta-lib` 0.8.2). A cell is empty during TA-Lib's warm-up; our batch run must
//! start exactly there and agree within `|ours − talib| ≤ 1e-9·max(|talib|, 1)` afterwards.

use std::collections::HashMap;
use std::path::PathBuf;

use tradepulse_indicators::*;

struct Fixture {
    name: &'static str,
    candles: Vec<Candle>,
    columns: HashMap<String, Vec<Option<f64>>>,
}

fn load(name: &'static str) -> Fixture {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{name}.csv"));
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(&path)
        .unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
    let mut columns: HashMap<String, Vec<Option<f64>>> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for (h, v) in headers.iter().zip(rec.iter()) {
            let cell = if v.is_empty() {
                None
            } else {
                Some(v.parse::<f64>().unwrap())
            };
            columns.entry(h.clone()).or_default().push(cell);
        }
    }
    let col = |k: &str| columns[k].iter().map(|v| v.unwrap()).collect::<Vec<_>>();
    let (o, h, l, c, v) = (
        col("open"),
        col("high"),
        col("low"),
        col("close"),
        col("volume"),
    );
    let candles = (0..c.len())
        .map(|i| Candle::new(o[i], h[i], l[i], c[i], v[i]))
        .collect();
    Fixture {
        name,
        candles,
        columns,
    }
}

fn fixtures() -> Vec<Fixture> {
    ["spx_1d", "es_10s", "synthetic_rw_1m"]
        .into_iter()
        .map(load)
        .collect()
}

fn closes(f: &Fixture) -> Vec<f64> {
    f.candles.iter().map(|c| c.close).collect()
}

/// Compares a batch output with a fixture column; returns how many values were bit-identical.
fn check(f: &Fixture, column: &str, series: &Series<f64>) -> usize {
    let expected = &f.columns[column];
    let first = expected
        .iter()
        .position(Option::is_some)
        .unwrap_or(expected.len());
    assert_eq!(
        series.start, first,
        "{}/{column}: warm-up differs from TA-Lib",
        f.name
    );
    assert_eq!(
        series.start + series.values.len(),
        expected.len(),
        "{}/{column}: length",
        f.name
    );
    let mut exact = 0;
    let mut worst = 0.0f64;
    for (j, &ours) in series.values.iter().enumerate() {
        let i = series.start + j;
        let theirs = expected[i].unwrap_or(f64::NAN);
        let tol = 1e-9 * theirs.abs().max(1.0);
        assert!(
            (ours - theirs).abs() <= tol,
            "{}/{column}[{i}]: ours {ours:?} vs TA-Lib {theirs:?} (diff {:e})",
            f.name,
            ours - theirs
        );
        if ours.to_bits() == theirs.to_bits() {
            exact += 1;
        }
        worst = worst.max((ours - theirs).abs() / theirs.abs().max(1.0));
    }
    eprintln!(
        "{}/{column}: {exact}/{} bit-identical, max relative error {worst:e}",
        f.name,
        series.values.len()
    );
    exact
}

fn map<T: Copy>(s: &Series<T>, f: impl Fn(T) -> f64) -> Series<f64> {
    Series {
        start: s.start,
        values: s.values.iter().copied().map(f).collect(),
    }
}

#[test]
fn price_indicators_match_talib() {
    for f in fixtures() {
        let x = closes(&f);
        check(&f, "sma_20", &Sma::new(20).unwrap().batch(&x));
        check(&f, "ema_20", &Ema::new(20).unwrap().batch(&x));
        check(&f, "wma_20", &Wma::new(20).unwrap().batch(&x));
        check(&f, "dema_20", &Dema::new(20).unwrap().batch(&x));
        check(&f, "tema_20", &Tema::new(20).unwrap().batch(&x));
        check(&f, "kama_30", &Kama::new(30).unwrap().batch(&x));
        check(&f, "rsi_14", &Rsi::new(14).unwrap().batch(&x));
        check(&f, "roc_10", &RateOfChange::new(10).unwrap().batch(&x));
        check(&f, "mom_10", &Momentum::new(10).unwrap().batch(&x));
        check(&f, "stddev_5", &StdDev::new(5, 1.0).unwrap().batch(&x));
    }
}

#[test]
fn macd_matches_talib() {
    for f in fixtures() {
        let s = Macd::new(12, 26, 9).unwrap().batch(&closes(&f));
        check(&f, "macd_12_26_9_macd", &map(&s, |o| o.macd));
        check(&f, "macd_12_26_9_signal", &map(&s, |o| o.signal));
        check(&f, "macd_12_26_9_hist", &map(&s, |o| o.hist));
    }
}

#[test]
fn bollinger_matches_talib() {
    for f in fixtures() {
        let s = Bollinger::new(20, 2.0, 2.0).unwrap().batch(&closes(&f));
        check(&f, "bbands_20_2_upper", &map(&s, |o| o.upper));
        check(&f, "bbands_20_2_middle", &map(&s, |o| o.middle));
        check(&f, "bbands_20_2_lower", &map(&s, |o| o.lower));
    }
}

#[test]
fn range_indicators_match_talib() {
    for f in fixtures() {
        let c = &f.candles;
        check(&f, "atr_14", &Atr::new(14).unwrap().batch(c));
        check(&f, "natr_14", &Natr::new(14).unwrap().batch(c));
        check(&f, "trange", &TrueRange::new().batch(c));
        check(&f, "cci_14", &Cci::new(14).unwrap().batch(c));
        check(&f, "willr_14", &WilliamsR::new(14).unwrap().batch(c));
    }
}

#[test]
fn oscillators_match_talib() {
    for f in fixtures() {
        let s = Stochastic::new(5, 3, 3).unwrap().batch(&f.candles);
        check(&f, "stoch_5_3_3_k", &map(&s, |o| o.k));
        check(&f, "stoch_5_3_3_d", &map(&s, |o| o.d));
        let s = StochRsi::new(14, 5, 3).unwrap().batch(&closes(&f));
        check(&f, "stochrsi_14_5_3_k", &map(&s, |o| o.k));
        check(&f, "stochrsi_14_5_3_d", &map(&s, |o| o.d));
    }
}

#[test]
fn directional_movement_matches_talib() {
    for f in fixtures() {
        let s = Adx::new(14).unwrap().batch(&f.candles);
        check(&f, "adx_14_adx", &map(&s, |o| o.adx));
        let d = Dmi::new(14).unwrap().batch(&f.candles);
        check(&f, "adx_14_plus_di", &map(&d, |o| o.plus_di));
        check(&f, "adx_14_minus_di", &map(&d, |o| o.minus_di));
    }
}

#[test]
fn volume_indicators_match_talib() {
    for f in fixtures() {
        check(&f, "obv", &Obv::new().batch(&f.candles));
        check(&f, "mfi_14", &Mfi::new(14).unwrap().batch(&f.candles));
    }
}
