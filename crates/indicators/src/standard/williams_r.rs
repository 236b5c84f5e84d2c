//! [`WilliamsR`]: Williams' %R.

use serde::{Deserialize, Serialize};

use crate::window::{Extremum, Side};
use crate::{Candle, Error, Indicator, error::check_period};

/// TA-Lib `WILLR`: `(highest − close)/(highest − lowest)·(−100)` over `period` bars, in
/// `[−100, 0]`; 0 when the range is exactly zero. Warm-up: `period − 1`. Amortised O(1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WilliamsR {
    period: usize,
    seen: usize,
    highest: Extremum,
    lowest: Extremum,
}

impl WilliamsR {
    /// A %R over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("WILLR", "period", period, 2)?;
        Ok(Self {
            period,
            seen: 0,
            highest: Extremum::new(Side::Max, period),
            lowest: Extremum::new(Side::Min, period),
        })
    }
}

impl Indicator for WilliamsR {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let hh = self.highest.push(c.high);
        let ll = self.lowest.push(c.low);
        self.seen = self.seen.saturating_add(1);
        if self.seen < self.period {
            return None;
        }
        let diff = hh - ll;
        Some(if diff != 0.0 {
            (hh - c.close) / diff * -100.0
        } else {
            0.0
        })
    }

    fn reset(&mut self) {
        self.seen = 0;
        self.highest.reset();
        self.lowest.reset();
    }

    fn is_ready(&self) -> bool {
        self.seen >= self.period
    }
}
