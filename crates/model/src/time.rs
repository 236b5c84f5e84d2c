//! [`UnixNanos`]: a point in time as nanoseconds since the Unix epoch (UTC).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Nanoseconds since 1970-01-01T00:00:00Z. Spans years 1678–2262.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixNanos(i64);

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseTimeError {
    /// Not an ISO-8601 / RFC 3339 date-time or date.
    #[error("'{text}' is not an ISO-8601 timestamp (expected e.g. 2024-01-31T09:30:00Z)")]
    Invalid {
        /// The offending text.
        text: String,
    },
    /// Outside the representable range (1678–2262).
    #[error("'{text}' is outside the supported range 1678..2262")]
    OutOfRange {
        /// The offending text.
        text: String,
    },
}

/// Unit of an integer Unix timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnixUnit {
    /// Seconds.
    Seconds,
    /// Milliseconds.
    Millis,
    /// Microseconds.
    Micros,
    /// Nanoseconds.
    Nanos,
}

impl UnixUnit {
    /// Nanoseconds per unit.
    #[must_use]
    pub const fn nanos(self) -> i64 {
        match self {
            Self::Seconds => 1_000_000_000,
            Self::Millis => 1_000_000,
            Self::Micros => 1_000,
            Self::Nanos => 1,
        }
    }

    /// Guesses the unit of an integer timestamp from its magnitude, assuming a date between
    /// 1973 and 2286 for seconds (and the same window for the finer units).
    #[must_use]
    pub const fn guess(value: i64) -> Self {
        let v = value.unsigned_abs();
        if v < 10_000_000_000 {
            Self::Seconds
        } else if v < 10_000_000_000_000 {
            Self::Millis
        } else if v < 10_000_000_000_000_000 {
            Self::Micros
        } else {
            Self::Nanos
        }
    }
}

impl UnixNanos {
    /// The epoch.
    pub const EPOCH: Self = Self(0);

    /// Nanoseconds per second.
    pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

    /// Nanoseconds per day.
    pub const NANOS_PER_DAY: i64 = 86_400 * Self::NANOS_PER_SECOND;

    /// From nanoseconds since the epoch.
    #[must_use]
    pub const fn new(nanos: i64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since the epoch.
    #[must_use]
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// From an integer in `unit`; `None` on overflow.
    #[must_use]
    pub const fn from_unix(value: i64, unit: UnixUnit) -> Option<Self> {
        match value.checked_mul(unit.nanos()) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// Seconds since the epoch as `f64`.
    #[must_use]
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Parses an ISO-8601 / RFC 3339 date-time (`2024-01-31T09:30:00Z`,
    /// `2024-01-31T09:30:00.250+01:00`, `2024-01-31 09:30:00` read as UTC) or a date
    /// (`2024-01-31`, midnight UTC).
    ///
    /// # Errors
    /// If the text is none of these forms or is outside 1678–2262.
    pub fn parse_iso8601(text: &str) -> Result<Self, ParseTimeError> {
        if let Some(t) = parse_utc_seconds_fast(text.as_bytes()) {
            return Ok(t);
        }
        let invalid = || ParseTimeError::Invalid {
            text: text.to_owned(),
        };
        let naive = if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
            dt.with_timezone(&Utc).naive_utc()
        } else if let Ok(dt) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
            dt
        } else if let Ok(dt) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f") {
            dt
        } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            d.and_hms_opt(0, 0, 0).ok_or_else(invalid)?
        } else {
            return Err(invalid());
        };
        naive
            .and_utc()
            .timestamp_nanos_opt()
            .map(Self)
            .ok_or_else(|| ParseTimeError::OutOfRange {
                text: text.to_owned(),
            })
    }

    /// `self + nanos`, saturating.
    #[must_use]
    pub const fn saturating_add(self, nanos: i64) -> Self {
        Self(self.0.saturating_add(nanos))
    }
}

/// Fast path for the exact form `YYYY-MM-DDTHH:MM:SSZ`, which every shipped data file uses.
fn parse_utc_seconds_fast(b: &[u8]) -> Option<UnixNanos> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[range] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 || !(1678..=2261).contains(&year) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Some(UnixNanos(secs * UnixNanos::NANOS_PER_SECOND))
}

const fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

const fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian (year, month, day) of a day count since 1970-01-01 (Hinnant).
const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

impl UnixNanos {
    /// Writes the RFC 3339 form (as [`Display`](fmt::Display)) into `buf` and returns the bytes
    /// written, or `None` for a year outside 0000–9999. For writers of millions of rows: no
    /// formatter machinery, no allocation.
    #[must_use]
    pub fn write_rfc3339(self, buf: &mut [u8; 30]) -> Option<&[u8]> {
        let secs = self.0.div_euclid(Self::NANOS_PER_SECOND);
        let nanos = self.0.rem_euclid(Self::NANOS_PER_SECOND);
        let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
        if !(0..=9999).contains(&year) {
            return None;
        }
        let sod = secs.rem_euclid(86_400);
        let (hour, minute, second) = (sod / 3_600, sod % 3_600 / 60, sod % 60);
        let mut put = |at: usize, value: i64, width: usize| {
            let mut v = value.unsigned_abs();
            for i in (0..width).rev() {
                buf[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, month, 2);
        put(8, day, 2);
        put(11, hour, 2);
        put(14, minute, 2);
        put(17, second, 2);
        let digits = if nanos == 0 {
            0
        } else if nanos % 1_000_000 == 0 {
            put(20, nanos / 1_000_000, 3);
            3
        } else if nanos % 1_000 == 0 {
            put(20, nanos / 1_000, 6);
            6
        } else {
            put(20, nanos, 9);
            9
        };
        buf[4] = b'-';
        buf[7] = b'-';
        buf[10] = b'T';
        buf[13] = b':';
        buf[16] = b':';
        let mut len = 19;
        if digits > 0 {
            buf[19] = b'.';
            len += 1 + digits;
        }
        buf[len] = b'Z';
        Some(&buf[..=len])
    }
}

impl fmt::Display for UnixNanos {
    /// RFC 3339 in UTC: `2024-01-31T09:30:00Z`, with a fraction (trailing zeros trimmed to
    /// milli/micro/nano) only when it is not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; 30];
        match self.write_rfc3339(&mut buf) {
            // Only ASCII digits and separators are written.
            Some(bytes) => f.write_str(std::str::from_utf8(bytes).map_err(|_| fmt::Error)?),
            None => {
                // Outside four-digit years (never in practice): the general formatter.
                let secs = self.0.div_euclid(Self::NANOS_PER_SECOND);
                let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
                let sod = secs.rem_euclid(86_400);
                write!(
                    f,
                    "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
                    sod / 3_600,
                    sod % 3_600 / 60,
                    sod % 60
                )
            }
        }
    }
}

impl Serialize for UnixNanos {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for UnixNanos {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_iso8601(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_forms() {
        let t = UnixNanos::parse_iso8601("1999-01-04T00:00:00Z").unwrap();
        assert_eq!(t.as_nanos(), 915_408_000 * 1_000_000_000);
        assert_eq!(t.to_string(), "1999-01-04T00:00:00Z");
        let d = UnixNanos::parse_iso8601("1999-01-04").unwrap();
        assert_eq!(d, t);
        let off = UnixNanos::parse_iso8601("1999-01-04T01:00:00.5+01:00").unwrap();
        assert_eq!(off.as_nanos(), t.as_nanos() + 500_000_000);
        assert_eq!(off.to_string(), "1999-01-04T00:00:00.500Z");
        assert!(UnixNanos::parse_iso8601("1999-02-30T00:00:00Z").is_err());
        assert!(UnixNanos::parse_iso8601("yesterday").is_err());
    }

    #[test]
    fn guesses_integer_units() {
        assert_eq!(UnixUnit::guess(1_700_000_000), UnixUnit::Seconds);
        assert_eq!(UnixUnit::guess(1_700_000_000_000), UnixUnit::Millis);
        assert_eq!(UnixUnit::guess(1_700_000_000_000_000), UnixUnit::Micros);
        assert_eq!(UnixUnit::guess(1_700_000_000_000_000_000), UnixUnit::Nanos);
    }

    use proptest::prelude::any;

    proptest::proptest! {
        #[test]
        fn prop_fast_path_matches_chrono(secs in -9_000_000_000i64..9_000_000_000) {
            let dt = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let text = dt.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let fast = parse_utc_seconds_fast(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(fast.as_nanos(), secs * 1_000_000_000);
            proptest::prop_assert_eq!(fast.to_string(), text);
        }

        #[test]
        fn prop_display_matches_chrono(nanos in any::<i64>()) {
            let ours = UnixNanos::new(nanos).to_string();
            let theirs = DateTime::<Utc>::from_timestamp_nanos(nanos)
                .format("%Y-%m-%dT%H:%M:%S%.fZ")
                .to_string();
            proptest::prop_assert_eq!(ours, theirs);
        }
    }
}
