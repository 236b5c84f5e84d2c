//! [`Keltner`]: Keltner channel.

use serde::{Deserialize, Serialize};

use super::{Atr, BandsOutput, Ema};
use crate::{Candle, Error, Indicator, error::check_period, error::check_range};

/// Middle `EMA(close, period)`, bands `middle ± multiplier·ATR(atr_period)` (the modern
/// Keltner definition). Warm-up: `max(period − 1, atr_period)`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Keltner {
    ema: Ema,
    atr: Atr,
    multiplier: f64,
    ready: bool,
}

impl Keltner {
    /// A Keltner channel.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2` or `atr_period < 1`;
    /// [`Error::ParameterOutOfRange`] if `multiplier` is not finite.
    pub fn new(period: usize, multiplier: f64, atr_period: usize) -> Result<Self, Error> {
        check_period("KELTNER", "period", period, 2)?;
        check_range(
            "KELTNER",
            "multiplier",
            multiplier,
            -1e300,
            1e300,
            "finite numbers",
        )?;
        Ok(Self {
            ema: Ema::unchecked(period),
            atr: Atr::new(atr_period)?,
            multiplier,
            ready: false,
        })
    }
}

impl Indicator for Keltner {
    type Input = Candle;
    type Output = BandsOutput;

    fn update(&mut self, c: Candle) -> Option<BandsOutput> {
        let middle = self.ema.update(c.close);
        self.atr.update(c);
        let middle = middle?;
        let atr = self.atr.value()?;
        self.ready = true;
        let band = self.multiplier * atr;
        Some(BandsOutput {
            upper: middle + band,
            middle,
            lower: middle - band,
        })
    }

    fn reset(&mut self) {
        self.ema.reset();
        self.atr.reset();
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_both_the_ema_and_the_atr() {
        let bars: Vec<Candle> = (0..6)
            .map(|i| {
                let p = 10.0 + f64::from(i);
                Candle::new(p, p + 1.0, p - 1.0, p, 1.0)
            })
            .collect();
        let s = Keltner::new(2, 1.0, 3).unwrap().batch(&bars);
        assert_eq!(s.start, 3);
        let first = s.values[0];
        assert!((first.upper - first.middle - 2.0).abs() < 1e-12);
    }
}
