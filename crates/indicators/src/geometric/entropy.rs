//! [`Entropy`]: Shannon entropy of a trailing window.

use serde::{Deserialize, Serialize};

use crate::error::{check_period, check_window_max};
use crate::window::{OrderStats, Ring};
use crate::{Error, Indicator};

/// Bin of a finite `v ≥ lo` among `bins` equal-width bins on `[lo, lo + width]`, before the
/// top bin absorbs `v = lo + width`: `⌊(v − lo)/width · bins⌋`, evaluated exactly this way
/// (every step is a correctly rounded, hence monotone, operation, so the bin never decreases
/// as `v` grows).
#[inline]
fn raw_bin(v: f64, lo: f64, width: f64, bins: usize) -> usize {
    (((v - lo) / width) * bins as f64) as usize
}

/// Equal-width histogram of the finite values in an order-statistics tree, on their own
/// `[min, max]` with `bins` bins, and its entropy `H = −Σ_k p_k ln p_k` (nats); 0 when fewer
/// than two finite values, all equal, or a range that overflows. Nodes are ring slots, as in
/// [`OrderStats`].
///
/// The bin of a value is [`raw_bin`] clamped to `bins − 1`. The counts are kept for the
/// current `[min, max]`: an update whose values stay inside it moves two counts (O(1));
/// when the range changes they are recounted from the tree with one rank query per bin
/// boundary, each a descent that evaluates the bin formula itself at every node (it is
/// monotone, so "bin < j" holds for a prefix of the sorted values), O(bins·log w) — so counts,
/// and the entropy, are exactly those of binning every value with the formula. Counts are
/// integers, so maintaining them incrementally loses nothing.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    tree: OrderStats<()>,
    /// Per-bin counts of the finite values for the range `[lo, hi]`, when `valid`.
    counts: Vec<u32>,
    lo: f64,
    hi: f64,
    valid: bool,
}

/// Compares the values held; the counts are a cache derived from them.
impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        self.tree == other.tree && self.counts.len() == other.counts.len()
    }
}

impl Histogram {
    /// An empty histogram for slots `0..capacity` with `bins ≥ 1` bins.
    pub(crate) fn new(capacity: usize, bins: usize) -> Self {
        Self {
            tree: OrderStats::new(capacity),
            counts: vec![0; bins.max(1)],
            lo: 0.0,
            hi: 0.0,
            valid: false,
        }
    }

    /// The histogram of the values held in `ring`'s slots `(slot, value)`.
    pub(crate) fn from_slots(
        capacity: usize,
        bins: usize,
        values: impl Iterator<Item = (usize, f64)>,
    ) -> Self {
        let mut h = Self::new(capacity, bins);
        for (slot, v) in values {
            h.insert(slot, v);
        }
        h
    }

    /// The bin counts (a cache: only their number is meaningful to a checkpoint).
    pub(crate) fn into_counts(self) -> Vec<u32> {
        self.counts
    }

    pub(crate) fn clear(&mut self) {
        self.tree.clear();
        self.valid = false;
    }

    /// The clamped bin of a finite `v` in `[lo, hi]` for the cached range.
    #[inline]
    fn bin(&self, v: f64) -> usize {
        let bins = self.counts.len();
        raw_bin(v, self.lo, self.hi - self.lo, bins).min(bins - 1)
    }

    /// Adds `v` in slot `slot` (free).
    #[inline]
    pub(crate) fn insert(&mut self, slot: usize, v: f64) {
        self.tree.insert(slot, v);
        if self.valid && v.is_finite() {
            if v >= self.lo && v <= self.hi {
                let k = self.bin(v);
                self.counts[k] += 1;
            } else {
                self.valid = false;
            }
        }
    }

    /// Removes and returns the value in slot `slot` (held).
    #[inline]
    pub(crate) fn remove(&mut self, slot: usize) -> f64 {
        let v = self.tree.remove(slot);
        if self.valid && v.is_finite() {
            // Counted when it came in or at the last recount, in this range.
            let k = self.bin(v);
            self.counts[k] -= 1;
        }
        v
    }

    /// Entropy of the values held (nats).
    pub(crate) fn entropy(&mut self) -> f64 {
        let Some((below, n, lo, hi)) = self.finite_range() else {
            return 0.0;
        };
        let width = hi - lo;
        // A zero or overflowing range means one bin: zero entropy.
        if n < 2 || !(width > 0.0 && width.is_finite()) {
            return 0.0;
        }
        if !(self.valid && lo.to_bits() == self.lo.to_bits() && hi.to_bits() == self.hi.to_bits()) {
            self.recount(lo, hi, below, n);
        }
        let total = n as f64;
        -self
            .counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| f64::from(c) / total)
            .map(|p| p * p.ln())
            .sum::<f64>()
    }

    /// `(values before the finite ones, finite values, their min, their max)`, `None` when
    /// there are none. Non-finite values sit at both ends of the total order (−NaN, −inf …
    /// +inf, +NaN), so usually the tree's two ends are the answer.
    fn finite_range(&self) -> Option<(usize, usize, f64, f64)> {
        let (min, max) = (self.tree.min()?, self.tree.max()?);
        if min.is_finite() && max.is_finite() {
            return Some((0, self.tree.len(), min, max));
        }
        let below = self
            .tree
            .partition(|v| v.total_cmp(&f64::NEG_INFINITY).is_le());
        let upto = self.tree.partition(|v| v.total_cmp(&f64::INFINITY).is_lt());
        let n = upto.count.checked_sub(below.count).filter(|&n| n > 0)?;
        Some((below.count, n, below.first_out?, upto.last_in?))
    }

    /// Recounts the bins for the range `[lo, hi]` of the `n` finite values, `below` values
    /// (−NaN, −inf) sorting before them.
    fn recount(&mut self, lo: f64, hi: f64, below: usize, n: usize) {
        let bins = self.counts.len();
        let width = hi - lo;
        let mut prev = 0;
        for j in 1..bins {
            // Finite values of bin < j: a prefix of those from `lo` up (+inf, +NaN excluded).
            let upto = self.tree.count_while(|v| {
                v.total_cmp(&lo).is_lt() || (v.is_finite() && raw_bin(v, lo, width, bins) < j)
            }) - below;
            self.counts[j - 1] = (upto - prev) as u32;
            prev = upto;
        }
        self.counts[bins - 1] = (n - prev) as u32;
        self.lo = lo;
        self.hi = hi;
        self.valid = true;
    }
}

/// Shannon entropy of the last `window` inputs (pass returns, not prices: the Python original
/// binned raw prices), `bins` equal-width bins over the window's own range, in nats.
///
/// Non-finite inputs are left out of the histogram. A constant window has entropy 0; the
/// maximum is `ln(bins)`. Warm-up: `window − 1`. The bin of `v` is
/// `min(⌊(v − min)/(max − min)·bins⌋, bins − 1)`, evaluated in that order.
///
/// Cost: O(log window) per update while the window's range stays put, O(bins·log window)
/// when its minimum or maximum changes (about 4 updates in `window` on a random walk), plus
/// O(bins) for the sum; no allocation. The window's values sit in an order-statistics tree
/// (`src/window/order_stats.rs`); the bin counts are kept for the current range and recounted
/// from the tree, one rank query per bin boundary, when the range changes — the same counts, and
/// the same entropy bit for bit, as binning every value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EntropyState", into = "EntropyState")]
pub struct Entropy {
    values: Ring<f64>,
    /// The window's values, node `i` for ring slot `i`; rebuilt from `values` on load.
    hist: Histogram,
}

/// Serialised form of [`Entropy`] (the same as before the tree): the ring, and the bin counts,
/// of which only the length (the number of bins) is read back — the histogram is rebuilt from
/// the ring, identical to the live one.
#[derive(Serialize, Deserialize)]
struct EntropyState {
    values: Ring<f64>,
    counts: Vec<u32>,
}

impl From<Entropy> for EntropyState {
    fn from(e: Entropy) -> Self {
        Self {
            values: e.values,
            counts: e.hist.into_counts(),
        }
    }
}

impl TryFrom<EntropyState> for Entropy {
    type Error = Error;
    fn try_from(s: EntropyState) -> Result<Self, Error> {
        let cap = s.values.capacity();
        if s.counts.is_empty() || cap > crate::window::order_stats::MAX_CAPACITY {
            return Err(Error::InvalidState(
                "entropy without bins or window too large",
            ));
        }
        let hist = Histogram::from_slots(cap, s.counts.len(), s.values.iter_slots());
        Ok(Self {
            values: s.values,
            hist,
        })
    }
}

impl Entropy {
    /// Entropy over `window` values with `bins` bins.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 2` or `bins < 2`; [`Error::ParameterOutOfRange`]
    /// if `window` exceeds 4,294,967,294.
    pub fn new(window: usize, bins: usize) -> Result<Self, Error> {
        check_period("ENTROPY", "window", window, 2)?;
        check_period("ENTROPY", "bins", bins, 2)?;
        check_window_max("ENTROPY", "window", window)?;
        Ok(Self {
            values: Ring::new(window),
            hist: Histogram::new(window, bins),
        })
    }
}

impl Indicator for Entropy {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let slot = self.values.next_slot();
        if self.values.push_back(x).is_some() {
            self.hist.remove(slot);
        }
        self.hist.insert(slot, x);
        if !self.values.is_full() {
            return None;
        }
        Some(self.hist.entropy())
    }

    fn reset(&mut self) {
        self.values.clear();
        self.hist.clear();
    }

    fn is_ready(&self) -> bool {
        self.values.is_full()
    }
}

/// The definition the histogram reproduces: bin every finite value of the window, O(window).
#[cfg(test)]
pub(crate) fn histogram_entropy<I: Iterator<Item = f64> + Clone>(values: I, bins: usize) -> f64 {
    let mut counts = vec![0u32; bins];
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0u32);
    for v in values.clone().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
        n += 1;
    }
    let width = hi - lo;
    if n < 2 || !(width > 0.0 && width.is_finite()) || counts.is_empty() {
        return 0.0;
    }
    for v in values.filter(|v| v.is_finite()) {
        let k = (((v - lo) / width) * bins as f64) as usize;
        counts[k.min(bins - 1)] += 1;
    }
    let total = f64::from(n);
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| f64::from(c) / total)
        .map(|p| p * p.ln())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Values crowding bin edges (multiples of tenths, where `(v − lo)/width·bins` rounds
    /// either way), repeats, ±0, NaN and infinities.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => (-30i32..30).prop_map(|i| f64::from(i) * 0.1),
            2 => (-5i32..5).prop_map(f64::from),
            1 => Just(0.0),
            1 => Just(-0.0),
            1 => Just(f64::NAN),
            1 => Just(-f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(f64::MAX),
            1 => Just(-f64::MAX),
            2 => -1.0f64..1.0,
            1 => prop::num::f64::ANY,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn bit_identical_to_binning_the_window(
            window in 2usize..12,
            bins in 2usize..12,
            xs in prop::collection::vec(value(), 0..150),
        ) {
            let mut e = Entropy::new(window, bins).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                let got = e.update(x);
                if i + 1 >= window {
                    let want = histogram_entropy(xs[i + 1 - window..=i].iter().copied(), bins);
                    prop_assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "at {}", i);
                } else {
                    prop_assert_eq!(got, None);
                }
            }
        }
    }

    #[test]
    fn checkpoint_round_trip() {
        let mut e = Entropy::new(5, 3).unwrap();
        for x in [0.1, 0.7, -0.2, 0.3, 0.9, 0.0] {
            e.update(x);
        }
        let json = serde_json::to_string(&e).unwrap();
        let mut back: Entropy = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        // The counts are a cache: only their number is read back.
        let stale = json.replace("\"counts\":[2,1,2]", "\"counts\":[9,9,9]");
        assert_ne!(stale, json);
        let mut stale: Entropy = serde_json::from_str(&stale).unwrap();
        for x in [0.4, 0.5, 2.0] {
            let want = e.update(x);
            assert_eq!(back.update(x), want);
            assert_eq!(stale.update(x), want);
        }
        let none = json.replace("\"counts\":[2,1,2]", "\"counts\":[]");
        assert!(serde_json::from_str::<Entropy>(&none).is_err());
    }
}
