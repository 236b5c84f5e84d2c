//! [`Asset`]: a currency or coin code, such as `USD`, `USDT` or `BTC`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::IdError;

/// A currency or coin code: 1–16 ASCII letters and digits, stored upper-case (`usdt` is `USDT`).
/// Balances are kept per asset; fees name the asset they were charged in (Binance charges the
/// received asset or BNB, not always the quote currency). `Copy`, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Asset {
    len: u8,
    bytes: [u8; Self::MAX_LEN],
}

impl Asset {
    /// Longest accepted code (Binance has codes such as `1000SATS`).
    pub const MAX_LEN: usize = 16;

    /// Validates and builds a code.
    ///
    /// # Errors
    /// If `code` is empty, longer than 16 characters or has characters other than ASCII letters
    /// and digits.
    pub fn new(code: &str) -> Result<Self, IdError> {
        let fail = |reason| IdError::Invalid {
            kind: "asset",
            text: code.to_owned(),
            reason,
        };
        if code.is_empty() {
            return Err(fail("must not be empty"));
        }
        if code.len() > Self::MAX_LEN {
            return Err(fail("longer than 16 characters"));
        }
        if !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(fail("only ASCII letters and digits are allowed"));
        }
        let mut bytes = [0u8; Self::MAX_LEN];
        for (slot, b) in bytes.iter_mut().zip(code.bytes()) {
            *slot = b.to_ascii_uppercase();
        }
        Ok(Self {
            len: code.len() as u8,
            bytes,
        })
    }

    /// The code.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Asset({})", self.as_str())
    }
}

impl FromStr for Asset {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for Asset {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Asset {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_and_checked() {
        assert_eq!(Asset::new("usdt").unwrap().as_str(), "USDT");
        assert_eq!(Asset::new("1000SATS").unwrap().to_string(), "1000SATS");
        assert_eq!(Asset::new("btc").unwrap(), Asset::new("BTC").unwrap());
        assert!(Asset::new("").is_err());
        assert!(Asset::new("US D").is_err());
        assert!(Asset::new(&"A".repeat(17)).is_err());
    }
}
