//! [`Rsi`]: relative strength index.

use serde::{Deserialize, Serialize};

use crate::{Error, Indicator, error::check_period};

/// Wilder's RSI, TA-Lib `RSI`: average gain and loss seeded with the plain mean of the first
/// `period` changes, then Wilder-smoothed (`avg = (avg·(n−1) + change)·(1/n)`, multiplying by
/// the reciprocal as TA-Lib 0.8 does);
/// `RSI = 100·gain/(gain + loss)`, and 0 when `gain + loss` is within 1e-8 of zero (a flat
/// window, TA-Lib's convention). Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rsi {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    count: usize,
    prev: f64,
    gain: f64,
    loss: f64,
}

/// Adds one change to the gain and loss sums: a negative change adds to the loss, anything
/// else (zero and NaN included) to the gain, as TA-Lib does.
///
/// Branch-free on purpose: the sign of a price change is a coin flip, and a mispredicted branch
/// costs more than the whole update. The change is masked to `+0.0` on the side it does not
/// belong to (adding `+0.0` leaves any sum unchanged), which is exactly TA-Lib's if/else.
#[inline]
fn accumulate(gain: &mut f64, loss: &mut f64, change: f64) {
    let down = u64::from(change < 0.0).wrapping_neg();
    let bits = change.to_bits();
    *loss -= f64::from_bits(bits & down);
    *gain += f64::from_bits(bits & !down);
}

#[inline]
fn rsi_value(gain: f64, loss: f64) -> f64 {
    let total = gain + loss;
    if -0.000_000_01 < total && total < 0.000_000_01 {
        0.0
    } else {
        100.0 * (gain / total)
    }
}

impl Rsi {
    /// An RSI over `period` changes.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("RSI", "period", period, 2)?;
        Ok(Self {
            period,
            count: 0,
            prev: 0.0,
            gain: 0.0,
            loss: 0.0,
        })
    }
}

impl Indicator for Rsi {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        let n = self.period;
        if self.count == 0 {
            self.prev = x;
            self.count = 1;
            return None;
        }
        let change = x - self.prev;
        self.prev = x;
        if self.count > n {
            let m = (n - 1) as f64;
            let inv = 1.0 / n as f64;
            self.loss *= m;
            self.gain *= m;
            accumulate(&mut self.gain, &mut self.loss, change);
            self.loss *= inv;
            self.gain *= inv;
            return Some(rsi_value(self.gain, self.loss));
        }
        accumulate(&mut self.gain, &mut self.loss, change);
        self.count += 1;
        if self.count <= n {
            return None;
        }
        let inv = 1.0 / n as f64;
        self.loss *= inv;
        self.gain *= inv;
        Some(rsi_value(self.gain, self.loss))
    }

    fn reset(&mut self) {
        self.count = 0;
        self.prev = 0.0;
        self.gain = 0.0;
        self.loss = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.count > self.period
    }

    fn batch_into(&mut self, inputs: &[f64], out: &mut Vec<f64>) -> usize {
        self.reset();
        out.clear();
        let n = self.period;
        if inputs.len() <= n {
            for &x in inputs {
                self.update(x);
            }
            return inputs.len();
        }
        let (mut gain, mut loss) = (0.0, 0.0);
        let mut prev = inputs[0];
        for &x in &inputs[1..=n] {
            accumulate(&mut gain, &mut loss, x - prev);
            prev = x;
        }
        let inv = 1.0 / n as f64;
        let m = (n - 1) as f64;
        loss *= inv;
        gain *= inv;
        out.reserve(inputs.len() - n);
        out.push(rsi_value(gain, loss));
        for &x in &inputs[n + 1..] {
            let change = x - prev;
            prev = x;
            loss *= m;
            gain *= m;
            accumulate(&mut gain, &mut loss, change);
            loss *= inv;
            gain *= inv;
            out.push(rsi_value(gain, loss));
        }
        *self = Self {
            period: n,
            count: n + 1,
            prev,
            gain,
            loss,
        };
        n
    }
}
