//! [`HurstRs`]: Hurst exponent by corrected rescaled-range analysis.

use serde::{Deserialize, Serialize};

use super::hurst_blocks::{BlockAcc, Engine, log_scales};
use crate::{Error, Indicator};

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; relative error below 1e-13).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, &c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Anis–Lloyd expected R/S of `m` i.i.d. Gaussian increments, with Peters' `(m − ½)/m` factor.
pub(crate) fn expected_rs(m: usize) -> f64 {
    let mf = m as f64;
    let sum: f64 = (1..m).map(|i| ((mf - i as f64) / i as f64).sqrt()).sum();
    let front = if m <= 340 {
        (ln_gamma((mf - 1.0) / 2.0) - ln_gamma(mf / 2.0)).exp() / std::f64::consts::PI.sqrt()
    } else {
        1.0 / (mf * std::f64::consts::FRAC_PI_2).sqrt()
    };
    (mf - 0.5) / mf * front * sum
}

/// Incremental R/S of one block: a shifted running sum, Welford's variance and the upper and
/// lower convex hulls of the cumulative-sum points `(k, S_k)`, `k = 0..=m`.
///
/// The range of cumulative deviations is `max_k (S_k − k·μ) − min_k (S_k − k·μ)`, μ the block
/// mean (unknown until the block ends). A linear functional is maximised over a point set at a
/// vertex of its upper hull (minimised on the lower one), so the hulls are enough. Points
/// arrive in order of `k`, so Andrew's monotone chain keeps both hulls: each point is pushed
/// once and popped at most once, amortised O(1) per input (one input can pop up to `m` points,
/// paid for by the earlier pushes). At block end the extreme is found by binary search along
/// each hull, O(log m). Sums are taken of `x − x₀` (x₀ the block's first input), which leaves R
/// and S unchanged and keeps price-scale inputs from cancelling.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RsAcc {
    /// First input of the block.
    origin: f64,
    /// `S_k = Σ_{i≤k} (x_i − origin)`.
    sum: f64,
    /// Welford mean and sum of squared deviations of `x − origin`.
    mean: f64,
    m2: f64,
    /// Upper hull, left to right (capacity `m + 1` reserved).
    upper: Vec<[f64; 2]>,
    /// Lower hull, left to right (capacity `m + 1` reserved).
    lower: Vec<[f64; 2]>,
}

impl Clone for RsAcc {
    fn clone(&self) -> Self {
        let copy = |v: &Vec<[f64; 2]>| {
            let mut c = Vec::with_capacity(v.capacity());
            c.extend_from_slice(v);
            c
        };
        Self {
            origin: self.origin,
            sum: self.sum,
            mean: self.mean,
            m2: self.m2,
            upper: copy(&self.upper),
            lower: copy(&self.lower),
        }
    }
}

/// `> 0` when `a → b → p` turns left (counter-clockwise).
fn cross(a: [f64; 2], b: [f64; 2], p: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
}

/// Pushes `p` onto a monotone-chain hull: the upper one keeps right turns (`upper = true`),
/// the lower one left turns.
fn hull_push(h: &mut Vec<[f64; 2]>, p: [f64; 2], upper: bool) {
    while let [.., a, b] = h[..] {
        let c = cross(a, b, p);
        if (upper && c >= 0.0) || (!upper && c <= 0.0) {
            h.pop();
        } else {
            break;
        }
    }
    h.push(p);
}

/// `max` (upper hull) or `min` (lower hull) of `S − μ·k` over the hull's vertices: the values
/// along a hull are unimodal in the vertex index, so a binary search finds the extreme.
fn hull_extreme(h: &[[f64; 2]], mu: f64, upper: bool) -> f64 {
    let f = |p: [f64; 2]| p[1] - mu * p[0];
    let (mut lo, mut hi) = (0, h.len().saturating_sub(1));
    while lo < hi {
        let mid = (lo + hi) / 2;
        let step = f(h[mid + 1]) - f(h[mid]);
        if (upper && step > 0.0) || (!upper && step < 0.0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    h.get(lo).map_or(0.0, |&p| f(p))
}

impl BlockAcc for RsAcc {
    const NAME: &'static str = "HURST_RS";
    const MIN_WINDOW: usize = 32;
    const Y_SCALE: f64 = 1.0;
    const BASE: f64 = 0.5;

    fn scales(window: usize) -> Vec<usize> {
        // Block sizes below 2 carry no range.
        log_scales(8, window / 2)
            .into_iter()
            .filter(|&m| m >= 2)
            .collect()
    }

    fn offset(m: usize) -> f64 {
        expected_rs(m).ln()
    }

    fn new(m: usize) -> Self {
        Self {
            origin: 0.0,
            sum: 0.0,
            mean: 0.0,
            m2: 0.0,
            upper: Vec::with_capacity(m + 1),
            lower: Vec::with_capacity(m + 1),
        }
    }

    fn push(&mut self, x: f64, k: usize) {
        if k == 0 {
            self.origin = x;
            self.sum = 0.0;
            self.mean = 0.0;
            self.m2 = 0.0;
            self.upper.clear();
            self.lower.clear();
            self.upper.push([0.0, 0.0]);
            self.lower.push([0.0, 0.0]);
        }
        let d = x - self.origin;
        let t = (k + 1) as f64;
        self.sum += d;
        let delta = d - self.mean;
        self.mean += delta / t;
        self.m2 += delta * (d - self.mean);
        let p = [t, self.sum];
        hull_push(&mut self.upper, p, true);
        hull_push(&mut self.lower, p, false);
    }

    fn finish(&mut self, m: usize) -> (f64, f64) {
        let mf = m as f64;
        let s = (self.m2 / mf).sqrt();
        if !(s > 0.0 && s.is_finite()) {
            return (0.0, 0.0);
        }
        let mu = self.sum / mf;
        let range = hull_extreme(&self.upper, mu, true) - hull_extreme(&self.lower, mu, false);
        (range / s, 1.0)
    }

    fn clear(&mut self) {
        self.origin = 0.0;
        self.sum = 0.0;
        self.mean = 0.0;
        self.m2 = 0.0;
        self.upper.clear();
        self.lower.clear();
    }

    fn restore(&mut self, m: usize) -> bool {
        if self.upper.len() > m + 1 || self.lower.len() > m + 1 {
            return false;
        }
        self.upper.reserve_exact(m + 1 - self.upper.len());
        self.lower.reserve_exact(m + 1 - self.lower.len());
        true
    }
}

/// Hurst exponent of the last `window` *increments* (returns, not prices) by rescaled-range
/// analysis with the Anis–Lloyd–Peters small-sample correction:
/// `H = 0.5 + slope of [ln (R/S)_m − ln E(R/S)_m] on ln m` over block sizes `m` from 8 to
/// `window/2` (log-spaced). The correction removes R/S's upward bias on short blocks, so white
/// noise gives H ≈ 0.5; persistent increments give H > 0.5, anti-persistent H < 0.5.
///
/// Blocks are aligned to the stream: for each `m`, the inputs since construction (or
/// [`Indicator::reset`]) are cut into consecutive blocks of `m`, and `(R/S)_m` is the mean over
/// the last ⌊window/m⌋ complete blocks (as many as the window holds; they can start up to
/// `m − 1` inputs before it and end up to `m − 1` before the newest) that have a non-zero
/// deviation. Each block's R/S is computed once, incrementally, so an update costs amortised
/// O(number of scales) (≤ 9), with an O(log m) hull search per completed block and no
/// allocation.
///
/// An input that is not finite or exceeds 1e100 in magnitude makes the output NaN while it is
/// inside the window or inside a block in use; blocks that all have zero deviation (a constant
/// series) give 0.5, "no evidence of memory". Warm-up: `window − 1` inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HurstRs {
    engine: Engine<RsAcc>,
}

impl HurstRs {
    /// R/S Hurst over `window` increments.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 32`.
    pub fn new(window: usize) -> Result<Self, Error> {
        Ok(Self {
            engine: Engine::checked(window)?,
        })
    }
}

impl Indicator for HurstRs {
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

    /// R/S of one block computed directly: range of cumulative deviations (with the 0 at
    /// k = 0) over the population standard deviation; `None` for zero deviation. (Inputs are
    /// taken relative to the block's first, as the streaming form does, so that a constant
    /// block has exactly zero deviation rather than rounding noise.)
    fn block_rs(block: &[f64]) -> Option<f64> {
        let m = block.len() as f64;
        let mean = block.iter().map(|v| v - block[0]).sum::<f64>() / m;
        let (mut y, mut lo, mut hi, mut ss) = (0.0f64, 0.0f64, 0.0f64, 0.0);
        for &v in block {
            let d = v - block[0] - mean;
            y += d;
            lo = lo.min(y);
            hi = hi.max(y);
            ss += d * d;
        }
        let s = (ss / m).sqrt();
        (s > 0.0).then(|| (hi - lo) / s)
    }

    #[test]
    fn streaming_matches_the_direct_definition() {
        assert_streaming_matches_reference::<RsAcc, _>(
            |w| HurstRs::new(w).unwrap(),
            block_rs,
            &[
                (32, 0.0, 0.01, 1e-9),
                (100, 0.0005, 0.01, 1e-9),
                (256, 0.0, 1.0, 1e-9),
                // Price-scale inputs: still close (both sides round differently).
                (64, 1000.0, 1.0, 1e-6),
            ],
        );
    }

    #[test]
    fn hull_extremes_match_a_scan() {
        let xs = test_stream(500, 0.1, 1.0, 7);
        for m in [1, 2, 3, 8, 50, 500] {
            let mut acc = RsAcc::new(m);
            for (k, &x) in xs[..m].iter().enumerate() {
                acc.push(x, k);
            }
            let mu = acc.sum / m as f64;
            let ys = xs[..m].iter().scan(0.0, |s, &x| {
                *s += x - xs[0];
                Some(*s)
            });
            let vals: Vec<f64> = std::iter::once(0.0)
                .chain(ys.enumerate().map(|(k, y)| y - mu * (k + 1) as f64))
                .collect();
            let max = vals.iter().copied().fold(f64::MIN, f64::max);
            let min = vals.iter().copied().fold(f64::MAX, f64::min);
            assert!(
                (hull_extreme(&acc.upper, mu, true) - max).abs() < 1e-12,
                "m {m}"
            );
            assert!(
                (hull_extreme(&acc.lower, mu, false) - min).abs() < 1e-12,
                "m {m}"
            );
        }
    }
}
