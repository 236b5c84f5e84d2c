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
    parse_fixed_plain(text.as_bytes()).map_or_else(|| parse_fixed_general(text), Ok)
}

/// Fast path for the form almost every data file uses: `[-+]digits[.digits]` with at most 18
/// digits and at most nine decimals, accumulated in 64 bits. `None` sends anything else to the
/// general parser (which also produces the errors).
fn parse_fixed_plain(bytes: &[u8]) -> Option<i128> {
    const POW10: [u64; 10] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
        1_000_000_000,
    ];
    let (negative, digits) = match bytes.first()? {
        b'-' => (true, &bytes[1..]),
        b'+' => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut frac_digits: Option<usize> = None;
    let mut count = 0usize;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(b - b'0');
                count += 1;
                if let Some(f) = frac_digits.as_mut() {
                    *f += 1;
                }
            }
            b'.' if frac_digits.is_none() => frac_digits = Some(0),
            _ => return None,
        }
    }
    let frac = frac_digits.unwrap_or(0);
    if count == 0 || count > 18 || frac > 9 {
        return None;
    }
    let raw = i128::from(mantissa) * i128::from(POW10[9 - frac]);
    Some(if negative { -raw } else { raw })
}

fn parse_fixed_general(text: &str) -> Result<i128, ParseDecimalError> {
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

/// `quotient + remainder / denominator` rounded half to even, where `quotient` is the truncated
/// quotient and `remainder` (same sign as the dividend, `|remainder| < denominator`) what is left.
fn round_parts(quotient: i128, remainder: i64, denominator: i64) -> i128 {
    let twice = i128::from(remainder.unsigned_abs()) * 2;
    let d = i128::from(denominator);
    let away = twice > d || (twice == d && quotient % 2 != 0);
    match (away, remainder.signum()) {
        (true, 1) => quotient + 1,
        (true, -1) => quotient - 1,
        _ => quotient,
    }
}

/// `x × y / 10^9` rounded half to even: the product of two values at the fixed scale, at the
/// fixed scale. Splits `y` into whole units and a fraction so that the common cases (whole
/// quantities, modest prices) need only 64-bit divisions; a 128-bit division is ~10× slower and
/// sat on the engine's per-order path.
pub(crate) fn mul_fixed(x: i64, y: i64) -> i128 {
    let whole = i128::from(x) * i128::from(y / FIXED_SCALE);
    let fraction = y % FIXED_SCALE;
    if fraction == 0 {
        return whole;
    }
    match x.checked_mul(fraction) {
        Some(b) => round_parts(
            whole + i128::from(b / FIXED_SCALE),
            b % FIXED_SCALE,
            FIXED_SCALE,
        ),
        None => div_round_half_even(i128::from(x) * i128::from(y), i128::from(FIXED_SCALE)),
    }
}

/// `numerator / denominator` rounded half to even. `denominator` must be positive.
pub(crate) fn div_round_half_even(numerator: i128, denominator: i128) -> i128 {
    if let (Ok(n), Ok(d)) = (i64::try_from(numerator), i64::try_from(denominator)) {
        return round_parts(i128::from(n / d), n % d, d);
    }
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

    proptest::proptest! {
        #[test]
        fn prop_mul_fixed_matches_wide_division(x in proptest::prelude::any::<i64>(), y in proptest::prelude::any::<i64>()) {
            let wide = div_round_half_even_wide(i128::from(x) * i128::from(y), i128::from(FIXED_SCALE));
            proptest::prop_assert_eq!(mul_fixed(x, y), wide);
        }

        #[test]
        fn prop_fast_division_matches_wide(n in -1_000_000_000_000_000i64..1_000_000_000_000_000, d in 1i64..1_000_000_000_000) {
            proptest::prop_assert_eq!(
                div_round_half_even(i128::from(n), i128::from(d)),
                div_round_half_even_wide(i128::from(n), i128::from(d))
            );
        }
    }

    /// The plain 128-bit definition, as the reference of the fast paths.
    fn div_round_half_even_wide(numerator: i128, denominator: i128) -> i128 {
        let q = numerator.div_euclid(denominator);
        let r = numerator.rem_euclid(denominator);
        let twice = r * 2;
        if twice > denominator || (twice == denominator && q % 2 != 0) {
            q + 1
        } else {
            q
        }
    }

    proptest::proptest! {
        #[test]
        fn prop_fast_parser_agrees_with_general(int in 0u64..1_000_000_000, frac in 0u32..1_000_000, decimals in 0usize..7, negative in proptest::prelude::any::<bool>()) {
            let text = if decimals == 0 {
                format!("{}{int}", if negative { "-" } else { "" })
            } else {
                let f = format!("{frac:06}");
                format!("{}{int}.{}", if negative { "-" } else { "" }, &f[..decimals])
            };
            proptest::prop_assert_eq!(parse_fixed(&text), parse_fixed_general(&text));
        }
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
