//! [`Dmi`]: Wilder's directional movement indicators +DI and −DI.

use serde::{Deserialize, Serialize};

use super::true_range::true_range;
use crate::{Candle, Error, Indicator, error::check_period};

/// +DI and −DI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DmiOutput {
    /// +DI.
    pub plus_di: f64,
    /// −DI.
    pub minus_di: f64,
}

pub(crate) fn is_zero(v: f64) -> bool {
    -0.000_000_01 < v && v < 0.000_000_01
}

/// Wilder-smoothed +DM, −DM and TR shared by [`Dmi`] and [`crate::Adx`], with TA-Lib's
/// seeding: bars `1 … n−1` are summed, every later bar decays by `1/n` and adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct DirectionalMovement {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    count: usize,
    prev_high: f64,
    prev_low: f64,
    prev_close: f64,
    plus_dm: f64,
    minus_dm: f64,
    tr: f64,
}

/// Smoothed sums after a bar.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DmSums {
    pub(crate) plus_dm: f64,
    pub(crate) minus_dm: f64,
    pub(crate) tr: f64,
}

impl DirectionalMovement {
    pub(crate) fn new(period: usize) -> Self {
        Self {
            period,
            count: 0,
            prev_high: 0.0,
            prev_low: 0.0,
            prev_close: 0.0,
            plus_dm: 0.0,
            minus_dm: 0.0,
            tr: 0.0,
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.period);
    }

    /// Feeds one bar; returns the smoothed sums from bar `period` on.
    #[inline]
    pub(crate) fn update(&mut self, c: &Candle) -> Option<DmSums> {
        if self.count == 0 {
            self.prev_high = c.high;
            self.prev_low = c.low;
            self.prev_close = c.close;
            self.count = 1;
            return None;
        }
        let diff_p = c.high - self.prev_high;
        let diff_m = self.prev_low - c.low;
        self.prev_high = c.high;
        self.prev_low = c.low;
        let n = self.period as f64;
        let smoothing = self.count >= self.period;
        if smoothing {
            self.minus_dm -= self.minus_dm / n;
            self.plus_dm -= self.plus_dm / n;
        }
        if diff_m > 0.0 && diff_p < diff_m {
            self.minus_dm += diff_m;
        } else if diff_p > 0.0 && diff_p > diff_m {
            self.plus_dm += diff_p;
        }
        let tr = true_range(c, self.prev_close);
        if smoothing {
            self.tr = self.tr - (self.tr / n) + tr;
        } else {
            self.tr += tr;
        }
        self.prev_close = c.close;
        self.count = self.count.saturating_add(1);
        smoothing.then_some(DmSums {
            plus_dm: self.plus_dm,
            minus_dm: self.minus_dm,
            tr: self.tr,
        })
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.count > self.period
    }
}

/// +DI and −DI, TA-Lib `PLUS_DI`/`MINUS_DI`: `100·DM/TR` of the Wilder-smoothed sums, 0 when
/// TR is within 1e-8 of zero. Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dmi {
    dm: DirectionalMovement,
}

impl Dmi {
    /// A DMI over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("DMI", "period", period, 2)?;
        Ok(Self {
            dm: DirectionalMovement::new(period),
        })
    }
}

impl Indicator for Dmi {
    type Input = Candle;
    type Output = DmiOutput;

    fn update(&mut self, c: Candle) -> Option<DmiOutput> {
        let s = self.dm.update(&c)?;
        Some(if is_zero(s.tr) {
            DmiOutput {
                plus_di: 0.0,
                minus_di: 0.0,
            }
        } else {
            DmiOutput {
                plus_di: 100.0 * (s.plus_dm / s.tr),
                minus_di: 100.0 * (s.minus_dm / s.tr),
            }
        })
    }

    fn reset(&mut self) {
        self.dm.reset();
    }

    fn is_ready(&self) -> bool {
        self.dm.is_ready()
    }
}
