//! [`Natr`]: normalised average true range.

use serde::{Deserialize, Serialize};

use super::Atr;
use crate::{Candle, Error, Indicator};

/// `100·ATR/close`, TA-Lib `NATR`; 0 when the close is within 1e-8 of zero.
/// Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Natr {
    atr: Atr,
}

impl Natr {
    /// A NATR over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 1`.
    pub fn new(period: usize) -> Result<Self, Error> {
        Atr::new(period).map(|atr| Self { atr })
    }
}

impl Indicator for Natr {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let atr = self.atr.update(c)?;
        let close = c.close;
        Some(if -0.000_000_01 < close && close < 0.000_000_01 {
            0.0
        } else {
            (atr / close) * 100.0
        })
    }

    fn reset(&mut self) {
        self.atr.reset();
    }

    fn is_ready(&self) -> bool {
        self.atr.is_ready()
    }
}
