//! [`HurstDfa`]: Hurst exponent by detrended fluctuation analysis.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// About eight log-spaced integer scales from `lo` to `hi` (inclusive, deduplicated).
pub(crate) fn log_scales(lo: usize, hi: usize) -> Vec<usize> {
    if hi < lo {
        return vec![lo];
    }
    let steps = 8;
    let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
    let mut v: Vec<usize> = (0..=steps)
        .map(|i| (l + (h - l) * i as f64 / steps as f64).exp().round() as usize)
        .collect();
    v.dedup();
    v
}

/// OLS slope of y on x; `None` with fewer than two points or no spread in x.
pub(crate) fn ols_slope(points: &[(f64, f64)]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx) * (p.0 - mx)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Hurst exponent of the last `window` *increments* by first-order DFA (Peng et al. 1994):
/// the profile `Y_k = Σ_{i≤k}(x_i − x̄)` is cut into non-overlapping boxes of size `s` (from
/// the newest value back), a least-squares line is removed in each box, `F(s)` is the RMS of
/// the residuals, and `H` is the slope of `ln F(s)` on `ln s` for `s` from 8 to `window/4`.
/// White noise gives 0.5; persistent increments more, anti-persistent less.
///
/// Non-finite inputs make the output NaN while in the window; a constant window gives 0.5.
/// Warm-up: `window − 1`. O(window·log window) per update, no allocation after the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HurstDfa {
    values: Ring<f64>,
    scales: Vec<usize>,
    #[serde(skip)]
    profile: Vec<f64>,
    #[serde(skip)]
    points: Vec<(f64, f64)>,
}

impl HurstDfa {
    /// DFA Hurst over `window` increments.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 64`.
    pub fn new(window: usize) -> Result<Self, Error> {
        check_period("HURST_DFA", "window", window, 64)?;
        Ok(Self {
            values: Ring::new(window),
            scales: log_scales(8, window / 4),
            profile: Vec::new(),
            points: Vec::new(),
        })
    }
}

/// Mean squared residual of a least-squares line through `y` against 0, 1, 2, …
fn detrended_ms(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (i, &v) in y.iter().enumerate() {
        let dx = i as f64 - mx;
        sxx += dx * dx;
        sxy += dx * (v - my);
    }
    let b = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    y.iter()
        .enumerate()
        .map(|(i, &v)| {
            let r = v - my - b * (i as f64 - mx);
            r * r
        })
        .sum::<f64>()
        / n
}

impl Indicator for HurstDfa {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        self.values.push_back(x);
        if !self.values.is_full() {
            return None;
        }
        if self.values.iter().any(|v| !v.is_finite()) {
            return Some(f64::NAN);
        }
        let mean = self.values.iter().sum::<f64>() / self.values.len() as f64;
        self.profile.clear();
        let mut acc = 0.0;
        for v in self.values.iter() {
            acc += v - mean;
            self.profile.push(acc);
        }
        self.points.clear();
        // Boxes below 3 points fit a line exactly (and 0 would be an invalid chunk size).
        for &s in self.scales.iter().filter(|&&s| s >= 3) {
            let (mut total, mut boxes) = (0.0, 0usize);
            for chunk in self.profile.rchunks_exact(s) {
                total += detrended_ms(chunk);
                boxes += 1;
            }
            let f2 = total / boxes.max(1) as f64;
            if f2 > 0.0 {
                self.points.push(((s as f64).ln(), 0.5 * f2.ln()));
            }
        }
        Some(ols_slope(&self.points).unwrap_or(0.5))
    }

    fn reset(&mut self) {
        self.values.clear();
    }

    fn is_ready(&self) -> bool {
        self.values.is_full()
    }
}
