//! [`Bar`]: one OHLCV interval.

use crate::{Price, UnixNanos};

/// One OHLCV bar, stamped with the **open** time of its interval.
///
/// Prices are exact; volume is `f64` because it is an analytic quantity from the data vendor
/// (index volumes exceed the exact-quantity range and crypto volumes carry arbitrary decimals),
/// never a position or a balance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bar {
    /// Open time of the interval.
    pub ts: UnixNanos,
    /// First price.
    pub open: Price,
    /// Highest price.
    pub high: Price,
    /// Lowest price.
    pub low: Price,
    /// Last price.
    pub close: Price,
    /// Traded volume.
    pub volume: f64,
}

/// Which OHLC rule a bar breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BarError {
    /// A price is zero or negative.
    #[error("{field} must be positive, got {value}")]
    NonPositive {
        /// Which column.
        field: &'static str,
        /// The value.
        value: Price,
    },
    /// `high < low`.
    #[error("high {high} is below low {low}")]
    HighBelowLow {
        /// High.
        high: Price,
        /// Low.
        low: Price,
    },
    /// Open or close outside `[low, high]`.
    #[error("{field} {value} is outside [low {low}, high {high}]")]
    OutsideRange {
        /// Which column.
        field: &'static str,
        /// Its value.
        value: Price,
        /// Low.
        low: Price,
        /// High.
        high: Price,
    },
    /// Volume is negative, NaN or infinite.
    #[error("volume must be a finite number >= 0")]
    Volume,
}

impl Bar {
    /// Checks the OHLC invariants: positive prices, `low <= open, close <= high`, finite
    /// non-negative volume.
    ///
    /// # Errors
    /// The first rule the bar breaks.
    pub fn validate(&self) -> Result<(), BarError> {
        for (field, value) in [
            ("open", self.open),
            ("high", self.high),
            ("low", self.low),
            ("close", self.close),
        ] {
            if !value.is_positive() {
                return Err(BarError::NonPositive { field, value });
            }
        }
        if self.high < self.low {
            return Err(BarError::HighBelowLow {
                high: self.high,
                low: self.low,
            });
        }
        for (field, value) in [("open", self.open), ("close", self.close)] {
            if value < self.low || value > self.high {
                return Err(BarError::OutsideRange {
                    field,
                    value,
                    low: self.low,
                    high: self.high,
                });
            }
        }
        if !(self.volume.is_finite() && self.volume >= 0.0) {
            return Err(BarError::Volume);
        }
        Ok(())
    }
}
