//! Issue 12: a restarted process rebuilds the pipeline from its journal. Replaying what a
//! session journaled through `Pipeline::restore` gives the same orders, states, applied trades
//! and portfolio as the session itself, whatever the intents, the prices, repeated reports and
//! balance adjustments were; batches are journaled with one flush.

use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use tradepulse_execution::{
    ExecutionReport, FillModel, Journal, JournalEntry, JournalError, OrderIds, Pipeline,
    PipelineEvent, Restore, SimConfig, SimVenue,
};
use tradepulse_model::{
    Asset, Bar, ClientOrderId, Instrument, InstrumentId, Money, OrderKind, OrderRequest, Price,
    Quantity, Side, TimeInForce, UnixNanos,
};
use tradepulse_portfolio::{AccountConfig, Portfolio};
use tradepulse_risk::{RiskConfig, RiskEngine};

/// What a store-backed journal would keep, in order, and how often it was flushed.
#[derive(Debug, Default)]
struct Recorded {
    entries: Vec<Entry>,
    flushes: usize,
}

/// An order needs the slot of the pipeline it is replayed into; everything else is replayed
/// as recorded.
#[derive(Debug, Clone)]
enum Entry {
    Order(OrderRequest, Option<tradepulse_model::VenueOrderId>),
    Other(Restore),
}

#[derive(Clone, Default)]
struct RecordingJournal(Arc<Mutex<Recorded>>);

impl Journal for RecordingJournal {
    fn record(&mut self, entry: &JournalEntry<'_>) -> Result<(), JournalError> {
        let mut r = self.0.lock().unwrap();
        let owned = match *entry {
            JournalEntry::Submitted { request, .. } => Some(Entry::Order(request.clone(), None)),
            JournalEntry::Adopted {
                request,
                venue_order_id,
                ..
            } => Some(Entry::Order(request.clone(), Some(venue_order_id))),
            JournalEntry::CancelRequested {
                client_order_id, ..
            } => Some(Entry::Other(Restore::CancelRequested(client_order_id))),
            JournalEntry::Report(report) => Some(Entry::Other(Restore::Report(*report))),
            JournalEntry::BalanceAdjusted {
                asset,
                amount,
                price,
                ..
            } => Some(Entry::Other(Restore::Balance {
                asset,
                amount,
                price,
            })),
            JournalEntry::Refused { .. } => None,
        };
        r.entries.extend(owned);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), JournalError> {
        self.0.lock().unwrap().flushes += 1;
        Ok(())
    }
}

fn instrument() -> Instrument {
    Instrument::new(
        InstrumentId::new("BTCUSD", "SIM").unwrap(),
        "USD",
        Price::from_raw(10_000_000),
        Quantity::from_raw(1_000_000),
        Money::ZERO,
    )
    .unwrap()
    .with_base_asset(Asset::new("BTC").unwrap())
}

fn pipeline(journal: RecordingJournal) -> (Pipeline<'static>, tradepulse_execution::SlotId) {
    let portfolio = Portfolio::new(
        Asset::new("USD").unwrap(),
        "100000".parse().unwrap(),
        AccountConfig::cash(),
    );
    let venue = SimVenue::new(SimConfig {
        fill_model: FillModel::Close,
        taker_fee_bps: "10".parse().unwrap(),
        ..SimConfig::default()
    });
    let mut p = Pipeline::new(
        portfolio,
        RiskEngine::new(RiskConfig::default()).unwrap(),
        Box::new(venue),
        Box::new(journal),
    );
    let key = p.add_instrument(instrument()).unwrap();
    let slot = p.add_strategy(
        "api",
        key,
        None,
        OrderIds {
            prefix: "api".into(),
            first_sequence: 1,
        },
    );
    (p, slot)
}

fn bar(i: usize, cents: i64) -> Bar {
    let c = |v: i64| Price::from_raw(v.max(100) * 10_000_000);
    Bar {
        ts: UnixNanos::new(i as i64 * 60 * UnixNanos::NANOS_PER_SECOND),
        open: c(cents),
        high: c(cents + 300),
        low: c(cents - 300),
        close: c(cents),
        volume: 1e9,
    }
}

/// What the two pipelines must agree on: every order's state and venue id, the portfolio.
fn state(p: &Pipeline<'_>) -> (Vec<String>, Vec<String>, String) {
    let mut orders: Vec<String> = p
        .orders()
        .iter()
        .map(|o| {
            format!(
                "{} {:?} {:?} filled={}",
                o.request.client_order_id,
                o.state,
                o.venue_order_id,
                o.filled()
            )
        })
        .collect();
    orders.sort();
    let balances = p
        .portfolio()
        .balances()
        .iter()
        .map(|b| format!("{} {}", b.asset, b.amount.raw()))
        .collect();
    let key = p.portfolio().keys().next().unwrap();
    let position = p.portfolio().position(key);
    (
        orders,
        balances,
        format!(
            "{} {} {}",
            position.quantity().raw(),
            position.cost_basis().raw(),
            position.realized_pnl().raw()
        ),
    )
}

fn replay(recorded: &Recorded) -> Pipeline<'static> {
    let (mut fresh, slot) = pipeline(RecordingJournal::default());
    for entry in &recorded.entries {
        let record = match entry.clone() {
            Entry::Order(request, venue_order_id) => Restore::Order {
                slot,
                request,
                venue_order_id,
            },
            Entry::Other(other) => other,
        };
        fresh.restore(record).unwrap();
    }
    fresh
}

#[derive(Debug, Clone)]
enum Step {
    Order { buy: bool, lots: i64, limit: i64 },
    Bar(i64),
    CancelOldest,
    Repeat,
    Deposit(i64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), 1i64..500, -300i64..300)
            .prop_map(|(buy, lots, limit)| Step::Order { buy, lots, limit }),
        3 => (-800i64..800).prop_map(Step::Bar),
        1 => Just(Step::CancelOldest),
        1 => Just(Step::Repeat),
        1 => (-50i64..500).prop_map(Step::Deposit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_replaying_the_journal_rebuilds_the_session(steps in proptest::collection::vec(step(), 1..80)) {
        let journal = RecordingJournal::default();
        let (mut live, slot) = pipeline(journal.clone());
        let key = live.portfolio().keys().next().unwrap();
        let mut price = 5_000_000i64; // cents
        let mut n = 0u64;
        let mut bars = 0usize;
        live.on_bar(key, &bar(bars, price), bar(bars, price).ts).unwrap();
        for s in steps {
            let now = UnixNanos::new((bars as i64 + 1) * 60 * UnixNanos::NANOS_PER_SECOND - 1);
            match s {
                Step::Order { buy, lots, limit } => {
                    n += 1;
                    let kind = if limit == 0 {
                        OrderKind::Market
                    } else {
                        OrderKind::Limit { price: Price::from_raw((price + limit * 100).max(100) * 10_000_000) }
                    };
                    let request = OrderRequest {
                        client_order_id: ClientOrderId::sequenced("api", n),
                        instrument: instrument().id().clone(),
                        side: if buy { Side::Buy } else { Side::Sell },
                        quantity: Quantity::from_raw(lots * 1_000_000),
                        kind,
                        time_in_force: TimeInForce::Gtc,
                    };
                    live.submit(slot, request).unwrap();
                }
                Step::Bar(change) => {
                    price = (price + change * 100).max(1_000);
                    bars += 1;
                    let b = bar(bars, price);
                    live.on_bar(key, &b, b.ts).unwrap();
                }
                Step::CancelOldest => {
                    let oldest = live.orders().iter().filter(|o| o.state.is_open())
                        .map(|o| o.request.client_order_id).min();
                    if let Some(id) = oldest {
                        live.cancel(slot, id).unwrap();
                    }
                }
                Step::Repeat => {
                    // Every report once more, as a venue or a catch-up may send them.
                    let again: Vec<ExecutionReport> = journal.0.lock().unwrap().entries.iter()
                        .filter_map(|e| match e { Entry::Other(Restore::Report(r)) => Some(*r), _ => None })
                        .collect();
                    live.inject(again, now).unwrap();
                }
                Step::Deposit(units) => {
                    live.adjust_balance(Asset::new("BTC").unwrap(), Money::from_raw(i128::from(units) * 1_000_000), Price::from_raw(price * 10_000_000), now).unwrap();
                }
            }
            live.drain_events().for_each(drop);
        }
        let restored = replay(&journal.0.lock().unwrap());
        prop_assert_eq!(state(&restored), state(&live));
        // Every trade the session applied is known to the restored one (no fill books twice).
        let trades: Vec<_> = journal.0.lock().unwrap().entries.iter()
            .filter_map(|e| match e { Entry::Other(Restore::Report(ExecutionReport::Fill(f))) => Some((f.client_order_id, f.trade_id)), _ => None })
            .collect();
        for (order, t) in trades {
            prop_assert!(restored.orders().has_trade(order, t));
        }
    }
}

#[test]
fn a_batch_of_intents_is_made_durable_with_one_flush() {
    let journal = RecordingJournal::default();
    let (mut p, slot) = pipeline(journal.clone());
    let key = p.portfolio().keys().next().unwrap();
    p.on_bar(key, &bar(0, 5_000_000), bar(0, 5_000_000).ts)
        .unwrap();
    let before = journal.0.lock().unwrap().flushes;
    let intents = (1..=20).map(|n| {
        (
            slot,
            OrderRequest {
                client_order_id: ClientOrderId::sequenced("batch", n),
                instrument: instrument().id().clone(),
                side: Side::Buy,
                quantity: Quantity::from_raw(1_000_000),
                kind: OrderKind::Limit {
                    price: "49000".parse().unwrap(),
                },
                time_in_force: TimeInForce::Gtc,
            },
        )
    });
    p.submit_many(intents).unwrap();
    assert_eq!(journal.0.lock().unwrap().flushes - before, 1);
    let sent = p
        .drain_events()
        .filter(|e| matches!(e, PipelineEvent::Sent { .. }))
        .count();
    assert_eq!(sent, 20);
    assert_eq!(p.orders().open_orders(), 20);
}

#[test]
fn an_adopted_order_books_its_fills_and_replays() {
    let journal = RecordingJournal::default();
    let (mut p, slot) = pipeline(journal.clone());
    let request = OrderRequest {
        client_order_id: ClientOrderId::new("manual-1").unwrap(),
        instrument: instrument().id().clone(),
        side: Side::Buy,
        quantity: Quantity::from_raw(2_000_000),
        kind: OrderKind::Limit {
            price: "100".parse().unwrap(),
        },
        time_in_force: TimeInForce::Gtc,
    };
    let venue_id = tradepulse_model::VenueOrderId::new("V9").unwrap();
    p.adopt(slot, request.clone(), venue_id, UnixNanos::new(5))
        .unwrap();
    assert!(p.adopt(slot, request, venue_id, UnixNanos::new(6)).is_err());
    let fill = tradepulse_model::Fill {
        client_order_id: ClientOrderId::new("manual-1").unwrap(),
        venue_order_id: venue_id,
        trade_id: tradepulse_model::TradeId::new("77").unwrap(),
        ts: UnixNanos::new(7),
        side: Side::Buy,
        quantity: Quantity::from_raw(1_000_000),
        price: "100".parse().unwrap(),
        fee: Money::ZERO,
        fee_asset: Asset::new("USD").unwrap(),
        liquidity: tradepulse_model::Liquidity::Maker,
    };
    p.inject(
        [ExecutionReport::Fill(fill), ExecutionReport::Fill(fill)],
        UnixNanos::new(8),
    )
    .unwrap();
    let key = p.portfolio().keys().next().unwrap();
    assert_eq!(
        p.portfolio().position(key).quantity(),
        Quantity::from_raw(1_000_000)
    );
    let entry = p
        .orders()
        .get(ClientOrderId::new("manual-1").unwrap())
        .unwrap();
    assert_eq!(entry.origin, tradepulse_execution::Origin::External);
    assert_eq!(state(&replay(&journal.0.lock().unwrap())), state(&p));
}
