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
#[derive(Debug, Clone, Eq, PartialOrd, Ord)]
pub struct InstrumentId {
    text: std::sync::Arc<str>,
    dot: usize,
}

impl PartialEq for InstrumentId {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        // Clones of one id share their text: the pipeline compares them on every bar.
        std::sync::Arc::ptr_eq(&self.text, &other.text) || self.text == other.text
    }
}

/// Hashes the text, as equality compares it.
impl std::hash::Hash for InstrumentId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
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
    /// fits. Numbering many ids with one prefix: [`OrderIdPrefix`].
    #[must_use]
    pub fn sequenced(prefix: &str, sequence: u64) -> Self {
        OrderIdPrefix::new(prefix).id(sequence)
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

/// Text of at most `N` bytes stored inline, so ids stay `Copy` and never allocate. The bytes past
/// `len` are always zero, so equality and hashing may read whole words.
#[derive(Clone, Copy)]
struct InlineText<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> PartialEq for InlineText<N> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        // Word by word: ids are compared and hashed on every order and report, and a byte-array
        // comparison compiles to a call to `memcmp`.
        self.len == other.len
            && self
                .bytes
                .chunks(8)
                .zip(other.bytes.chunks(8))
                .all(|(a, b)| word(a) == word(b))
    }
}

impl<const N: usize> Eq for InlineText<N> {}

impl<const N: usize> PartialOrd for InlineText<N> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered as text.
impl<const N: usize> Ord for InlineText<N> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl<const N: usize> std::hash::Hash for InlineText<N> {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u8(self.len);
        for chunk in self.bytes.chunks(8) {
            state.write_u64(word(chunk));
        }
    }
}

/// Up to eight bytes as one word (zero-padded).
#[inline]
fn word(chunk: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w[..chunk.len()].copy_from_slice(chunk);
    u64::from_le_bytes(w)
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
        Ok(Self::from_parts(text.as_bytes(), &[]))
    }

    /// `head` then `tail`, truncated to `N` bytes (both already valid).
    #[inline]
    fn from_parts(head: &[u8], tail: &[u8]) -> Self {
        let mut bytes = [0u8; N];
        let h = head.len().min(N);
        bytes[..h].copy_from_slice(&head[..h]);
        let t = tail.len().min(N - h);
        bytes[h..h + t].copy_from_slice(&tail[..t]);
        Self {
            len: (h + t) as u8,
            bytes,
        }
    }

    /// `prefix` (already valid) followed by the decimal digits of `n`.
    #[inline]
    fn numbered(prefix: &[u8], n: u64) -> Self {
        let mut digits = itoa::Buffer::new();
        Self::from_parts(prefix, digits.format(n).as_bytes())
    }

    fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored, so this cannot fail.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

/// The `PREFIX-` of sequenced client order ids, cleaned once (its first 12 letters, digits and
/// underscores; `O` if none), so that numbering an order is a copy and a few digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderIdPrefix {
    head: [u8; 13],
    len: u8,
}

impl OrderIdPrefix {
    /// The prefix of ids `prefix-000001`, `prefix-000002`, ….
    #[must_use]
    pub fn new(prefix: &str) -> Self {
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
        Self {
            head,
            len: len as u8 + 1,
        }
    }

    /// `PREFIX-SEQUENCE`, the sequence zero-padded to six digits.
    #[must_use]
    #[inline]
    pub fn id(&self, sequence: u64) -> ClientOrderId {
        const ZEROS: &[u8; 6] = b"000000";
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(sequence).as_bytes();
        let head = &self.head[..usize::from(self.len)];
        let mut id = InlineText::from_parts(head, &ZEROS[..6 - digits.len().min(6)]);
        let at = usize::from(id.len);
        let n = digits.len().min(ClientOrderId::MAX_LEN - at);
        id.bytes[at..at + n].copy_from_slice(&digits[..n]);
        id.len += n as u8;
        ClientOrderId(id)
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
            /// orders and trades. Characters of the prefix that an id cannot hold are dropped;
            /// the id is truncated to fit.
            #[must_use]
            pub fn numbered(prefix: &str, number: u64) -> Self {
                if prefix.bytes().all(venue_id_byte) {
                    return Self(InlineText::numbered(prefix.as_bytes(), number));
                }
                let mut clean = [0u8; Self::MAX_LEN];
                let mut len = 0;
                for b in prefix.bytes().filter(|b| venue_id_byte(*b)).take(Self::MAX_LEN) {
                    clean[len] = b;
                    len += 1;
                }
                Self(InlineText::numbered(&clean[..len], number))
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
    fn ids_built_either_way_are_equal_and_hash_alike() {
        use std::hash::{BuildHasher, RandomState};
        let state = RandomState::new();
        for (text, built) in [
            (
                "sma_cross-000042",
                ClientOrderId::sequenced("sma_cross", 42),
            ),
            ("s-1234567", ClientOrderId::sequenced("s", 1_234_567)),
        ] {
            let parsed = ClientOrderId::new(text).unwrap();
            assert_eq!(built.as_str(), text);
            assert_eq!(parsed, built);
            assert_eq!(state.hash_one(parsed), state.hash_one(built));
        }
        assert_ne!(
            ClientOrderId::new("a-1").unwrap(),
            ClientOrderId::new("a-10").unwrap()
        );
        assert_eq!(TradeId::numbered("T", 7), TradeId::new("T7").unwrap());
        assert_eq!(VenueOrderId::numbered("a b", 1).as_str(), "ab1");
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
