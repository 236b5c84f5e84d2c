//! Issue 4, point 4: PBO on pure-noise strategies.
//!
//! Two readings of "pure noise", both tested: strategies whose returns are independent draws with
//! zero expected return give PBO ≈ 1/2 (the in-sample winner's out-of-sample rank is uniform; see
//! `overfit::tests::pbo_of_pure_noise_is_about_one_half`). Strategies with **no edge at all on the
//! sample at hand** — noise whose realised mean over the whole backtest is zero — give PBO near 1:
//! what such a strategy gains in sample it must give back out of sample (the "compensation
//! effect" of Bailey, Borwein, López de Prado & Zhu), so the in-sample winner is reliably an
//! out-of-sample loser. That is the situation a researcher is in when every configuration of a
//! worthless signal has been tried on one history.

use tradepulse_research::pbo_cscv;

/// Deterministic standard normals (SplitMix64 + Box–Muller).
struct Normal(u64);

impl Normal {
    fn next(&mut self) -> f64 {
        let mut unit = || {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + f64::EPSILON
        };
        let (u1, u2) = (unit(), unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn zero_mean_noise(seed: u64, trials: usize, periods: usize) -> Vec<Vec<f64>> {
    let mut normal = Normal(seed);
    (0..trials)
        .map(|_| {
            let mut r: Vec<f64> = (0..periods).map(|_| 0.01 * normal.next()).collect();
            let mean = r.iter().sum::<f64>() / periods as f64;
            r.iter_mut().for_each(|x| *x -= mean);
            r
        })
        .collect()
}

#[test]
fn pbo_of_zero_edge_noise_strategies_is_near_one() {
    for seed in [1, 2, 3] {
        let pbo = pbo_cscv(&zero_mean_noise(seed, 50, 1_000), 16).unwrap();
        assert!(pbo.pbo > 0.9, "seed {seed}: PBO {}", pbo.pbo);
        assert!(pbo.logit_summary.median < 0.0, "{:?}", pbo.logit_summary);
    }
}
