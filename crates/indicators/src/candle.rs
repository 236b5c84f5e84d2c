//! [`Candle`]: the `f64` OHLCV input of multi-input indicators.

use serde::{Deserialize, Serialize};
use tradepulse_model::Bar;

/// One OHLCV bar as `f64`, the input of indicators that need more than a close
/// (ATR, STOCH, ADX, MFI, OBV, VWAP, VPIN …).
///
/// No invariant is enforced: indicators accept any values and document what a NaN, a zero
/// volume or `high < low` does to them. `ts` (Unix nanoseconds) is read only by indicators
/// that care about time (session VWAP); use 0 when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Candle {
    /// Open time, Unix nanoseconds.
    pub ts: i64,
    /// First price.
    pub open: f64,
    /// Highest price.
    pub high: f64,
    /// Lowest price.
    pub low: f64,
    /// Last price.
    pub close: f64,
    /// Traded volume.
    pub volume: f64,
}

impl Candle {
    /// A candle with `ts = 0`.
    #[must_use]
    pub const fn new(open: f64, high: f64, low: f64, close: f64, volume: f64) -> Self {
        Self {
            ts: 0,
            open,
            high,
            low,
            close,
            volume,
        }
    }

    /// The same candle stamped at `ts` (Unix nanoseconds).
    #[must_use]
    pub const fn with_ts(self, ts: i64) -> Self {
        Self { ts, ..self }
    }

    /// `(high + low + close) / 3`, in TA-Lib's operation order.
    #[must_use]
    pub fn typical_price(&self) -> f64 {
        (self.high + self.low + self.close) / 3.0
    }
}

impl From<&Bar> for Candle {
    fn from(bar: &Bar) -> Self {
        Self {
            ts: bar.ts.as_nanos(),
            open: bar.open.as_f64(),
            high: bar.high.as_f64(),
            low: bar.low.as_f64(),
            close: bar.close.as_f64(),
            volume: bar.volume,
        }
    }
}

impl From<Bar> for Candle {
    fn from(bar: Bar) -> Self {
        Self::from(&bar)
    }
}
