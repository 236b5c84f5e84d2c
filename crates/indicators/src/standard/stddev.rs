//! [`StdDev`]: rolling population standard deviation.

use serde::{Deserialize, Serialize};

use crate::window::{RollingVariance, std_dev};
use crate::{Error, Indicator, error::check_period, error::check_range};

/// Rolling population standard deviation times `nb_dev`, TA-Lib `STDDEV`.
///
/// The variance is TA-Lib 0.8's shifted running variance (see `docs/indicators.md`); the
/// result is 0 when the variance is not positive (a flat window). Warm-up: `period − 1`.
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Prices near 1e-5 have variances near 1e-20: a fixed "below 1e-8 is zero" floor zeroed
    /// every one of them, where TA-Lib 0.8.1 gives the deviation.
    #[test]
    fn a_micro_priced_window_has_its_real_deviation() {
        let xs = [1.0e-5, 1.2e-5, 0.9e-5, 1.1e-5, 1.3e-5];
        let mean = xs.iter().sum::<f64>() / 5.0;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0;
        let out = StdDev::new(5, 1.0).unwrap().batch(&xs).values;
        assert_eq!(out.len(), 1);
        assert!((out[0] - var.sqrt()).abs() <= 1e-9 * var.sqrt(), "{out:?}");
        // A flat window is still exactly 0.
        let flat = StdDev::new(5, 2.0).unwrap().batch(&[3.0e-5; 8]).values;
        assert!(flat.iter().all(|&s| s == 0.0), "{flat:?}");
    }
}
