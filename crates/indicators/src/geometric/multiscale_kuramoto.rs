//! [`MultiscaleKuramoto`]: Kuramoto R on several resampled timeframes.

use serde::{Deserialize, Serialize};

use super::Kuramoto;
use crate::{Error, Indicator, error::check_period};

/// Summary of the per-timeframe order parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MultiscaleOutput {
    /// Mean R over the timeframes that are warmed up.
    pub consensus: f64,
    /// `clamp(1 − std(R), 0, 1)` over those timeframes (population std; 1 with one timeframe).
    pub coherence: f64,
    /// The timeframe (in input bars) with the highest R.
    pub dominant_scale: usize,
    /// How many timeframes contributed.
    pub scales_ready: usize,
}

/// Multiscale Kuramoto: each scale `k` resamples the input to one price per `k` bars (the last
/// close of each group, as `resample(k).last()`), and runs a [`Kuramoto`] on it. Scales that
/// are not warmed up yet are left out of the summary. Warm-up: that of the finest scale.
/// O(scales·M) per update, no allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiscaleKuramoto {
    scales: Vec<Scale>,
    ready: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scale {
    bars: usize,
    count: usize,
    kuramoto: Kuramoto,
    r: Option<f64>,
}

impl MultiscaleKuramoto {
    /// Scales in bars (e.g. `[1, 5, 15, 60]` on 1-minute data), each with R over `window`
    /// resampled bars and a `2·half_taps + 1` kernel.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] for an empty scale list, a zero scale, or a bad window/kernel.
    pub fn new(scales: &[usize], window: usize, half_taps: usize) -> Result<Self, Error> {
        check_period("MULTISCALE_KURAMOTO", "number of scales", scales.len(), 1)?;
        let scales = scales
            .iter()
            .map(|&bars| {
                check_period("MULTISCALE_KURAMOTO", "scale", bars, 1)?;
                Ok(Scale {
                    bars,
                    count: 0,
                    kuramoto: Kuramoto::new(window, half_taps)?,
                    r: None,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Self {
            scales,
            ready: false,
        })
    }
}

impl Indicator for MultiscaleKuramoto {
    type Input = f64;
    type Output = MultiscaleOutput;

    fn update(&mut self, price: f64) -> Option<MultiscaleOutput> {
        let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0usize);
        let (mut best, mut dominant) = (f64::NEG_INFINITY, 0);
        for s in &mut self.scales {
            s.count += 1;
            if s.count == s.bars {
                s.count = 0;
                if let Some(r) = s.kuramoto.update(price) {
                    s.r = Some(r);
                }
            }
            if let Some(r) = s.r {
                sum += r;
                sum_sq += r * r;
                n += 1;
                if r > best {
                    best = r;
                    dominant = s.bars;
                }
            }
        }
        if n == 0 {
            return None;
        }
        self.ready = true;
        let mean = sum / n as f64;
        let var = (sum_sq / n as f64 - mean * mean).max(0.0);
        Some(MultiscaleOutput {
            consensus: mean,
            coherence: (1.0 - var.sqrt()).clamp(0.0, 1.0),
            dominant_scale: dominant,
            scales_ready: n,
        })
    }

    fn reset(&mut self) {
        for s in &mut self.scales {
            s.count = 0;
            s.kuramoto.reset();
            s.r = None;
        }
        self.ready = false;
    }

    fn is_ready(&self) -> bool {
        self.ready
    }
}
