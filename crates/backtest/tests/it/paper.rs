//! Issue 10, point 5: same strategy, same fills. One strategy goes through the pipeline twice over
//! the same bars — once as a backtest, once fed event by event as a paper session is, with a
//! wall clock (faked: each bar arrives some milliseconds after it closed) — and both make the
//! same orders, the same fills and the same equity.

use std::sync::atomic::{AtomicI64, Ordering};

use tradepulse_backtest::{Backtest, BacktestConfig};
use tradepulse_execution::{Clock, NoJournal, OrderIds, Pipeline, PipelineEvent, SimVenue};
use tradepulse_model::{Bar, Fill, OrderRequest, UnixNanos};
use tradepulse_portfolio::Portfolio;
use tradepulse_risk::RiskEngine;

use crate::fixtures::{config, data_file, spx};

/// A clock the test moves, standing in for the system clock of a paper session.
struct FakeClock(AtomicI64);

impl Clock for FakeClock {
    fn now(&self) -> UnixNanos {
        UnixNanos::new(self.0.load(Ordering::SeqCst))
    }
}

struct Session {
    orders: Vec<OrderRequest>,
    fills: Vec<Fill>,
    equity: Vec<f64>,
}

/// What a paper runner does: build the pipeline from the config, then hand it each bar when it
/// closes, stamped with the wall clock.
fn paper(config: &BacktestConfig, bars: &[Bar]) -> Session {
    let instrument = config.instrument.build().unwrap();
    let portfolio = Portfolio::new(
        instrument.quote_currency(),
        config.portfolio.initial_cash,
        config.portfolio.account_config(),
    );
    let mut pipeline = Pipeline::new(
        portfolio,
        RiskEngine::new(config.risk.clone()).unwrap(),
        Box::new(SimVenue::new(config.execution)),
        Box::new(NoJournal),
    );
    let key = pipeline.add_instrument(instrument).unwrap();
    let strategy = config.strategy.build().unwrap();
    let name = strategy.name().to_owned();
    pipeline.add_strategy(
        &name,
        key,
        Some(strategy),
        OrderIds {
            prefix: name.clone(),
            first_sequence: 1,
        },
    );
    let clock = FakeClock(AtomicI64::new(bars[0].ts.as_nanos() - 1_000_000_000));
    let mut session = Session {
        orders: Vec::new(),
        fills: Vec::new(),
        equity: Vec::new(),
    };
    pipeline.start(clock.now()).unwrap();
    let interval = bars[1].ts.as_nanos() - bars[0].ts.as_nanos();
    for (i, bar) in bars.iter().enumerate() {
        // The bar is complete at its close time; it reaches the runner 1–37 ms later.
        let latency = (i as i64 * 7919 % 37 + 1) * 1_000_000;
        clock
            .0
            .store(bar.ts.as_nanos() + interval + latency, Ordering::SeqCst);
        pipeline.on_bar(key, bar, clock.now()).unwrap();
        collect(&mut pipeline, &mut session);
        session.equity.push(pipeline.portfolio().equity_f64());
    }
    pipeline.stop(clock.now()).unwrap();
    collect(&mut pipeline, &mut session);
    session
}

fn collect(pipeline: &mut Pipeline<'_>, session: &mut Session) {
    let events: Vec<PipelineEvent> = pipeline.drain_events().collect();
    for event in events {
        match event {
            PipelineEvent::Sent {
                client_order_id, ..
            } => session.orders.push(
                pipeline
                    .orders()
                    .get(client_order_id)
                    .unwrap()
                    .request
                    .clone(),
            ),
            PipelineEvent::Fill { fill, .. } => session.fills.push(fill),
            _ => {}
        }
    }
}

fn same_orders_fills_and_equity(yaml: &str, bars: Vec<Bar>) {
    let cfg = config(yaml);
    let session = paper(&cfg, &bars);
    let backtest = Backtest::run_on(&cfg, bars).unwrap();
    let run = &backtest.run;
    assert!(
        session.fills.len() > 20,
        "too few fills to compare: {}",
        session.fills.len()
    );
    let fills: Vec<Fill> = run.fills.iter().map(|f| f.fill).collect();
    assert_eq!(fills, session.fills, "fills");
    // Every order the session sent is the backtest's: the same ids, sides, quantities, kinds.
    assert_eq!(run.orders_submitted, session.orders.len(), "orders");
    for order in &session.orders {
        let filled: Vec<&Fill> = fills
            .iter()
            .filter(|f| f.client_order_id == order.client_order_id)
            .collect();
        assert!(!filled.is_empty(), "{order:?} never filled in the backtest");
        assert!(filled.iter().all(|f| f.side == order.side));
        let quantity: i64 = filled.iter().map(|f| f.quantity.raw()).sum();
        assert_eq!(quantity, order.quantity.raw(), "{}", order.client_order_id);
    }
    assert_eq!(run.equity, session.equity, "equity curve");
}

#[test]
fn next_open_backtest_and_paper_session_agree() {
    let yaml = format!(
        r"
data: {{path: '{}'}}
instrument: {{symbol: SPX, tick_size: 0.000001}}
strategy: {{kind: sma_cross, params: {{fast: 10, slow: 50, size: {{equity_fraction: 0.95}}}}}}
execution: {{fill_model: next_open, taker_fee_bps: 10, slippage_bps: 2}}
portfolio: {{initial_cash: 1000000}}
",
        data_file("spx_1d.csv").display()
    );
    same_orders_fills_and_equity(&yaml, spx());
}

#[test]
fn close_mode_long_short_margin_backtest_and_paper_session_agree() {
    let yaml = r"
data: {path: unused.csv}
instrument: {symbol: SPX, tick_size: 0.000001}
strategy: {kind: sma_cross, params: {fast: 5, slow: 30, size: {equity_fraction: 0.5}, direction: long_short}}
execution: {fill_model: close, taker_fee_bps: 5, spread_bps: 2}
portfolio: {initial_cash: 1000000, account: margin, leverage: 2, financing_bps: 300, short_borrow_bps: 50}
risk: {max_position: 10000, order_rate: {per_strategy: {orders: 5, seconds: 86400}}}
";
    same_orders_fills_and_equity(yaml, spx());
}
