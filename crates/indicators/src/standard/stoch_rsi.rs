//! [`StochRsi`]: stochastic of the RSI.

use serde::{Deserialize, Serialize};

use super::stochastic::fast_k;
use super::{Rsi, Sma, StochOutput};
use crate::window::{Extremum, Side};
use crate::{Error, Indicator, error::check_period};

/// TA-Lib `STOCHRSI(period, fastk, fastd, SMA)`: fast %K of RSI(`period`) over `fastk` RSI
/// values, %D = SMA(%K, `fastd`). Outputs fast %K and fast %D.
/// Warm-up: `period + fastk − 1 + fastd − 1`. Amortised O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StochRsi {
    rsi: Rsi,
    highest: Extremum,
    lowest: Extremum,
    seen: usize,
    fastk_period: usize,
    fast_d: Sma,
}

impl StochRsi {
    /// A stochastic RSI.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2` or `fastk`/`fastd` below 1.
    pub fn new(period: usize, fastk: usize, fastd: usize) -> Result<Self, Error> {
        check_period("STOCHRSI", "fastk", fastk, 1)?;
        check_period("STOCHRSI", "fastd", fastd, 1)?;
        Ok(Self {
            rsi: Rsi::new(period)?,
            highest: Extremum::new(Side::Max, fastk),
            lowest: Extremum::new(Side::Min, fastk),
            seen: 0,
            fastk_period: fastk,
            fast_d: Sma::unchecked(fastd),
        })
    }
}

impl Indicator for StochRsi {
    type Input = f64;
    type Output = StochOutput;

    fn update(&mut self, x: f64) -> Option<StochOutput> {
        let r = self.rsi.update(x)?;
        let hh = self.highest.push(r);
        let ll = self.lowest.push(r);
        self.seen = self.seen.saturating_add(1);
        if self.seen < self.fastk_period {
            return None;
        }
        let k = fast_k(r, hh, ll);
        let d = self.fast_d.update(k)?;
        Some(StochOutput { k, d })
    }

    fn reset(&mut self) {
        self.rsi.reset();
        self.highest.reset();
        self.lowest.reset();
        self.seen = 0;
        self.fast_d.reset();
    }

    fn is_ready(&self) -> bool {
        self.fast_d.is_ready()
    }
}
