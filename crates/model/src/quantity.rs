//! [`Quantity`]: an exact order, fill or position size.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fixed::{self, FIXED_SCALE, ParseDecimalError};

/// An exact quantity: a signed integer mantissa at the fixed scale 1e-9.
///
/// Order and fill quantities are positive (enforced where orders are built); a position's net
/// quantity is signed (negative = short).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity {
    raw: i64,
}

impl Quantity {
    /// Zero.
    pub const ZERO: Self = Self { raw: 0 };

    /// Builds a quantity from its raw mantissa (units of 1e-9).
    #[must_use]
    pub const fn from_raw(raw: i64) -> Self {
        Self { raw }
    }

    /// The raw mantissa (units of 1e-9).
    #[must_use]
    pub const fn raw(self) -> i64 {
        self.raw
    }

    /// A whole number of units.
    #[must_use]
    pub const fn from_units(units: i32) -> Self {
        Self {
            raw: units as i64 * FIXED_SCALE,
        }
    }

    /// Converts a finite float through its shortest decimal text.
    ///
    /// # Errors
    /// If `value` is not finite, out of range or needs more than nine decimals.
    pub fn try_from_f64(value: f64) -> Result<Self, ParseDecimalError> {
        let raw = fixed::fixed_from_f64(value)?;
        i64::try_from(raw)
            .map(Self::from_raw)
            .map_err(|_| ParseDecimalError::OutOfRange {
                text: value.to_string(),
            })
    }

    /// The value as `f64`, for analytics.
    #[must_use]
    pub fn as_f64(self) -> f64 {
        self.raw as f64 / FIXED_SCALE as f64
    }

    /// True if zero.
    #[must_use]
    pub const fn is_zero(self) -> bool {
        self.raw == 0
    }

    /// True if strictly positive.
    #[must_use]
    pub const fn is_positive(self) -> bool {
        self.raw > 0
    }

    /// True if strictly negative.
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.raw < 0
    }

    /// The absolute value.
    #[must_use]
    pub const fn abs(self) -> Self {
        Self {
            raw: self.raw.saturating_abs(),
        }
    }

    /// `self + rhs`, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, rhs: Self) -> Option<Self> {
        self.raw.checked_add(rhs.raw).map(Self::from_raw)
    }

    /// `self - rhs`, or `None` on overflow.
    #[must_use]
    pub fn checked_sub(self, rhs: Self) -> Option<Self> {
        self.raw.checked_sub(rhs.raw).map(Self::from_raw)
    }

    /// The negation.
    #[must_use]
    pub const fn neg(self) -> Self {
        Self {
            raw: self.raw.saturating_neg(),
        }
    }

    /// Rounds toward zero to a multiple of `increment` (a lot size); `increment` must be positive.
    #[must_use]
    pub fn trunc_to(self, increment: Self) -> Self {
        if increment.raw <= 0 {
            return self;
        }
        Self::from_raw(self.raw / increment.raw * increment.raw)
    }

    /// True if `self` is a whole multiple of `increment`.
    #[must_use]
    pub fn is_multiple_of(self, increment: Self) -> bool {
        increment.raw <= 0 || self.raw % increment.raw == 0
    }
}

impl FromStr for Quantity {
    type Err = ParseDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw = fixed::parse_fixed(s.trim())?;
        i64::try_from(raw)
            .map(Self::from_raw)
            .map_err(|_| ParseDecimalError::OutOfRange { text: s.to_owned() })
    }
}

impl fmt::Display for Quantity {
    /// Shortest exact decimal form (`"1"`, `"0.5"`); `{:.3}` forces three decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => fixed::fmt_fixed_exact(i128::from(self.raw), p.min(9) as u8, f),
            None => fixed::fmt_fixed(i128::from(self.raw), 0, f),
        }
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = fixed::DecimalInput::deserialize(deserializer)?;
        value.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_display_and_lots() {
        let q: Quantity = "12.345".parse().unwrap();
        assert_eq!(q.to_string(), "12.345");
        assert_eq!(Quantity::from_units(3).to_string(), "3");
        let lot: Quantity = "0.01".parse().unwrap();
        assert_eq!(q.trunc_to(lot).to_string(), "12.34");
        assert_eq!(q.neg().trunc_to(lot).to_string(), "-12.34");
        assert!(!q.is_multiple_of(lot));
        assert!(Quantity::from_units(2).is_multiple_of(lot));
    }
}
