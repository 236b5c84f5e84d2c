//! [`Cci`]: commodity channel index.

use serde::{Deserialize, Serialize};

use super::is_zero_scaled;
use crate::error::{check_period, check_window_max};
use crate::window::{CompSum, OrderStats, Ring, Summary};
use crate::{Candle, Error, Indicator};

/// Period from which [`Cci`] keeps its window in an order-statistics tree. Shorter windows are
/// summed directly, which is faster there: measured in CPU time, the direct passes cost about
/// 1.7 ns per value (27 ns per update at period 14, 340 ns at 200) and the tree 210 ns at
/// period 14, 315 ns at 200 and 350 ns at 320, so they break even near 200.
const TREE_MIN_PERIOD: usize = 200;

/// TA-Lib `CCI`: `(tp − mean(tp))/(0.015·mean|tp − mean(tp)|)` over `period` typical prices
/// `tp = (h + l + c)/3`; 0 when the numerator or the mean deviation is within TA-Lib 0.8.1's
/// tie band of the window's mean (`|x| ≤ 1e-14·|mean|`, see [`is_zero_scaled`]: a `tp` equal
/// to the mean on paper is ±1 ulp from the rounded mean, which an exact test divided into
/// ±1e-9), and 0 for a flat window (all `tp` equal) even where the rounded mean misses the
/// band. NaN while a non-finite `tp` is in the window, or when the window's sum overflows.
/// Warm-up: `period − 1`.
///
/// Cost: O(log period) per update from period 200 on, O(period) below; no allocation.
/// - Below 200, TA-Lib's two passes over the window in its slot order, TA-Lib's own
///   arithmetic and tie band (bit-identical to it on every bar of the fixtures).
/// - From 200 on, the window's values sit in an order-statistics tree (`src/window/order_stats.rs`)
///   whose nodes keep the count and a compensated sum of their subtree, so with `m` the
///   mean, `Σ|tp − m| = (S − 2·S₍<m₎) + m·(2·n₍<m₎ − period)` comes from the total and one
///   prefix query. The sums are recomputed from the tree on every update (nothing drifts) and
///   are as accurate as twice-double arithmetic, so `m` is the mean to within an ulp (exactly
///   `tp` on a flat window) and the deviation has no cancellation error: the result is closer
///   to the exact CCI than TA-Lib's, and within 1e-9 of TA-Lib on every fixture bar (the tree
///   run at period 14 in this module's tests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CciState", into = "CciState")]
pub struct Cci {
    period: usize,
    window: Ring<f64>,
    /// From [`TREE_MIN_PERIOD`] on, the window's values, node `i` for ring slot `i`; rebuilt
    /// from `window` on load (identical to the live tree, see [`OrderStats`]).
    tree: Option<OrderStats<CompSum>>,
}

/// Serialised form of [`Cci`]: the tree is a function of the ring and is rebuilt.
#[derive(Serialize, Deserialize)]
struct CciState {
    period: usize,
    window: Ring<f64>,
}

impl From<Cci> for CciState {
    fn from(c: Cci) -> Self {
        Self {
            period: c.period,
            window: c.window,
        }
    }
}

impl TryFrom<CciState> for Cci {
    type Error = Error;
    fn try_from(s: CciState) -> Result<Self, Error> {
        if s.period != s.window.capacity() {
            return Err(Error::InvalidState("CCI period differs from its window"));
        }
        let tree = if s.period >= TREE_MIN_PERIOD {
            Some(OrderStats::from_ring(&s.window)?)
        } else {
            None
        };
        Ok(Self {
            period: s.period,
            window: s.window,
            tree,
        })
    }
}

impl Cci {
    /// A CCI over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`; [`Error::ParameterOutOfRange`] if `period`
    /// exceeds 4,294,967,294.
    pub fn new(period: usize) -> Result<Self, Error> {
        Self::with_tree(period, period >= TREE_MIN_PERIOD)
    }

    /// [`Cci::new`] with the tree or the direct passes whatever the period (for tests).
    fn with_tree(period: usize, tree: bool) -> Result<Self, Error> {
        check_period("CCI", "period", period, 2)?;
        check_window_max("CCI", "period", period)?;
        Ok(Self {
            period,
            window: Ring::new(period),
            tree: tree.then(|| OrderStats::new(period)),
        })
    }
}

/// CCI of a full window (in TA-Lib's slot order) whose newest value is `last`, by TA-Lib's two
/// passes.
fn direct(window: &[f64], last: f64) -> f64 {
    let n = window.len() as f64;
    let mut avg = 0.0;
    for &v in window {
        avg += v;
    }
    avg /= n;
    let mut dev = 0.0;
    for &v in window {
        dev += (v - avg).abs();
    }
    // Non-finite values and overflow make `avg` and `dev` NaN or infinite, and the result NaN
    // (or 0 for a flat window of finite values whose sum overflows).
    finish(last - avg, dev, n, avg, || {
        window.iter().all(|&v| v == window[0])
    })
}

/// CCI of the full window held in `tree` (`n` values), whose newest value is `last`.
fn from_tree(tree: &OrderStats<CompSum>, n: f64, last: f64) -> f64 {
    let flat = || {
        let (lo, hi) = (tree.min(), tree.max());
        lo == hi && lo.is_some_and(f64::is_finite)
    };
    let total = tree.total();
    let mean = total.div_f64(n);
    if !mean.is_finite() {
        // A non-finite value in the window, or a sum that overflows: as `direct`.
        return if flat() { 0.0 } else { f64::NAN };
    }
    let below = tree.partition(|v| v < mean);
    let k = 2.0 * below.count as f64 - n;
    let dev = total
        .join(below.sum.scale2(-2.0))
        .join(CompSum::product(mean, k))
        .to_f64();
    finish(last - mean, dev, n, mean, flat)
}

/// TA-Lib's last step, `num/(0.015·(dev/n))`, with the zero conventions: 0 when `num` or the
/// mean deviation `dev/n` is within TA-Lib's tie band of the mean, or the window is flat. A
/// flat window's `dev` is its rounded mean's error times `n`, at most `n²·ε·|mean|` (a summed
/// mean is within `n` half-ulps; the second term covers subnormals), so `flat` — an
/// O(period) or O(log period) check — only runs below that.
fn finish(num: f64, dev: f64, n: f64, mean: f64, flat: impl FnOnce() -> bool) -> f64 {
    let mean_dev = dev / n;
    let flat_bound = n * n * f64::EPSILON * mean.abs() + n * f64::MIN_POSITIVE;
    // An infinite mean would make the band infinite: that window is NaN (or flat), not a tie.
    let tie = mean.is_finite()
        && (is_zero_scaled(num, mean.abs()) || is_zero_scaled(mean_dev, mean.abs()));
    if tie || (dev <= flat_bound && flat()) {
        0.0
    } else {
        num / (0.015 * mean_dev)
    }
}

impl Indicator for Cci {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let last = c.typical_price();
        let slot = self.window.next_slot();
        let evicted = self.window.push_back(last).is_some();
        if let Some(tree) = &mut self.tree {
            if evicted {
                tree.remove(slot);
            }
            tree.insert(slot, last);
        }
        if !self.window.is_full() {
            return None;
        }
        Some(match &self.tree {
            Some(tree) => from_tree(tree, self.period as f64, last),
            None => direct(self.window.slots(), last),
        })
    }

    fn reset(&mut self) {
        self.window.clear();
        if let Some(tree) = &mut self.tree {
            tree.clear();
        }
    }

    fn is_ready(&self) -> bool {
        self.window.is_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bar(p: f64) -> Candle {
        Candle::new(p, p, p, p, 1.0)
    }

    fn both(period: usize) -> [Cci; 2] {
        [
            Cci::with_tree(period, false).unwrap(),
            Cci::with_tree(period, true).unwrap(),
        ]
    }

    #[test]
    fn flat_window_is_zero_and_a_jump_is_positive() {
        for mut cci in both(3) {
            let s = cci.batch(&[bar(1.0), bar(1.0), bar(1.0), bar(4.0)]);
            assert_eq!(s.values[0], 0.0);
            // tp = 1, 1, 4: mean 2, mean |dev| = 4/3, (4 − 2)/(0.015·4/3) = 100.
            assert!((s.values[1] - 100.0).abs() < 1e-9);
        }
    }

    #[test]
    fn flat_windows_are_exactly_zero() {
        // TA-Lib's summed mean of 0.1 × 3 is 0.10000000000000002, which alone would give
        // ±66.7; a sum that overflows (5e307 × 4 and more) is still flat.
        let values = [
            0.1,
            1640.0833333333333,
            -3.7e-5,
            5.0e307,
            5.0e-324,
            -0.0,
            7.0,
        ];
        for period in [2, 3, 14, 20, 130] {
            for &v in &values {
                for mut cci in both(period) {
                    let xs = vec![bar(v); period + 5];
                    for y in cci.batch(&xs).values {
                        assert_eq!(y, 0.0, "{v} × {period}");
                    }
                }
            }
        }
    }

    #[test]
    fn non_finite_values_give_nan_while_in_the_window() {
        for mut cci in both(3) {
            let xs = [
                1.0,
                2.0,
                f64::NAN,
                3.0,
                4.0,
                5.0,
                f64::INFINITY,
                6.0,
                7.0,
                9.0,
            ];
            let out = cci.batch(&xs.map(bar)).values;
            let nan: Vec<bool> = out.iter().map(|v| v.is_nan()).collect();
            assert_eq!(nan, [true, true, true, false, true, true, true, false]);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn tree_and_direct_passes_agree(
            period in 2usize..40,
            cents in prop::collection::vec(prop_oneof![4 => 99_000i64..101_000, 1 => Just(100_000)], 0..150),
            holes in prop::collection::vec((0usize..150, prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)]), 0..3),
        ) {
            let mut xs: Vec<f64> = cents.iter().map(|&c| c as f64 / 100.0).collect();
            for (i, v) in holes {
                if i < xs.len() {
                    xs[i] = v;
                }
            }
            let bars: Vec<Candle> = xs.iter().map(|&p| bar(p)).collect();
            let [mut d, mut t] = both(period);
            let (d, t) = (d.batch(&bars), t.batch(&bars));
            prop_assert_eq!(d.start, t.start);
            for (a, b) in d.values.iter().zip(&t.values) {
                prop_assert_eq!(a.is_nan(), b.is_nan());
                if !a.is_nan() {
                    prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{} vs {}", a, b);
                }
            }
        }

        #[test]
        fn tree_checkpoints_resume_bit_for_bit(xs in prop::collection::vec(1.0f64..2000.0, 0..300), cut in 0usize..300) {
            let mut live = Cci::new(TREE_MIN_PERIOD).unwrap();
            prop_assert!(live.tree.is_some());
            let cut = cut.min(xs.len());
            for &x in &xs[..cut] {
                live.update(bar(x));
            }
            let mut resumed: Cci = serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
            prop_assert_eq!(&resumed, &live);
            for &x in &xs[cut..] {
                prop_assert_eq!(live.update(bar(x)).map(f64::to_bits), resumed.update(bar(x)).map(f64::to_bits));
            }
        }
    }

    #[test]
    fn corrupt_checkpoint_is_refused() {
        let json = serde_json::to_string(&Cci::new(200).unwrap()).unwrap();
        let bad = json.replace("\"period\":200", "\"period\":14");
        assert_ne!(bad, json);
        assert!(serde_json::from_str::<Cci>(&bad).is_err());
    }

    /// The tree at period 14 against TA-Lib's CCI on every row of the committed fixtures (the
    /// integration test checks the direct passes, which period 14 uses).
    #[test]
    fn tree_matches_talib_fixtures() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for name in ["spx_1d", "es_10s", "synthetic_rw_1m"] {
            let data = root.join(format!("../../data/{name}.csv"));
            let mut bars = csv::Reader::from_path(&data).unwrap();
            let gz = std::fs::File::open(root.join(format!("fixtures/{name}.csv.gz"))).unwrap();
            let mut talib = csv::ReaderBuilder::new()
                .comment(Some(b'#'))
                .from_reader(flate2::read::GzDecoder::new(gz));
            let headers = bars.headers().unwrap().clone();
            let col = |k: &str| headers.iter().position(|h| h == k).unwrap();
            let (o, h, l, c, v) = (
                col("open"),
                col("high"),
                col("low"),
                col("close"),
                col("volume"),
            );
            let cci = talib
                .headers()
                .unwrap()
                .iter()
                .position(|h| h == "cci_14")
                .unwrap();
            let mut tree = Cci::with_tree(14, true).unwrap();
            let (mut worst, mut rows) = (0.0f64, 0);
            for (rec, want) in bars.records().zip(talib.records()) {
                let (rec, want) = (rec.unwrap(), want.unwrap());
                let f = |i: usize| rec[i].parse::<f64>().unwrap();
                let out = tree.update(Candle::new(f(o), f(h), f(l), f(c), f(v)));
                let want = (!want[cci].is_empty()).then(|| want[cci].parse::<f64>().unwrap());
                assert_eq!(out.is_some(), want.is_some(), "{name}: warm-up");
                if let (Some(a), Some(b)) = (out, want) {
                    worst = worst.max((a - b).abs() / b.abs().max(1.0));
                }
                rows += 1;
            }
            assert!(rows > 4000, "{name}: {rows} rows");
            eprintln!("{name}/cci_14 through the tree: max relative error {worst:e}");
            assert!(worst <= 1e-9, "{name}: {worst:e}");
        }
    }
}
