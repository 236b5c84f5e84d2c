//! [`DeltaEntropy`]: change of entropy between two consecutive windows.

use serde::{Deserialize, Serialize};

use super::entropy::histogram_entropy;
use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// `ΔH = H(last window) − H(window before it)`, each half binned over its own range (so ΔH
/// measures a change of shape, not of level). Negative ΔH: the distribution is concentrating.
/// Warm-up: `2·window − 1`. O(window + bins) per update, no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltaEntropy {
    window: usize,
    values: Ring<f64>,
    counts: Vec<u32>,
}

impl DeltaEntropy {
    /// ΔH between consecutive windows of `window` values, `bins` bins each.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 2` or `bins < 2`.
    pub fn new(window: usize, bins: usize) -> Result<Self, Error> {
        check_period("DELTA_ENTROPY", "window", window, 2)?;
        check_period("DELTA_ENTROPY", "bins", bins, 2)?;
        Ok(Self {
            window,
            values: Ring::new(2 * window),
            counts: vec![0; bins],
        })
    }
}

impl Indicator for DeltaEntropy {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        self.values.push_back(x);
        if !self.values.is_full() {
            return None;
        }
        let w = self.window;
        let older = histogram_entropy(self.values.iter().take(w), &mut self.counts);
        let newer = histogram_entropy(self.values.iter().skip(w), &mut self.counts);
        Some(newer - older)
    }

    fn reset(&mut self) {
        self.values.clear();
    }

    fn is_ready(&self) -> bool {
        self.values.is_full()
    }
}
