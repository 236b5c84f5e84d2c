//! [`Bollinger`]: Bollinger bands.

use serde::{Deserialize, Serialize};

use crate::window::{RollingVariance, std_dev};
use crate::{Error, Indicator, error::check_period, error::check_range};

/// Three bands around a centre line: Bollinger, Donchian and Keltner channels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BandsOutput {
    /// Upper band.
    pub upper: f64,
    /// Centre line.
    pub middle: f64,
    /// Lower band.
    pub lower: f64,
}

/// Bollinger bands with an SMA centre, TA-Lib `BBANDS(period, nb_dev_up, nb_dev_dn, SMA)`.
///
/// `σ` is the population standard deviation (TA-Lib 0.8's shifted running variance, 0 when the
/// variance is below 1e-8); `upper = SMA + up·σ`, `lower = SMA − dn·σ`.
/// Warm-up: `period − 1`. O(1) per update apart from occasional O(period) re-anchors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bollinger {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    up: f64,
    down: f64,
    /// SMA running sum (TA-Lib's order: add, emit, subtract the oldest).
    sum: f64,
    var: RollingVariance,
}

impl Bollinger {
    /// Bands over `period` values at `up`/`down` standard deviations.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`; [`Error::ParameterOutOfRange`] if a
    /// multiplier is not finite.
    pub fn new(period: usize, up: f64, down: f64) -> Result<Self, Error> {
        check_period("BBANDS", "period", period, 2)?;
        check_range("BBANDS", "nb_dev_up", up, -1e300, 1e300, "finite numbers")?;
        check_range("BBANDS", "nb_dev_dn", down, -1e300, 1e300, "finite numbers")?;
        Ok(Self {
            period,
            up,
            down,
            sum: 0.0,
            var: RollingVariance::new(period),
        })
    }
}

impl Bollinger {
    #[inline]
    fn bands(&self, middle: f64, var: f64) -> BandsOutput {
        let sd = std_dev(var, 1.0);
        BandsOutput {
            upper: middle + sd * self.up,
            middle,
            lower: middle - sd * self.down,
        }
    }
}

impl Indicator for Bollinger {
    type Input = f64;
    type Output = BandsOutput;

    #[inline]
    fn update(&mut self, x: f64) -> Option<BandsOutput> {
        let var = self.var.update(x);
        self.sum += x;
        let var = var?;
        let total = self.sum;
        self.sum -= self.var.oldest();
        Some(self.bands(total / self.period as f64, var))
    }

    fn reset(&mut self) {
        self.sum = 0.0;
        self.var.reset();
    }

    fn is_ready(&self) -> bool {
        self.var.is_ready()
    }

    /// Slice form: one pass for the SMA and the variance, bit-identical to streaming.
    fn batch_into(&mut self, inputs: &[f64], out: &mut Vec<BandsOutput>) -> usize {
        self.reset();
        out.clear();
        let n = self.period;
        if inputs.len() < n {
            for &x in inputs {
                self.update(x);
            }
            return inputs.len();
        }
        let p = n as f64;
        out.reserve(inputs.len() - n + 1);
        let mut var = RollingVariance::new(n);
        let this = &*self;
        let sum = var.run_slice(inputs, |_, total, v| out.push(this.bands(total / p, v)));
        self.var = var;
        self.sum = sum;
        n - 1
    }
}
