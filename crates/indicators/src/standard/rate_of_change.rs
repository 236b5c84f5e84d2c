//! [`RateOfChange`]: percentage rate of change.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// TA-Lib `ROC`: `((x_t / x_{t−n}) − 1)·100`, and 0 when `x_{t−n}` is exactly zero.
/// Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateOfChange {
    window: Ring<f64>,
    ready: bool,
}

impl RateOfChange {
    /// A ROC over `period` inputs.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 1`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("ROC", "period", period, 1)?;
        Ok(Self {
            window: Ring::new(period),
            ready: false,
        })
    }
}

impl Indicator for RateOfChange {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let old = self.window.push_back(x)?;
        self.ready = true;
        Some(if old != 0.0 {
            ((x / old) - 1.0) * 100.0
        } else {
            0.0
        })
    }

    fn reset(&mut self) {
        self.window.clear();
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}
