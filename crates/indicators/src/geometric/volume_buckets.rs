//! [`VolumeBuckets`]: equal-volume buckets of classified volume, the core of VPIN.

use serde::{Deserialize, Serialize};

use crate::window::Ring;

/// Fills buckets of exactly `bucket_volume` with buy/sell volume (splitting an input across
/// bucket boundaries) and keeps the order imbalance `|V_B − V_S|` of the last `buckets` full
/// buckets. VPIN is `Σ imbalance / (buckets·bucket_volume)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct VolumeBuckets {
    bucket_volume: f64,
    current_buy: f64,
    current_total: f64,
    imbalances: Ring<f64>,
    sum: f64,
    filled: u64,
}

impl VolumeBuckets {
    pub(crate) fn new(bucket_volume: f64, buckets: usize) -> Self {
        Self {
            bucket_volume,
            current_buy: 0.0,
            current_total: 0.0,
            imbalances: Ring::new(buckets),
            sum: 0.0,
            filled: 0,
        }
    }

    /// Back to the constructed state, keeping the ring's buffer (no allocation).
    pub(crate) fn reset(&mut self) {
        self.current_buy = 0.0;
        self.current_total = 0.0;
        self.imbalances.clear();
        self.sum = 0.0;
        self.filled = 0;
    }

    /// Buckets completed so far.
    pub(crate) fn filled(&self) -> u64 {
        self.filled
    }

    fn close_bucket(&mut self, buy: f64) {
        let imbalance = (2.0 * buy - self.bucket_volume).abs();
        if let Some(old) = self.imbalances.push_back(imbalance) {
            self.sum -= old;
        }
        self.sum += imbalance;
        self.filled = self.filled.saturating_add(1);
    }

    /// Adds `volume` of which a fraction `buy_fraction` was buyer-initiated. Zero, negative or
    /// non-finite volumes and fractions are ignored (nothing traded, or nothing to classify).
    pub(crate) fn add(&mut self, volume: f64, buy_fraction: f64) {
        if !(volume > 0.0 && volume.is_finite() && buy_fraction.is_finite()) {
            return;
        }
        let f = buy_fraction.clamp(0.0, 1.0);
        let v = self.bucket_volume;
        let mut remaining = volume;
        // Finish the open bucket.
        let space = v - self.current_total;
        if remaining >= space {
            let buy = self.current_buy + space * f;
            remaining -= space;
            self.current_buy = 0.0;
            self.current_total = 0.0;
            self.close_bucket(buy);
        } else {
            self.current_buy += remaining * f;
            self.current_total += remaining;
            return;
        }
        // Whole buckets: all have the same imbalance, and only the last `buckets` of them can
        // stay in the window, so a huge input costs O(buckets), not O(volume/V).
        let whole = (remaining / v).floor();
        let keep = whole.min(self.imbalances.capacity() as f64) as u64;
        let skipped = whole - keep as f64;
        self.filled = self.filled.saturating_add(skipped as u64);
        for _ in 0..keep {
            self.close_bucket(v * f);
        }
        remaining -= whole * v;
        if remaining > 0.0 {
            self.current_buy = remaining * f;
            self.current_total = remaining;
        }
    }

    /// VPIN once `buckets` buckets are full.
    pub(crate) fn vpin(&self) -> Option<f64> {
        self.imbalances.is_full().then(|| {
            let n = self.imbalances.capacity() as f64;
            (self.sum / (n * self.bucket_volume)).clamp(0.0, 1.0)
        })
    }
}
