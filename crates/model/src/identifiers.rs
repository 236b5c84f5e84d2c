//! Identifiers: [`InstrumentId`], [`ClientOrderId`], and the ids a venue assigns:
//! [`VenueOrderId`] and [`TradeId`].

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
pub struct ClientOrderId(InlineText<{ ClientOrderId::MAX_LEN }>);

fn client_order_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-')
}

impl ClientOrderId {
    /// Longest accepted id.
    pub const MAX_LEN: usize = 36;

    /// Validates and builds an id.
    ///
    /// # Errors
    /// If `text` is empty, longer than 36 characters or has a character outside `[A-Za-z0-9._:/-]`.
    pub fn new(text: &str) -> Result<Self, IdError> {
        InlineText::new(
            text,
            "client order id",
            client_order_id_byte,
            "only ASCII letters, digits and . _ : / - are allowed",
        )
        .map(Self)
    }

    /// `PREFIX-SEQUENCE` with the sequence zero-padded to six digits, e.g. `sma-000042`. The
    /// prefix keeps its first 12 letters, digits and underscores (`O` if none), so the id always
    /// fits.
    #[must_use]
    pub fn sequenced(prefix: &str, sequence: u64) -> Self {
        let mut head = [0u8; 13];
        let mut len = 0;
        for b in prefix
            .bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .take(12)
        {
            head[len] = b;
            len += 1;
        }
        if len == 0 {
            head[0] = b'O';
            len = 1;
        }
        head[len] = b'-';
        len += 1;
        // Zero-padded to six digits: "000042" is "1000042" without its leading 1.
        if sequence < 1_000_000 {
            let mut id = InlineText::numbered(&head[..len], 1_000_000 + sequence);
            let at = len;
            id.bytes.copy_within(at + 1..usize::from(id.len), at);
            id.len -= 1;
            return Self(id);
        }
        Self(InlineText::numbered(&head[..len], sequence))
    }

    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
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

/// Text of at most `N` bytes stored inline, so ids stay `Copy` and never allocate.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct InlineText<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> InlineText<N> {
    fn new(
        text: &str,
        kind: &'static str,
        allowed: fn(u8) -> bool,
        rule: &'static str,
    ) -> Result<Self, IdError> {
        let fail = |reason| IdError::Invalid {
            kind,
            text: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(fail("must not be empty"));
        }
        if text.len() > N {
            return Err(fail("too long"));
        }
        if !text.bytes().all(allowed) {
            return Err(fail(rule));
        }
        let mut bytes = [0u8; N];
        bytes[..text.len()].copy_from_slice(text.as_bytes());
        Ok(Self {
            len: text.len() as u8,
            bytes,
        })
    }

    /// `prefix` (already valid) followed by the decimal digits of `n`.
    fn numbered(prefix: &[u8], mut n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[19 - count] = b'0' + (n % 10) as u8;
            n /= 10;
            count += 1;
            if n == 0 {
                break;
            }
        }
        let mut bytes = [0u8; N];
        let mut len = 0;
        for &b in prefix.iter().chain(&digits[20 - count..]).take(N) {
            bytes[len] = b;
            len += 1;
        }
        Self {
            len: len as u8,
            bytes,
        }
    }

    fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// Printable ASCII without spaces: venues' own ids are numbers (Binance), UUIDs (Coinbase) or
/// other tokens; this is the common ground.
fn venue_id_byte(b: u8) -> bool {
    b.is_ascii_graphic()
}

macro_rules! venue_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(InlineText<{ $name::MAX_LEN }>);

        impl $name {
            /// Longest accepted id.
            pub const MAX_LEN: usize = 48;

            /// Validates and builds an id.
            ///
            /// # Errors
            /// If `text` is empty, longer than 48 bytes or not printable ASCII without spaces.
            pub fn new(text: &str) -> Result<Self, IdError> {
                InlineText::new(
                    text,
                    $kind,
                    venue_id_byte,
                    "only printable ASCII without spaces is allowed",
                )
                .map(Self)
            }

            /// `PREFIX` followed by the decimal `number`, as a simulated venue numbers its
            /// orders and trades. The prefix must be printable ASCII (it is truncated to fit).
            #[must_use]
            pub fn numbered(prefix: &str, number: u64) -> Self {
                let prefix: Vec<u8> = prefix.bytes().filter(|b| venue_id_byte(*b)).collect();
                Self(InlineText::numbered(&prefix, number))
            }

            /// The id as text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Self::new(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

venue_id!(
    /// The id a venue gave an order (Binance's `orderId`, a simulated venue's `S42`).
    VenueOrderId,
    "venue order id"
);
venue_id!(
    /// The id a venue gave one execution (Binance's `tradeId`). Reports of the same trade
    /// carry the same id, which is what makes applying them idempotent.
    TradeId,
    "trade id"
);

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

    #[test]
    fn venue_ids() {
        assert_eq!(VenueOrderId::numbered("S", 0).as_str(), "S0");
        assert_eq!(TradeId::numbered("T", 12_345).as_str(), "T12345");
        assert_eq!(
            TradeId::numbered("T", u64::MAX).as_str(),
            "T18446744073709551615"
        );
        let uuid = "1d3c6e0a-4c5e-4b8e-9d2f-3f1e8d6a7b90";
        assert_eq!(VenueOrderId::new(uuid).unwrap().as_str(), uuid);
        assert!(VenueOrderId::new("").is_err());
        assert!(VenueOrderId::new("a b").is_err());
        assert!(TradeId::new(&"9".repeat(49)).is_err());
        let json = serde_json::to_string(&TradeId::new("28457").unwrap()).unwrap();
        assert_eq!(json, "\"28457\"");
        assert_eq!(
            serde_json::from_str::<TradeId>(&json).unwrap().as_str(),
            "28457"
        );
    }
}
