//! Identifiers: [`InstrumentId`] and [`ClientOrderId`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty, too long, or a character outside the allowed set.
    #[error("invalid {kind} '{text}': {reason}")]
    Invalid {
        /// Which identifier.
        kind: &'static str,
        /// The offending text.
        text: String,
        /// What rule it breaks.
        reason: &'static str,
    },
}

/// An instrument: `SYMBOL.VENUE`, e.g. `SPX.SIM` or `BTCUSDT.BINANCE`.
///
/// Shared text behind an `Arc`, because every order carries one: cloning it is a reference-count
/// increment, not two string allocations.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstrumentId {
    text: std::sync::Arc<str>,
    dot: usize,
}

fn check_part(kind: &'static str, text: &str) -> Result<(), IdError> {
    let fail = |reason| IdError::Invalid {
        kind,
        text: text.to_owned(),
        reason,
    };
    if text.is_empty() {
        return Err(fail("must not be empty"));
    }
    if text.len() > 64 {
        return Err(fail("longer than 64 characters"));
    }
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'^'))
    {
        return Err(fail("only ASCII letters, digits and - _ / ^ are allowed"));
    }
    Ok(())
}

impl InstrumentId {
    /// Builds an id from a symbol and a venue.
    ///
    /// # Errors
    /// If either part is empty, longer than 64 characters or has other characters than ASCII
    /// letters, digits and `- _ / ^`.
    pub fn new(symbol: &str, venue: &str) -> Result<Self, IdError> {
        check_part("symbol", symbol)?;
        check_part("venue", venue)?;
        Ok(Self {
            text: format!("{symbol}.{venue}").into(),
            dot: symbol.len(),
        })
    }

    /// The symbol.
    #[must_use]
    pub fn symbol(&self) -> &str {
        &self.text[..self.dot]
    }

    /// The venue.
    #[must_use]
    pub fn venue(&self) -> &str {
        &self.text[self.dot + 1..]
    }

    /// `SYMBOL.VENUE`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for InstrumentId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.rsplit_once('.') {
            Some((symbol, venue)) => Self::new(symbol, venue),
            None => Err(IdError::Invalid {
                kind: "instrument id",
                text: s.to_owned(),
                reason: "expected SYMBOL.VENUE",
            }),
        }
    }
}

/// The client order id: chosen by TradePulse before an order leaves the process, unique per
/// account, 1–36 characters of `[A-Za-z0-9._:/-]` (the strictest common venue rule, Binance's
/// `newClientOrderId`). `Copy`, so the hot path never allocates for it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientOrderId {
    len: u8,
    bytes: [u8; Self::MAX_LEN],
}

impl ClientOrderId {
    /// Longest accepted id.
    pub const MAX_LEN: usize = 36;

    /// Validates and builds an id.
    ///
    /// # Errors
    /// If `text` is empty, longer than 36 characters or has a character outside `[A-Za-z0-9._:/-]`.
    pub fn new(text: &str) -> Result<Self, IdError> {
        let fail = |reason| IdError::Invalid {
            kind: "client order id",
            text: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(fail("must not be empty"));
        }
        if text.len() > Self::MAX_LEN {
            return Err(fail("longer than 36 characters"));
        }
        if !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-'))
        {
            return Err(fail("only ASCII letters, digits and . _ : / - are allowed"));
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Self {
            len: text.len() as u8,
            bytes,
        })
    }

    /// `PREFIX-SEQUENCE` with the sequence zero-padded to six digits, e.g. `sma-000042`. The
    /// prefix is truncated so the id always fits.
    #[must_use]
    pub fn sequenced(prefix: &str, sequence: u64) -> Self {
        let mut bytes = [0u8; Self::MAX_LEN];
        let mut len = 0;
        for b in prefix
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .take(12)
        {
            bytes[len] = b;
            len += 1;
        }
        if len == 0 {
            bytes[0] = b'O';
            len = 1;
        }
        bytes[len] = b'-';
        len += 1;
        // At least six digits, zero-padded; written by hand because this runs once per order on
        // the hot path and `format!` would allocate.
        let mut digits = [b'0'; 20];
        let mut n = sequence;
        let mut count = 0;
        while n > 0 || count < 6 {
            digits[19 - count] = b'0' + (n % 10) as u8;
            n /= 10;
            count += 1;
        }
        for &b in digits[20 - count..].iter().take(Self::MAX_LEN - len) {
            bytes[len] = b;
            len += 1;
        }
        Self {
            len: len as u8,
            bytes,
        }
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({})", self.as_str())
    }
}

impl Serialize for ClientOrderId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClientOrderId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrument_ids() {
        let id: InstrumentId = "BTCUSDT.BINANCE".parse().unwrap();
        assert_eq!(id.symbol(), "BTCUSDT");
        assert_eq!(id.to_string(), "BTCUSDT.BINANCE");
        assert!("nodot".parse::<InstrumentId>().is_err());
        assert!(InstrumentId::new("A B", "SIM").is_err());
    }

    #[test]
    fn client_order_ids() {
        let id = ClientOrderId::sequenced("sma_cross", 42);
        assert_eq!(id.as_str(), "sma_cross-000042");
        assert_eq!(ClientOrderId::new("abc-1").unwrap().as_str(), "abc-1");
        assert!(ClientOrderId::new("").is_err());
        assert!(ClientOrderId::new(&"x".repeat(37)).is_err());
        assert!(ClientOrderId::new("bad id").is_err());
        let long = ClientOrderId::sequenced("averyveryverylongprefix", u64::MAX);
        assert!(long.as_str().len() <= ClientOrderId::MAX_LEN);
    }
}
