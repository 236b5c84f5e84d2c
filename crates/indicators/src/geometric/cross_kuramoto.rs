//! [`CrossKuramoto`]: synchronisation across instruments at each time.

use serde::{Deserialize, Serialize};

use super::CausalPhase;
use crate::{Error, Indicator, Series, error::check_period};

/// Cross-asset Kuramoto order parameter `R_t = |(1/N') Σ_k e^{iθ_k(t)}|` over the instruments
/// whose causal phase ([`CausalPhase`]) is finite with non-zero amplitude at `t` (`N'` of them; `R = 0`
/// when none moves). This is the synchronisation measure of the Kuramoto model: 1 when all
/// instruments are at the same point of their cycle, about `1/√N` for independent ones.
///
/// Warm-up: `2M + 1` updates. O(N·M) per update, no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrossKuramoto {
    phases: Vec<CausalPhase>,
    ready: bool,
}

impl CrossKuramoto {
    /// Synchronisation of `instruments` series with a `2·half_taps + 1` Hilbert kernel.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `instruments < 2` or `half_taps < 2`.
    pub fn new(instruments: usize, half_taps: usize) -> Result<Self, Error> {
        check_period("CROSS_KURAMOTO", "instruments", instruments, 2)?;
        let phase = CausalPhase::new(half_taps)?;
        Ok(Self {
            phases: vec![phase; instruments],
            ready: false,
        })
    }

    /// Feeds one price per instrument (same order every time).
    ///
    /// # Errors
    /// [`Error::WidthMismatch`] if `prices.len()` differs from the instrument count; the state
    /// is left unchanged.
    pub fn update(&mut self, prices: &[f64]) -> Result<Option<f64>, Error> {
        if prices.len() != self.phases.len() {
            return Err(Error::WidthMismatch {
                indicator: "CROSS_KURAMOTO",
                expected: self.phases.len(),
                got: prices.len(),
            });
        }
        let (mut re, mut im, mut n) = (0.0, 0.0, 0usize);
        let mut ready = true;
        for (phase, &p) in self.phases.iter_mut().zip(prices) {
            match phase.update(p) {
                Some(o) if o.amplitude > 0.0 && o.phase.is_finite() => {
                    re += o.phase.cos();
                    im += o.phase.sin();
                    n += 1;
                }
                Some(_) => {}
                None => ready = false,
            }
        }
        if !ready {
            return Ok(None);
        }
        self.ready = true;
        Ok(Some(if n == 0 {
            0.0
        } else {
            (re.hypot(im) / n as f64).clamp(0.0, 1.0)
        }))
    }

    /// Runs over whole series, `series[k]` being instrument `k`'s prices.
    ///
    /// # Errors
    /// [`Error::WidthMismatch`] if the number of series is wrong or their lengths differ.
    pub fn batch(&mut self, series: &[Vec<f64>]) -> Result<Series<f64>, Error> {
        self.reset();
        let len = series.first().map_or(0, Vec::len);
        if let Some(bad) = series.iter().find(|s| s.len() != len) {
            return Err(Error::WidthMismatch {
                indicator: "CROSS_KURAMOTO",
                expected: len,
                got: bad.len(),
            });
        }
        let mut row = vec![0.0; series.len()];
        let mut out = Series {
            start: len,
            values: Vec::with_capacity(len),
        };
        for t in 0..len {
            for (slot, s) in row.iter_mut().zip(series) {
                *slot = s[t];
            }
            if let Some(r) = self.update(&row)? {
                if out.values.is_empty() {
                    out.start = t;
                }
                out.values.push(r);
            }
        }
        Ok(out)
    }

    /// Forgets all inputs.
    pub fn reset(&mut self) {
        for p in &mut self.phases {
            p.reset();
        }
        self.ready = false;
    }

    /// Whether the last update produced a value.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready
    }
}
