//! [`HurstDfa`]: Hurst exponent by detrended fluctuation analysis.

use serde::{Deserialize, Serialize};

use super::hurst_blocks::{BlockAcc, Engine, log_scales};
use crate::{Error, Indicator};

/// Incremental DFA-1 fluctuation of one box: the mean squared residual of the least-squares
/// line through the within-box profile `L_j = Σ_{i≤j} (x_i − x₀)`, `j = 0..s−1` (x₀ the box's
/// first input).
///
/// The classic profile `Y_k = Σ_{i≤k} (x_i − x̄)` differs from `L` inside a box by a constant
/// (the profile before the box) plus a linear term in `j` (from `x̄` and `x₀`); the fit absorbs
/// both, so the residuals — and `F²` — are the same. Welford-style co-moments of `(j, L_j)` are
/// updated per input (O(1)): `F² = (M2_L − C_{jL}² / S_jj) / s` with `S_jj = s(s²−1)/12`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DfaAcc {
    /// First input of the box.
    origin: f64,
    /// `L_j`.
    profile: f64,
    /// Mean of `L` so far.
    mean: f64,
    /// `Σ (L − mean)²`.
    m2: f64,
    /// `Σ (j − mean_j)(L − mean)`.
    co: f64,
}

impl BlockAcc for DfaAcc {
    const NAME: &'static str = "HURST_DFA";
    const MIN_WINDOW: usize = 64;
    const Y_SCALE: f64 = 0.5;
    const BASE: f64 = 0.0;

    fn scales(window: usize) -> Vec<usize> {
        // Boxes below 3 points fit a line exactly.
        log_scales(8, window / 4)
            .into_iter()
            .filter(|&s| s >= 3)
            .collect()
    }

    fn offset(_: usize) -> f64 {
        0.0
    }

    fn new(_: usize) -> Self {
        Self {
            origin: 0.0,
            profile: 0.0,
            mean: 0.0,
            m2: 0.0,
            co: 0.0,
        }
    }

    fn push(&mut self, x: f64, k: usize) {
        if k == 0 {
            self.clear();
            self.origin = x;
        }
        self.profile += x - self.origin;
        // Point (j = k, L). With t points, the mean of j moves from (t−2)/2 to (t−1)/2, so
        // j − old mean = t/2.
        let t = (k + 1) as f64;
        let d = self.profile - self.mean;
        self.mean += d / t;
        let d_new = self.profile - self.mean;
        self.m2 += d * d_new;
        self.co += 0.5 * t * d_new;
    }

    fn finish(&mut self, s: usize) -> (f64, f64) {
        let sf = s as f64;
        let sjj = sf * (sf * sf - 1.0) / 12.0;
        let f2 = (self.m2 - self.co * self.co / sjj) / sf;
        (f2.max(0.0), 1.0)
    }

    fn clear(&mut self) {
        *self = Self::new(0);
    }

    fn restore(&mut self, _: usize) -> bool {
        true
    }
}

/// Hurst exponent of the last `window` *increments* by first-order DFA (Peng et al. 1994):
/// the profile of the increments is cut into boxes of size `s`, a least-squares line is
/// removed in each box, `F(s)` is the RMS of the residuals, and `H` is the slope of `ln F(s)`
/// on `ln s` for `s` from 8 to `window/4` (log-spaced). White noise gives 0.5; persistent
/// increments more, anti-persistent less.
///
/// Boxes are aligned to the stream: for each `s`, the inputs since construction (or
/// [`Indicator::reset`]) are cut into consecutive boxes of `s`, and `F(s)²` is the mean over the
/// last ⌊window/s⌋ complete boxes (as many as the window holds; they can start up to `s − 1`
/// inputs before it and end up to `s − 1` before the newest). Each box's `F²` is
/// accumulated incrementally, so an update costs amortised O(number of scales) (≤ 9) with no
/// allocation.
///
/// An input that is not finite or exceeds 1e100 in magnitude makes the output NaN while it is
/// inside the window or inside a box in use; a constant series gives 0.5. Warm-up:
/// `window − 1` inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HurstDfa {
    engine: Engine<DfaAcc>,
}

impl HurstDfa {
    /// DFA Hurst over `window` increments.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 64`.
    pub fn new(window: usize) -> Result<Self, Error> {
        Ok(Self {
            engine: Engine::checked(window)?,
        })
    }
}

impl Indicator for HurstDfa {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        self.engine.update(x)
    }

    fn reset(&mut self) {
        self.engine.reset();
    }

    fn is_ready(&self) -> bool {
        self.engine.is_ready()
    }
}

#[cfg(test)]
mod tests {
    use super::super::hurst_blocks::{assert_streaming_matches_reference, test_stream};
    use super::*;

    /// `F²` of one box computed directly from the profile of its inputs.
    fn box_f2(block: &[f64]) -> Option<f64> {
        let mut acc = 0.0;
        let y: Vec<f64> = block
            .iter()
            .map(|v| {
                acc += v;
                acc
            })
            .collect();
        let n = y.len() as f64;
        let mx = (n - 1.0) / 2.0;
        let my = y.iter().sum::<f64>() / n;
        let (mut sxx, mut sxy) = (0.0, 0.0);
        for (i, &v) in y.iter().enumerate() {
            let dx = i as f64 - mx;
            sxx += dx * dx;
            sxy += dx * (v - my);
        }
        let b = sxy / sxx;
        let ms = y
            .iter()
            .enumerate()
            .map(|(i, &v)| (v - my - b * (i as f64 - mx)).powi(2))
            .sum::<f64>()
            / n;
        Some(ms)
    }

    #[test]
    fn streaming_matches_the_direct_definition() {
        assert_streaming_matches_reference::<DfaAcc, _>(
            |w| HurstDfa::new(w).unwrap(),
            box_f2,
            &[
                (64, 0.0, 0.01, 1e-9),
                (100, 0.0005, 0.01, 1e-9),
                (300, 0.0, 1.0, 1e-9),
                (64, 1000.0, 1.0, 1e-6),
            ],
        );
    }

    #[test]
    fn box_fluctuation_is_accurate_for_returns_and_prices() {
        for (level, scale) in [(0.0, 0.01), (0.0003, 0.01), (1000.0, 1.0), (1e5, 0.01)] {
            let xs = test_stream(256, level, scale, 3);
            for s in [8, 37, 256] {
                let mut acc = DfaAcc::new(s);
                for (k, &x) in xs[..s].iter().enumerate() {
                    acc.push(x, k);
                }
                let got = acc.finish(s).0;
                // The direct form on the centred inputs (exact up to rounding of small numbers).
                let centred: Vec<f64> = xs[..s].iter().map(|x| x - level).collect();
                let want = box_f2(&centred).unwrap();
                assert!(
                    (got - want).abs() <= 1e-9 * want,
                    "level {level} scale {scale} s {s}: {got} vs {want}"
                );
            }
        }
    }
}
