//! [`Bollinger`]: Bollinger bands.

use serde::{Deserialize, Serialize};

use crate::dispatch::with_cpu_features;
use crate::window::{CHUNK, RollingVariance, std_dev};
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
/// variance is not positive); `upper = SMA + up·σ`, `lower = SMA − dn·σ`.
/// Warm-up: `period − 1`. Amortised O(1) per update (see `RollingVariance` for the re-anchors).
///
/// The SMA is the variance's own window mean, `shift + Σ(x − shift)/period`, rather than
/// TA-Lib's separate running sum divided by `period` (within 5e-15 of it relative to the
/// price level, on the repo's data): a second running sum and a division per value are a
/// tenth of a streaming update (with a shorter ring step and re-anchor countdown,
/// 4.9 → 4.4 ns; docs/PERFORMANCE.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bollinger {
    up: f64,
    down: f64,
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
            up,
            down,
            var: RollingVariance::new(period),
        })
    }
}

/// The bands around `middle` at `sd` (one standard deviation), `up`/`down` multiples.
#[inline(always)]
fn bands(middle: f64, sd: f64, up: f64, down: f64) -> BandsOutput {
    BandsOutput {
        upper: middle + sd * up,
        middle,
        lower: middle - sd * down,
    }
}

impl Indicator for Bollinger {
    type Input = f64;
    type Output = BandsOutput;

    #[inline]
    fn update(&mut self, x: f64) -> Option<BandsOutput> {
        let (mean, var) = self.var.update(x)?;
        Some(bands(mean, std_dev(var, 1.0), self.up, self.down))
    }

    fn reset(&mut self) {
        self.var.reset();
    }

    fn is_ready(&self) -> bool {
        self.var.is_ready()
    }

    /// Slice form: one pass for the SMA and the variance, bit-identical to streaming.
    fn batch_into(&mut self, inputs: &[f64], out: &mut Vec<BandsOutput>) -> usize {
        self.reset();
        out.clear();
        let n = self.var.period();
        if inputs.len() < n {
            for &x in inputs {
                self.update(x);
            }
            return inputs.len();
        }
        out.reserve(inputs.len() - n + 1);
        let (up, down) = (self.up, self.down);
        self.var.run_slice(inputs, |means, variances| {
            // Square roots have no chain between values: in a loop of their own they vectorise
            // (AVX2 where the CPU has it), the same IEEE results as one by one.
            with_cpu_features(
                #[inline(always)]
                || {
                    let mut sd = [0.0; CHUNK];
                    for (s, &v) in sd.iter_mut().zip(variances) {
                        *s = std_dev(v, 1.0);
                    }
                    for (&m, &s) in means.iter().zip(&sd) {
                        out.push(bands(m, s, up, down));
                    }
                },
            );
        });
        n - 1
    }
}
