//! [`Mfi`]: money flow index.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Candle, Error, Indicator, error::check_period};

/// TA-Lib `MFI`: money flow `tp·volume` counted as positive or negative by the sign of the
/// typical-price change, `MFI = 100·pos/(pos + neg)` over `period` bars; 0 when `pos + neg`
/// is below 1 (TA-Lib's convention, which also covers zero-volume windows).
/// Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mfi {
    period: usize,
    prev_tp: Option<f64>,
    flows: Ring<(f64, f64)>,
    pos: f64,
    neg: f64,
}

impl Mfi {
    /// An MFI over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("MFI", "period", period, 2)?;
        Ok(Self {
            period,
            prev_tp: None,
            flows: Ring::new(period),
            pos: 0.0,
            neg: 0.0,
        })
    }
}

impl Indicator for Mfi {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let tp = c.typical_price();
        let prev = self.prev_tp.replace(tp)?;
        if self.flows.is_full() {
            let (p, n) = self.flows.front().unwrap_or((0.0, 0.0));
            self.pos -= p;
            self.neg -= n;
        }
        let change = tp - prev;
        let flow = tp * c.volume;
        let entry = if change < 0.0 {
            self.neg += flow;
            (0.0, flow)
        } else if change > 0.0 {
            self.pos += flow;
            (flow, 0.0)
        } else {
            (0.0, 0.0)
        };
        self.flows.push_back(entry);
        if !self.flows.is_full() {
            return None;
        }
        let total = self.pos + self.neg;
        Some(if total < 1.0 {
            0.0
        } else {
            100.0 * (self.pos / total)
        })
    }

    fn reset(&mut self) {
        self.prev_tp = None;
        self.flows.clear();
        self.pos = 0.0;
        self.neg = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.flows.is_full()
    }
}
