//! The fixed-point decimal representation shared by [`Price`](crate::Price),
//! [`Quantity`](crate::Quantity) and [`Money`](crate::Money).
//!
//! Every exact value is an integer mantissa at the fixed scale `10^-9` (nine decimals). The
//! per-instrument precision (tick size, lot size) lives in [`Instrument`](crate::Instrument);
//! keeping one scale means adding two prices never needs a rescale and a `Price` stays 8 bytes.
//! Values are parsed from decimal text, never built as `f64 * scale`.

use std::fmt;

/// Decimal places of the fixed scale.
pub const FIXED_PRECISION: u8 = 9;
/// `10^FIXED_PRECISION`.
pub const FIXED_SCALE: i64 = 1_000_000_000;

/// Why a decimal string could not be read as a fixed-point value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseDecimalError {
    /// The text is empty.
    #[error("empty number")]
    Empty,
    /// The text is not a decimal number.
    #[error("'{text}' is not a decimal number")]
    Invalid {
        /// The offending text.
        text: String,
    },
    /// More decimals than the fixed scale can hold exactly.
    #[error("'{text}' has more than {FIXED_PRECISION} decimal places")]
    TooPrecise {
        /// The offending text.
        text: String,
    },
    /// The value does not fit the integer mantissa.
    #[error("'{text}' is out of range")]
    OutOfRange {
        /// The offending text.
        text: String,
    },
    /// A float that is NaN or infinite.
    #[error("{value} is not a finite number")]
    NotFinite {
        /// The offending value.
        value: f64,
    },
}

/// Parses decimal text (`"-12.5"`, `"100"`, `"1.5e-3"`, `"+.25"`) into a mantissa at scale 1e-9.
///
/// Trailing zeros beyond nine decimals are accepted (`"1.0000000000"`); any other digit beyond
/// nine decimals is an error rather than a silent rounding.
pub(crate) fn parse_fixed(text: &str) -> Result<i128, ParseDecimalError> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err(ParseDecimalError::Empty);
    }
    let invalid = || ParseDecimalError::Invalid {
        text: text.to_owned(),
    };
    let mut i = 0;
    let negative = match bytes[0] {
        b'-' => {
            i = 1;
            true
        }
        b'+' => {
            i = 1;
            false
        }
        _ => false,
    };
    // Mantissa digits without the point, and how many of them follow the point.
    let mut mantissa: i128 = 0;
    let mut frac_digits: i32 = 0;
    let mut seen_point = false;
    let mut digits = 0usize;
    let mut significant = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b @ b'0'..=b'9' => {
                digits += 1;
                if mantissa != 0 || b != b'0' {
                    significant += 1;
                }
                // 38 significant digits always fit an i128.
                if significant > 38 {
                    return Err(ParseDecimalError::OutOfRange {
                        text: text.to_owned(),
                    });
                }
                mantissa = mantissa * 10 + i128::from(b - b'0');
                if seen_point {
                    frac_digits += 1;
                }
            }
            b'.' if !seen_point => seen_point = true,
            b'e' | b'E' => break,
            _ => return Err(invalid()),
        }
        i += 1;
    }
    if digits == 0 {
        return Err(invalid());
    }
    let mut exponent: i32 = 0;
    if i < bytes.len() {
        // bytes[i] is 'e' or 'E'.
        let exp_text = &text[i + 1..];
        exponent = exp_text.parse::<i32>().map_err(|_| invalid())?;
        if !(-100..=100).contains(&exponent) {
            return Err(ParseDecimalError::OutOfRange {
                text: text.to_owned(),
            });
        }
    }
    // value = mantissa * 10^(exponent - frac_digits); we want mantissa * 10^(9 + exponent - frac_digits).
    let shift = i32::from(FIXED_PRECISION) + exponent - frac_digits;
    let mut raw = mantissa;
    if shift >= 0 {
        for _ in 0..shift {
            raw = raw
                .checked_mul(10)
                .ok_or_else(|| ParseDecimalError::OutOfRange {
                    text: text.to_owned(),
                })?;
        }
    } else {
        for _ in 0..(-shift) {
            if raw % 10 != 0 {
                return Err(ParseDecimalError::TooPrecise {
                    text: text.to_owned(),
                });
            }
            raw /= 10;
        }
    }
    Ok(if negative { -raw } else { raw })
}

/// Converts a finite `f64` through its shortest round-trip decimal text, so `0.1` becomes exactly
/// `0.1` (the text a person typed into YAML) instead of `0.1000000000000000055…`.
pub(crate) fn fixed_from_f64(value: f64) -> Result<i128, ParseDecimalError> {
    if !value.is_finite() {
        return Err(ParseDecimalError::NotFinite { value });
    }
    let text = format!("{value}");
    match parse_fixed(&text) {
        // Shortest text with more than nine decimals: round half-even at the fixed scale.
        Err(ParseDecimalError::TooPrecise { .. }) => {
            let scaled = value * FIXED_SCALE as f64;
            if scaled.abs() >= 1.6e38 {
                return Err(ParseDecimalError::OutOfRange { text });
            }
            Ok(scaled.round_ties_even() as i128)
        }
        other => other,
    }
}

/// Writes `raw / 10^9` with at least `min_decimals` and at most nine decimals, dropping
/// trailing zeros beyond `min_decimals`.
pub(crate) fn fmt_fixed(raw: i128, min_decimals: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let scale = i128::from(FIXED_SCALE);
    let sign = if raw < 0 { "-" } else { "" };
    let abs = raw.unsigned_abs();
    let int = abs / scale as u128;
    let mut frac = abs % scale as u128;
    let mut decimals = FIXED_PRECISION;
    while decimals > min_decimals && frac.is_multiple_of(10) {
        frac /= 10;
        decimals -= 1;
    }
    if decimals == 0 {
        write!(f, "{sign}{int}")
    } else {
        write!(
            f,
            "{sign}{int}.{frac:0width$}",
            width = usize::from(decimals)
        )
    }
}

/// Writes `raw / 10^9` with exactly `decimals` decimals, rounding half-even when `decimals < 9`.
pub(crate) fn fmt_fixed_exact(raw: i128, decimals: u8, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let decimals = decimals.min(FIXED_PRECISION);
    let drop = 10i128.pow(u32::from(FIXED_PRECISION - decimals));
    let rounded = div_round_half_even(raw, drop);
    let scale = 10i128.pow(u32::from(decimals));
    let sign = if rounded < 0 { "-" } else { "" };
    let abs = rounded.unsigned_abs();
    let int = abs / scale as u128;
    let frac = abs % scale as u128;
    if decimals == 0 {
        write!(f, "{sign}{int}")
    } else {
        write!(
            f,
            "{sign}{int}.{frac:0width$}",
            width = usize::from(decimals)
        )
    }
}

/// `numerator / denominator` rounded half to even. `denominator` must be positive.
pub(crate) fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let q = numerator.div_euclid(denominator);
    let r = numerator.rem_euclid(denominator);
    let twice = r * 2;
    if twice > denominator || (twice == denominator && q % 2 != 0) {
        q + 1
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_exponent_forms() {
        assert_eq!(parse_fixed("1").unwrap(), 1_000_000_000);
        assert_eq!(parse_fixed("-12.5").unwrap(), -12_500_000_000);
        assert_eq!(parse_fixed("+.25").unwrap(), 250_000_000);
        assert_eq!(parse_fixed("1229.22998").unwrap(), 1_229_229_980_000);
        assert_eq!(parse_fixed("1.5e-3").unwrap(), 1_500_000);
        assert_eq!(parse_fixed("2E2").unwrap(), 200_000_000_000);
        assert_eq!(parse_fixed("0.0000000010").unwrap(), 1);
    }

    #[test]
    fn rejects_what_it_cannot_hold_exactly() {
        assert_eq!(parse_fixed(""), Err(ParseDecimalError::Empty));
        assert!(matches!(
            parse_fixed("abc"),
            Err(ParseDecimalError::Invalid { .. })
        ));
        assert!(matches!(
            parse_fixed("1.2.3"),
            Err(ParseDecimalError::Invalid { .. })
        ));
        assert!(matches!(
            parse_fixed("-"),
            Err(ParseDecimalError::Invalid { .. })
        ));
        assert!(matches!(
            parse_fixed("NaN"),
            Err(ParseDecimalError::Invalid { .. })
        ));
        assert!(matches!(
            parse_fixed("0.0000000001"),
            Err(ParseDecimalError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_fixed("1e99"),
            Err(ParseDecimalError::OutOfRange { .. })
        ));
    }

    #[test]
    fn floats_go_through_their_shortest_text() {
        assert_eq!(fixed_from_f64(0.1).unwrap(), 100_000_000);
        assert_eq!(fixed_from_f64(1e-12).unwrap(), 0);
        assert!(fixed_from_f64(f64::NAN).is_err());
    }

    #[test]
    fn half_even_rounding() {
        assert_eq!(div_round_half_even(5, 10), 0);
        assert_eq!(div_round_half_even(15, 10), 2);
        assert_eq!(div_round_half_even(-15, 10), -2);
        assert_eq!(div_round_half_even(-16, 10), -2);
        assert_eq!(div_round_half_even(14, 10), 1);
    }
}

/// What serde accepts for an exact decimal: a string (preferred, exact) or a number (read through
/// its shortest decimal text).
#[derive(serde::Deserialize)]
#[serde(untagged)]
pub(crate) enum DecimalInput {
    Text(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
}

impl DecimalInput {
    /// Parses into a `T` built from decimal text.
    pub(crate) fn parse<T>(self) -> Result<T, ParseDecimalError>
    where
        T: std::str::FromStr<Err = ParseDecimalError>,
    {
        match self {
            Self::Text(text) => text.parse(),
            Self::Unsigned(v) => v.to_string().parse(),
            Self::Signed(v) => v.to_string().parse(),
            Self::Float(v) if v.is_finite() => format!("{v}").parse(),
            Self::Float(value) => Err(ParseDecimalError::NotFinite { value }),
        }
    }
}
