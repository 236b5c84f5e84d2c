//! [`Money`], [`Bps`] and [`Ratio`]: exact cash amounts and the exact rates applied to them.
//!
//! | operation | result |
//! |---|---|
//! | `Money ± Money` | `Money` (checked) |
//! | `Money × Bps` | `Money` ([`Money::bps`], half-even at 1e-9) |
//! | `Money × Ratio` | `Money` ([`Money::scaled`]) |
//! | `Money ÷ Price` | `Quantity` ([`Money::units_at`], toward zero) |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fixed::{self, FIXED_SCALE, ParseDecimalError};
use crate::{Price, Quantity};

/// An exact amount of the quote currency: an `i128` mantissa at the fixed scale 1e-9.
///
/// 128 bits hold any sum of `Price × Quantity` products without overflow in practice
/// (±1.7e29 currency units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    raw: i128,
}

impl Money {
    /// Zero.
    pub const ZERO: Self = Self { raw: 0 };

    /// Builds an amount from its raw mantissa (units of 1e-9).
    #[must_use]
    pub const fn from_raw(raw: i128) -> Self {
        Self { raw }
    }

    /// The raw mantissa (units of 1e-9).
    #[must_use]
    pub const fn raw(self) -> i128 {
        self.raw
    }

    /// The value as `f64`, for analytics.
    #[must_use]
    pub fn as_f64(self) -> f64 {
        self.raw as f64 / FIXED_SCALE as f64
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

    /// The absolute value.
    #[must_use]
    pub const fn abs(self) -> Self {
        Self {
            raw: self.raw.saturating_abs(),
        }
    }

    /// True if strictly negative.
    #[must_use]
    pub const fn is_negative(self) -> bool {
        self.raw < 0
    }

    /// `self × bps / 10 000`, rounded half-even at 1e-9 (a fee or a cost on this notional).
    #[must_use]
    pub fn bps(self, bps: Bps) -> Self {
        if bps.raw() == 0 {
            return Self::ZERO;
        }
        // Whole basis points on an amount that fits 64 bits: one 64-bit division (the common
        // case of every fee).
        let scale = FIXED_SCALE;
        if bps.raw() % scale == 0
            && let Ok(amount) = i64::try_from(self.raw)
            && let Some(n) = amount.checked_mul(bps.raw() / scale)
        {
            return Self::from_raw(fixed::div_round_half_even(i128::from(n), 10_000));
        }
        let numerator = self.raw.saturating_mul(i128::from(bps.raw()));
        Self::from_raw(fixed::div_round_half_even(
            numerator,
            i128::from(FIXED_SCALE) * 10_000,
        ))
    }

    /// `self × ratio`, rounded half-even at 1e-9.
    #[must_use]
    pub fn scaled(self, ratio: Ratio) -> Self {
        let numerator = self.raw.saturating_mul(i128::from(ratio.raw()));
        Self::from_raw(fixed::div_round_half_even(
            numerator,
            i128::from(FIXED_SCALE),
        ))
    }

    /// How many units `self` buys at `price`, truncated toward zero at 1e-9; `None` if the price is
    /// not positive or the result does not fit a [`Quantity`].
    #[must_use]
    pub fn units_at(self, price: Price) -> Option<Quantity> {
        if !price.is_positive() {
            return None;
        }
        let units = self.raw.checked_mul(i128::from(FIXED_SCALE))? / i128::from(price.raw());
        i64::try_from(units).ok().map(Quantity::from_raw)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        Self::from_raw(iter.map(|m| m.raw).sum())
    }
}

impl FromStr for Money {
    type Err = ParseDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        fixed::parse_fixed(s.trim()).map(Self::from_raw)
    }
}

impl fmt::Display for Money {
    /// Exact decimal with at least two decimals (`"1000.50"`, `"0.123456789"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => fixed::fmt_fixed_exact(self.raw, p.min(9) as u8, f),
            None => fixed::fmt_fixed(self.raw, 2, f),
        }
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = fixed::DecimalInput::deserialize(deserializer)?;
        value.parse().map_err(serde::de::Error::custom)
    }
}

macro_rules! exact_rate {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name {
            raw: i64,
        }

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self { raw: 0 };

            /// Builds the value from its raw mantissa (units of 1e-9).
            #[must_use]
            pub const fn from_raw(raw: i64) -> Self {
                Self { raw }
            }

            /// The raw mantissa (units of 1e-9).
            #[must_use]
            pub const fn raw(self) -> i64 {
                self.raw
            }

            /// The value as `f64`, for analytics.
            #[must_use]
            pub fn as_f64(self) -> f64 {
                self.raw as f64 / FIXED_SCALE as f64
            }

            /// True if strictly negative.
            #[must_use]
            pub const fn is_negative(self) -> bool {
                self.raw < 0
            }
        }

        impl FromStr for $name {
            type Err = ParseDecimalError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let raw = fixed::parse_fixed(s.trim())?;
                i64::try_from(raw)
                    .map(Self::from_raw)
                    .map_err(|_| ParseDecimalError::OutOfRange { text: s.to_owned() })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fixed::fmt_fixed(i128::from(self.raw), 0, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = fixed::DecimalInput::deserialize(deserializer)?;
                value.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

exact_rate!(
    /// An exact number of basis points (1 bp = 0.01 %), e.g. a fee or slippage rate.
    Bps
);
exact_rate!(
    /// An exact dimensionless ratio, e.g. the fraction of equity a strategy commits.
    Ratio
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fees_are_exact_and_half_even() {
        let notional: Money = "12345.67".parse().unwrap();
        let fee = notional.bps("10".parse().unwrap());
        assert_eq!(fee.to_string(), "12.34567");
        // 0.000001 × 5 bp = 0.0000000005: a tie at the 9th decimal, rounded to even (0).
        let tiny: Money = "0.000001".parse().unwrap();
        assert_eq!(tiny.bps("5".parse().unwrap()).raw(), 0);
        let tiny: Money = "0.000003".parse().unwrap();
        assert_eq!(tiny.bps("5".parse().unwrap()).raw(), 2);
    }

    #[test]
    fn sizing_by_ratio_and_price() {
        let equity: Money = "1000000".parse().unwrap();
        let budget = equity.scaled("0.95".parse().unwrap());
        assert_eq!(budget.to_string(), "950000.00");
        let q = budget.units_at("1228.099976".parse().unwrap()).unwrap();
        assert_eq!(q.trunc_to(Quantity::from_units(1)).to_string(), "773");
        assert!(budget.units_at(Price::ZERO).is_none());
    }

    proptest::proptest! {
        #[test]
        fn prop_bps_fast_path_matches_wide(raw in -1_000_000_000_000_000_000i64..1_000_000_000_000_000_000, whole in 0i64..1000, frac in 0i64..2) {
            let bps = Bps::from_raw(whole * 1_000_000_000 + frac * 123_456_789);
            let wide = {
                let n = i128::from(raw) * i128::from(bps.raw());
                let d = 10_000_000_000_000i128;
                let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
                if r * 2 > d || (r * 2 == d && q % 2 != 0) { q + 1 } else { q }
            };
            proptest::prop_assert_eq!(Money::from_raw(i128::from(raw)).bps(bps).raw(), wide);
        }
    }

    #[test]
    fn display_keeps_two_decimals() {
        assert_eq!(Money::from_raw(1_500_000_000).to_string(), "1.50");
        assert_eq!(Money::from_raw(-1).to_string(), "-0.000000001");
        assert_eq!(format!("{:.2}", Money::from_raw(1_005_000_000)), "1.00");
    }
}
