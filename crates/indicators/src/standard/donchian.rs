//! [`Donchian`]: Donchian channel.

use serde::{Deserialize, Serialize};

use super::BandsOutput;
use crate::window::{Extremum, Side};
use crate::{Candle, Error, Indicator, error::check_period};

/// Highest high and lowest low of the last `period` bars (current bar included), middle
/// `(upper + lower)/2`. Warm-up: `period − 1`. Amortised O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Donchian {
    period: usize,
    seen: usize,
    highest: Extremum,
    lowest: Extremum,
}

impl Donchian {
    /// A Donchian channel over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 1`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("DONCHIAN", "period", period, 1)?;
        Ok(Self {
            period,
            seen: 0,
            highest: Extremum::new(Side::Max, period),
            lowest: Extremum::new(Side::Min, period),
        })
    }
}

impl Indicator for Donchian {
    type Input = Candle;
    type Output = BandsOutput;

    fn update(&mut self, c: Candle) -> Option<BandsOutput> {
        let upper = self.highest.push(c.high);
        let lower = self.lowest.push(c.low);
        self.seen = self.seen.saturating_add(1);
        (self.seen >= self.period).then(|| BandsOutput {
            upper,
            middle: (upper + lower) / 2.0,
            lower,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_highest_high_and_lowest_low() {
        let bars: Vec<Candle> = [(5.0, 1.0), (7.0, 2.0), (6.0, 0.5), (4.0, 3.0)]
            .iter()
            .map(|&(h, l)| Candle::new(l, h, l, l, 1.0))
            .collect();
        let s = Donchian::new(2).unwrap().batch(&bars);
        let uppers: Vec<f64> = s.values.iter().map(|b| b.upper).collect();
        let lowers: Vec<f64> = s.values.iter().map(|b| b.lower).collect();
        assert_eq!((uppers, lowers), (vec![7.0, 7.0, 6.0], vec![1.0, 0.5, 0.5]));
    }
}
