//! [`Ema`]: exponential moving average.

use serde::{Deserialize, Serialize};

use crate::dispatch::with_cpu_features;
use crate::{Error, Indicator, error::check_period};

/// Exponential moving average with `k = 2 / (period + 1)`, seeded with the SMA of the first
/// `period` inputs (TA-Lib `EMA`, default compatibility mode).
///
/// TA-Lib writes the step as `(x − ema)·k + ema`; we compute `fma(ema, 1 − k, x·k)`, the same
/// value to within an ulp per step (the average forgets each step's rounding; the fixtures
/// agree to 1e-14), with a dependency chain of one fused multiply-add instead of three
/// operations (see `dispatch.rs`).
///
/// Warm-up: `period - 1` inputs. O(1) per update. A NaN input makes every later output NaN
/// until [`Indicator::reset`] (the average remembers it forever, as in TA-Lib).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ema {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    k: f64,
    /// `1 − k`, computed as `(period − 1)/(period + 1)`.
    keep: f64,
    count: usize,
    seed_sum: f64,
    value: f64,
}

impl Ema {
    /// An EMA over `period` values.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("EMA", "period", period, 2)?;
        Ok(Self::unchecked(period))
    }

    pub(crate) fn unchecked(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            k: 2.0 / ((period + 1) as f64),
            keep: ((period - 1) as f64) / ((period + 1) as f64),
            count: 0,
            seed_sum: 0.0,
            value: 0.0,
        }
    }

    /// Inputs consumed before the first output.
    #[must_use]
    pub fn warm_up(&self) -> usize {
        self.period - 1
    }
}

impl Indicator for Ema {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        if self.count >= self.period {
            self.value = self.value.mul_add(self.keep, x * self.k);
            return Some(self.value);
        }
        self.seed_sum += x;
        self.count += 1;
        if self.count == self.period {
            self.value = self.seed_sum / self.period as f64;
            return Some(self.value);
        }
        None
    }

    fn reset(&mut self) {
        self.count = 0;
        self.seed_sum = 0.0;
        self.value = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.count >= self.period
    }

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
        let mut sum = 0.0;
        for &x in &inputs[..n] {
            sum += x;
        }
        let (k, keep) = (self.k, self.keep);
        let value = sum / n as f64;
        out.reserve(inputs.len() - n + 1);
        out.push(value);
        // Everything the loop touches is moved in by value, so the chain stays in a register.
        let value = with_cpu_features(
            #[inline(always)]
            move || {
                let mut v = value;
                // A plain loop: iterator adaptors are not always inlined into the FMA-enabled
                // function (see `Atr`).
                for &x in &inputs[n..] {
                    v = v.mul_add(keep, x * k);
                    out.push(v);
                }
                v
            },
        );
        self.seed_sum = sum;
        self.count = n;
        self.value = value;
        n - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_with_the_sma_then_smooths() {
        let s = Ema::new(3).unwrap().batch(&[1.0, 2.0, 3.0, 6.0]);
        // Seed = 2, k = 0.5: (6 − 2)·0.5 + 2 = 4.
        assert_eq!((s.start, s.values), (2, vec![2.0, 4.0]));
    }
}
