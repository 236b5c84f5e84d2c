//! [`Cci`]: commodity channel index.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Candle, Error, Indicator, error::check_period};

/// TA-Lib `CCI`: `(tp − mean(tp))/(0.015·mean|tp − mean(tp)|)` over `period` typical prices
/// `tp = (h + l + c)/3`; 0 when the numerator or the mean deviation is exactly zero.
/// Warm-up: `period − 1`.
///
/// Cost: O(period) per update. The mean absolute deviation around the *current* mean has no
/// exact O(1) update, and TA-Lib-exact values need TA-Lib's summation order; no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cci {
    period: usize,
    window: Ring<f64>,
}

impl Cci {
    /// A CCI over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("CCI", "period", period, 2)?;
        Ok(Self {
            period,
            window: Ring::new(period),
        })
    }
}

impl Indicator for Cci {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let last = c.typical_price();
        self.window.push_back(last);
        if !self.window.is_full() {
            return None;
        }
        let n = self.period as f64;
        let mut avg = 0.0;
        for &v in self.window.slots() {
            avg += v;
        }
        avg /= n;
        let mut dev = 0.0;
        for &v in self.window.slots() {
            dev += (v - avg).abs();
        }
        let num = last - avg;
        Some(if num != 0.0 && dev != 0.0 {
            num / (0.015 * (dev / n))
        } else {
            0.0
        })
    }

    fn reset(&mut self) {
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
    fn flat_window_is_zero_and_a_jump_is_positive() {
        let bar = |p: f64| Candle::new(p, p, p, p, 1.0);
        let s = Cci::new(3)
            .unwrap()
            .batch(&[bar(1.0), bar(1.0), bar(1.0), bar(4.0)]);
        assert_eq!(s.values[0], 0.0);
        // tp = 1, 1, 4: mean 2, mean |dev| = 4/3, (4 − 2)/(0.015·4/3) = 100.
        assert!((s.values[1] - 100.0).abs() < 1e-9);
    }
}
