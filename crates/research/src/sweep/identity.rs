//! A sweep's identity: one hash of its settings and of the bars it ran on, carried by every
//! shard, so that a merge can tell a shard of another sweep (other parameters, costs, data) from
//! one of its own.

use tradepulse_backtest::BacktestConfig;
use tradepulse_model::Bar;

/// The identity of a sweep of `config` on `bars`, as 16 hex digits: the config's canonical text
/// ([`BacktestConfig::canonical_text`]: key order, comments and `output` do not count) and every
/// bar's fields.
pub(super) fn config_hash(config: &BacktestConfig, bars: &[Bar]) -> String {
    let mut hash = WordHash::new();
    hash.bytes(b"tradepulse-sweep/1");
    hash.bytes(config.canonical_text().as_bytes());
    hash.word(bars.len() as u64);
    for bar in bars {
        // Two's-complement bit patterns: the hash reads the values, not their signs.
        hash.word(bar.ts.as_nanos() as u64);
        hash.word(bar.open.raw() as u64);
        hash.word(bar.high.raw() as u64);
        hash.word(bar.low.raw() as u64);
        hash.word(bar.close.raw() as u64);
        hash.word(bar.volume.to_bits());
    }
    format!("{:016x}", hash.finish())
}

/// A chain of MurmurHash3's 64-bit finaliser over 64-bit words, `h ← fmix64(h ⊕ word)`: the
/// same on every platform, build and run (std's `DefaultHasher` is keyed and may change between
/// releases), which a hash written to files and compared across machines needs. `fmix64` is a
/// bijection in which every input bit reaches every output bit, so a change anywhere shows in
/// the whole hash (plain word-wise FNV-1a leaves the low bits blind to the high ones). It tells
/// accidental differences apart; it is no defence against a deliberately forged shard. Whole
/// words keep a million bars at a few milliseconds.
struct WordHash(u64);

impl WordHash {
    /// An arbitrary non-zero start (FNV's offset basis).
    const START: u64 = 0xcbf2_9ce4_8422_2325;

    fn new() -> Self {
        Self(Self::START)
    }

    fn word(&mut self, word: u64) {
        let mut k = self.0 ^ word;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^= k >> 33;
        self.0 = k;
    }

    /// A byte string, length first so that `"ab" + "c"` and `"a" + "bc"` differ.
    fn bytes(&mut self, bytes: &[u8]) {
        self.word(bytes.len() as u64);
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::WordHash;

    #[test]
    fn hash_is_stable_and_separates_inputs() {
        let of = |parts: &[&[u8]]| {
            let mut h = WordHash::new();
            for p in parts {
                h.bytes(p);
            }
            h.finish()
        };
        // A fixed value: the identity written by one build must be the one read by another.
        assert_eq!(of(&[b"tradepulse"]), 0x1185_4933_944f_20b0);
        assert_ne!(of(&[b"ab", b"c"]), of(&[b"a", b"bc"]));
        // A change in a word's top byte reaches the hash's low half.
        let (x, y) = (of(&[b"1234567a"]), of(&[b"1234567b"]));
        assert_ne!(x & 0xffff_ffff, y & 0xffff_ffff);
        assert_ne!(of(&[b""]), of(&[]));
    }
}
