//! [`Macd`]: moving average convergence/divergence.

use serde::{Deserialize, Serialize};

use super::Ema;
use crate::{Error, Indicator, error::check_period};

/// MACD outputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MacdOutput {
    /// `EMA_fast − EMA_slow`.
    pub macd: f64,
    /// EMA of `macd` over the signal period.
    pub signal: f64,
    /// `macd − signal`.
    pub hist: f64,
}

/// MACD, TA-Lib `MACD`. Warm-up: `slow − 1 + signal − 1`.
///
/// TA-Lib quirk kept on purpose for exactness: the fast EMA is seeded so that its first value
/// lands on the same bar as the slow EMA's, i.e. it starts at input `slow − fast` (its seed is
/// the SMA of inputs `slow − fast … slow − 1`, not of the first `fast` inputs). O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Macd {
    #[serde(deserialize_with = "crate::error::nonzero")]
    fast_period: usize,
    #[serde(deserialize_with = "crate::error::nonzero")]
    slow_period: usize,
    seen: usize,
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

impl Macd {
    /// MACD with the given periods (TA-Lib swaps fast and slow if given in the wrong order; we
    /// refuse instead so the caller notices).
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if a period is below 2 (signal below 1);
    /// [`Error::InconsistentParameters`] if `fast >= slow`.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, Error> {
        check_period("MACD", "fast", fast, 2)?;
        check_period("MACD", "slow", slow, 2)?;
        check_period("MACD", "signal", signal, 1)?;
        if fast >= slow {
            return Err(Error::InconsistentParameters {
                indicator: "MACD",
                message: "fast period must be shorter than slow period",
            });
        }
        Ok(Self {
            fast_period: fast,
            slow_period: slow,
            seen: 0,
            fast: Ema::unchecked(fast),
            slow: Ema::unchecked(slow),
            signal: Ema::unchecked(signal),
        })
    }
}

impl Indicator for Macd {
    type Input = f64;
    type Output = MacdOutput;

    fn update(&mut self, x: f64) -> Option<MacdOutput> {
        let skip = self.slow_period.saturating_sub(self.fast_period);
        let fast = if self.seen >= skip {
            self.fast.update(x)
        } else {
            None
        };
        self.seen = self.seen.saturating_add(1);
        let slow = self.slow.update(x)?;
        let macd = fast? - slow;
        let signal = self.signal.update(macd)?;
        Some(MacdOutput {
            macd,
            signal,
            hist: macd - signal,
        })
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
    }

    fn is_ready(&self) -> bool {
        self.signal.is_ready()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_ema_is_seeded_where_talib_seeds_it() {
        // With fast 2 / slow 4 the fast EMA starts at input 2: its seed is mean(x2, x3).
        let xs = [10.0, 0.0, 4.0, 6.0, 6.0];
        let mut m = Macd::new(2, 4, 1).unwrap();
        let out: Vec<_> = xs.iter().filter_map(|&x| m.update(x)).collect();
        let slow_seed = 20.0 / 4.0;
        assert_eq!(out[0].macd, 5.0 - slow_seed);
        assert_eq!(out[0].hist, 0.0);
    }

    #[test]
    fn rejects_fast_not_below_slow() {
        assert!(Macd::new(26, 26, 9).is_err());
    }
}
