//! [`TrueRange`]: Wilder's true range.

use serde::{Deserialize, Serialize};

use crate::{Candle, Indicator};

/// `max(high − low, |high − prev close|, |low − prev close|)`, TA-Lib `TRANGE`.
/// Warm-up: 1 bar (the first bar has no previous close). O(1) per update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrueRange {
    prev_close: Option<f64>,
}

impl TrueRange {
    /// A true-range indicator.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// True range of `c` given the previous close, in TA-Lib's comparison order.
#[inline]
pub(crate) fn true_range(c: &Candle, prev_close: f64) -> f64 {
    true_range_hlc(c.high, c.low, prev_close)
}

/// [`true_range`] from loose values. The comparisons are selects (compiled to `maxsd`), not
/// branches: which of the three wins is unpredictable bar to bar. `a > b ? a : b` keeps the
/// earlier value when a comparison involves NaN, exactly like TA-Lib's `if`s.
#[inline]
pub(crate) fn true_range_hlc(high: f64, low: f64, prev_close: f64) -> f64 {
    let range = high - low;
    let up = (prev_close - high).abs();
    let out = if up > range { up } else { range };
    let down = (low - prev_close).abs();
    if down > out { down } else { out }
}

impl Indicator for TrueRange {
    type Input = Candle;
    type Output = f64;

    #[inline]
    fn update(&mut self, c: Candle) -> Option<f64> {
        let out = self.prev_close.map(|pc| true_range(&c, pc));
        self.prev_close = Some(c.close);
        out
    }

    fn reset(&mut self) {
        self.prev_close = None;
    }

    fn is_ready(&self) -> bool {
        self.prev_close.is_some()
    }
}
