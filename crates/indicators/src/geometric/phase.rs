//! [`CausalPhase`]: instantaneous phase of price changes from a causal FIR Hilbert transformer.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// Instantaneous phase `θ_t ∈ (−π, π]` of the price *changes* `Δp_t = p_t − p_{t−1}`, a
/// zero-mean signal (the Python original took the phase of raw prices, which pins θ near 0 and
/// R near 1 on any series).
///
/// The analytic signal is `z_t = Δp_{t−M} + i·Σ_{k=−M..M} h_k Δp_{t−M−k}` with the Hamming-
/// windowed Hilbert kernel `h_k = 2/(πk)·(0.54 + 0.46·cos(πk/M))` for odd `k` (0 for even `k`).
/// Only inputs up to `t` are used: the phase describes bar `t − M` and is reported at bar `t`,
/// a fixed delay of `M` bars (`half_taps`) instead of a look into the future. Frequencies
/// between roughly `1/(2M)` and the Nyquist band edge are resolved.
///
/// Output: `(θ, |z|)`. A stretch of zero changes has `|z| = 0` and `θ = 0`; consumers treat
/// such samples as having no phase. Warm-up: `2M + 1` inputs. O(M) per update (M fixed), no
/// allocation. Non-finite prices give non-finite changes, which give NaN phases while they are
/// inside the `2M + 1` window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CausalPhase {
    #[serde(deserialize_with = "crate::error::nonzero")]
    half_taps: usize,
    kernel: Vec<f64>,
    prev: Option<f64>,
    changes: Ring<f64>,
}

/// Phase and amplitude of the analytic signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PhaseOutput {
    /// Instantaneous phase in `(−π, π]`.
    pub phase: f64,
    /// Amplitude `|z|`; 0 when there is no movement.
    pub amplitude: f64,
}

impl CausalPhase {
    /// A phase estimator with a `2·half_taps + 1`-tap kernel (15 is a good default).
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `half_taps < 2`.
    pub fn new(half_taps: usize) -> Result<Self, Error> {
        check_period("PHASE", "half_taps", half_taps, 2)?;
        let m = half_taps as f64;
        let kernel = (0..=2 * half_taps)
            .map(|j| {
                let k = j as f64 - m;
                if (j + half_taps).is_multiple_of(2) {
                    0.0
                } else {
                    2.0 / (PI * k) * (0.54 + 0.46 * (PI * k / m).cos())
                }
            })
            .collect();
        Ok(Self {
            half_taps,
            kernel,
            prev: None,
            changes: Ring::new(2 * half_taps + 1),
        })
    }

    /// Bars between the bar a phase describes and the bar it is reported at.
    #[must_use]
    pub fn delay(&self) -> usize {
        self.half_taps
    }
}

impl Indicator for CausalPhase {
    type Input = f64;
    type Output = PhaseOutput;

    fn update(&mut self, price: f64) -> Option<PhaseOutput> {
        let prev = self.prev.replace(price)?;
        self.changes.push_back(price - prev);
        if !self.changes.is_full() {
            return None;
        }
        // kernel[j] holds h_{j−M}; the change Δp_{t−M−k} sits at ring position M − k.
        let m = self.half_taps;
        let mut imag = 0.0;
        for (j, &h) in self.kernel.iter().enumerate() {
            if h != 0.0 {
                imag += h
                    * (2 * m)
                        .checked_sub(j)
                        .and_then(|k| self.changes.get(k))
                        .unwrap_or(0.0);
            }
        }
        let real = self.changes.get(m).unwrap_or(0.0);
        let amplitude = real.hypot(imag);
        Some(PhaseOutput {
            phase: imag.atan2(real),
            amplitude,
        })
    }

    fn reset(&mut self) {
        self.prev = None;
        self.changes.clear();
    }

    fn is_ready(&self) -> bool {
        self.changes.is_full()
    }
}
