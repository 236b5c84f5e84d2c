//! Issue 11, point 2: walk-forward test windows never overlap, and the stitched out-of-sample
//! run has strictly increasing timestamps whatever the window settings.

use std::sync::OnceLock;

use proptest::prelude::*;
use tradepulse_backtest::{BacktestConfig, WalkForwardConfig, WindowLength};
use tradepulse_model::Bar;
use tradepulse_research::walk_forward;

use crate::fixtures::{SWEEP, config, spx};

fn bars() -> &'static [Bar] {
    static BARS: OnceLock<Vec<Bar>> = OnceLock::new();
    &BARS.get_or_init(spx)[..500]
}

/// The fixture's config with a two-trial sweep (fast 2 or 3, slow 5) and `layout`.
fn small(layout: WalkForwardConfig) -> BacktestConfig {
    let mut cfg = config(
        &SWEEP
            .replace("fast: [5, 10, 20]", "fast: [2, 3]")
            .replace("slow: {from: 20, to: 60, step: 20}", "slow: [5]"),
    );
    cfg.walk_forward = Some(layout);
    cfg
}

fn layout(
    train: WindowLength,
    test: WindowLength,
    step: Option<WindowLength>,
) -> WalkForwardConfig {
    WalkForwardConfig {
        train,
        test,
        step,
        anchored: false,
    }
}

fn refusal(layout: &WalkForwardConfig) -> String {
    walk_forward::windows(layout, bars())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_step_shorter_than_the_test_window_is_refused() {
    use WindowLength::{Bars, Duration};
    let err = refusal(&layout(Bars(100), Bars(50), Some(Bars(20))));
    assert!(
        err.starts_with("walk_forward.step: 20 bars is shorter than test (50 bars)"),
        "{err}"
    );
    assert!(err.contains("overlap"), "{err}");
    let err = refusal(&layout(
        Duration("200d".into()),
        Duration("60d".into()),
        Some(Duration("30d".into())),
    ));
    assert!(err.contains("'30d' is shorter than test ('60d')"), "{err}");
    // Bars against days: found on the laid-out windows (one day is one or no bar here).
    let err = refusal(&layout(Bars(100), Bars(30), Some(Duration("1d".into()))));
    assert!(err.contains("window 1's test starts at bar"), "{err}");
    assert!(err.contains("overlap"), "{err}");
    // A step as long as the test tiles; a longer one leaves gaps; both are accepted.
    for step in [Bars(50), Bars(70)] {
        walk_forward::windows(&layout(Bars(100), Bars(50), Some(step)), bars()).unwrap();
    }
}

fn length(bars: std::ops::Range<usize>, days: std::ops::Range<u32>) -> BoxedStrategy<WindowLength> {
    prop_oneof![
        bars.prop_map(WindowLength::Bars),
        days.prop_map(|d| WindowLength::Duration(format!("{d}d"))),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn prop_stitched_out_of_sample_timestamps_strictly_increase(
        train in length(20..200, 30..280),
        test in length(5..150, 7..200),
        step in proptest::option::of(length(5..200, 7..280)),
        anchored in any::<bool>(),
    ) {
        let wf = WalkForwardConfig { train, test, step, anchored };
        let both_bars = match (&wf.step, &wf.test) {
            (Some(WindowLength::Bars(s)), WindowLength::Bars(t)) => Some(s < t),
            _ => None,
        };
        match walk_forward::run(&small(wf.clone()), bars(), &|| {}) {
            Err(e) => {
                let text = e.to_string();
                prop_assert!(
                    (text.contains("walk_forward.step") && text.contains("overlap"))
                        || text.contains("no complete train + test window fits"),
                    "{wf:?}: {text}"
                );
            }
            Ok(result) => {
                prop_assert_ne!(both_bars, Some(true), "{:?} overlaps but was accepted", wf);
                let ts = &result.oos.timestamps;
                prop_assert!(
                    ts.windows(2).all(|w| w[0] < w[1]),
                    "{wf:?}: out-of-sample timestamps do not strictly increase"
                );
                let tested: usize = result.windows.iter().map(|w| w.test_end - w.train_end).sum();
                prop_assert_eq!(ts.len(), tested);
                prop_assert_eq!(result.oos.equity.len(), tested);
                let bar_times: Vec<_> = result.oos_bars.iter().map(|b| b.ts).collect();
                prop_assert_eq!(&bar_times, ts);
            }
        }
    }
}
