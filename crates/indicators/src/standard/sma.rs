//! [`Sma`]: simple moving average.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// Simple moving average over `period` values (TA-Lib `SMA`).
///
/// Warm-up: `period - 1` inputs. Uses TA-Lib's running sum (add the new value, emit, subtract
/// the oldest), so values are bit-identical to TA-Lib's. O(1) per update. A NaN or infinite
/// input poisons the running sum: every later output is NaN until [`Indicator::reset`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sma {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    sum: f64,
    window: Ring<f64>,
}

impl Sma {
    /// An SMA over `period` values.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2` (TA-Lib's minimum).
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("SMA", "period", period, 2)?;
        Ok(Self::unchecked(period))
    }

    /// Internal constructor for compositions (STOCH smoothing) that accept period 1.
    pub(crate) fn unchecked(period: usize) -> Self {
        Self {
            period: period.max(1),
            sum: 0.0,
            window: Ring::new(period.max(1)),
        }
    }

    /// Inputs consumed before the first output.
    #[must_use]
    pub fn warm_up(&self) -> usize {
        self.period - 1
    }
}

impl Indicator for Sma {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.window.push_back(x);
        self.sum += x;
        if !self.window.is_full() {
            return None;
        }
        let total = self.sum;
        self.sum -= self.window.front().unwrap_or(0.0);
        Some(total / self.period as f64)
    }

    fn reset(&mut self) {
        self.sum = 0.0;
        self.window.clear();
    }

    fn is_ready(&self) -> bool {
        self.window.is_full()
    }

    /// Slice form of the same running sum: bit-identical to streaming, without the ring.
    fn batch_into(&mut self, inputs: &[f64], out: &mut Vec<f64>) -> usize {
        self.reset();
        out.clear();
        let n = self.period;
        if inputs.len() < n {
            for &x in inputs {
                self.update(x);
            }
            return inputs.len();
        }
        let p = n as f64;
        let mut sum = 0.0;
        for &x in &inputs[..n - 1] {
            sum += x;
        }
        out.reserve(inputs.len() - n + 1);
        // A plain loop, not `extend(map(closure))`: a closure capturing `sum` by reference
        // kept it in memory, adding a store-to-load delay to every step of the sum's chain.
        for (&x, &old) in inputs[n - 1..].iter().zip(inputs) {
            sum += x;
            let total = sum;
            sum -= old;
            out.push(total / p);
        }
        // Leave the streaming state where a streaming run would have left it.
        for &x in &inputs[inputs.len() - n..] {
            self.window.push_back(x);
        }
        self.sum = sum;
        n - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_the_last_period_values() {
        let s = Sma::new(3).unwrap().batch(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!((s.start, s.values), (2, vec![2.0, 3.0, 4.0]));
    }

    #[test]
    fn batch_leaves_the_streaming_state_where_streaming_would() {
        let xs = [1.0, 5.0, 2.0, 8.0, 3.0];
        let mut a = Sma::new(3).unwrap();
        a.batch(&xs);
        let mut b = Sma::new(3).unwrap();
        for &x in &xs {
            b.update(x);
        }
        assert_eq!(a.update(7.0), b.update(7.0));
    }
}
