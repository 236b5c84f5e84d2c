//! [`Dema`]: double exponential moving average.

use serde::{Deserialize, Serialize};

use super::Ema;
use crate::{Error, Indicator, error::check_period};

/// `2·EMA(x) − EMA(EMA(x))`, TA-Lib `DEMA`. Warm-up: `2·(period − 1)`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dema {
    first: Ema,
    second: Ema,
    ready: bool,
}

impl Dema {
    /// A DEMA over `period`.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("DEMA", "period", period, 2)?;
        Ok(Self {
            first: Ema::unchecked(period),
            second: Ema::unchecked(period),
            ready: false,
        })
    }
}

impl Indicator for Dema {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let e1 = self.first.update(x)?;
        let e2 = self.second.update(e1)?;
        self.ready = true;
        Some((2.0 * e1) - e2)
    }

    fn reset(&mut self) {
        self.first.reset();
        self.second.reset();
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}
