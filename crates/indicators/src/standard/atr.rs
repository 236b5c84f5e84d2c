//! [`Atr`]: average true range.

use serde::{Deserialize, Serialize};

use super::true_range::{true_range, true_range_hlc};
use crate::dispatch::with_cpu_features;
use crate::{Candle, Error, Indicator, error::check_period};

/// Wilder's average true range, TA-Lib `ATR`: the mean of the first `period` true ranges,
/// then `ATR = ATR·((n−1)/n) + TR·(1/n)`. Warm-up: `period` bars (bar 0 has no true range).
/// O(1) per update. With `period = 1` it is the true range itself, as in TA-Lib.
///
/// TA-Lib writes the smoothing as `(ATR·(n−1) + TR)/n`; we compute `fma(ATR, (n−1)/n, TR·(1/n))`
/// with precomputed reciprocals, which leaves one fused multiply-add on the bar-to-bar
/// dependency chain instead of a multiply, an add and a division (see `dispatch.rs`), and stays
/// within a few ulps of TA-Lib (its 0.8 build is not bit-identical to its own published formula
/// either; the fixtures agree to within 1e-14 relative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Atr {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    /// `(n − 1)/n`.
    keep: f64,
    /// `1/n`.
    inv: f64,
    count: usize,
    prev_close: f64,
    seed_sum: f64,
    value: f64,
}

impl Atr {
    /// An ATR over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 1`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("ATR", "period", period, 1)?;
        let n = period as f64;
        Ok(Self {
            period,
            keep: (n - 1.0) / n,
            inv: 1.0 / n,
            count: 0,
            prev_close: 0.0,
            seed_sum: 0.0,
            value: 0.0,
        })
    }

    /// The current ATR, once ready.
    pub(crate) fn value(&self) -> Option<f64> {
        self.is_ready().then_some(self.value)
    }

    /// [`Indicator::batch_into`] over separate high/low/close columns (as stored in Arrow or
    /// Parquet), reading 24 instead of 48 bytes per bar. Same values and end state as the
    /// candle form.
    ///
    /// # Errors
    /// [`Error::WidthMismatch`] if the three columns differ in length; nothing is computed.
    pub fn batch_columns_into(
        &mut self,
        high: &[f64],
        low: &[f64],
        close: &[f64],
        out: &mut Vec<f64>,
    ) -> Result<usize, Error> {
        let n = close.len();
        if high.len() != n || low.len() != n {
            let got = if high.len() == n {
                low.len()
            } else {
                high.len()
            };
            return Err(Error::WidthMismatch {
                indicator: "ATR",
                expected: n,
                got,
            });
        }
        Ok(self.run_slice(n, |i| (high[i], low[i], close[i]), out))
    }

    /// The batch loop over `len` bars read through `bar(i) = (high, low, close)`.
    #[inline]
    fn run_slice(
        &mut self,
        len: usize,
        bar: impl Fn(usize) -> (f64, f64, f64),
        out: &mut Vec<f64>,
    ) -> usize {
        self.reset();
        out.clear();
        let n = self.period;
        if len <= n || n == 1 {
            let mut start = len;
            out.reserve(len);
            for i in 0..len {
                let (high, low, close) = bar(i);
                if let Some(v) = self.update(Candle::new(close, high, low, close, 0.0)) {
                    if out.is_empty() {
                        start = i;
                    }
                    out.push(v);
                }
            }
            return start;
        }
        let mut prev = bar(0).2;
        let mut sum = 0.0;
        for i in 1..=n {
            let (high, low, close) = bar(i);
            sum += true_range_hlc(high, low, prev);
            prev = close;
        }
        let (keep, inv) = (self.keep, self.inv);
        let first = sum / n as f64;
        out.reserve(len - n);
        out.push(first);
        // Moved in by value so the chain stays in registers; see `dispatch.rs` for the FMA.
        let (value, prev) = with_cpu_features(
            #[inline(always)]
            move || {
                let (mut value, mut prev) = (first, prev);
                // A plain loop: iterator adaptors here were not always inlined into the
                // FMA-enabled function, which left the chain in memory and called `fma`.
                for i in n + 1..len {
                    let (high, low, close) = bar(i);
                    let tr = true_range_hlc(high, low, prev);
                    prev = close;
                    value = value.mul_add(keep, tr * inv);
                    out.push(value);
                }
                (value, prev)
            },
        );
        self.count = n + 1;
        self.prev_close = prev;
        self.seed_sum = sum;
        self.value = value;
        n
    }
}

impl Indicator for Atr {
    type Input = Candle;
    type Output = f64;

    #[inline]
    fn update(&mut self, c: Candle) -> Option<f64> {
        if self.count == 0 {
            self.prev_close = c.close;
            self.count = 1;
            return None;
        }
        let tr = true_range(&c, self.prev_close);
        self.prev_close = c.close;
        let n = self.period;
        if self.count > n {
            self.value = if n > 1 {
                self.value.mul_add(self.keep, tr * self.inv)
            } else {
                tr
            };
            return Some(self.value);
        }
        self.seed_sum += tr;
        self.count += 1;
        if self.count <= n {
            return None;
        }
        self.value = self.seed_sum / n as f64;
        Some(self.value)
    }

    fn reset(&mut self) {
        self.count = 0;
        self.prev_close = 0.0;
        self.seed_sum = 0.0;
        self.value = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.count > self.period
    }

    fn batch_into(&mut self, inputs: &[Candle], out: &mut Vec<f64>) -> usize {
        self.run_slice(
            inputs.len(),
            |i| (inputs[i].high, inputs[i].low, inputs[i].close),
            out,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrueRange;

    #[test]
    fn period_one_is_the_true_range() {
        let bars = [
            Candle::new(1.0, 2.0, 1.0, 1.5, 0.0),
            Candle::new(1.5, 3.0, 2.5, 2.8, 0.0),
            Candle::new(2.8, 2.9, 2.0, 2.1, 0.0),
        ];
        let s = Atr::new(1).unwrap().batch(&bars);
        assert_eq!(s, TrueRange::new().batch(&bars));
        assert_eq!(s.values[0], 1.5);
    }
}
