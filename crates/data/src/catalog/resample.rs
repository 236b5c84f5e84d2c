//! [`resample`]: aggregate bars to a coarser [`BarInterval`] (e.g. 1-minute → 5-minute).

use std::fmt;
use std::str::FromStr;

use tradepulse_model::{Bar, UnixNanos};

use super::{CatalogError, Result};

/// A bar interval: a positive whole number of seconds, written `30s`, `5m`, `4h` or `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BarInterval {
    nanos: i64,
}

impl BarInterval {
    /// The interval in nanoseconds.
    #[must_use]
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// An interval of `nanos` nanoseconds.
    ///
    /// # Errors
    /// [`CatalogError::InvalidInterval`] unless `nanos` is a positive whole number of seconds.
    pub fn from_nanos(nanos: i64) -> Result<Self> {
        if nanos <= 0 || nanos % 1_000_000_000 != 0 {
            return Err(CatalogError::InvalidInterval {
                text: format!("{nanos}ns"),
                reason: "must be a positive whole number of seconds",
            });
        }
        Ok(Self { nanos })
    }
}

impl FromStr for BarInterval {
    type Err = CatalogError;

    fn from_str(text: &str) -> Result<Self> {
        let invalid = |reason| CatalogError::InvalidInterval {
            text: text.to_owned(),
            reason,
        };
        let text_trim = text.trim();
        let split = text_trim
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| invalid("missing unit; use s, m, h or d (e.g. 5m)"))?;
        let (count, unit) = text_trim.split_at(split);
        let count: i64 = count
            .parse()
            .map_err(|_| invalid("expected a whole number before the unit (e.g. 5m)"))?;
        let unit_nanos: i64 = match unit {
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "d" => 86_400_000_000_000,
            _ => return Err(invalid("unknown unit; use s, m, h or d")),
        };
        if count <= 0 {
            return Err(invalid("must be positive"));
        }
        let nanos = count
            .checked_mul(unit_nanos)
            .ok_or_else(|| invalid("too long"))?;
        Ok(Self { nanos })
    }
}

impl fmt::Display for BarInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.nanos / 1_000_000_000;
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs % size == 0 {
                return write!(f, "{}{unit}", secs / size);
            }
        }
        write!(f, "{secs}s")
    }
}

/// Aggregates time-sorted `bars` into bars of interval `to`, aligned to multiples of `to`
/// since the Unix epoch (UTC): open of the first bar, highest high, lowest low, close of the
/// last bar, summed volume, stamped with the bucket's open time. Empty buckets produce no bar.
///
/// # Errors
/// [`CatalogError::Unsorted`] if timestamps are not strictly increasing.
pub fn resample(bars: &[Bar], to: BarInterval) -> Result<Vec<Bar>> {
    let mut out: Vec<Bar> = Vec::with_capacity(bars.len() / 2 + 1);
    let mut previous: Option<UnixNanos> = None;
    for bar in bars {
        if let Some(prev) = previous
            && bar.ts <= prev
        {
            return Err(CatalogError::Unsorted {
                ts: bar.ts,
                previous: prev,
            });
        }
        previous = Some(bar.ts);
        let bucket = UnixNanos::new(bar.ts.as_nanos().div_euclid(to.nanos) * to.nanos);
        match out.last_mut() {
            Some(last) if last.ts == bucket => {
                last.high = last.high.max(bar.high);
                last.low = last.low.min(bar.low);
                last.close = bar.close;
                last.volume += bar.volume;
            }
            _ => out.push(Bar { ts: bucket, ..*bar }),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(minute: i64, o: &str, h: &str, l: &str, c: &str, v: f64) -> Bar {
        Bar {
            ts: UnixNanos::new(minute * 60_000_000_000),
            open: o.parse().unwrap(),
            high: h.parse().unwrap(),
            low: l.parse().unwrap(),
            close: c.parse().unwrap(),
            volume: v,
        }
    }

    #[test]
    fn intervals_parse_and_print() {
        for (text, nanos, shown) in [
            ("5m", 300_000_000_000, "5m"),
            ("90s", 90_000_000_000, "90s"),
            ("1h", 3_600_000_000_000, "1h"),
            ("60m", 3_600_000_000_000, "1h"),
            ("1d", 86_400_000_000_000, "1d"),
        ] {
            let interval: BarInterval = text.parse().unwrap();
            assert_eq!(interval.as_nanos(), nanos);
            assert_eq!(interval.to_string(), shown);
        }
        for bad in ["", "5", "m", "0m", "-5m", "5w", "1.5m"] {
            assert!(bad.parse::<BarInterval>().is_err(), "{bad}");
        }
    }

    #[test]
    fn one_minute_to_five_minutes() {
        let bars = [
            bar(0, "10", "11", "9", "10.5", 1.0),
            bar(1, "10.5", "12", "10", "11", 2.0),
            bar(4, "11", "11.5", "8", "9", 3.0),
            bar(5, "9", "9.5", "8.5", "9.25", 4.0),
            bar(11, "9.25", "10", "9", "9.75", 5.0),
        ];
        let out = resample(&bars, "5m".parse().unwrap()).unwrap();
        assert_eq!(
            out,
            [
                bar(0, "10", "12", "8", "9", 6.0),
                bar(5, "9", "9.5", "8.5", "9.25", 4.0),
                bar(10, "9.25", "10", "9", "9.75", 5.0),
            ]
        );
    }

    #[test]
    fn unsorted_input_is_an_error() {
        let bars = [
            bar(1, "1", "1", "1", "1", 0.0),
            bar(1, "1", "1", "1", "1", 0.0),
        ];
        assert!(matches!(
            resample(&bars, "5m".parse().unwrap()),
            Err(CatalogError::Unsorted { .. })
        ));
    }
}
