//! [`DeltaEntropy`]: change of entropy between two consecutive windows.

use serde::{Deserialize, Serialize};

use super::entropy::Histogram;
use crate::error::{check_period, check_window_max};
use crate::window::Ring;
use crate::{Error, Indicator};

/// `ΔH = H(last window) − H(window before it)`, each half binned over its own range (so ΔH
/// measures a change of shape, not of level) exactly as [`super::Entropy`] bins one window.
/// Negative ΔH: the distribution is concentrating. Warm-up: `2·window − 1`.
///
/// Cost: O(log window) per update while both halves keep their ranges, O(bins·log window)
/// when one changes, plus O(bins); no allocation. Each half is a histogram over an
/// order-statistics tree whose nodes are slots of the shared `2·window` ring; the value that
/// ages out of the newer half moves to the older one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "DeltaEntropyState", into = "DeltaEntropyState")]
pub struct DeltaEntropy {
    window: usize,
    values: Ring<f64>,
    /// The oldest `window` values of `values`; rebuilt from it on load.
    older: Histogram,
    /// The newest `window` values; rebuilt from `values` on load.
    newer: Histogram,
}

/// Serialised form of [`DeltaEntropy`] (the same as before the trees): the `2·window` ring and
/// the older half's bin counts, of which only the length (the number of bins) is read back —
/// both histograms are rebuilt from the ring, identical to the live ones.
#[derive(Serialize, Deserialize)]
struct DeltaEntropyState {
    window: usize,
    values: Ring<f64>,
    counts: Vec<u32>,
}

impl From<DeltaEntropy> for DeltaEntropyState {
    fn from(d: DeltaEntropy) -> Self {
        Self {
            window: d.window,
            counts: d.older.into_counts(),
            values: d.values,
        }
    }
}

impl TryFrom<DeltaEntropyState> for DeltaEntropy {
    type Error = Error;
    fn try_from(s: DeltaEntropyState) -> Result<Self, Error> {
        let cap = s.values.capacity();
        if s.counts.is_empty()
            || s.window == 0
            || s.window.checked_mul(2) != Some(cap)
            || cap > crate::window::order_stats::MAX_CAPACITY
        {
            return Err(Error::InvalidState(
                "delta-entropy ring must hold two windows, with at least one bin",
            ));
        }
        let (w, bins) = (s.window, s.counts.len());
        let older = Histogram::from_slots(cap, bins, s.values.iter_slots().take(w));
        let newer = Histogram::from_slots(cap, bins, s.values.iter_slots().skip(w));
        Ok(Self {
            window: w,
            values: s.values,
            older,
            newer,
        })
    }
}

impl DeltaEntropy {
    /// ΔH between consecutive windows of `window` values, `bins` bins each.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 2` or `bins < 2`; [`Error::ParameterOutOfRange`]
    /// if `2·window` exceeds 4,294,967,294.
    pub fn new(window: usize, bins: usize) -> Result<Self, Error> {
        check_period("DELTA_ENTROPY", "window", window, 2)?;
        check_period("DELTA_ENTROPY", "bins", bins, 2)?;
        check_window_max("DELTA_ENTROPY", "window", window.saturating_mul(2))?;
        Ok(Self {
            window,
            values: Ring::new(2 * window),
            older: Histogram::new(2 * window, bins),
            newer: Histogram::new(2 * window, bins),
        })
    }
}

impl Indicator for DeltaEntropy {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let w = self.window;
        let slot = self.values.next_slot();
        if self.values.is_full() {
            // The oldest value leaves (its slot takes `x`); the one `w` places later ages from
            // the newer half into the older.
            self.older.remove(slot);
            let mid = self.values.slot(w);
            let v = self.newer.remove(mid);
            self.older.insert(mid, v);
            self.newer.insert(slot, x);
        } else if self.values.len() < w {
            self.older.insert(slot, x);
        } else {
            self.newer.insert(slot, x);
        }
        self.values.push_back(x);
        if !self.values.is_full() {
            return None;
        }
        let older = self.older.entropy();
        let newer = self.newer.entropy();
        Some(newer - older)
    }

    fn reset(&mut self) {
        self.values.clear();
        self.older.clear();
        self.newer.clear();
    }

    fn is_ready(&self) -> bool {
        self.values.is_full()
    }
}

#[cfg(test)]
mod tests {
    use super::super::entropy::histogram_entropy;
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => (-30i32..30).prop_map(|i| f64::from(i) * 0.1),
            1 => Just(-0.0),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            2 => -1.0f64..1.0,
            1 => prop::num::f64::ANY,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn bit_identical_to_binning_both_windows(
            window in 2usize..9,
            bins in 2usize..9,
            xs in prop::collection::vec(value(), 0..120),
        ) {
            let mut d = DeltaEntropy::new(window, bins).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                let got = d.update(x);
                if i + 1 >= 2 * window {
                    let older = &xs[i + 1 - 2 * window..=i - window];
                    let newer = &xs[i + 1 - window..=i];
                    let want = histogram_entropy(newer.iter().copied(), bins)
                        - histogram_entropy(older.iter().copied(), bins);
                    prop_assert_eq!(got.map(f64::to_bits), Some(want.to_bits()), "at {}", i);
                } else {
                    prop_assert_eq!(got, None);
                }
            }
        }

        #[test]
        fn checkpoints_resume_bit_for_bit(
            // JSON has no NaN or infinity, so checkpoints hold finite values.
            xs in prop::collection::vec(prop_oneof![(-30i32..30).prop_map(|i| f64::from(i) * 0.1), -1.0f64..1.0], 0..80),
            cut in 0usize..80,
        ) {
            let mut live = DeltaEntropy::new(4, 3).unwrap();
            let cut = cut.min(xs.len());
            for &x in &xs[..cut] {
                live.update(x);
            }
            let mut resumed: DeltaEntropy =
                serde_json::from_str(&serde_json::to_string(&live).unwrap()).unwrap();
            for &x in &xs[cut..] {
                prop_assert_eq!(
                    format!("{:?}", live.update(x)),
                    format!("{:?}", resumed.update(x))
                );
            }
        }
    }

    #[test]
    fn corrupt_checkpoints_are_refused() {
        let json = serde_json::to_string(&DeltaEntropy::new(3, 4).unwrap()).unwrap();
        assert!(serde_json::from_str::<DeltaEntropy>(&json).is_ok());
        for bad in [
            json.replace("\"window\":3", "\"window\":4"),
            json.replace("\"window\":3", "\"window\":0"),
            json.replace("\"counts\":[0,0,0,0]", "\"counts\":[]"),
        ] {
            assert_ne!(bad, json);
            assert!(serde_json::from_str::<DeltaEntropy>(&bad).is_err(), "{bad}");
        }
    }
}
