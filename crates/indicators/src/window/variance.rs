//! [`RollingVariance`]: TA-Lib 0.8's shifted running variance, and the window mean BBANDS needs
//! beside it.

use serde::{Deserialize, Serialize};

use super::Ring;
use crate::Error;

/// Rolling population variance computed the way TA-Lib 0.8 does (`TA_VAR`), so the variance
/// (STDDEV, BBANDS' σ) agrees with it to the last bits; it also gives the window mean
/// (`shift + Σ(x − shift)/n`, within 5e-15 of TA-Lib's SMA relative to the price level on the
/// repo's data), so BBANDS runs one window instead of two.
///
/// The running sums are of `x − shift` rather than `x`, so `mean(d²) − mean(d)²` subtracts two
/// numbers of the variance's size instead of two of the price's squared size. The shift starts
/// at the first input and is re-anchored to the window mean (with a fresh two-pass sum) when
/// cancellation threatens, when a large outlier leaves the window, and at least every
/// `32·period` updates. Updates are O(1) except for those re-anchors, which cost O(period):
/// amortised O(1) (the periodic one is 1/32 of an update's worth per update), with an O(period)
/// step only after a jump or an outlier of more than ~1000 standard deviations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RollingVarianceState")]
pub(crate) struct RollingVariance {
    period: usize,
    inv: f64,
    sums: Sums,
    window: Ring<f64>,
}

/// Serialised form of [`RollingVariance`], checked on the way back in.
#[derive(Deserialize)]
struct RollingVarianceState {
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    inv: f64,
    sums: Sums,
    window: Ring<f64>,
}

impl TryFrom<RollingVarianceState> for RollingVariance {
    type Error = Error;
    fn try_from(s: RollingVarianceState) -> Result<Self, Error> {
        // The period sizes the ring, `inv` is derived from it, and the countdown never
        // exceeds its reset value: anything else is a corrupt checkpoint, which would
        // compute the wrong window or overflow `32·period`.
        let reseed = s.period.checked_mul(32);
        if s.period != s.window.capacity()
            || s.inv.to_bits() != (1.0 / s.period as f64).to_bits()
            || reseed.is_none_or(|r| s.sums.until_reseed > r)
        {
            return Err(Error::InvalidState(
                "rolling variance period, ring or countdown inconsistent",
            ));
        }
        Ok(Self {
            period: s.period,
            inv: s.inv,
            sums: s.sums,
            window: s.window,
        })
    }
}

/// The running sums, between updates over the newest `period − 1` inputs (TA-Lib's order:
/// add the new value, emit, subtract the oldest).
///
/// `until_reseed` sits between the two sums on purpose (with `repr(C)` to keep it there): side
/// by side, the compiler packs the two sums into one vector register and spends more shuffles
/// than it saves (streaming BBANDS 4.7 → 4.5 ns apart).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[repr(C)]
struct Sums {
    shift: f64,
    /// Σ (x − shift).
    total1: f64,
    /// Updates left before the periodic re-anchor; at least 1 between updates, as the update
    /// that brings it to 0 re-anchors (a checkpoint with 0 is refused).
    #[serde(deserialize_with = "crate::error::nonzero")]
    until_reseed: usize,
    /// Σ (x − shift)².
    total2: f64,
}

impl Sums {
    fn new(period: usize) -> Self {
        Self {
            shift: 0.0,
            total1: 0.0,
            total2: 0.0,
            until_reseed: 32 * period,
        }
    }

    /// Adds a warm-up value.
    #[inline(always)]
    fn add(&mut self, x: f64) {
        let mut d = x - self.shift;
        self.total1 += d;
        d *= d;
        self.total2 += d;
    }

    /// One full step, shared by the streaming and slice forms: adds `x`, returns the mean and
    /// the variance of the window it completes, removes `oldest` (that window's oldest
    /// value), and says whether the shift must be re-anchored (see [`RollingVariance`]).
    #[inline(always)]
    fn step(&mut self, x: f64, oldest: f64, inv: f64) -> (f64, f64, bool) {
        let mut d = x - self.shift;
        self.total1 += d;
        d *= d;
        self.total2 += d;
        let mean = self.total1 * inv;
        let var = self.total2 * inv - mean * mean;
        let mut r = oldest - self.shift;
        self.total1 -= r;
        r *= r;
        self.total2 -= r;
        // Plain decrement: it is ≥ 1 here (see the field), and the flag it sets is the test.
        self.until_reseed -= 1;
        let reseed = var < 0.000_001 * (self.total2 * inv)
            || r > 1_000_000.0 * self.total2
            || self.until_reseed == 0;
        (self.shift + mean, var, reseed)
    }

    /// Installs a re-anchored state; returns its variance (the mean is the stepped one).
    fn apply(&mut self, a: &Anchored, period: usize) -> f64 {
        self.until_reseed = 32 * period;
        self.shift = a.shift;
        self.total1 = a.total1;
        self.total2 = a.total2;
        a.variance
    }

    /// Steps over `range` (indices `≥ n − 1` of `xs`), writing each mean and variance to
    /// `means`/`variances` from their start; returns the index it stopped at: `range.end`, or
    /// the index whose variance needs a re-anchor (its sums are already stepped; its variance
    /// is to be replaced).
    ///
    /// A function of its own, with no call inside: inlined into the chunk loop, whose re-anchor
    /// calls `two_pass`, the compiler kept the sums on the stack, adding a store-to-load delay
    /// to every step of their chains (7.5 → 5.0 ns per BBANDS value).
    #[inline(never)]
    fn advance(
        &mut self,
        xs: &[f64],
        n: usize,
        inv: f64,
        range: std::ops::Range<usize>,
        means: &mut [f64],
        variances: &mut [f64],
    ) -> usize {
        let mut sums = *self;
        let start = range.start;
        for i in range.clone() {
            let (mean, var, reseed) = sums.step(xs[i], xs[i + 1 - n], inv);
            means[i - start] = mean;
            variances[i - start] = var;
            if reseed {
                *self = sums;
                return i;
            }
        }
        *self = sums;
        range.end
    }
}

impl RollingVariance {
    pub(crate) fn new(period: usize) -> Self {
        let period = period.max(1);
        Self {
            period,
            inv: 1.0 / period as f64,
            sums: Sums::new(period),
            window: Ring::new(period),
        }
    }

    /// Back to the constructed state, keeping the ring's buffer (no allocation).
    pub(crate) fn reset(&mut self) {
        self.sums = Sums::new(self.period);
        self.window.clear();
    }

    /// The window length.
    pub(crate) fn period(&self) -> usize {
        self.period
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.window.is_full()
    }

    /// Adds `x`; once there are `period` inputs, returns the mean and the variance of the last
    /// `period` inputs.
    #[inline]
    pub(crate) fn update(&mut self, x: f64) -> Option<(f64, f64)> {
        if !self.window.is_full() {
            return self.fill(x);
        }
        self.window.push_back(x);
        let oldest = self.window.front().unwrap_or(x);
        let (mean, var, reseed) = self.sums.step(x, oldest, self.inv);
        if reseed {
            return Some((mean, self.reanchor(oldest)));
        }
        Some((mean, var))
    }

    /// [`RollingVariance::update`] before the window is full, out of line to keep the steady
    /// state small.
    #[inline(never)]
    fn fill(&mut self, x: f64) -> Option<(f64, f64)> {
        if self.window.is_empty() {
            self.sums.shift = x;
        }
        self.window.push_back(x);
        if !self.window.is_full() {
            self.sums.add(x);
            return None;
        }
        self.sums.until_reseed = 32 * self.period;
        let oldest = self.window.front().unwrap_or(x);
        let (mean, var, reseed) = self.sums.step(x, oldest, self.inv);
        if reseed {
            return Some((mean, self.reanchor(oldest)));
        }
        Some((mean, var))
    }

    /// Re-anchors on the current window; returns its variance.
    #[cold]
    #[inline(never)]
    fn reanchor(&mut self, oldest: f64) -> f64 {
        let anchored = two_pass(self.window.iter(), self.inv, oldest);
        self.sums.apply(&anchored, self.period)
    }

    /// Slice form of [`RollingVariance::update`] from a fresh state, bit-identical to
    /// streaming, leaving the state a streaming run would leave. For every input index
    /// `i ≥ period − 1` in order it produces the mean and the variance; they are handed to
    /// `emit` in chunks of at most [`CHUNK`] as `(means, variances)` so that the per-value work
    /// after them (a square root for BBANDS) runs as a separate, vectorisable loop.
    #[inline]
    pub(crate) fn run_slice(&mut self, xs: &[f64], mut emit: impl FnMut(&[f64], &[f64])) {
        self.reset();
        let n = self.period;
        if xs.len() < n {
            for &x in xs {
                self.update(x);
            }
            return;
        }
        let inv = self.inv;
        let mut sums = self.sums;
        sums.shift = xs[0];
        for &x in &xs[..n - 1] {
            sums.add(x);
        }
        let (mut means, mut variances) = ([0.0; CHUNK], [0.0; CHUNK]);
        for start in (n - 1..xs.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(xs.len());
            let mut i = start;
            while i < end {
                i = sums.advance(
                    xs,
                    n,
                    inv,
                    i..end,
                    &mut means[i - start..],
                    &mut variances[i - start..],
                );
                if i < end {
                    let lo = i + 1 - n;
                    let anchored = two_pass(xs[lo..=i].iter().copied(), inv, xs[lo]);
                    variances[i - start] = sums.apply(&anchored, n);
                    i += 1;
                }
            }
            emit(&means[..end - start], &variances[..end - start]);
        }
        self.sums = sums;
        for &x in &xs[xs.len() - n..] {
            self.window.push_back(x);
        }
    }
}

/// How many values [`RollingVariance::run_slice`] hands over at a time: small enough for its
/// two buffers to stay in L1 (4 KiB), large enough to amortise the hand-over.
pub(crate) const CHUNK: usize = 256;

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

/// TA-Lib 0.8.1's standard deviation from a variance: 0 when it is not positive (a flat
/// window, whose shifted sums give exactly 0), else `sqrt(var)·nb_dev`; NaN stays NaN.
///
/// No absolute floor: a fixed one (1e-8 before) zeroes every σ of an instrument quoted small
/// enough (prices near 1e-4 and below) where TA-Lib's is the real deviation.
#[inline]
pub(crate) fn std_dev(var: f64, nb_dev: f64) -> f64 {
    if var <= 0.0 {
        0.0
    } else if nb_dev == 1.0 {
        var.sqrt()
    } else {
        var.sqrt() * nb_dev
    }
}
