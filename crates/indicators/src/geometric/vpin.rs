//! [`Vpin`]: volume-synchronised probability of informed trading from bars.

use serde::{Deserialize, Serialize};

use super::volume_buckets::VolumeBuckets;
use crate::window::Ring;
use crate::{Candle, Error, Indicator, error::check_period, error::check_range};

/// Standard normal CDF, `Φ(z) = ½·erfc(−z/√2)` (erfc after Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7, ample for classifying volume).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    let erfc = if x >= 0.0 { y } else { 2.0 - y };
    0.5 * erfc
}

/// VPIN (Easley, López de Prado & O'Hara 2012) from bars with bulk-volume classification.
///
/// Each bar's volume is split into buys `V·Φ(ΔP/σ_ΔP)` and sells the rest, `ΔP` the close-to-
/// close change and `σ_ΔP` the population standard deviation of the last `sigma_window`
/// changes (a flat history, σ = 0, classifies by the sign of ΔP, half/half when ΔP = 0).
/// Volume fills buckets of exactly `bucket_volume` (bars are split across boundaries);
/// `VPIN = Σ_{last n buckets}|V_B − V_S| / (n·bucket_volume)` ∈ [0, 1].
///
/// Zero-volume bars change nothing; NaN/inf volumes are ignored; a NaN close is skipped for
/// the change series. Warm-up: until `n` buckets are full (data dependent); then a value every
/// bar. O(1) per bar (amortised; a bar spanning many buckets costs at most O(n)), no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vpin {
    buckets: VolumeBuckets,
    prev_close: Option<f64>,
    changes: Ring<f64>,
    sum: f64,
    sum_sq: f64,
}

impl Vpin {
    /// VPIN over `buckets` buckets of `bucket_volume`, σ over `sigma_window` bar changes.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `buckets < 1` or `sigma_window < 2`;
    /// [`Error::ParameterOutOfRange`] if `bucket_volume` is not positive and finite.
    pub fn new(bucket_volume: f64, buckets: usize, sigma_window: usize) -> Result<Self, Error> {
        check_range(
            "VPIN",
            "bucket_volume",
            bucket_volume,
            f64::MIN_POSITIVE,
            f64::MAX,
            "(0, max f64]",
        )?;
        check_period("VPIN", "buckets", buckets, 1)?;
        check_period("VPIN", "sigma_window", sigma_window, 2)?;
        Ok(Self {
            buckets: VolumeBuckets::new(bucket_volume, buckets),
            prev_close: None,
            changes: Ring::new(sigma_window),
            sum: 0.0,
            sum_sq: 0.0,
        })
    }

    /// Buckets completed so far.
    #[must_use]
    pub fn buckets_filled(&self) -> u64 {
        self.buckets.filled()
    }

    fn buy_fraction(&mut self, close: f64) -> f64 {
        let Some(prev) = self.prev_close else {
            if close.is_finite() {
                self.prev_close = Some(close);
            }
            return 0.5;
        };
        if !close.is_finite() {
            return 0.5;
        }
        self.prev_close = Some(close);
        let dp = close - prev;
        if let Some(old) = self.changes.push_back(dp) {
            self.sum -= old;
            self.sum_sq -= old * old;
        }
        self.sum += dp;
        self.sum_sq += dp * dp;
        let n = self.changes.len() as f64;
        let mean = self.sum / n;
        let sigma = (self.sum_sq / n - mean * mean).max(0.0).sqrt();
        if sigma > 0.0 && sigma.is_finite() {
            normal_cdf(dp / sigma)
        } else if dp > 0.0 {
            1.0
        } else if dp < 0.0 {
            0.0
        } else {
            0.5
        }
    }
}

impl Indicator for Vpin {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let f = self.buy_fraction(c.close);
        self.buckets.add(c.volume, f);
        self.buckets.vpin()
    }

    fn reset(&mut self) {
        self.buckets.reset();
        self.prev_close = None;
        self.changes.clear();
        self.sum = 0.0;
        self.sum_sq = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.buckets.vpin().is_some()
    }
}
