//! [`Wma`]: linearly weighted moving average.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// Weighted moving average with weights `1..=period` (newest heaviest), TA-Lib `WMA`.
///
/// Warm-up: `period - 1`. O(1) per update with TA-Lib's two running sums, so values are
/// bit-identical. A NaN input poisons both sums until [`Indicator::reset`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wma {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    divider: f64,
    period_sum: f64,
    period_sub: f64,
    trailing: f64,
    window: Ring<f64>,
}

impl Wma {
    /// A WMA over `period` values.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("WMA", "period", period, 2)?;
        Ok(Self {
            period,
            divider: ((period * (period + 1)) >> 1) as f64,
            period_sum: 0.0,
            period_sub: 0.0,
            trailing: 0.0,
            window: Ring::new(period),
        })
    }
}

impl Indicator for Wma {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        let n = self.window.len();
        if !self.window.is_full() {
            self.period_sub += x;
            self.period_sum += x * n as f64;
            return None;
        }
        self.period_sub += x;
        self.period_sub -= self.trailing;
        self.period_sum += x * self.period as f64;
        self.trailing = self.window.front().unwrap_or(0.0);
        let out = self.period_sum / self.divider;
        self.period_sum -= self.period_sub;
        Some(out)
    }

    fn reset(&mut self) {
        self.period_sum = 0.0;
        self.period_sub = 0.0;
        self.trailing = 0.0;
        self.window.clear();
    }

    fn is_ready(&self) -> bool {
        self.window.is_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_newest_heaviest() {
        let s = Wma::new(3).unwrap().batch(&[1.0, 2.0, 3.0, 4.0]);
        // (1 + 4 + 9)/6 and (2 + 6 + 12)/6.
        assert_eq!(s.values, vec![14.0 / 6.0, 20.0 / 6.0]);
    }
}
