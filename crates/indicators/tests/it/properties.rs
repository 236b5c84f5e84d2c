//! Properties over arbitrary input: batch equals streaming bit for bit, no panic on any `f64`
//! (NaN, ±inf, huge, tiny, constant), warm-up monotone, and checkpoints resume exactly.

use proptest::prelude::*;
use serde_json::json;
use tradepulse_indicators::*;

/// Any f64, with NaN/inf/zero and ordinary prices all likely.
fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => 1.0f64..2000.0,
        1 => prop::num::f64::ANY,
        1 => Just(0.0),
        1 => Just(100.0),
    ]
}

fn candle() -> impl Strategy<Value = Candle> {
    (
        any_value(),
        any_value(),
        any_value(),
        any_value(),
        any_value(),
    )
        .prop_map(|(o, h, l, c, v)| Candle::new(o, h, l, c, v))
}

fn same_bits<T: std::fmt::Debug>(a: &[T], b: &[T]) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Streaming outputs, checking readiness is monotone and `is_ready` agrees with `update`.
fn stream<I: Indicator>(ind: &mut I, xs: &[I::Input]) -> Series<I::Output> {
    ind.reset();
    let mut out = Series {
        start: xs.len(),
        values: Vec::new(),
    };
    for (i, &x) in xs.iter().enumerate() {
        match ind.update(x) {
            Some(y) => {
                if out.values.is_empty() {
                    out.start = i;
                }
                out.values.push(y);
                assert!(ind.is_ready());
            }
            None => assert!(
                out.values.is_empty(),
                "output disappeared after warm-up at {i}"
            ),
        }
    }
    out
}

fn check<I: Indicator + Clone>(ind: &I, xs: &[I::Input]) -> Result<(), TestCaseError>
where
    I::Output: std::fmt::Debug,
{
    let streamed = stream(&mut ind.clone(), xs);
    let batched = ind.clone().batch(xs);
    prop_assert_eq!(streamed.start, batched.start);
    prop_assert!(
        same_bits(&streamed.values, &batched.values),
        "batch differs from streaming"
    );
    Ok(())
}

macro_rules! price_indicators {
    ($xs:expr, $($ind:expr),+ $(,)?) => {{ $( check(&$ind, $xs)?; )+ }};
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn price_indicators_batch_equals_streaming(xs in prop::collection::vec(any_value(), 0..120)) {
        price_indicators!(&xs,
            Sma::new(5).unwrap(), Ema::new(5).unwrap(), Wma::new(5).unwrap(), Dema::new(4).unwrap(),
            Tema::new(3).unwrap(), Kama::new(6).unwrap(), Rsi::new(5).unwrap(),
            Macd::new(3, 7, 4).unwrap(), Bollinger::new(6, 2.0, 2.0).unwrap(),
            StochRsi::new(5, 4, 3).unwrap(), RateOfChange::new(3).unwrap(), Momentum::new(3).unwrap(),
            StdDev::new(4, 1.5).unwrap(),
            Kuramoto::new(8, 3).unwrap(), MultiscaleKuramoto::new(&[1, 3], 6, 2).unwrap(),
            CausalPhase::new(3).unwrap(), OllivierRicci::new(12, 0.01, 0.5).unwrap(),
            TemporalRicci::new(10, 3, 3, 0.01, 0.5).unwrap(), Entropy::new(8, 4).unwrap(),
            DeltaEntropy::new(6, 3).unwrap(), Entropy::new(30, 10).unwrap(),
            DeltaEntropy::new(20, 7).unwrap(), HurstRs::new(32).unwrap(), HurstDfa::new(64).unwrap(),
        );
    }

    #[test]
    fn candle_indicators_batch_equals_streaming(cs in prop::collection::vec(candle(), 0..80)) {
        price_indicators!(&cs,
            Atr::new(4).unwrap(), Atr::new(1).unwrap(), Natr::new(4).unwrap(), TrueRange::new(),
            Stochastic::new(4, 3, 2).unwrap(), Adx::new(4).unwrap(), Dmi::new(4).unwrap(),
            Cci::new(4).unwrap(), Obv::new(), Mfi::new(4).unwrap(), WilliamsR::new(4).unwrap(),
            RollingVwap::new(4).unwrap(), SessionVwap::daily(), Donchian::new(4).unwrap(),
            Keltner::new(4, 2.0, 3).unwrap(), Vpin::new(500.0, 3, 5).unwrap(),
        );
    }

    #[test]
    fn cci_tree_batch_equals_streaming(cs in prop::collection::vec(candle(), 200..260)) {
        // From period 200 CCI keeps its window in an order-statistics tree.
        check(&Cci::new(200).unwrap(), &cs)?;
    }

    #[test]
    fn cross_kuramoto_never_panics(rows in prop::collection::vec(prop::collection::vec(any_value(), 3), 0..60)) {
        let mut k = CrossKuramoto::new(3, 3).unwrap();
        for row in &rows {
            if let Some(r) = k.update(row).unwrap() {
                prop_assert!((0.0..=1.0).contains(&r));
            }
        }
    }

    #[test]
    fn trade_vpin_stays_in_unit_interval(trades in prop::collection::vec((any_value(), any_value()), 0..200)) {
        let mut v = TradeVpin::new(50.0, 4).unwrap();
        for (price, size) in trades {
            if let Some(x) = v.update(Trade { price, size }) {
                prop_assert!((0.0..=1.0).contains(&x));
            }
        }
    }

    #[test]
    fn checkpoints_resume_exactly(xs in prop::collection::vec(1.0f64..2000.0, 40..100), cut in 0usize..40) {
        prop_assert!(resumes_exactly(&Rsi::new(14).unwrap(), &xs, cut));
        prop_assert!(resumes_exactly(&Bollinger::new(20, 2.0, 2.0).unwrap(), &xs, cut));
        prop_assert!(resumes_exactly(&Kuramoto::new(10, 4).unwrap(), &xs, cut));
        // Hurst on the same inputs' log returns (ready from input 33 / 65 on).
        let returns: Vec<f64> = xs.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let cut = cut.min(returns.len());
        prop_assert!(resumes_exactly(&HurstRs::new(32).unwrap(), &returns, cut));
        prop_assert!(resumes_exactly(&HurstDfa::new(64).unwrap(), &returns, cut));
    }

    #[test]
    fn curvature_checkpoints_resume_exactly(
        xs in prop::collection::vec(prop_oneof![4 => 95.0f64..105.0, 1 => 1.0f64..2000.0], 40..160),
        cut in 0usize..80,
    ) {
        // The graph and the cached curvatures are not serialised but rebuilt on load: the
        // rebuilt state equals the live one, and the outputs continue exactly.
        let cut = cut.min(xs.len());
        let ricci = OllivierRicci::new(20, 0.01, 0.5).unwrap();
        let temporal = TemporalRicci::new(15, 4, 3, 0.01, 0.0).unwrap();
        let live = state_after(ricci.clone(), &xs[..cut]);
        prop_assert_eq!(&roundtrip(&live), &live);
        let live = state_after(temporal.clone(), &xs[..cut]);
        prop_assert_eq!(&roundtrip(&live), &live);
        prop_assert!(resumes_exactly(&ricci, &xs, cut));
        prop_assert!(resumes_exactly(&temporal, &xs, cut));
    }

    #[test]
    fn streaming_curvature_is_the_window_graphs_curvature(
        xs in prop::collection::vec(prop_oneof![8 => (0u8..10).prop_map(|k| 50.0 * (0.004 * f64::from(k)).exp()), 1 => any_value()], 3..200),
        window in 3usize..40,
        alpha in prop_oneof![Just(0.0), Just(0.5), 0.0f64..0.9],
    ) {
        // After every update, the incremental mean κ equals the from-scratch computation on
        // the graph of the current window, bit for bit, and a fresh indicator fed only the
        // window gives the same value as the one that saw the whole stream.
        let mut ind = OllivierRicci::new(window, 0.004, alpha).unwrap();
        for (t, &x) in xs.iter().enumerate() {
            let out = ind.update(x);
            if t + 1 < window {
                prop_assert!(out.is_none());
                continue;
            }
            let win = &xs[t + 1 - window..=t];
            let scratch = mean_curvature(&ollivier_ricci(&TransitionGraph::from_prices(win, 0.004), alpha));
            let streamed = out.unwrap();
            prop_assert_eq!(streamed.to_bits(), scratch.to_bits(), "t = {}: {} vs {}", t, streamed, scratch);
            let fresh = OllivierRicci::new(window, 0.004, alpha).unwrap().batch(win).values;
            prop_assert_eq!(fresh.last().map(|v| v.to_bits()), Some(streamed.to_bits()));
        }
    }

    #[test]
    fn order_statistics_checkpoints_resume_exactly(xs in prop::collection::vec(-0.05f64..0.05, 220..400), cut in 0usize..400) {
        // CCI from period 200 on, entropy and ΔH rebuild their trees on load; the rebuilt
        // trees are the live ones, so the sums and counts, and the outputs, are bit-identical.
        let bars: Vec<Candle> = xs
            .iter()
            .map(|&x| Candle::new(100.0 + x, 100.5 + x, 99.5 + x, 100.0 + 2.0 * x, 1.0))
            .collect();
        let cut = cut.min(xs.len());
        prop_assert!(resumes_exactly(&Cci::new(210).unwrap(), &bars, cut));
        prop_assert!(resumes_exactly(&Entropy::new(40, 7).unwrap(), &xs, cut));
        prop_assert!(resumes_exactly(&DeltaEntropy::new(30, 5).unwrap(), &xs, cut));
    }
}

/// JSON round trip of a state.
fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(x: &T) -> T {
    serde_json::from_str(&serde_json::to_string(x).unwrap()).unwrap()
}

/// `ind` after the inputs `xs`.
fn state_after<I: Indicator>(mut ind: I, xs: &[I::Input]) -> I {
    for &x in xs {
        ind.update(x);
    }
    ind
}

/// Streams `xs` straight, and again with a checkpoint round trip after `cut` inputs: the
/// outputs from the cut on are identical (bits, NaN included).
fn resumes_exactly<I>(ind: &I, xs: &[I::Input], cut: usize) -> bool
where
    I: Indicator + Clone + serde::Serialize + serde::de::DeserializeOwned,
    I::Output: std::fmt::Debug,
{
    let mut straight = ind.clone();
    let expected: Vec<_> = xs.iter().map(|&x| straight.update(x)).collect();
    let mut resumed = roundtrip(&state_after(ind.clone(), &xs[..cut]));
    let got: Vec<_> = xs[cut..].iter().map(|&x| resumed.update(x)).collect();
    format!("{:?}", &expected[cut..]) == format!("{got:?}")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Hurst over several windows of any input (NaN, ±inf, huge, constant stretches): no
    /// panic, batch equals streaming, readiness monotone, and a checkpoint anywhere (its state
    /// holds no NaN or infinity, whatever the inputs) resumes exactly.
    #[test]
    fn hurst_never_panics_and_resumes_exactly(
        xs in prop::collection::vec(prop_oneof![4 => -0.05f64..0.05, 1 => any_value()], 0..400),
        cut in 0usize..400,
    ) {
        let cut = cut.min(xs.len());
        for w in [32, 33, 50] {
            let h = HurstRs::new(w).unwrap();
            check(&h, &xs)?;
            prop_assert!(resumes_exactly(&h, &xs, cut));
        }
        for w in [64, 65, 100] {
            let h = HurstDfa::new(w).unwrap();
            check(&h, &xs)?;
            prop_assert!(resumes_exactly(&h, &xs, cut));
        }
    }
}

#[test]
fn corrupt_hurst_checkpoints_are_refused() {
    let mut h = HurstRs::new(40).unwrap();
    for i in 0..45 {
        h.update(f64::from(i % 7) * 0.01);
    }
    let good = serde_json::to_value(&h).unwrap();
    assert!(serde_json::from_value::<HurstRs>(good.clone()).is_ok());
    let mut bad = good.clone();
    bad["scales"][1]["done"] = serde_json::json!(u64::MAX);
    bad["n"] = serde_json::json!(u64::MAX);
    bad["last_bad"] = serde_json::json!(u64::MAX - 3);
    let mut odd: HurstRs = serde_json::from_value(bad).unwrap();
    for i in 0..100 {
        odd.update(f64::from(i)); // any counts are safe: no overflow panic
    }
    let mut bad = good.clone();
    bad["window"] = serde_json::json!(4);
    assert!(serde_json::from_value::<HurstRs>(bad).is_err());
    let mut bad = good.clone();
    bad["window"] = serde_json::json!(1u64 << 40);
    assert!(serde_json::from_value::<HurstRs>(bad).is_err());
    let mut bad = good.clone();
    bad["scales"][0]["fill"] = serde_json::json!(8);
    assert!(serde_json::from_value::<HurstRs>(bad).is_err());
    let mut bad = good.clone();
    bad["scales"][1]["sums"]["cur"] = serde_json::json!(vec![[1.0, 1.0]; 4]);
    assert!(serde_json::from_value::<HurstRs>(bad).is_err());
    let mut bad = good.clone();
    bad["scales"][0]["acc"]["upper"] = serde_json::json!(vec![[0.0, 0.0]; 10]);
    assert!(serde_json::from_value::<HurstRs>(bad).is_err());
    let mut bad = serde_json::to_value(HurstDfa::new(64).unwrap()).unwrap();
    bad["scales"].as_array_mut().unwrap().pop();
    assert!(serde_json::from_value::<HurstDfa>(bad).is_err());
}

#[test]
fn window_longer_than_data_gives_no_output() {
    let s = Sma::new(50).unwrap().batch(&[1.0, 2.0, 3.0]);
    assert_eq!((s.start, s.values.len()), (3, 0));
    let s = Atr::new(14)
        .unwrap()
        .batch(&[Candle::new(1.0, 2.0, 0.5, 1.5, 10.0)]);
    assert_eq!((s.start, s.values.len()), (1, 0));
}

#[test]
fn bad_parameters_are_clear_errors() {
    assert!(matches!(
        Sma::new(1),
        Err(Error::PeriodTooSmall {
            indicator: "SMA",
            value: 1,
            min: 2,
            ..
        })
    ));
    assert!(matches!(
        Macd::new(26, 12, 9),
        Err(Error::InconsistentParameters { .. })
    ));
    assert!(matches!(
        OllivierRicci::new(50, -1.0, 0.5),
        Err(Error::ParameterOutOfRange { .. })
    ));
    assert!(matches!(
        Vpin::new(f64::NAN, 10, 10),
        Err(Error::ParameterOutOfRange { .. })
    ));
    let msg = Sma::new(0).unwrap_err().to_string();
    assert_eq!(msg, "SMA: period must be at least 2, got 0");
}

#[test]
fn constant_series_conventions() {
    let flat = [100.0; 60];
    assert!(
        Rsi::new(14)
            .unwrap()
            .batch(&flat)
            .values
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(
        StdDev::new(5, 1.0)
            .unwrap()
            .batch(&flat)
            .values
            .iter()
            .all(|&v| v == 0.0)
    );
    let candles: Vec<Candle> = flat.iter().map(|&p| Candle::new(p, p, p, p, 0.0)).collect();
    assert!(
        WilliamsR::new(14)
            .unwrap()
            .batch(&candles)
            .values
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(
        Mfi::new(14)
            .unwrap()
            .batch(&candles)
            .values
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(
        RollingVwap::new(5)
            .unwrap()
            .batch(&candles)
            .values
            .iter()
            .all(|&v| v == 100.0)
    );
}

/// The slice fast paths leave the state a streaming run leaves: the next update agrees.
fn resumes_like_streaming<I: Indicator + Clone>(ind: &I, xs: &[I::Input], next: I::Input) -> bool
where
    I::Output: std::fmt::Debug,
{
    let mut a = ind.clone();
    a.batch(xs);
    let mut b = ind.clone();
    for &x in xs {
        b.update(x);
    }
    format!("{:?}", a.update(next)) == format!("{:?}", b.update(next))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn batch_leaves_streaming_state(xs in prop::collection::vec(any_value(), 0..80), next in any_value(), cs in prop::collection::vec(candle(), 0..40), c in candle()) {
        prop_assert!(resumes_like_streaming(&Sma::new(5).unwrap(), &xs, next));
        prop_assert!(resumes_like_streaming(&Ema::new(5).unwrap(), &xs, next));
        prop_assert!(resumes_like_streaming(&Rsi::new(5).unwrap(), &xs, next));
        prop_assert!(resumes_like_streaming(&Bollinger::new(5, 2.0, 1.5).unwrap(), &xs, next));
        prop_assert!(resumes_like_streaming(&Atr::new(4).unwrap(), &cs, c));
        // The column form gives the candle form's values.
        let (high, low, close): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (cs.iter().map(|c| c.high).collect(), cs.iter().map(|c| c.low).collect(), cs.iter().map(|c| c.close).collect());
        let mut columns = Vec::new();
        let start = Atr::new(4).unwrap().batch_columns_into(&high, &low, &close, &mut columns).unwrap();
        let candles = Atr::new(4).unwrap().batch(&cs);
        prop_assert_eq!(start, candles.start);
        prop_assert!(same_bits(&columns, &candles.values));
    }

    #[test]
    fn bollinger_matches_streaming_through_reanchors(base in 1.0e3f64..1.0e6, steps in prop::collection::vec(prop_oneof![Just(0.0), Just(0.25), Just(-0.25), -1.0e3f64..1.0e3], 30..300)) {
        // Near-flat stretches and jumps force the variance's re-anchors on both paths.
        let xs: Vec<f64> = steps.iter().scan(base, |p, d| { *p += d; Some(*p) }).collect();
        check(&Bollinger::new(7, 2.0, 2.0).unwrap(), &xs)?;
        check(&StdDev::new(5, 1.0).unwrap(), &xs)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn analyze_and_catalog_never_panic(cs in prop::collection::vec(candle(), 0..90)) {
        let cfg = AnalysisConfig { window: 12, bins: 5, half_taps: 3, vpin_buckets: 3, ..AnalysisConfig::default() };
        let a = analyze(&cs, &cfg).unwrap();
        prop_assert_eq!(a.rows.len(), cs.len());
        let specs: Vec<IndicatorSpec> = list_indicators().iter().map(|e| e.name.parse().unwrap()).collect();
        let t = compute_table(&specs, &cs).unwrap();
        prop_assert!(t.columns.iter().all(|(_, c)| c.len() == cs.len()));
    }

    #[test]
    fn geometric_z_specs_never_panic(cs in prop::collection::vec(candle(), 0..90)) {
        // Every spec that takes the trailing z, on bars with NaN, infinite, zero and negative
        // prices (their surrogates are shorter than the bars): a column per output, aligned.
        let specs: Vec<IndicatorSpec> = list_indicators()
            .iter()
            .filter(|e| e.params.ends_with("[z]"))
            .map(|e| format!("{}:z", e.name).parse().unwrap())
            .collect();
        prop_assert_eq!(specs.len(), 10);
        let t = compute_table(&specs, &cs).unwrap();
        prop_assert!(t.columns.iter().all(|(_, c)| c.len() == cs.len()));
    }
}

#[test]
fn corrupt_checkpoints_are_refused_not_panicking() {
    let json = serde_json::to_string(&Sma::new(5).unwrap()).unwrap();
    assert!(serde_json::from_str::<Sma>(&json.replace("\"period\":5", "\"period\":0")).is_err());
    let json = serde_json::to_string(&Rsi::new(14).unwrap()).unwrap();
    assert!(serde_json::from_str::<Rsi>(&json.replace("\"period\":14", "\"period\":0")).is_err());
    let mut ring = serde_json::to_value(Ema::new(3).unwrap()).unwrap();
    ring["period"] = serde_json::json!(0);
    assert!(serde_json::from_value::<Ema>(ring).is_err());
    // A re-anchor countdown of 0 would underflow on the next update, a period that does not
    // fit the ring would compute the wrong window (or overflow the countdown's reset).
    let mut bands = Bollinger::new(5, 2.0, 2.0).unwrap();
    for x in [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] {
        bands.update(x);
    }
    let v = serde_json::to_value(&bands).unwrap();
    assert!(serde_json::from_value::<Bollinger>(v.clone()).is_ok());
    for (field, bad) in [
        ("/var/sums/until_reseed", json!(0)),
        ("/var/sums/until_reseed", json!(161)),
        ("/var/period", json!(6)),
        ("/var/period", json!(u64::MAX)),
        ("/var/inv", json!(0.25)),
    ] {
        let mut corrupt = v.clone();
        if let Some(slot) = corrupt.pointer_mut(field) {
            *slot = bad.clone();
        }
        assert!(
            serde_json::from_value::<Bollinger>(corrupt).is_err(),
            "{field} = {bad}"
        );
    }
    let json = serde_json::to_string(&SessionVwap::daily()).unwrap();
    let bad = json.replace("\"session_nanos\":86400000000000", "\"session_nanos\":0");
    assert!(serde_json::from_str::<SessionVwap>(&bad).is_err());
    // The order-statistics indicators checkpoint their rings and rebuild their trees: a ring
    // that does not fit the parameters is refused, never indexed out of bounds.
    let mut cci = Cci::new(200).unwrap();
    let mut entropy = Entropy::new(5, 4).unwrap();
    let mut delta = DeltaEntropy::new(5, 4).unwrap();
    for i in 0..300 {
        let x = f64::from(i % 17);
        cci.update(Candle::new(x, x + 1.0, x - 1.0, x, 1.0));
        entropy.update(x);
        delta.update(x);
    }
    let json = serde_json::to_value(&cci).unwrap();
    for (field, bad) in [("period", json!(14)), ("period", json!(0))] {
        let mut v = json.clone();
        v[field] = bad;
        assert!(serde_json::from_value::<Cci>(v).is_err());
    }
    let mut v = json.clone();
    v["window"]["head"] = json!(200);
    assert!(serde_json::from_value::<Cci>(v).is_err());
    let json = serde_json::to_value(&entropy).unwrap();
    let mut v = json.clone();
    v["counts"] = json!([]);
    assert!(serde_json::from_value::<Entropy>(v).is_err());
    let mut v = json.clone();
    v["values"]["len"] = json!(6);
    assert!(serde_json::from_value::<Entropy>(v).is_err());
    let json = serde_json::to_value(&delta).unwrap();
    for (field, bad) in [
        ("window", json!(6)),
        ("window", json!(0)),
        ("counts", json!([])),
    ] {
        let mut v = json.clone();
        v[field] = bad;
        assert!(serde_json::from_value::<DeltaEntropy>(v).is_err());
    }
    let mut v = json.clone();
    v["values"]["buf"] = json!([1.0, 2.0, 3.0]);
    v["values"]["len"] = json!(3);
    assert!(serde_json::from_value::<DeltaEntropy>(v).is_err());
    // Curvature states are rebuilt on load: parameters and structure are checked first.
    let mut ricci = OllivierRicci::new(5, 0.01, 0.5).unwrap();
    for p in [100.0, 101.0, 102.0, 101.0, 100.0, 99.0] {
        ricci.update(p);
    }
    let good = serde_json::to_value(&ricci).unwrap();
    assert!(serde_json::from_value::<OllivierRicci>(good.clone()).is_ok());
    for (field, value) in [
        ("alpha", serde_json::json!(1.5)),
        ("step", serde_json::json!(-0.01)),
        ("step", serde_json::json!(0.0)),
    ] {
        let mut bad = good.clone();
        bad[field] = value;
        assert!(
            serde_json::from_value::<OllivierRicci>(bad).is_err(),
            "{field}"
        );
    }
    let mut bad = good.clone();
    bad["prices"]["buf"] = serde_json::json!([1.0, 2.0]);
    bad["prices"]["len"] = serde_json::json!(2);
    bad["prices"]["head"] = serde_json::json!(0);
    assert!(
        serde_json::from_value::<OllivierRicci>(bad).is_err(),
        "window below 3"
    );
    let mut bad = good.clone();
    bad["prices"]["head"] = serde_json::json!(9);
    assert!(
        serde_json::from_value::<OllivierRicci>(bad).is_err(),
        "ring head"
    );
    let mut temporal = TemporalRicci::new(6, 2, 3, 0.01, 0.0).unwrap();
    for i in 0..20 {
        temporal.update(100.0 + f64::from(i % 4));
    }
    let good = serde_json::to_value(&temporal).unwrap();
    assert!(serde_json::from_value::<TemporalRicci>(good.clone()).is_ok());
    for (field, value) in [
        ("step", serde_json::json!(0)),
        ("since", serde_json::json!(2)),
        ("max_snapshots", serde_json::json!(1)),
        ("max_snapshots", serde_json::json!(u64::MAX)),
        ("max_snapshots", serde_json::json!(1_000_000_000u64)),
    ] {
        let mut bad = good.clone();
        bad[field] = value.clone();
        assert!(
            serde_json::from_value::<TemporalRicci>(bad).is_err(),
            "{field} = {value}"
        );
    }
    // The snapshot records are checked against the graph rebuilt from the prices.
    let records = good["presence"]["records"].as_array().unwrap().clone();
    let present = records
        .iter()
        .position(|r| r[1]["present"] == json!(true))
        .unwrap();
    fn record(present: bool, run: u64, seen: serde_json::Value) -> serde_json::Value {
        json!([[-7, -5], { "present": present, "run": run, "last_seen": seen }])
    }
    /// Corrupts the records; gets the index of a present edge's.
    type Corruption = fn(&mut Vec<serde_json::Value>, usize);
    let corrupt: [(&str, Corruption); 7] = [
        ("a present edge dropped", |r, at| {
            r.remove(at);
        }),
        ("a record repeated", |r, at| r.push(r[at].clone())),
        ("levels not a < b", |r, _| {
            r.push(json!([[9, 3], { "present": false, "run": 0, "last_seen": 0 }]));
        }),
        ("present edge not in the graph", |r, _| {
            r.push(record(true, 0, json!(null)));
        }),
        ("absent edge in no snapshot", |r, _| {
            r.push(record(false, 0, json!(null)));
        }),
        ("seen after the last snapshot", |r, _| {
            r.push(record(false, 0, json!(1000)));
        }),
        ("run after the next snapshot", |r, at| {
            r[at][1]["run"] = json!(1000)
        }),
    ];
    for (what, change) in corrupt {
        let mut bad = good.clone();
        let mut r = records.clone();
        change(&mut r, present);
        bad["presence"]["records"] = json!(r);
        assert!(
            serde_json::from_value::<TemporalRicci>(bad).is_err(),
            "{what}"
        );
    }
    let last_edges = good["presence"]["last_edges"].as_u64().unwrap();
    for (field, value) in [
        ("last", json!(u64::MAX)),
        ("last_edges", json!(u64::MAX)),
        ("last_edges", json!(last_edges + 1)),
    ] {
        let mut bad = good.clone();
        bad["presence"][field] = value.clone();
        assert!(
            serde_json::from_value::<TemporalRicci>(bad).is_err(),
            "{field} = {value}"
        );
    }
    let mut bad = good;
    bad["ricci"]["alpha"] = serde_json::json!(2.0);
    assert!(
        serde_json::from_value::<TemporalRicci>(bad).is_err(),
        "inner alpha"
    );
    // The same memory bound applies to `new` (snapshot slots are reserved up front).
    assert!(matches!(
        TemporalRicci::new(1000, 1, 10_000_000, 0.01, 0.0),
        Err(Error::InconsistentParameters { .. })
    ));
}

/// Outputs for inputs `..=cut` do not change when the inputs after `cut` do (no look-ahead).
fn causal<I: Indicator<Input = f64> + Clone>(ind: &I, xs: &[f64], cut: usize) -> bool
where
    I::Output: std::fmt::Debug,
{
    let a = ind.clone().batch(xs);
    let mut changed = xs.to_vec();
    for x in changed.iter_mut().skip(cut + 1) {
        *x = *x * 1.7 + 3.0;
    }
    let b = ind.clone().batch(&changed);
    let upto = |s: &Series<I::Output>| {
        format!(
            "{:?}",
            &s.values[..(cut + 1).saturating_sub(s.start).min(s.values.len())]
        )
    };
    a.start.min(cut + 1) == b.start.min(cut + 1) && upto(&a) == upto(&b)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn no_indicator_looks_ahead(xs in prop::collection::vec(1.0f64..2000.0, 70..160), cut in 0usize..70) {
        prop_assert!(causal(&Kuramoto::new(8, 3).unwrap(), &xs, cut));
        prop_assert!(causal(&CausalPhase::new(4).unwrap(), &xs, cut));
        prop_assert!(causal(&MultiscaleKuramoto::new(&[1, 3], 6, 2).unwrap(), &xs, cut));
        prop_assert!(causal(&OllivierRicci::new(20, 0.002, 0.0).unwrap(), &xs, cut));
        prop_assert!(causal(&TemporalRicci::new(15, 4, 3, 0.002, 0.0).unwrap(), &xs, cut));
        prop_assert!(causal(&Entropy::new(10, 4).unwrap(), &xs, cut));
        prop_assert!(causal(&DeltaEntropy::new(8, 4).unwrap(), &xs, cut));
        prop_assert!(causal(&HurstRs::new(32).unwrap(), &xs, cut));
        prop_assert!(causal(&HurstDfa::new(64).unwrap(), &xs, cut));
        prop_assert!(causal(&Macd::new(3, 7, 4).unwrap(), &xs, cut));
        prop_assert!(causal(&Bollinger::new(6, 2.0, 2.0).unwrap(), &xs, cut));
        // The whole analysis, row by row.
        // Volume follows price, so changing the future changes future volumes too (and so the
        // automatic VPIN bucket, were it read from all bars).
        let bars = |v: &[f64]| -> Vec<Candle> { v.iter().map(|&p| Candle::new(p, p + 1.0, p - 1.0, p, p)).collect() };
        let cfg = AnalysisConfig { window: 12, bins: 5, half_taps: 3, vpin_buckets: 3, ..AnalysisConfig::default() };
        let a = analyze(&bars(&xs), &cfg).unwrap();
        let mut changed = xs.clone();
        for x in changed.iter_mut().skip(cut + 1) {
            *x = *x * 1.7 + 3.0;
        }
        let b = analyze(&bars(&changed), &cfg).unwrap();
        prop_assert_eq!(&a.rows[..=cut], &b.rows[..=cut]);
    }
}
