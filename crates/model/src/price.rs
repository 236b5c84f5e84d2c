//! [`Price`]: an exact price.
//!
//! | operation | result |
//! |---|---|
//! | `Price ± Price` | `Option<Price>` (checked) |
//! | `Price × Quantity` | [`Money`] (the notional, see [`Price::notional`]) |
//! | `Money ÷ Quantity` | `Option<Price>` (the average, see [`Price::average`]) |
//! | `Price` → `f64` | for indicators and analytics only |

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::fixed::{self, FIXED_SCALE, ParseDecimalError};
use crate::{Bps, Money, Quantity};

/// An exact price: a signed integer mantissa at the fixed scale 1e-9 (see [`crate::fixed`]).
///
/// Prices may be negative (spreads, some futures), so no sign is enforced here; the data loader
/// and instrument rules reject non-positive bar prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Price {
    raw: i64,
}

impl Price {
    /// Zero.
    pub const ZERO: Self = Self { raw: 0 };

    /// Builds a price from its raw mantissa (units of 1e-9).
    #[must_use]
    pub const fn from_raw(raw: i64) -> Self {
        Self { raw }
    }

    /// The raw mantissa (units of 1e-9).
    #[must_use]
    pub const fn raw(self) -> i64 {
        self.raw
    }

    /// Converts a finite float through its shortest decimal text (`100.25` → exactly `100.25`).
    ///
    /// # Errors
    /// If `value` is not finite, out of range or needs more than nine decimals.
    pub fn try_from_f64(value: f64) -> Result<Self, ParseDecimalError> {
        let raw = fixed::fixed_from_f64(value)?;
        Self::from_wide(raw, || value.to_string())
    }

    fn from_wide(raw: i128, text: impl FnOnce() -> String) -> Result<Self, ParseDecimalError> {
        i64::try_from(raw)
            .map(Self::from_raw)
            .map_err(|_| ParseDecimalError::OutOfRange { text: text() })
    }

    /// The value as `f64`, for analytics. Exact for up to 15–16 significant digits.
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

    /// True if the price is strictly positive.
    #[must_use]
    pub const fn is_positive(self) -> bool {
        self.raw > 0
    }

    /// The exact notional `self × quantity` (rounded half-even at 1e-9 only when the two operands
    /// together carry more than nine decimals).
    #[must_use]
    pub fn notional(self, quantity: Quantity) -> Money {
        Money::from_raw(fixed::mul_fixed(self.raw, quantity.raw()))
    }

    /// The volume-weighted average price of `notional` over `quantity` (Σ price × quantity ÷
    /// Σ quantity), rounded half-even at 1e-9; `None` for a zero or negative quantity or an
    /// average beyond the price range.
    #[must_use]
    pub fn average(notional: Money, quantity: Quantity) -> Option<Self> {
        if quantity.raw() <= 0 {
            return None;
        }
        let scaled = notional.raw().checked_mul(i128::from(FIXED_SCALE))?;
        let raw = fixed::div_round_half_even(scaled, i128::from(quantity.raw()));
        i64::try_from(raw).ok().map(Self::from_raw)
    }

    /// Moves the price by `bps` basis points (1 bp = 0.01 %), adverse to a buyer when
    /// `bps > 0`: `self × (1 + bps/10 000)`, rounded half-even at 1e-9.
    #[must_use]
    pub fn shifted_bps(self, bps: Bps) -> Self {
        // Whole basis points (every fee and slippage schedule in practice): the product fits 64
        // bits and the division is by a constant.
        if bps.raw() % FIXED_SCALE == 0
            && let Some(n) = self.raw.checked_mul(bps.raw() / FIXED_SCALE)
        {
            let delta = fixed::div_round_half_even(i128::from(n), 10_000);
            return Self::from_raw(
                self.raw
                    .saturating_add(i64::try_from(delta).unwrap_or(i64::MAX)),
            );
        }
        let numerator = i128::from(self.raw) * i128::from(bps.raw());
        let delta = fixed::div_round_half_even(numerator, i128::from(FIXED_SCALE) * 10_000);
        Self::from_raw(
            self.raw
                .saturating_add(i64::try_from(delta).unwrap_or(i64::MAX)),
        )
    }

    /// Rounds to a multiple of `increment` (half-even); `increment` must be positive.
    #[must_use]
    pub fn round_to(self, increment: Self) -> Self {
        if increment.raw <= 0 {
            return self;
        }
        let steps = fixed::div_round_half_even(i128::from(self.raw), i128::from(increment.raw));
        Self::from_raw((steps * i128::from(increment.raw)) as i64)
    }

    /// Rounds up (toward +∞) to a multiple of `increment`; `increment` must be positive.
    #[must_use]
    pub fn ceil_to(self, increment: Self) -> Self {
        if increment.raw <= 0 {
            return self;
        }
        let steps =
            self.raw.div_euclid(increment.raw) + i64::from(self.raw.rem_euclid(increment.raw) != 0);
        Self::from_raw(steps * increment.raw)
    }

    /// Rounds down (toward −∞) to a multiple of `increment`; `increment` must be positive.
    #[must_use]
    pub fn floor_to(self, increment: Self) -> Self {
        if increment.raw <= 0 {
            return self;
        }
        Self::from_raw(self.raw.div_euclid(increment.raw) * increment.raw)
    }
}

impl FromStr for Price {
    type Err = ParseDecimalError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let raw = fixed::parse_fixed(s.trim())?;
        Self::from_wide(raw, || s.to_owned())
    }
}

impl fmt::Display for Price {
    /// Shortest exact decimal form; `{:.2}` forces two decimals (rounded half-even).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match f.precision() {
            Some(p) => fixed::fmt_fixed_exact(i128::from(self.raw), p.min(9) as u8, f),
            None => fixed::fmt_fixed(i128::from(self.raw), 1, f),
        }
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = crate::fixed::DecimalInput::deserialize(deserializer)?;
        value.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_is_the_volume_weighted_price_rounded_half_even() {
        let q = |s: &str| -> Quantity { s.parse().unwrap() };
        let notional = "100"
            .parse::<Price>()
            .unwrap()
            .notional(q("2"))
            .checked_add("101".parse::<Price>().unwrap().notional(q("1")))
            .unwrap();
        assert_eq!(
            Price::average(notional, q("3")).unwrap().to_string(),
            "100.333333333"
        );
        // 2 / 3 = 0.6666666666…: rounds up at the ninth decimal.
        assert_eq!(
            Price::average("2".parse().unwrap(), q("3")).unwrap().raw(),
            666_666_667
        );
        assert_eq!(Price::average(notional, Quantity::ZERO), None);
        assert_eq!(Price::average(Money::from_raw(i128::MAX), q("1")), None);
    }

    #[test]
    fn parse_and_display_round_trip() {
        let p: Price = "101.25".parse().unwrap();
        assert_eq!(p.raw(), 101_250_000_000);
        assert_eq!(p.to_string(), "101.25");
        assert_eq!(format!("{p:.4}"), "101.2500");
        assert_eq!(format!("{:.1}", Price::from_raw(101_250_000_000)), "101.2");
        assert_eq!(Price::from_raw(100_000_000_000).to_string(), "100.0");
    }

    #[test]
    fn notional_is_exact() {
        let p: Price = "0.1".parse().unwrap();
        let q: Quantity = "3".parse().unwrap();
        assert_eq!(p.notional(q).to_string(), "0.30");
    }

    #[test]
    fn bps_shift_and_tick_rounding() {
        let p: Price = "100".parse().unwrap();
        let up = p.shifted_bps("10".parse().unwrap());
        assert_eq!(up.to_string(), "100.1");
        let down = p.shifted_bps("-10".parse().unwrap());
        assert_eq!(down.to_string(), "99.9");
        let tick: Price = "0.25".parse().unwrap();
        let x: Price = "100.13".parse().unwrap();
        assert_eq!(x.round_to(tick).to_string(), "100.25");
        assert_eq!(x.floor_to(tick).to_string(), "100.0");
        assert_eq!(x.ceil_to(tick).to_string(), "100.25");
    }

    #[test]
    fn float_conversion_uses_shortest_text() {
        assert_eq!(
            Price::try_from_f64(1229.22998).unwrap().raw(),
            1_229_229_980_000
        );
        assert!(Price::try_from_f64(f64::INFINITY).is_err());
    }

    #[test]
    fn serde_accepts_strings_and_numbers() {
        let a: Price = serde_json::from_str("\"1.5\"").unwrap();
        let b: Price = serde_json::from_str("1.5").unwrap();
        assert_eq!(a, b);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"1.5\"");
    }
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn prop_price_text_round_trip(raw in any::<i64>()) {
            let p = Price::from_raw(raw);
            let back: Price = p.to_string().parse().unwrap();
            prop_assert_eq!(back, p);
        }

        #[test]
        fn prop_price_addition_is_associative(a in -1_000_000_000_000i64..1_000_000_000_000,
                                              b in -1_000_000_000_000i64..1_000_000_000_000,
                                              c in -1_000_000_000_000i64..1_000_000_000_000) {
            let (a, b, c) = (Price::from_raw(a), Price::from_raw(b), Price::from_raw(c));
            let left = a.checked_add(b).and_then(|x| x.checked_add(c));
            let right = b.checked_add(c).and_then(|x| a.checked_add(x));
            prop_assert_eq!(left, right);
        }

        #[test]
        fn prop_notional_is_exact_for_coarse_operands(p_cents in 1i64..10_000_000, q_milli in 1i64..10_000_000) {
            // Two decimals × three decimals = five decimals: always exact at 1e-9.
            let p = Price::from_raw(p_cents * 10_000_000);
            let q = Quantity::from_raw(q_milli * 1_000_000);
            let n = p.notional(q);
            prop_assert_eq!(n.raw(), i128::from(p_cents) * i128::from(q_milli) * 10_000);
        }
    }
}
