//! [`RollingVariance`]: TA-Lib 0.8's shifted running variance.

use serde::{Deserialize, Serialize};

use super::Ring;

/// Rolling population variance computed the way TA-Lib 0.8 does (`TA_VAR`), so STDDEV and
/// BBANDS agree with it to the last bits.
///
/// The running sums are of `x − shift` rather than `x`, so `mean(d²) − mean(d)²` subtracts two
/// numbers of the variance's size instead of two of the price's squared size. The shift starts
/// at the first input and is re-anchored to the window mean (with a fresh two-pass sum) when
/// cancellation threatens, when a large outlier leaves the window, and at least every
/// `32·period` updates. Updates are O(1) except for those re-anchors, which cost O(period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RollingVariance {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    inv: f64,
    shift: f64,
    total1: f64,
    total2: f64,
    until_reseed: usize,
    window: Ring<f64>,
}

impl RollingVariance {
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            inv: 1.0 / period as f64,
            shift: 0.0,
            total1: 0.0,
            total2: 0.0,
            until_reseed: 32 * period,
            window: Ring::new(period),
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.period);
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.window.is_full()
    }

    /// The oldest value of the current window (the one leaving next).
    pub(crate) fn oldest(&self) -> f64 {
        self.window.front().unwrap_or(0.0)
    }

    /// Adds `x`; returns the variance of the last `period` inputs once there are that many.
    #[inline]
    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        if self.window.is_empty() {
            self.shift = x;
        }
        let was_full = self.window.is_full();
        self.window.push_back(x);
        let mut d = x - self.shift;
        self.total1 += d;
        d *= d;
        self.total2 += d;
        if !self.window.is_full() {
            return None;
        }
        if !was_full {
            self.until_reseed = 32 * self.period;
        }
        let oldest = self.oldest();
        let (var, reseed) = self.step(oldest);
        if !reseed {
            return Some(var);
        }
        let anchored = two_pass(self.window.iter(), self.inv, oldest);
        Some(self.apply(anchored))
    }

    /// The part of an update shared by the streaming and slice forms, after the new value has
    /// been added: the variance, removal of `oldest`, and whether the shift must be
    /// re-anchored (see the type docs).
    #[inline]
    fn step(&mut self, oldest: f64) -> (f64, bool) {
        let mean = self.total1 * self.inv;
        let var = self.total2 * self.inv - mean * mean;
        let mut r = oldest - self.shift;
        self.total1 -= r;
        r *= r;
        self.total2 -= r;
        self.until_reseed = self.until_reseed.saturating_sub(1);
        let reseed = var < 0.000_001 * (self.total2 * self.inv)
            || r > 1_000_000.0 * self.total2
            || self.until_reseed == 0;
        (var, reseed)
    }

    /// Installs a re-anchored state; returns its variance.
    fn apply(&mut self, a: Anchored) -> f64 {
        self.until_reseed = 32 * self.period;
        self.shift = a.shift;
        self.total1 = a.total1;
        self.total2 = a.total2;
        a.variance
    }

    /// Slice form of [`RollingVariance::update`] from a fresh state, bit-identical to
    /// streaming, leaving the state a streaming run would leave. For every input index
    /// `i ≥ period − 1` it calls `emit(i, total, variance)`, where `total` is TA-Lib's SMA
    /// running sum at that point (added before the oldest value is removed), which BBANDS
    /// needs alongside the variance; tracking it here keeps both chains in registers.
    #[inline]
    pub(crate) fn run_slice(&mut self, xs: &[f64], mut emit: impl FnMut(usize, f64, f64)) -> f64 {
        self.reset();
        let n = self.period;
        if xs.len() < n {
            let mut sum = 0.0;
            for &x in xs {
                sum += x;
                self.update(x);
            }
            return sum;
        }
        // Work on copies so the compiler keeps them in registers across iterations.
        let inv = self.inv;
        let (mut shift, mut t1, mut t2, mut until) = (xs[0], 0.0, 0.0, 32 * n);
        let mut sum = 0.0;
        for &x in &xs[..n - 1] {
            sum += x;
            let mut d = x - shift;
            t1 += d;
            d *= d;
            t2 += d;
        }
        for i in n - 1..xs.len() {
            let x = xs[i];
            sum += x;
            let total = sum;
            let lo = i + 1 - n;
            let oldest = xs[lo];
            sum -= oldest;
            let mut d = x - shift;
            t1 += d;
            d *= d;
            t2 += d;
            let mean = t1 * inv;
            let mut var = t2 * inv - mean * mean;
            let mut r = oldest - shift;
            t1 -= r;
            r *= r;
            t2 -= r;
            until = until.saturating_sub(1);
            if var < 0.000_001 * (t2 * inv) || r > 1_000_000.0 * t2 || until == 0 {
                let a = two_pass(xs[lo..=i].iter().copied(), inv, oldest);
                (shift, t1, t2, until, var) = (a.shift, a.total1, a.total2, 32 * n, a.variance);
            }
            emit(i, total, var);
        }
        self.shift = shift;
        self.total1 = t1;
        self.total2 = t2;
        self.until_reseed = until;
        for &x in &xs[xs.len() - n..] {
            self.window.push_back(x);
        }
        sum
    }
}

/// A state re-anchored on the window mean.
struct Anchored {
    shift: f64,
    total1: f64,
    total2: f64,
    variance: f64,
}

/// Two-pass re-anchor over the window (oldest first): shift = mean, sums of `x − shift`, the
/// window's variance, then the oldest value removed from the sums, as TA-Lib 0.8 does.
#[cold]
fn two_pass<I: Iterator<Item = f64> + Clone>(window: I, inv: f64, oldest: f64) -> Anchored {
    let mut sum = 0.0;
    for v in window.clone() {
        sum += v;
    }
    let shift = sum * inv;
    let (mut total1, mut total2) = (0.0, 0.0);
    for v in window {
        let mut d = v - shift;
        total1 += d;
        d *= d;
        total2 += d;
    }
    let mean = total1 * inv;
    let variance = total2 * inv - mean * mean;
    let mut r = oldest - shift;
    total1 -= r;
    r *= r;
    total2 -= r;
    Anchored {
        shift,
        total1,
        total2,
        variance,
    }
}

/// TA-Lib's standard deviation from a variance: 0 below 1e-8, else `sqrt(var)·nb_dev`.
#[inline]
pub(crate) fn std_dev(var: f64, nb_dev: f64) -> f64 {
    if var < 0.000_000_01 {
        0.0
    } else if nb_dev == 1.0 {
        var.sqrt()
    } else {
        var.sqrt() * nb_dev
    }
}
