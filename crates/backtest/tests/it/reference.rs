//! Acceptance 8: the engine agrees with an independent reference loop that shares no engine code.
//!
//! The reference recomputes both averages from scratch each bar in `f64`, holds 0 or 1 unit, and
//! charges 10 bp of each fill's notional; it knows nothing of the strategy, venue or portfolio
//! types.

use tradepulse_backtest::Backtest;
use tradepulse_model::Bar;

use crate::fixtures::{sma_config, spx};

#[derive(Debug)]
struct RefFill {
    ts: i64,
    buy: bool,
    price: f64,
}

fn reference(bars: &[Bar], fast: usize, slow: usize, at_close: bool) -> (Vec<RefFill>, f64) {
    let close: Vec<f64> = bars.iter().map(|b| b.close.as_f64()).collect();
    let open: Vec<f64> = bars.iter().map(|b| b.open.as_f64()).collect();
    let mut cash = 1_000_000.0;
    let mut units = 0.0;
    let mut fills = Vec::new();
    let mut pending: Option<bool> = None; // Some(buy) = an order decided on the previous bar
    for t in 0..bars.len() {
        if let Some(buy) = pending.take() {
            let price = open[t];
            let sign = if buy { 1.0 } else { -1.0 };
            cash -= sign * price + price * 0.001;
            units += sign;
            fills.push(RefFill {
                ts: bars[t].ts.as_nanos(),
                buy,
                price,
            });
        }
        if t + 1 < slow {
            continue;
        }
        let sma = |w: usize| close[t + 1 - w..=t].iter().sum::<f64>() / w as f64;
        let (f, s) = (sma(fast), sma(slow));
        let decision = if f > s && units == 0.0 {
            Some(true)
        } else if f < s && units == 1.0 {
            Some(false)
        } else {
            None
        };
        if let Some(buy) = decision {
            if at_close {
                let price = close[t];
                let sign = if buy { 1.0 } else { -1.0 };
                cash -= sign * price + price * 0.001;
                units += sign;
                fills.push(RefFill {
                    ts: bars[t].ts.as_nanos(),
                    buy,
                    price,
                });
            } else {
                pending = Some(buy);
            }
        }
    }
    let last = close[close.len() - 1];
    (fills, cash + units * last)
}

fn check(fill_model: &str) {
    let bars = spx();
    let (ref_fills, ref_equity) = reference(&bars, 10, 50, fill_model == "close");
    let backtest = Backtest::run_on(&sma_config(fill_model, 10, 50, ""), bars).unwrap();
    let fills = &backtest.run.fills;
    assert!(
        ref_fills.len() > 50,
        "the reference should trade often: {}",
        ref_fills.len()
    );
    assert_eq!(fills.len(), ref_fills.len(), "number of fills");
    for (ours, theirs) in fills.iter().zip(&ref_fills) {
        assert_eq!(ours.fill.ts.as_nanos(), theirs.ts);
        assert_eq!(ours.fill.side == tradepulse_model::Side::Buy, theirs.buy);
        assert!((ours.fill.price.as_f64() - theirs.price).abs() < 1e-9);
    }
    let equity = backtest.run.final_equity().as_f64();
    assert!(
        (equity - ref_equity).abs() < 1e-6,
        "final equity {equity} vs reference {ref_equity}"
    );
}

#[test]
fn sma_10_50_next_open_matches_reference() {
    check("next_open");
}

#[test]
fn sma_10_50_close_matches_reference() {
    check("close");
}
