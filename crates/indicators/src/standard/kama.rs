//! [`Kama`]: Kaufman adaptive moving average.

use serde::{Deserialize, Serialize};

use crate::window::Ring;
use crate::{Error, Indicator, error::check_period};

/// Kaufman adaptive moving average, TA-Lib `KAMA` (fast 2, slow 30 fixed as in TA-Lib).
///
/// Efficiency ratio `ER = |x_t − x_{t−n}| / Σ|x_i − x_{i−1}|` over `period` changes, smoothing
/// `sc = (ER·(2/3 − 2/31) + 2/31)²`, `KAMA_t = KAMA_{t−1} + sc·(x_t − KAMA_{t−1})`, seeded with
/// `x_{n−1}`. Zero total movement counts as ER = 1 (TA-Lib). Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kama {
    period: usize,
    window: Ring<f64>,
    sum_roc: f64,
    trailing: f64,
    kama: f64,
    ready: bool,
}

const CONST_MAX: f64 = 2.0 / (30.0 + 1.0);
const CONST_DIFF: f64 = 2.0 / (2.0 + 1.0) - CONST_MAX;

fn is_zero(v: f64) -> bool {
    -0.000_000_01 < v && v < 0.000_000_01
}

impl Kama {
    /// A KAMA with efficiency window `period`.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("KAMA", "period", period, 2)?;
        Ok(Self {
            period,
            window: Ring::new(period),
            sum_roc: 0.0,
            trailing: 0.0,
            kama: 0.0,
            ready: false,
        })
    }

    fn smooth(&mut self, x: f64, period_roc: f64) -> f64 {
        let er = if self.sum_roc <= period_roc || is_zero(self.sum_roc) {
            1.0
        } else {
            (period_roc / self.sum_roc).abs()
        };
        let mut sc = (er * CONST_DIFF) + CONST_MAX;
        sc *= sc;
        self.kama = ((x - self.kama) * sc) + self.kama;
        self.kama
    }
}

impl Indicator for Kama {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, x: f64) -> Option<f64> {
        // `window` holds the previous `period` inputs x_{t−n} … x_{t−1}.
        let Some(prev) = self.window.back() else {
            self.window.push_back(x);
            return None;
        };
        if !self.window.is_full() {
            self.sum_roc += (prev - x).abs();
            self.window.push_back(x);
            return None;
        }
        let oldest = self.window.front().unwrap_or(x);
        let period_roc = x - oldest;
        if self.ready {
            self.sum_roc -= (self.trailing - oldest).abs();
            self.sum_roc += (x - prev).abs();
        } else {
            // First output: TA-Lib's seed loop has added |x_{n−1} − x_n| last.
            self.sum_roc += (prev - x).abs();
            self.kama = prev;
        }
        self.trailing = oldest;
        self.window.push_back(x);
        self.ready = true;
        Some(self.smooth(x, period_roc))
    }

    fn reset(&mut self) {
        self.window.clear();
        self.sum_roc = 0.0;
        self.trailing = 0.0;
        self.kama = 0.0;
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}
