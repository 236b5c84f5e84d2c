//! [`TimestampFormat`]: how the timestamp column is written.

use serde::Deserialize;
use tradepulse_model::{UnixNanos, UnixUnit};

/// How to read the timestamp column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimestampFormat {
    /// Decide from the first row: text → ISO-8601; an integer → Unix seconds, milliseconds,
    /// microseconds or nanoseconds by magnitude (see [`UnixUnit::guess`]). The choice then holds
    /// for the whole file.
    #[default]
    Auto,
    /// ISO-8601 / RFC 3339 (`2024-01-31T09:30:00Z`, with offset or fraction; a bare date is
    /// midnight UTC).
    Iso8601,
    /// Integer Unix seconds.
    UnixS,
    /// Integer Unix milliseconds.
    UnixMs,
    /// Integer Unix microseconds.
    UnixUs,
    /// Integer Unix nanoseconds.
    UnixNs,
}

/// A resolved (non-auto) format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    Iso,
    Unix(UnixUnit),
}

impl TimestampFormat {
    pub(crate) fn resolve(self, first: &str) -> Resolved {
        match self {
            Self::Auto => match first.trim().parse::<i64>() {
                Ok(v) => Resolved::Unix(UnixUnit::guess(v)),
                Err(_) => Resolved::Iso,
            },
            Self::Iso8601 => Resolved::Iso,
            Self::UnixS => Resolved::Unix(UnixUnit::Seconds),
            Self::UnixMs => Resolved::Unix(UnixUnit::Millis),
            Self::UnixUs => Resolved::Unix(UnixUnit::Micros),
            Self::UnixNs => Resolved::Unix(UnixUnit::Nanos),
        }
    }
}

impl Resolved {
    pub(crate) fn parse(self, text: &str) -> Result<UnixNanos, String> {
        match self {
            Self::Iso => UnixNanos::parse_iso8601(text).map_err(|e| e.to_string()),
            Self::Unix(unit) => {
                let v: i64 = text
                    .trim()
                    .parse()
                    .map_err(|_| format!("'{text}' is not an integer Unix timestamp"))?;
                UnixNanos::from_unix(v, unit)
                    .ok_or_else(|| format!("'{text}' overflows a nanosecond timestamp"))
            }
        }
    }
}
