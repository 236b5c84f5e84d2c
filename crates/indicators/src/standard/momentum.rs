//! [`Momentum`]: price difference over `period` inputs.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// TA-Lib `MOM`: `x_t − x_{t−n}`. Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Momentum {
    window: Ring<f64>,
    ready: bool,
}

impl Momentum {
    /// A momentum over `period` inputs.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 1`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("MOM", "period", period, 1)?;
        Ok(Self {
            window: Ring::new(period),
            ready: false,
        })
    }
}

impl Indicator for Momentum {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        let old = self.window.push_back(x)?;
        self.ready = true;
        Some(x - old)
    }

    fn reset(&mut self) {
        self.window.clear();
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}
