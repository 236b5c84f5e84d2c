//! The geometric family means what it says: tests on series and graphs whose answer is known.

use std::f64::consts::PI;

use tradepulse_indicators::*;

/// SplitMix64 + Box–Muller: deterministic Gaussian noise without a dependency.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let u = self.uniform().max(1e-300);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos()
    }
}

fn random_walk(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Noise(seed);
    let mut p = 100.0;
    (0..n)
        .map(|_| {
            p += rng.gauss() * 0.1;
            p
        })
        .collect()
}

fn sinusoid(n: usize, period: f64) -> Vec<f64> {
    (0..n)
        .map(|t| 100.0 + 2.0 * (2.0 * PI * t as f64 / period).sin())
        .collect()
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

#[test]
fn kuramoto_random_walk_is_well_below_one() {
    let s = Kuramoto::new(64, 15).unwrap().batch(&random_walk(7, 5000));
    let r = mean(&s.values);
    assert!(r < 0.7, "mean R on a random walk = {r}");
}

#[test]
fn kuramoto_clean_sinusoid_is_near_one() {
    let s = Kuramoto::new(64, 15).unwrap().batch(&sinusoid(2000, 20.0));
    let min = s.values.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(min > 0.95, "min R on a sinusoid = {min}");
}

#[test]
fn kuramoto_flat_market_has_no_synchrony() {
    let s = Kuramoto::new(16, 4).unwrap().batch(&[100.0; 200]);
    assert!(s.values.iter().all(|&r| r == 0.0));
}

#[test]
fn kuramoto_ignores_the_future() {
    let mut a = random_walk(3, 600);
    let before = Kuramoto::new(32, 8).unwrap().batch(&a);
    for p in &mut a[400..] {
        *p *= 1.5;
    }
    let after = Kuramoto::new(32, 8).unwrap().batch(&a);
    assert_eq!(
        before.values[..400 - before.start],
        after.values[..400 - after.start]
    );
}

#[test]
fn cross_kuramoto_separates_locked_from_independent() {
    let locked: Vec<Vec<f64>> = (0..5)
        .map(|k| {
            sinusoid(800, 25.0)
                .iter()
                .map(|p| p * (1.0 + k as f64))
                .collect()
        })
        .collect();
    let r_locked = mean(
        &CrossKuramoto::new(5, 10)
            .unwrap()
            .batch(&locked)
            .unwrap()
            .values,
    );
    let free: Vec<Vec<f64>> = (0..5).map(|k| random_walk(100 + k, 800)).collect();
    let r_free = mean(
        &CrossKuramoto::new(5, 10)
            .unwrap()
            .batch(&free)
            .unwrap()
            .values,
    );
    assert!(r_locked > 0.99, "locked {r_locked}");
    assert!(r_free < 0.6, "independent {r_free}");
}

#[test]
fn cross_kuramoto_rejects_wrong_width() {
    let mut k = CrossKuramoto::new(3, 4).unwrap();
    assert!(matches!(
        k.update(&[1.0, 2.0]),
        Err(Error::WidthMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
}

#[test]
fn multiscale_kuramoto_finds_the_clean_scale() {
    // A slow cycle (period 300 bars) plus fast noise: resampled every 15 bars it is a clean
    // 20-bar cycle, at 1 bar it is noise.
    let mut rng = Noise(11);
    let prices: Vec<f64> = sinusoid(6000, 300.0)
        .iter()
        .map(|p| p + rng.gauss() * 0.05)
        .collect();
    let out = MultiscaleKuramoto::new(&[1, 15], 32, 6)
        .unwrap()
        .batch(&prices);
    let last = out.values.last().copied().unwrap();
    assert_eq!(last.dominant_scale, 15);
    assert_eq!(last.scales_ready, 2);
    assert!((0.0..=1.0).contains(&last.coherence));
}

fn clique(n: usize) -> TransitionGraph {
    let mut edges = Vec::new();
    for a in 0..n {
        for b in a + 1..n {
            edges.push((a, b, 1.0));
        }
    }
    TransitionGraph::from_edges(n, &edges)
}

/// Two 5-cliques joined by the edge 4–5.
fn barbell() -> TransitionGraph {
    let mut edges = Vec::new();
    for base in [0, 5] {
        for a in 0..5 {
            for b in a + 1..5 {
                edges.push((base + a, base + b, 1.0));
            }
        }
    }
    edges.push((4, 5, 1.0));
    TransitionGraph::from_edges(10, &edges)
}

#[test]
fn ollivier_ricci_clique_is_positive() {
    for e in ollivier_ricci(&clique(5), 0.5) {
        // Known value for K_n with idleness α: κ = 1 − (1−α)/(n−1)·... > 0; for n = 5,
        // α = 0.5 the exact W1 is 0.375 (mass 0.375 moves one hop).
        assert!((e.kappa - 0.625).abs() < 1e-9, "{e:?}");
    }
}

#[test]
fn ollivier_ricci_bridge_is_negative() {
    let curv = ollivier_ricci(&barbell(), 0.5);
    let bridge = curv.iter().find(|e| (e.from, e.to) == (4, 5)).unwrap();
    assert!(bridge.kappa < 0.0, "bridge κ = {}", bridge.kappa);
    assert!(
        curv.iter()
            .filter(|e| (e.from, e.to) != (4, 5))
            .all(|e| e.kappa > 0.0)
    );
}

#[test]
fn ollivier_ricci_tree_edges_are_not_positive() {
    // Binary tree of depth 3: internal edges are negative, none positive.
    let edges: Vec<(usize, usize, f64)> = (1..15).map(|v| ((v - 1) / 2, v, 1.0)).collect();
    let curv = ollivier_ricci(&TransitionGraph::from_edges(15, &edges), 0.0);
    assert!(curv.iter().all(|e| e.kappa <= 1e-12));
    assert!(curv.iter().any(|e| e.kappa < -0.3));
}

#[test]
fn forman_ricci_signs() {
    assert!(
        forman_ricci(&clique(5))
            .iter()
            .all(|e| (e.kappa - 5.0).abs() < 1e-12)
    );
    let bridge = forman_ricci(&barbell())
        .into_iter()
        .find(|e| (e.from, e.to) == (4, 5))
        .unwrap();
    assert!(bridge.kappa < 0.0);
}

#[test]
fn transition_graph_accumulates_and_drops_self_loops() {
    // Log levels round(ln p / 0.01): 100 → 461, 101.5 → 462, 103 → 463. NaN, 0 and a
    // negative price have no level and are skipped (101.5 and 103 are consecutive).
    let g = TransitionGraph::from_prices(
        &[
            100.0,
            100.0,
            101.5,
            100.0,
            101.5,
            f64::NAN,
            0.0,
            -5.0,
            103.0,
        ],
        0.01,
    );
    let edges: Vec<_> = g.edges().collect();
    assert_eq!(edges, vec![(0, 1, 3.0), (1, 2, 1.0)]);
    let levels: Vec<_> = g.level_edges().collect();
    assert_eq!(levels, vec![(461, 462), (462, 463)]);
    assert_eq!(TransitionGraph::level(100.0, 0.01), Some(461));
    assert_eq!(TransitionGraph::level(-1.0, 0.01), None);
    assert_eq!(TransitionGraph::level(f64::INFINITY, 0.01), None);
    // A level beyond ±9·10^15 is no level.
    assert_eq!(TransitionGraph::level(1e300, 1e-300), None);
}

#[test]
fn ollivier_ricci_indicator_can_go_negative_on_prices() {
    // Two hub levels (100 and 110), each visited from its own side levels, joined by a jump:
    // a bridge between hubs, so the mean curvature is negative — impossible in the Python
    // original, whose estimator could not go below 0.
    let levels = [0.0, 3.0, 0.0, -3.0, 0.0, 10.0, 13.0, 10.0, 7.0, 10.0];
    let prices: Vec<f64> = levels.iter().cycle().take(60).map(|l| 100.0 + l).collect();
    let s = OllivierRicci::new(60, 0.01, 0.0).unwrap().batch(&prices);
    assert!(s.values[0] < 0.0, "mean κ = {}", s.values[0]);
}

#[test]
fn temporal_ricci_is_quiet_on_a_repeating_structure_and_fires_on_a_change() {
    let calm: Vec<f64> = sinusoid(400, 20.0);
    let out = TemporalRicci::new(100, 20, 4, 0.005, 0.5)
        .unwrap()
        .batch(&calm);
    let last = out.values.last().copied().unwrap();
    assert!(
        (last.edge_stability - 1.0).abs() < 1e-12 && last.transition < 1e-9,
        "{last:?}"
    );
    let mut shifted = calm.clone();
    shifted.extend(random_walk(5, 200).iter().map(|p| p * 1.3));
    let out = TemporalRicci::new(100, 20, 4, 0.005, 0.5)
        .unwrap()
        .batch(&shifted);
    let peak = out.values.iter().map(|o| o.transition).fold(0.0, f64::max);
    assert!(peak > 0.3, "peak transition {peak}");
}

#[test]
fn entropy_bounds_and_constant_series() {
    let flat = Entropy::new(50, 10).unwrap().batch(&[0.0; 60]);
    assert!(flat.values.iter().all(|&h| h == 0.0));
    let uniform: Vec<f64> = (0..1000).map(|i| (i % 100) as f64).collect();
    let h = Entropy::new(100, 10).unwrap().batch(&uniform).values[0];
    assert!((h - 10f64.ln()).abs() < 1e-12, "{h}");
}

#[test]
fn delta_entropy_is_negative_when_returns_concentrate() {
    let mut rng = Noise(9);
    // First window: spread-out returns; second: mostly tiny with a few outliers.
    let mut xs: Vec<f64> = (0..200).map(|_| rng.uniform() - 0.5).collect();
    xs.extend((0..200).map(|i| if i % 50 == 0 { 5.0 } else { rng.gauss() * 0.01 }));
    let s = DeltaEntropy::new(200, 20).unwrap().batch(&xs);
    assert!(s.values[0] < -0.5, "ΔH = {}", s.values[0]);
}

fn white_noise(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Noise(seed);
    (0..n).map(|_| rng.gauss()).collect()
}

/// Long-memory increments: a sum of AR(1) processes with timescales 2, 4, …, 1024 bars and
/// equal variance contributions, which mimics a 1/f-type spectrum (H well above 0.5).
fn persistent(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Noise(seed);
    let phis: Vec<f64> = (1..=10).map(|k| 1.0 - 1.0 / f64::from(1 << k)).collect();
    let mut state = vec![0.0; phis.len()];
    (0..n)
        .map(|_| {
            let mut x = 0.0;
            for (s, &phi) in state.iter_mut().zip(&phis) {
                *s = phi * *s + (1.0 - phi * phi).sqrt() * rng.gauss();
                x += *s;
            }
            x
        })
        .collect()
}

/// Both estimators over `x` with a 2,048 window: the first estimate (inputs 0..2048, where
/// every scale's blocks tile the window from its start) and all streamed ones.
fn hurst_2048(x: &[f64]) -> [(f64, Vec<f64>); 2] {
    let rs = HurstRs::new(2048).unwrap().batch(x).values;
    let dfa = HurstDfa::new(2048).unwrap().batch(x).values;
    [(rs[0], rs), (dfa[0], dfa)]
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

#[test]
fn hurst_is_one_half_on_white_noise() {
    // Tolerance ±0.1 for one estimate: the standard error of both estimators on 2048 points is
    // about 0.03–0.05. Streamed over a second window (2,048 more estimates, the blocks shifting
    // through every phase): the mean within ±0.05 and every value within ±0.15.
    for seed in [1, 2, 3] {
        let x = white_noise(seed, 4096);
        for (name, (first, all)) in ["R/S", "DFA"].iter().zip(hurst_2048(&x)) {
            assert!(
                (first - 0.5).abs() < 0.1,
                "{name} H = {first} (seed {seed})"
            );
            let (lo, hi) = min_max(&all);
            assert!(
                (mean(&all) - 0.5).abs() < 0.05,
                "{name} mean H = {} (seed {seed})",
                mean(&all)
            );
            assert!(
                lo > 0.35 && hi < 0.65,
                "{name} H in [{lo}, {hi}] (seed {seed})"
            );
        }
    }
}

#[test]
fn hurst_is_above_one_half_on_persistent_increments() {
    for seed in [1, 2] {
        let x = persistent(seed, 4096);
        for (name, (first, all)) in ["R/S", "DFA"].iter().zip(hurst_2048(&x)) {
            assert!(first > 0.65, "{name} H = {first} (seed {seed})");
            let (lo, _) = min_max(&all);
            assert!(lo > 0.65, "{name} min H = {lo} (seed {seed})");
        }
    }
}

/// Fractional Gaussian noise with H = 0.3 and 0.7: each estimator lands on the right side of
/// 0.5 by a clear margin (R/S is known to shrink towards 0.5; see docs/indicators.md).
#[test]
fn hurst_separates_anti_persistent_and_persistent_fractional_noise() {
    for seed in [1, 2, 3] {
        let anti = fgn(0.3, seed, 4096);
        for (name, (first, all)) in ["R/S", "DFA"].iter().zip(hurst_2048(&anti)) {
            let (_, hi) = min_max(&all);
            assert!(first < 0.4, "{name} H = {first} on fGn(0.3) (seed {seed})");
            assert!(hi < 0.45, "{name} max H = {hi} on fGn(0.3) (seed {seed})");
        }
        let pers = fgn(0.7, seed, 4096);
        for (name, (first, all)) in ["R/S", "DFA"].iter().zip(hurst_2048(&pers)) {
            let (lo, _) = min_max(&all);
            assert!(first > 0.58, "{name} H = {first} on fGn(0.7) (seed {seed})");
            assert!(lo > 0.55, "{name} min H = {lo} on fGn(0.7) (seed {seed})");
        }
    }
}

#[test]
fn hurst_of_a_constant_window_is_one_half() {
    assert_eq!(
        HurstRs::new(64).unwrap().batch(&[1.0; 64]).values,
        vec![0.5]
    );
    assert_eq!(
        HurstDfa::new(64).unwrap().batch(&[1.0; 64]).values,
        vec![0.5]
    );
}

#[test]
fn vpin_buckets_split_trades_exactly() {
    // Buckets of 10, window of 2 buckets. Trades: +10 buy (up-tick after the first),
    // then 15 sell: bucket 2 = 10 sells, 5 sells carry over; then 5 buys close bucket 3.
    let mut v = TradeVpin::new(10.0, 2).unwrap();
    assert_eq!(
        v.update(Trade {
            price: 100.0,
            size: 0.0
        }),
        None
    );
    assert_eq!(
        v.update(Trade {
            price: 101.0,
            size: 10.0
        }),
        None
    );
    // Buckets: [buy 10] [sell 10] → imbalances 10, 10 → VPIN 1.
    assert_eq!(
        v.update(Trade {
            price: 100.0,
            size: 15.0
        }),
        Some(1.0)
    );
    // Bucket 3: 5 sells + 5 buys → imbalance 0 → (10 + 0)/20.
    assert_eq!(
        v.update(Trade {
            price: 101.0,
            size: 5.0
        }),
        Some(0.5)
    );
}

#[test]
fn vpin_is_high_for_one_sided_flow_and_low_for_balanced_flow() {
    let up: Vec<Candle> = (0..400)
        .map(|i| Candle::new(0.0, 0.0, 0.0, 100.0 + i as f64 * 0.1, 1000.0))
        .collect();
    let one_sided = Vpin::new(5000.0, 20, 50).unwrap().batch(&up);
    assert!(one_sided.values.last().unwrap() > &0.6);
    let mut rng = Noise(4);
    let mut p = 100.0;
    let noisy: Vec<Candle> = (0..4000)
        .map(|_| {
            p += rng.gauss() * 0.1;
            Candle::new(0.0, 0.0, 0.0, p, 1000.0)
        })
        .collect();
    let balanced = Vpin::new(5000.0, 50, 50).unwrap().batch(&noisy);
    let m = mean(&balanced.values);
    assert!(m < 0.45, "mean VPIN on balanced flow {m}");
}

#[test]
fn vpin_ignores_zero_volume_and_survives_huge_bars() {
    let mut v = Vpin::new(10.0, 3, 5).unwrap();
    assert_eq!(v.update(Candle::new(1.0, 1.0, 1.0, 1.0, 0.0)), None);
    assert!(v.update(Candle::new(1.0, 1.0, 1.0, 2.0, 1e300)).is_some());
    assert!(v.buckets_filled() > 3);
}

#[test]
fn every_regime_is_reachable() {
    let c = RegimeClassifier::default();
    let cases = [
        ((0.5, 0.5, -0.2), Regime::Transition),
        ((0.9, -0.1, -0.2), Regime::Emergent),
        ((0.9, 0.1, 0.0), Regime::PostEmergent),
        ((0.65, -0.1, 0.0), Regime::ProtoEmergent),
        ((0.3, 0.1, 0.0), Regime::Chaotic),
        ((0.9, -0.1, 0.2), Regime::Neutral),
        ((f64::NAN, 0.0, 0.0), Regime::Unknown),
    ];
    for ((r, dh, k), want) in cases {
        assert_eq!(c.classify(r, dh, k), want, "R {r}, ΔH {dh}, κ {k}");
    }
}

/// Fractional Gaussian noise with Hurst exponent `h` (unit variance), exact, by Hosking's
/// Durbin–Levinson recursion (O(n²)): increments of fractional Brownian motion, persistent for
/// h > 0.5 and anti-persistent for h < 0.5.
fn fgn(h: f64, seed: u64, n: usize) -> Vec<f64> {
    let mut rng = Noise(seed);
    let gamma: Vec<f64> = (0..n)
        .map(|k| {
            let k = k as f64;
            0.5 * ((k + 1.0).powf(2.0 * h) - 2.0 * k.powf(2.0 * h) + (k - 1.0).abs().powf(2.0 * h))
        })
        .collect();
    let mut x = Vec::with_capacity(n);
    let (mut phi, mut next) = (vec![0.0; n], vec![0.0; n]);
    let mut v = 1.0;
    x.push(rng.gauss());
    for t in 1..n {
        // φ_{t,t} = (γ(t) − Σ_{j<t} φ_{t−1,j} γ(t−j)) / v_{t−1}
        let dot: f64 = phi[1..t]
            .iter()
            .zip(gamma[1..t].iter().rev())
            .map(|(p, g)| p * g)
            .sum();
        let k = (gamma[t] - dot) / v;
        // φ_{t,j} = φ_{t−1,j} − φ_{t,t} φ_{t−1,t−j}
        for (j, nx) in next.iter_mut().enumerate().take(t).skip(1) {
            *nx = phi[j] - k * phi[t - j];
        }
        next[t] = k;
        std::mem::swap(&mut phi, &mut next);
        v *= 1.0 - k * k;
        let mean: f64 = (1..=t).map(|j| phi[j] * x[t - j]).sum();
        x.push(mean + v.sqrt() * rng.gauss());
    }
    x
}
