//! [`Wma`]: linearly weighted moving average.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// TA-Lib 0.8.1 rebuilds the WMA sums every this many periods of full-window bars.
const REBUILD_EVERY: usize = 8;

/// Weighted moving average with weights `1..=period` (newest heaviest), TA-Lib `WMA`.
///
/// Warm-up: `period - 1`. O(1) per update with TA-Lib 0.8.1's two running sums, including its
/// re-anchor: every `8·period` full-window bars both sums are rebuilt from the window (oldest
/// first, weights counting up from 1), so rounding residue does not pile up over a long series
/// and the values stay bit-identical to TA-Lib on whole files (without it they drifted, 1.6e-12
/// relative by bar 5,000). Amortised O(1): the rebuild is `period` steps every `8·period` bars.
/// A NaN input poisons both sums until the next rebuild after it left the window (TA-Lib too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Wma {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    divider: f64,
    period_sum: f64,
    period_sub: f64,
    trailing: f64,
    window: Ring<f64>,
    /// Full-window bars since the sums were last rebuilt (older checkpoints lack it: 0 only
    /// delays the first rebuild).
    #[serde(default)]
    since_rebuild: usize,
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
            since_rebuild: 0,
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
        self.since_rebuild += 1;
        if self.since_rebuild >= REBUILD_EVERY * self.period {
            self.since_rebuild = 0;
            self.period_sub = 0.0;
            self.period_sum = 0.0;
            for (w, v) in self.window.iter().enumerate() {
                self.period_sub += v;
                self.period_sum += v * (w + 1) as f64;
            }
        }
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
        self.since_rebuild = 0;
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

    /// A huge value leaves residue in running sums that no later subtraction removes; the
    /// rebuild every 8·period bars brings the WMA back to the direct weighted sum.
    #[test]
    fn sums_are_rebuilt_so_a_huge_value_leaves_no_residue() {
        let period = 4;
        let mut xs = vec![1.0e15];
        xs.extend((0..200).map(|i| 100.0 + f64::from(i % 7) * 0.01));
        let out = Wma::new(period).unwrap().batch(&xs);
        let direct = |end: usize| {
            let w = &xs[end + 1 - period..=end];
            w.iter()
                .zip(1..)
                .map(|(v, k)| v * f64::from(k))
                .sum::<f64>()
                / 10.0
        };
        let last = xs.len() - 1;
        let got = out.values[last - out.start];
        assert!(
            (got - direct(last)).abs() <= 1e-12 * direct(last),
            "{got} vs {}",
            direct(last)
        );
        // A NaN is gone once it has left the window and the sums were rebuilt.
        let mut ys = vec![f64::NAN];
        ys.extend(std::iter::repeat_n(2.0, 8 * period + period));
        let out = Wma::new(period).unwrap().batch(&ys);
        assert_eq!(out.values.last().copied(), Some(2.0));
    }
}
