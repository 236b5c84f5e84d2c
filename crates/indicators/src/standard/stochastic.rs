//! [`Stochastic`]: slow stochastic oscillator.

use serde::{Deserialize, Serialize};

use super::Sma;
use crate::window::{Extremum, Side};
use crate::{Candle, Error, Indicator, error::check_period};

/// %K and %D of a stochastic oscillator.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StochOutput {
    /// %K (slow %K for [`Stochastic`], fast %K for [`StochRsi`](crate::StochRsi)).
    pub k: f64,
    /// %D, the SMA of `k`.
    pub d: f64,
}

/// Fast %K: `(x − lowest)/(highest − lowest)·100`, in TA-Lib 0.8's operation order.
///
/// A window whose range is at most `1e-14·(|highest| + |lowest|)` counts as flat and gives 0:
/// that is TA-Lib 0.8's (measured) convention, and it matters for STOCHRSI, whose RSI inputs in
/// a flat market differ only by rounding.
#[inline]
pub(crate) fn fast_k(x: f64, highest: f64, lowest: f64) -> f64 {
    let diff = highest - lowest;
    if diff > 1e-14 * (highest.abs() + lowest.abs()) {
        (x - lowest) / diff * 100.0
    } else {
        0.0
    }
}

/// Slow stochastic, TA-Lib `STOCH(fastk, slowk, SMA, slowd, SMA)`: fast %K over
/// `fastk` bars of high/low, slow %K = SMA(fast %K, `slowk`), slow %D = SMA(slow %K, `slowd`).
/// Warm-up: `fastk − 1 + slowk − 1 + slowd − 1`. Amortised O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stochastic {
    highest: Extremum,
    lowest: Extremum,
    seen: usize,
    fastk_period: usize,
    slow_k: Sma,
    slow_d: Sma,
}

impl Stochastic {
    /// A slow stochastic.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if a period is below 1.
    pub fn new(fastk: usize, slowk: usize, slowd: usize) -> Result<Self, Error> {
        check_period("STOCH", "fastk", fastk, 1)?;
        check_period("STOCH", "slowk", slowk, 1)?;
        check_period("STOCH", "slowd", slowd, 1)?;
        Ok(Self {
            highest: Extremum::new(Side::Max, fastk),
            lowest: Extremum::new(Side::Min, fastk),
            seen: 0,
            fastk_period: fastk,
            slow_k: Sma::unchecked(slowk),
            slow_d: Sma::unchecked(slowd),
        })
    }
}

impl Indicator for Stochastic {
    type Input = Candle;
    type Output = StochOutput;

    fn update(&mut self, c: Candle) -> Option<StochOutput> {
        let hh = self.highest.push(c.high);
        let ll = self.lowest.push(c.low);
        self.seen = self.seen.saturating_add(1);
        if self.seen < self.fastk_period {
            return None;
        }
        let k = self.slow_k.update(fast_k(c.close, hh, ll))?;
        let d = self.slow_d.update(k)?;
        Some(StochOutput { k, d })
    }

    fn reset(&mut self) {
        self.highest.reset();
        self.lowest.reset();
        self.seen = 0;
        self.slow_k.reset();
        self.slow_d.reset();
    }

    fn is_ready(&self) -> bool {
        self.slow_d.is_ready()
    }
}
