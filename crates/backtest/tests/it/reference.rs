//! The engine agrees with independent reference loops that share no engine code.
//!
//! `entry: state` (issue 2): the reference recomputes both averages from scratch each bar in
//! `f64`, holds 0 or 1 unit, and charges 10 bp of each fill's notional; it knows nothing of the
//! strategy, venue or portfolio types.
//!
//! `entry: cross` (issue 10): the reference detects crosses the way backtrader's `CrossOver`,
//! vectorbt's `crossed_above` and backtesting.py's `crossover` do, on exact integer window sums
//! recomputed from scratch, over a 1,000,000-bar series, and books cash in exact integers.

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
    let backtest =
        Backtest::run_on(&sma_config(fill_model, 10, 50, ", entry: state"), bars).unwrap();
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

/// A fill of the cross reference: bar index, buy?, price mantissa.
type CrossFill = (usize, bool, i64);

/// Long-only, one unit, crosses of SMA(fast) and SMA(slow) on closes; 10 bp fees. Returns the
/// fills and the final equity mantissa (1e-9 units).
fn cross_reference(
    bars: &[Bar],
    fast: usize,
    slow: usize,
    at_close: bool,
) -> (Vec<CrossFill>, i128) {
    let close: Vec<i64> = bars.iter().map(|b| b.close.raw()).collect();
    // Sign of SMA(fast) − SMA(slow) at t, from window sums recomputed from scratch (exact).
    let order = |t: usize| {
        let sum = |w: usize| {
            close[t + 1 - w..=t]
                .iter()
                .map(|&c| i128::from(c))
                .sum::<i128>()
        };
        (sum(fast) * slow as i128).cmp(&(sum(slow) * fast as i128))
    };
    let mut cash: i128 = 1_000_000 * 1_000_000_000;
    let mut units = 0i128;
    let mut fills = Vec::new();
    let mut pending: Option<bool> = None;
    let mut book = |t: usize, buy: bool, price: i64, cash: &mut i128, units: &mut i128| {
        // 10 bp of a notional in whole cents is exact at 1e-9.
        let fee = i128::from(price) / 1000;
        if buy {
            *cash -= i128::from(price) + fee;
            *units += 1;
        } else {
            *cash += i128::from(price) - fee;
            *units -= 1;
        }
        fills.push((t, buy, price));
    };
    for t in 0..bars.len() {
        if let Some(buy) = pending.take() {
            book(t, buy, bars[t].open.raw(), &mut cash, &mut units);
        }
        // A cross needs both averages at t − 1.
        if t < slow {
            continue;
        }
        let (now, before) = (order(t), order(t - 1));
        use std::cmp::Ordering::{Greater, Less};
        let decision = if now == Greater && before != Greater && units == 0 {
            Some(true)
        } else if now == Less && before != Less && units == 1 {
            Some(false)
        } else {
            None
        };
        if let Some(buy) = decision {
            if at_close {
                book(t, buy, close[t], &mut cash, &mut units);
            } else {
                pending = Some(buy);
            }
        }
    }
    let last = i128::from(close[close.len() - 1]);
    (fills, cash + units * last)
}

fn random_walk_1m() -> Vec<Bar> {
    let mut csv = Vec::new();
    tradepulse_data::RandomWalk {
        bars: 1_000_000,
        ..tradepulse_data::RandomWalk::default()
    }
    .write_csv(&mut csv)
    .unwrap();
    tradepulse_data::read_bars(
        csv.as_slice(),
        std::path::Path::new("rw.csv"),
        &tradepulse_data::CsvOptions::default(),
        1_000_000,
    )
    .unwrap()
}

fn check_cross(bars: &[Bar], fill_model: &str) {
    let (theirs, their_equity) = cross_reference(bars, 10, 50, fill_model == "close");
    let config = crate::fixtures::config(&format!(
        r"
data: {{path: unused.csv}}
instrument: {{symbol: RW, tick_size: 0.01}}
strategy: {{kind: sma_cross, params: {{fast: 10, slow: 50, size: {{units: 1}}, entry: cross}}}}
execution: {{fill_model: {fill_model}, maker_fee_bps: 10, taker_fee_bps: 10}}
portfolio: {{initial_cash: 1000000}}
"
    ));
    let backtest = Backtest::run_on(&config, bars.to_vec()).unwrap();
    let ours: Vec<CrossFill> = backtest
        .run
        .fills
        .iter()
        .map(|f| {
            let t = bars.partition_point(|b| b.ts < f.fill.ts);
            (
                t,
                f.fill.side == tradepulse_model::Side::Buy,
                f.fill.price.raw(),
            )
        })
        .collect();
    assert!(
        theirs.len() > 10_000,
        "the reference should trade often: {}",
        theirs.len()
    );
    assert_eq!(ours.len(), theirs.len(), "number of fills");
    if let Some(i) = (0..ours.len()).find(|&i| ours[i] != theirs[i]) {
        panic!(
            "fill {i} differs: ours {:?}, reference {:?}",
            ours[i], theirs[i]
        );
    }
    assert_eq!(
        backtest.run.final_equity().raw(),
        their_equity,
        "final equity"
    );
}

/// Both fill modes on one 1,000,000-bar series (generated once: it takes a while unoptimised).
#[test]
fn sma_cross_entry_matches_an_independent_crossover_on_1m_bars() {
    let bars = random_walk_1m();
    check_cross(&bars, "next_open");
    check_cross(&bars, "close");
}

/// `entry: state` enters at the first bar where both averages exist; `entry: cross` waits for a
/// cross, like the reference libraries.
#[test]
fn cross_waits_for_a_cross_where_state_enters_at_once() {
    let bars = spx();
    let first_signal = 49; // both averages exist from bar 49 on
    let state =
        Backtest::run_on(&sma_config("close", 10, 50, ", entry: state"), bars.clone()).unwrap();
    let cross = Backtest::run_on(&sma_config("close", 10, 50, ""), bars.clone()).unwrap();
    let first = |b: &Backtest| bars.partition_point(|x| x.ts < b.run.fills[0].fill.ts);
    assert_eq!(
        first(&state),
        first_signal,
        "state enters when both averages exist"
    );
    assert!(first(&cross) > first_signal);
    let (theirs, _) = cross_reference(&bars, 10, 50, true);
    assert_eq!(first(&cross), theirs[0].0);
}
