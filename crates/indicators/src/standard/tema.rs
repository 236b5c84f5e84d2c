//! [`Tema`]: triple exponential moving average.

use serde::{Deserialize, Serialize};

use super::Ema;
use crate::{Error, Indicator, error::check_period};

/// `3·EMA1 − 3·EMA2 + EMA3` (each EMA of the previous), TA-Lib `TEMA`.
/// Warm-up: `3·(period − 1)`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tema {
    first: Ema,
    second: Ema,
    third: Ema,
    ready: bool,
}

impl Tema {
    /// A TEMA over `period`.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("TEMA", "period", period, 2)?;
        Ok(Self {
            first: Ema::unchecked(period),
            second: Ema::unchecked(period),
            third: Ema::unchecked(period),
            ready: false,
        })
    }
}

impl Indicator for Tema {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let e1 = self.first.update(x)?;
        let e2 = self.second.update(e1)?;
        let e3 = self.third.update(e2)?;
        self.ready = true;
        Some((3.0 * e1) - (3.0 * e2) + e3)
    }

    fn reset(&mut self) {
        self.first.reset();
        self.second.reset();
        self.third.reset();
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}
