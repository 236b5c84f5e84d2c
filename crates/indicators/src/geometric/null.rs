//! [`NullBaseline`]: an indicator's value on surrogate data, so that it can be reported as a
//! deviation from what noise gives.
//!
//! A raw geometric value often says little by itself: Kuramoto R is about 0.56 on a random
//! walk, multiscale coherence about 0.95, mean Ollivier–Ricci curvature depends on the
//! volatility measured in level steps. The surrogate-data method (Theiler et al., Physica D 58,
//! 1992) asks instead how far a value is from the values of the same indicator on data that
//! keep the series' return distribution but none of its order: the returns shuffled.

/// Mean and population standard deviation of an indicator's values on surrogate series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NullBaseline {
    /// Mean value under the null.
    pub mean: f64,
    /// Standard deviation of single values under the null.
    pub std: f64,
    /// How many finite values the baseline was estimated from.
    pub samples: usize,
}

impl NullBaseline {
    /// Mean and population standard deviation of the finite `values` (NaN for both when
    /// there are none).
    #[must_use]
    pub fn from_values(values: impl IntoIterator<Item = f64>) -> Self {
        // Welford: one pass, no cancellation on values far from 0.
        let (mut n, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
        for v in values.into_iter().filter(|v| v.is_finite()) {
            n += 1;
            let d = v - mean;
            mean += d / n as f64;
            m2 += d * (v - mean);
        }
        if n == 0 {
            return Self {
                mean: f64::NAN,
                std: f64::NAN,
                samples: 0,
            };
        }
        Self {
            mean,
            std: (m2 / n as f64).sqrt(),
            samples: n,
        }
    }

    /// `(x − mean) / std`: the value in null standard deviations. NaN when the null has no
    /// spread (a constant indicator on the surrogates says nothing about deviations).
    #[must_use]
    pub fn z(&self, x: f64) -> f64 {
        if self.std > 0.0 {
            (x - self.mean) / self.std
        } else {
            f64::NAN
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood, OOPSLA 2014): a small seeded generator, so surrogates are
/// the same on every machine and every run.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n ≥ 1) by Lemire's multiply-shift; the bias, below n/2⁶⁴, does not
    /// matter for a shuffle of at most a few million values.
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

/// The values in a seeded random order (Fisher–Yates): a shuffle surrogate.
#[must_use]
pub fn shuffled(values: &[f64], seed: u64) -> Vec<f64> {
    let mut out = values.to_vec();
    let mut rng = SplitMix64::new(seed);
    for i in (1..out.len()).rev() {
        let j = rng.below(i + 1);
        out.swap(i, j);
    }
    out
}

/// Shuffle surrogates of a price series: the finite log returns of `closes` (pairs with a
/// price ≤ 0 or not finite are left out) in `copies` seeded random orders (seeds `seed`,
/// `seed + 1`, …), each compounded from the first positive finite close. Every surrogate has
/// the series' return distribution, volatility included, and no serial structure.
#[must_use]
pub fn shuffled_price_surrogates(closes: &[f64], copies: usize, seed: u64) -> Vec<Vec<f64>> {
    let returns: Vec<f64> = closes
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1] > 0.0 && w[0].is_finite() && w[1].is_finite())
        .map(|w| (w[1] / w[0]).ln())
        .collect();
    let start = closes
        .iter()
        .copied()
        .find(|p| *p > 0.0 && p.is_finite())
        .unwrap_or(1.0);
    (0..copies as u64)
        .map(|k| {
            let mut log_p = start.ln();
            let mut prices = Vec::with_capacity(returns.len() + 1);
            prices.push(start);
            for r in shuffled(&returns, seed.wrapping_add(k)) {
                log_p += r;
                prices.push(log_p.exp());
            }
            prices
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_is_mean_and_population_std() {
        let b = NullBaseline::from_values([1.0, 2.0, 3.0, f64::NAN, 4.0]);
        assert_eq!(b.samples, 4);
        assert!((b.mean - 2.5).abs() < 1e-15);
        assert!((b.std - 1.25f64.sqrt()).abs() < 1e-15);
        assert!((b.z(4.0) - 1.5 / 1.25f64.sqrt()).abs() < 1e-12);
        assert!(NullBaseline::from_values([2.0, 2.0]).z(3.0).is_nan());
        assert_eq!(NullBaseline::from_values([]).samples, 0);
    }

    #[test]
    fn shuffles_are_seeded_permutations() {
        let xs: Vec<f64> = (0..100).map(f64::from).collect();
        let a = shuffled(&xs, 7);
        assert_eq!(a, shuffled(&xs, 7));
        assert_ne!(a, shuffled(&xs, 8));
        assert_ne!(a, xs);
        let mut sorted = a.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(sorted, xs);
    }

    #[test]
    fn price_surrogates_keep_the_returns_and_the_end_point() {
        let closes = [100.0, 101.0, f64::NAN, 99.0, 0.0, 98.0, 100.5, 102.0];
        let s = shuffled_price_surrogates(&closes, 3, 1);
        assert_eq!(s.len(), 3);
        // Finite pairs: 100→101, 98→100.5, 100.5→102; compounded they end at 100·101/100·…
        let end = 100.0 * (101.0f64 / 100.0) * (100.5 / 98.0) * (102.0 / 100.5);
        for p in &s {
            assert_eq!(p.len(), 4);
            assert_eq!(p[0], 100.0);
            assert!((p[3] - end).abs() < 1e-9, "{p:?}");
        }
    }
}
