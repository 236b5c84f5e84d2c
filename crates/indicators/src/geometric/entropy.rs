//! [`Entropy`]: Shannon entropy of a trailing window.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// Histogram entropy `H = −Σ_k p_k ln p_k` (nats) of the finite values in `values`, with
/// `bins` equal-width bins on `[min, max]`; 0 when fewer than two finite values or all equal.
/// `counts` is scratch space of length `bins`.
pub(crate) fn histogram_entropy<I: Iterator<Item = f64> + Clone>(
    values: I,
    counts: &mut [u32],
) -> f64 {
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0u32);
    for v in values.clone().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
        n += 1;
    }
    let width = hi - lo;
    // A zero or overflowing range means one bin: zero entropy.
    if n < 2 || !(width > 0.0 && width.is_finite()) || counts.is_empty() {
        return 0.0;
    }
    counts.fill(0);
    let bins = counts.len();
    for v in values.filter(|v| v.is_finite()) {
        let k = (((v - lo) / width) * bins as f64) as usize;
        counts[k.min(bins - 1)] += 1;
    }
    let total = f64::from(n);
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| f64::from(c) / total)
        .map(|p| p * p.ln())
        .sum::<f64>()
}

/// Shannon entropy of the last `window` inputs (pass returns, not prices: the Python original
/// binned raw prices), `bins` equal-width bins over the window's own range, in nats.
///
/// Non-finite inputs are left out of the histogram. A constant window has entropy 0; the
/// maximum is `ln(bins)`. Warm-up: `window − 1`. O(window + bins) per update (the bin edges
/// move with the window's range), no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entropy {
    values: Ring<f64>,
    counts: Vec<u32>,
}

impl Entropy {
    /// Entropy over `window` values with `bins` bins.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 2` or `bins < 2`.
    pub fn new(window: usize, bins: usize) -> Result<Self, Error> {
        check_period("ENTROPY", "window", window, 2)?;
        check_period("ENTROPY", "bins", bins, 2)?;
        Ok(Self {
            values: Ring::new(window),
            counts: vec![0; bins],
        })
    }
}

impl Indicator for Entropy {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        self.values.push_back(x);
        if !self.values.is_full() {
            return None;
        }
        Some(histogram_entropy(self.values.iter(), &mut self.counts))
    }

    fn reset(&mut self) {
        self.values.clear();
    }

    fn is_ready(&self) -> bool {
        self.values.is_full()
    }
}
