//! "No allocation per update": every streaming indicator, once warmed up, runs thousands of
//! updates without touching the heap. A counting global allocator (per thread, so the other
//! tests running in parallel don't disturb the count) measures it: `allocation-counter`.

use tradepulse_indicators::*;

/// Heap allocations made by `f` on this thread (`allocation-counter` installs a counting
/// global allocator in this test binary).
fn allocations(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).count_total
}

/// A deterministic random walk with a few flat stretches (zero returns, repeated levels) and
/// jumps, so graph, entropy and range code all see their special cases.
fn walk(n: usize) -> Vec<f64> {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut p = 1000.0;
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            if i % 97 >= 90 {
                // flat
            } else if i % 500 == 250 {
                p *= 1.0 + 40.0 * u / 100.0;
            } else {
                p *= 1.0 + u / 50.0;
            }
            p
        })
        .collect()
}

fn candles(n: usize) -> Vec<Candle> {
    let p = walk(n + 1);
    p.windows(2)
        .enumerate()
        .map(|(i, w)| {
            let (o, c) = (w[0], w[1]);
            let (h, l) = (o.max(c) * 1.001, o.min(c) * 0.999);
            Candle::new(o, h, l, c, 100.0 + (i % 7) as f64 * 10.0)
        })
        .collect()
}

/// Allocations made by the updates after the first `warm`, then by `reset` and a second warm-up.
fn allocations_per_run<I: Indicator>(mut ind: I, xs: &[I::Input], warm: usize) -> u64 {
    for &x in &xs[..warm] {
        std::hint::black_box(ind.update(x));
    }
    let steady = allocations(|| {
        for &x in &xs[warm..] {
            std::hint::black_box(ind.update(x));
        }
    });
    // `reset` keeps the buffers: warming up again allocates nothing either.
    let again = allocations(|| {
        ind.reset();
        for &x in &xs[..warm.min(xs.len())] {
            std::hint::black_box(ind.update(x));
        }
    });
    steady + again
}

macro_rules! assert_no_allocation {
    ($xs:expr, $warm:expr, $($ind:expr),+ $(,)?) => {{
        let mut failures = Vec::new();
        $(
            let n = allocations_per_run($ind, $xs, $warm);
            if n > 0 {
                failures.push(format!("{}: {n} allocations", stringify!($ind)));
            }
        )+
        assert!(failures.is_empty(), "allocating updates:\n{}", failures.join("\n"));
    }};
}

const WARM: usize = 2_000;
const TOTAL: usize = 6_000;

#[test]
fn price_indicators_do_not_allocate_per_update() {
    let xs = walk(TOTAL);
    let returns: Vec<f64> = xs.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    assert_no_allocation!(
        &xs,
        WARM,
        Sma::new(50).unwrap(),
        Ema::new(50).unwrap(),
        Wma::new(20).unwrap(),
        Dema::new(20).unwrap(),
        Tema::new(20).unwrap(),
        Kama::new(30).unwrap(),
        Rsi::new(14).unwrap(),
        Macd::new(12, 26, 9).unwrap(),
        Bollinger::new(20, 2.0, 2.0).unwrap(),
        StochRsi::new(14, 5, 3).unwrap(),
        RateOfChange::new(10).unwrap(),
        Momentum::new(10).unwrap(),
        StdDev::new(20, 1.0).unwrap(),
        Kuramoto::new(64, 8).unwrap(),
        MultiscaleKuramoto::new(&[1, 5, 15], 64, 8).unwrap(),
        CausalPhase::new(8).unwrap(),
        OllivierRicci::new(200, 0.005, 0.5).unwrap(),
        TemporalRicci::new(200, 20, 5, 0.005, 0.5).unwrap(),
    );
    assert_no_allocation!(
        &returns,
        WARM,
        Entropy::new(100, 10).unwrap(),
        DeltaEntropy::new(100, 10).unwrap(),
        HurstRs::new(256).unwrap(),
        HurstDfa::new(256).unwrap(),
    );
}

#[test]
fn candle_indicators_do_not_allocate_per_update() {
    let cs = candles(TOTAL);
    assert_no_allocation!(
        &cs,
        WARM,
        Atr::new(14).unwrap(),
        Natr::new(14).unwrap(),
        TrueRange::new(),
        Stochastic::new(14, 3, 3).unwrap(),
        Adx::new(14).unwrap(),
        Dmi::new(14).unwrap(),
        Cci::new(20).unwrap(),
        Cci::new(200).unwrap(),
        Obv::new(),
        Mfi::new(14).unwrap(),
        WilliamsR::new(14).unwrap(),
        RollingVwap::new(20).unwrap(),
        SessionVwap::daily(),
        Donchian::new(20).unwrap(),
        Keltner::new(20, 2.0, 10).unwrap(),
        Vpin::new(5_000.0, 50, 50).unwrap(),
    );
}

#[test]
fn cross_asset_indicators_do_not_allocate_per_update() {
    let a = walk(TOTAL);
    let b: Vec<f64> = walk(TOTAL + 7)[7..].to_vec();
    let mut k = CrossKuramoto::new(2, 8).unwrap();
    let mut v = TradeVpin::new(500.0, 20).unwrap();
    for i in 0..WARM {
        k.update(&[a[i], b[i]]).unwrap();
        v.update(Trade {
            price: a[i],
            size: 1.0 + (i % 5) as f64,
        });
    }
    let n = allocations(|| {
        for i in WARM..TOTAL {
            std::hint::black_box(k.update(&[a[i], b[i]]).unwrap());
            std::hint::black_box(v.update(Trade {
                price: a[i],
                size: 1.0 + (i % 5) as f64,
            }));
        }
    });
    assert_eq!(n, 0);
}

/// Hurst keeps its buffers' capacity through `clone` and a checkpoint round trip (its hull
/// and chunk buffers are reserved in `new` and re-reserved on loading).
#[test]
fn cloned_and_restored_hurst_do_not_allocate_per_update() {
    let xs = walk(TOTAL);
    let returns: Vec<f64> = xs.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
    let mut rs = HurstRs::new(512).unwrap();
    let mut dfa = HurstDfa::new(512).unwrap();
    // Part-way through blocks of every size, so the hulls and chunks are partly filled.
    for &x in &returns[..777] {
        rs.update(x);
        dfa.update(x);
    }
    let restored_rs: HurstRs = serde_json::from_str(&serde_json::to_string(&rs).unwrap()).unwrap();
    let restored_dfa: HurstDfa =
        serde_json::from_str(&serde_json::to_string(&dfa).unwrap()).unwrap();
    assert_no_allocation!(
        &returns[777..],
        0,
        rs.clone(),
        dfa.clone(),
        restored_rs,
        restored_dfa,
    );
}

#[test]
fn restored_and_cloned_curvature_states_do_not_allocate_per_update() {
    // The graph, its caches and the snapshot slots are rebuilt on load and re-reserved on
    // clone, not shrunk to their contents (a derived `Vec` clone would be).
    let xs = walk(TOTAL);
    let mut ricci = OllivierRicci::new(200, 0.005, 0.5).unwrap();
    let mut temporal = TemporalRicci::new(200, 20, 5, 0.005, 0.5).unwrap();
    for &x in &xs[..WARM] {
        ricci.update(x);
        temporal.update(x);
    }
    let restored: OllivierRicci =
        serde_json::from_str(&serde_json::to_string(&ricci).unwrap()).unwrap();
    let restored_temporal: TemporalRicci =
        serde_json::from_str(&serde_json::to_string(&temporal).unwrap()).unwrap();
    let rest = &xs[WARM..];
    assert_no_allocation!(rest, 0, restored, ricci.clone());
    assert_no_allocation!(rest, 0, restored_temporal, temporal.clone());
}
