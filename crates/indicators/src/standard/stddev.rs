//! [`StdDev`]: rolling population standard deviation.

use serde::{Deserialize, Serialize};

use crate::window::{RollingVariance, std_dev};
use crate::{Error, Indicator, error::check_period, error::check_range};

/// Rolling population standard deviation times `nb_dev`, TA-Lib `STDDEV`.
///
/// The variance is TA-Lib 0.8's shifted running variance (see `docs/indicators.md`); the
/// result is 0 when the variance is below 1e-8 (a flat window). Warm-up: `period − 1`.
/// O(1) per update apart from occasional O(period) re-anchors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StdDev {
    nb_dev: f64,
    var: RollingVariance,
}

impl StdDev {
    /// Standard deviation over `period` values, scaled by `nb_dev`.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`; [`Error::ParameterOutOfRange`] if `nb_dev`
    /// is not finite.
    pub fn new(period: usize, nb_dev: f64) -> Result<Self, Error> {
        check_period("STDDEV", "period", period, 2)?;
        check_range("STDDEV", "nb_dev", nb_dev, -1e300, 1e300, "finite numbers")?;
        Ok(Self {
            nb_dev,
            var: RollingVariance::new(period),
        })
    }
}

impl Indicator for StdDev {
    type Input = f64;
    type Output = f64;

    #[inline]
    fn update(&mut self, x: f64) -> Option<f64> {
        self.var.update(x).map(|(_, v)| std_dev(v, self.nb_dev))
    }

    fn reset(&mut self) {
        self.var.reset();
    }

    fn is_ready(&self) -> bool {
        self.var.is_ready()
    }
}
