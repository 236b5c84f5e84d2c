//! [`RollingVwap`]: volume-weighted average price over the last `period` bars.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Candle, Error, Indicator, error::check_period};

/// `Σ tp·v / Σ v` over the last `period` bars, `tp = (h + l + c)/3`.
///
/// When the window traded no volume (`Σ v = 0`) there is no volume-weighted price; the output
/// is then the plain mean of the typical prices, so a quiet market still has a level.
/// Negative volumes are used as given (they are a data error upstream). Warm-up: `period − 1`.
/// O(1) per update (running sums).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollingVwap {
    period: usize,
    window: Ring<(f64, f64)>,
    pv: f64,
    vol: f64,
    tp_sum: f64,
}

impl RollingVwap {
    /// A rolling VWAP over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 1`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("VWAP", "period", period, 1)?;
        Ok(Self {
            period,
            window: Ring::new(period),
            pv: 0.0,
            vol: 0.0,
            tp_sum: 0.0,
        })
    }
}

impl Indicator for RollingVwap {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let tp = c.typical_price();
        if let Some((old_tp, old_v)) = self.window.push_back((tp, c.volume)) {
            self.pv -= old_tp * old_v;
            self.vol -= old_v;
            self.tp_sum -= old_tp;
        }
        self.pv += tp * c.volume;
        self.vol += c.volume;
        self.tp_sum += tp;
        if !self.window.is_full() {
            return None;
        }
        Some(if self.vol != 0.0 {
            self.pv / self.vol
        } else {
            self.tp_sum / self.period as f64
        })
    }

    fn reset(&mut self) {
        self.window.clear();
        self.pv = 0.0;
        self.vol = 0.0;
        self.tp_sum = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.window.is_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_typical_prices_by_volume_over_the_window() {
        let bar = |p: f64, v: f64| Candle::new(p, p, p, p, v);
        let s =
            RollingVwap::new(2)
                .unwrap()
                .batch(&[bar(10.0, 1.0), bar(20.0, 3.0), bar(30.0, 1.0)]);
        // (10·1 + 20·3)/4 and (20·3 + 30·1)/4.
        assert_eq!((s.start, s.values), (1, vec![17.5, 22.5]));
    }
}
