//! Every standard indicator against TA-Lib's output on every row of every dataset in `data/`.
//!
//! Fixtures are written by `crates/indicators/fixtures/generate.py` (TA-Lib C 0.8.1 through
//! the PyPI wrapper `ta-lib` 0.8.2): `fixtures/<name>.csv.gz` holds TA-Lib's outputs for every
//! bar of `data/<name>.csv`, bit-exact (shortest round-trip decimals); the inputs are read from
//! `data/` itself. A cell is empty during TA-Lib's warm-up; our batch run must start exactly
//! there and agree within `|ours − talib| ≤ 1e-9·max(|talib|, 1)` afterwards (the floor of 1
//! keeps values near zero, e.g. a MACD histogram crossing zero, to an absolute 1e-9; on a copy
//! with prices scaled by `s < 1` the floor is `s`).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use tradepulse_indicators::*;

/// The relative tolerance of the comparison (absolute below magnitude 1).
const TOLERANCE: f64 = 1e-9;

/// Columns that must be bit-identical to TA-Lib on every row, not merely within tolerance: the
/// ones whose arithmetic we reproduce step for step (ties, running sums and their rebuilds
/// included), so a drift that the tolerance would hide on these files fails here first.
const EXACT: &[&str] = &[
    "sma_20",
    "wma_20",
    "rsi_14",
    "roc_10",
    "mom_10",
    "stddev_5",
    "trange",
    "stoch_5_3_3_k",
    "stoch_5_3_3_d",
    "stochrsi_14_5_3_k",
    "stochrsi_14_5_3_d",
    "adx_14_adx",
    "adx_14_plus_di",
    "adx_14_minus_di",
    "cci_14",
    "obv",
    "mfi_14",
    "willr_14",
];

/// Datasets also compared with their prices scaled (`generate.py`'s `SCALED`): a micro-priced
/// instrument is where fixed absolute thresholds part from TA-Lib's relative ones.
const SCALED: &[(&str, f64, &str)] = &[("synthetic_rw_1m", 1e-6, "synthetic_rw_1m_x1e-06")];

struct Fixture {
    name: String,
    /// The floor of the relative comparison: 1, or the scale of a scaled copy's prices (so
    /// prices near 1e-4 are compared to 1e-9 of their own size, not to an absolute 1e-9).
    floor: f64,
    candles: Vec<Candle>,
    columns: HashMap<String, Vec<Option<f64>>>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_candles(path: &Path) -> Vec<Candle> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let idx = |k: &str| headers.iter().position(|h| h == k).unwrap();
    let (o, h, l, c, v) = (
        idx("open"),
        idx("high"),
        idx("low"),
        idx("close"),
        idx("volume"),
    );
    rdr.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let f = |i: usize| rec[i].parse::<f64>().unwrap();
            Candle::new(f(o), f(h), f(l), f(c), f(v))
        })
        .collect()
}

/// `data/<name>.csv` with its prices times `scale`, against `fixtures/<stem>.csv.gz`.
fn load(name: &str, scale: f64, stem: &str) -> Fixture {
    let mut candles = read_candles(&root().join("data").join(format!("{name}.csv")));
    if scale != 1.0 {
        for c in &mut candles {
            c.open *= scale;
            c.high *= scale;
            c.low *= scale;
            c.close *= scale;
        }
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(format!("{stem}.csv.gz"));
    let gz = GzDecoder::new(
        File::open(&path).unwrap_or_else(|e| panic!("{}: {e} (run generate.py)", path.display())),
    );
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(gz);
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
    for (h, col) in &columns {
        assert_eq!(
            col.len(),
            candles.len(),
            "{stem}/{h}: the fixture has {} rows, data/{name}.csv {} (regenerate it)",
            col.len(),
            candles.len()
        );
    }
    Fixture {
        name: stem.to_owned(),
        floor: scale.min(1.0),
        candles,
        columns,
    }
}

/// Every dataset in `data/` (a new data file without a fixture fails here, not silently), then
/// the scaled copies.
fn fixtures() -> Vec<Fixture> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("data"))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".csv").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 3, "data/ lost its datasets: {names:?}");
    let plain = names.iter().map(|n| (n.as_str(), 1.0, n.as_str()));
    plain
        .chain(SCALED.iter().copied())
        .map(|(name, scale, stem)| load(name, scale, stem))
        .collect()
}

fn closes(f: &Fixture) -> Vec<f64> {
    f.candles.iter().map(|c| c.close).collect()
}

/// The comparisons of one test: each column is checked on every row, every disagreement is
/// counted, and the test fails at the end listing all of them, so one run shows the whole
/// picture rather than the first bad cell.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
}

impl Report {
    /// Compares a batch output with a fixture column; returns how many values were bit-identical.
    fn check(&mut self, f: &Fixture, column: &str, series: &Series<f64>) -> usize {
        let expected = &f.columns[column];
        let first = expected
            .iter()
            .position(Option::is_some)
            .unwrap_or(expected.len());
        if series.start != first || series.start + series.values.len() != expected.len() {
            self.failures.push(format!(
                "{}/{column}: ours covers rows {}..{}, TA-Lib {first}..{}",
                f.name,
                series.start,
                series.start + series.values.len(),
                expected.len()
            ));
            return 0;
        }
        let (mut exact, mut bad, mut worst, mut worst_at) = (0, 0, 0.0f64, 0);
        for (j, &ours) in series.values.iter().enumerate() {
            let i = series.start + j;
            let theirs = expected[i].unwrap_or(f64::NAN);
            let rel = (ours - theirs).abs() / theirs.abs().max(f.floor);
            // NaN on either side is a disagreement, not a pass.
            if rel.is_nan() || rel > TOLERANCE {
                bad += 1;
            }
            if ours.to_bits() == theirs.to_bits() {
                exact += 1;
            }
            if rel.is_nan() || rel > worst {
                worst = rel;
                worst_at = i;
            }
        }
        eprintln!(
            "{}/{column}: {exact}/{} bit-identical, max relative difference {worst:e} (row {worst_at})",
            f.name,
            series.values.len()
        );
        if bad == 0 && EXACT.contains(&column) && exact != series.values.len() {
            let i = worst_at;
            self.failures.push(format!(
                "{}/{column}: {} of {} rows are not bit-identical; worst row {i}: ours {:?} vs TA-Lib {:?}",
                f.name,
                series.values.len() - exact,
                series.values.len(),
                series.values[i - series.start],
                expected[i]
            ));
        }
        if bad > 0 {
            let i = worst_at;
            self.failures.push(format!(
                "{}/{column}: {bad} rows differ by more than {TOLERANCE:e}; worst row {i}: ours {:?} vs TA-Lib {:?}",
                f.name,
                series.values[i - series.start],
                expected[i]
            ));
        }
        exact
    }

    fn finish(self) {
        assert!(
            self.failures.is_empty(),
            "disagreements with TA-Lib:\n{}",
            self.failures.join("\n")
        );
    }
}

fn map<T: Copy>(s: &Series<T>, f: impl Fn(T) -> f64) -> Series<f64> {
    Series {
        start: s.start,
        values: s.values.iter().copied().map(f).collect(),
    }
}

#[test]
fn price_indicators_match_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        let x = closes(&f);
        r.check(&f, "sma_20", &Sma::new(20).unwrap().batch(&x));
        r.check(&f, "ema_20", &Ema::new(20).unwrap().batch(&x));
        r.check(&f, "wma_20", &Wma::new(20).unwrap().batch(&x));
        r.check(&f, "dema_20", &Dema::new(20).unwrap().batch(&x));
        r.check(&f, "tema_20", &Tema::new(20).unwrap().batch(&x));
        r.check(&f, "kama_30", &Kama::new(30).unwrap().batch(&x));
        r.check(&f, "rsi_14", &Rsi::new(14).unwrap().batch(&x));
        r.check(&f, "roc_10", &RateOfChange::new(10).unwrap().batch(&x));
        r.check(&f, "mom_10", &Momentum::new(10).unwrap().batch(&x));
        r.check(&f, "stddev_5", &StdDev::new(5, 1.0).unwrap().batch(&x));
    }
    r.finish();
}

#[test]
fn macd_matches_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        let s = Macd::new(12, 26, 9).unwrap().batch(&closes(&f));
        r.check(&f, "macd_12_26_9_macd", &map(&s, |o| o.macd));
        r.check(&f, "macd_12_26_9_signal", &map(&s, |o| o.signal));
        r.check(&f, "macd_12_26_9_hist", &map(&s, |o| o.hist));
    }
    r.finish();
}

#[test]
fn bollinger_matches_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        let s = Bollinger::new(20, 2.0, 2.0).unwrap().batch(&closes(&f));
        r.check(&f, "bbands_20_2_upper", &map(&s, |o| o.upper));
        r.check(&f, "bbands_20_2_middle", &map(&s, |o| o.middle));
        r.check(&f, "bbands_20_2_lower", &map(&s, |o| o.lower));
    }
    r.finish();
}

#[test]
fn range_indicators_match_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        let c = &f.candles;
        r.check(&f, "atr_14", &Atr::new(14).unwrap().batch(c));
        r.check(&f, "natr_14", &Natr::new(14).unwrap().batch(c));
        r.check(&f, "trange", &TrueRange::new().batch(c));
        r.check(&f, "cci_14", &Cci::new(14).unwrap().batch(c));
        r.check(&f, "willr_14", &WilliamsR::new(14).unwrap().batch(c));
    }
    r.finish();
}

#[test]
fn oscillators_match_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        let s = Stochastic::new(5, 3, 3).unwrap().batch(&f.candles);
        r.check(&f, "stoch_5_3_3_k", &map(&s, |o| o.k));
        r.check(&f, "stoch_5_3_3_d", &map(&s, |o| o.d));
        let s = StochRsi::new(14, 5, 3).unwrap().batch(&closes(&f));
        r.check(&f, "stochrsi_14_5_3_k", &map(&s, |o| o.k));
        r.check(&f, "stochrsi_14_5_3_d", &map(&s, |o| o.d));
    }
    r.finish();
}

#[test]
fn directional_movement_matches_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        let s = Adx::new(14).unwrap().batch(&f.candles);
        r.check(&f, "adx_14_adx", &map(&s, |o| o.adx));
        let d = Dmi::new(14).unwrap().batch(&f.candles);
        r.check(&f, "adx_14_plus_di", &map(&d, |o| o.plus_di));
        r.check(&f, "adx_14_minus_di", &map(&d, |o| o.minus_di));
    }
    r.finish();
}

#[test]
fn volume_indicators_match_talib() {
    let mut r = Report::default();
    for f in fixtures() {
        r.check(&f, "obv", &Obv::new().batch(&f.candles));
        r.check(&f, "mfi_14", &Mfi::new(14).unwrap().batch(&f.candles));
    }
    r.finish();
}
