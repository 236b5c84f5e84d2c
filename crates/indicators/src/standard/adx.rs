//! [`Adx`]: average directional index.

use serde::{Deserialize, Serialize};

use super::dmi::{DirectionalMovement, is_zero};
use crate::{Candle, Error, Indicator, error::check_period};

/// ADX with the +DI and −DI it is built from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdxOutput {
    /// Average directional index.
    pub adx: f64,
    /// +DI (TA-Lib `PLUS_DI`).
    pub plus_di: f64,
    /// −DI (TA-Lib `MINUS_DI`).
    pub minus_di: f64,
}

/// TA-Lib `ADX` (with `PLUS_DI`/`MINUS_DI` alongside): `DX = 100·|−DI − +DI|/(−DI + +DI)`,
/// ADX seeded with the mean of the first `period` DX values, then Wilder-smoothed. A bar whose
/// TR or DI sum is within 1e-8 of zero contributes no DX and leaves ADX unchanged (TA-Lib).
/// Warm-up: `2·period − 1` (the DI values exist earlier: use [`crate::Dmi`] for them).
/// O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adx {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    dm: DirectionalMovement,
    dx_count: usize,
    sum_dx: f64,
    adx: f64,
}

impl Adx {
    /// An ADX over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("ADX", "period", period, 2)?;
        Ok(Self {
            period,
            dm: DirectionalMovement::new(period),
            dx_count: 0,
            sum_dx: 0.0,
            adx: 0.0,
        })
    }
}

impl Indicator for Adx {
    type Input = Candle;
    type Output = AdxOutput;

    fn update(&mut self, c: Candle) -> Option<AdxOutput> {
        let s = self.dm.update(&c)?;
        let (mut plus_di, mut minus_di, mut dx) = (0.0, 0.0, None);
        if !is_zero(s.tr) {
            minus_di = 100.0 * (s.minus_dm / s.tr);
            plus_di = 100.0 * (s.plus_dm / s.tr);
            let sum = minus_di + plus_di;
            if !is_zero(sum) {
                dx = Some(100.0 * ((minus_di - plus_di).abs() / sum));
            }
        }
        let n = self.period;
        if self.dx_count < n {
            if let Some(dx) = dx {
                self.sum_dx += dx;
            }
            self.dx_count += 1;
            if self.dx_count < n {
                return None;
            }
            self.adx = self.sum_dx / n as f64;
        } else if let Some(dx) = dx {
            self.adx = ((self.adx * (n - 1) as f64) + dx) / n as f64;
        }
        Some(AdxOutput {
            adx: self.adx,
            plus_di,
            minus_di,
        })
    }

    fn reset(&mut self) {
        self.dm.reset();
        self.dx_count = 0;
        self.sum_dx = 0.0;
        self.adx = 0.0;
    }

    fn is_ready(&self) -> bool {
        self.dx_count >= self.period
    }
}
