//! Reconciliation as a pure diff: what a venue says about our orders, executions and balances
//! against what the [`OrderManager`] and the [`Portfolio`] know.
//!
//! A live driver takes a [`VenueSnapshot`] (through the venue's REST API, or from an in-process
//! venue), asks [`diff_orders`] what to do, applies the [`Adjustment`]s through the pipeline
//! ([`Pipeline::adopt`](crate::Pipeline::adopt), [`Pipeline::inject`](crate::Pipeline::inject),
//! [`Pipeline::cancel`](crate::Pipeline::cancel)), then asks [`diff_balances`] about what is
//! left and books each [`BalanceDiff`] with
//! [`Pipeline::adjust_balance`](crate::Pipeline::adjust_balance). Every adjustment is something
//! to audit; nothing here does I/O or reads a clock.
//!
//! # What is decided
//!
//! | venue | local | adjustment |
//! |---|---|---|
//! | an order we do not know, open or with fills | — | [`Adjustment::Adopt`], its fills as reports, and with [`UnknownOrders::Cancel`] a cancel of the open ones |
//! | an order we sent, open | `Submitted` | its acknowledgement ([`OrderEventKind::Accepted`]) |
//! | an execution of a known order | trade id not applied | the fill, in venue time order |
//! | an order that ended (cancelled, expired, rejected) | still open after its fills | the terminal event |
//! | no such order | open, sent at least `lost_after` ago | [`Adjustment::Lost`]: rejected `VENUE_UNAVAILABLE` if it was never acknowledged, else cancelled |
//! | no such order | open, sent more recently | pending: looked up again next time (a request still in flight can arrive within the venue's receive window) |
//! | filled more than the executions it lists | | [`Discrepancy`]: nothing is guessed; the next reconciliation looks again |

use tradepulse_model::{
    Asset, ClientOrderId, Fill, InstrumentId, Money, OrderEvent, OrderEventKind, OrderKind,
    OrderRequest, Quantity, RejectReason, Side, TimeInForce, UnixNanos, VenueOrderId,
};
use tradepulse_portfolio::{AssetBalance, InstrumentKey, Portfolio};

use crate::order::{OrderManager, OrderState};
use crate::venue::ExecutionReport;

/// Where an order stands at the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueOrderStatus {
    /// Working (new or partially filled).
    Open,
    /// Completely filled.
    Filled,
    /// Cancelled.
    Canceled,
    /// Expired (time in force, self-trade prevention).
    Expired,
    /// Refused.
    Rejected,
}

impl VenueOrderStatus {
    /// True while the order can still fill.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(self, Self::Open)
    }
}

/// One order as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueOrder {
    /// Its client order id (ours, or whoever placed it).
    pub client_order_id: ClientOrderId,
    /// The venue's id.
    pub venue_order_id: VenueOrderId,
    /// The instrument.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Ordered quantity.
    pub quantity: Quantity,
    /// Executed so far, as the venue counts it.
    pub filled: Quantity,
    /// Type and prices.
    pub kind: OrderKind,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// Where it stands.
    pub status: VenueOrderStatus,
    /// The venue's time of its last change.
    pub ts: UnixNanos,
}

impl VenueOrder {
    /// The order as a request (how an adopted order is recorded).
    #[must_use]
    pub fn request(&self) -> OrderRequest {
        OrderRequest {
            client_order_id: self.client_order_id,
            instrument: self.instrument.clone(),
            side: self.side,
            quantity: self.quantity,
            kind: self.kind,
            time_in_force: self.time_in_force,
        }
    }
}

/// The venue's balances at one instant (free plus locked, per asset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueBalances {
    /// The venue's time of the balances: executions after it are not in them.
    pub ts: UnixNanos,
    /// Per asset; an asset not listed holds zero.
    pub balances: Vec<AssetBalance>,
}

/// What a venue said when asked, for [`diff_orders`] and [`diff_balances`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueSnapshot {
    /// Every order the venue has working for the instruments traded, each order looked up by
    /// client order id, and the orders owning executions in `fills`.
    pub orders: Vec<VenueOrder>,
    /// Client order ids looked up that the venue does not know.
    pub missing: Vec<ClientOrderId>,
    /// The venue's executions of the orders above (any subset it could list; those already
    /// applied are recognised by trade id).
    pub fills: Vec<Fill>,
    /// The balances, if the venue keeps them (a simulated venue does not).
    pub balances: Option<VenueBalances>,
}

/// What to do with an order the venue has and we do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownOrders {
    /// Record it as external and manage it like our own (its fills book into the portfolio).
    #[default]
    Adopt,
    /// Record it (its fills must book all the same) and cancel it if it is still open.
    Cancel,
}

/// How [`diff_orders`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcilePolicy {
    /// Orders the venue has and we do not.
    pub unknown_orders: UnknownOrders,
    /// A local order the venue does not know is declared lost only once it was sent at least
    /// this long ago (nanoseconds); younger ones may still be in flight.
    pub lost_after_nanos: i64,
}

/// One thing reconciliation found to correct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adjustment {
    /// An order the venue has that the order manager does not: record it as external.
    Adopt(VenueOrder),
    /// A report that never reached us (an acknowledgement, an execution, the order's end).
    Report(ExecutionReport),
    /// A local open order the venue does not know: the report that ends it.
    Lost(ExecutionReport),
    /// Cancel an adopted order that is still open ([`UnknownOrders::Cancel`]).
    Cancel {
        /// The order.
        client_order_id: ClientOrderId,
        /// Its instrument.
        instrument: InstrumentId,
    },
}

/// A difference reconciliation cannot correct from what the venue said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrepancy {
    /// The venue counts more executed quantity than the executions it listed add up to.
    MissingFills {
        /// The order.
        client_order_id: ClientOrderId,
        /// Executed at the venue.
        venue_filled: Quantity,
        /// Executed here, with the listed executions.
        local_filled: Quantity,
    },
    /// The venue counts less executed quantity than we booked.
    Overfilled {
        /// The order.
        client_order_id: ClientOrderId,
        /// Executed at the venue.
        venue_filled: Quantity,
        /// Executed here.
        local_filled: Quantity,
    },
}

/// The outcome of [`diff_orders`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// What to apply, in order.
    pub adjustments: Vec<Adjustment>,
    /// Local orders the venue does not know yet but may still receive.
    pub pending: Vec<ClientOrderId>,
    /// What could not be corrected.
    pub discrepancies: Vec<Discrepancy>,
}

impl Reconciliation {
    /// True if local and venue state agree once the adjustments are applied: nothing pending,
    /// no discrepancy.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.pending.is_empty() && self.discrepancies.is_empty()
    }
}

/// Compares the venue's orders and executions with the order manager's (see the module docs
/// for the table). `created_at` tells when a local order was sent (for the grace of orders
/// the venue does not know); `now` is the time the snapshot was taken.
#[must_use]
pub fn diff_orders(
    orders: &OrderManager,
    snapshot: &VenueSnapshot,
    policy: &ReconcilePolicy,
    created_at: impl Fn(ClientOrderId) -> Option<UnixNanos>,
    now: UnixNanos,
) -> Reconciliation {
    let mut out = Reconciliation::default();
    let mut fills: Vec<&Fill> = snapshot.fills.iter().collect();
    fills.sort_by_key(|f| (f.ts, f.trade_id));
    let mut cancels = Vec::new();
    for order in &snapshot.orders {
        let id = order.client_order_id;
        let listed: Vec<&Fill> = fills
            .iter()
            .copied()
            .filter(|f| f.client_order_id == id)
            .collect();
        let event = |kind| {
            Adjustment::Report(ExecutionReport::Order(OrderEvent {
                client_order_id: id,
                venue_order_id: Some(order.venue_order_id),
                ts: order.ts,
                kind,
            }))
        };
        let (state, local_filled) = match orders.get(id) {
            Some(entry) => (entry.state, entry.filled()),
            None => {
                if !order.status.is_open() && listed.is_empty() {
                    continue; // ended without trading: nothing to book
                }
                out.adjustments.push(Adjustment::Adopt(order.clone()));
                if order.status.is_open() && policy.unknown_orders == UnknownOrders::Cancel {
                    cancels.push(Adjustment::Cancel {
                        client_order_id: id,
                        instrument: order.instrument.clone(),
                    });
                }
                (OrderState::Accepted, Quantity::ZERO)
            }
        };
        if state == OrderState::Submitted {
            out.adjustments.push(event(OrderEventKind::Accepted));
        }
        let mut filled = local_filled;
        for fill in listed {
            if orders.has_trade(id, fill.trade_id) {
                continue; // applied before
            }
            filled = filled.checked_add(fill.quantity).unwrap_or(filled);
            out.adjustments
                .push(Adjustment::Report(ExecutionReport::Fill(*fill)));
        }
        if filled < order.filled {
            out.discrepancies.push(Discrepancy::MissingFills {
                client_order_id: id,
                venue_filled: order.filled,
                local_filled: filled,
            });
            continue;
        }
        if filled > order.filled {
            out.discrepancies.push(Discrepancy::Overfilled {
                client_order_id: id,
                venue_filled: order.filled,
                local_filled: filled,
            });
        }
        let ends = match order.status {
            VenueOrderStatus::Canceled => Some(OrderEventKind::Canceled),
            VenueOrderStatus::Expired => Some(OrderEventKind::Expired),
            VenueOrderStatus::Rejected => {
                Some(OrderEventKind::Rejected(RejectReason::VenueRejected))
            }
            VenueOrderStatus::Open | VenueOrderStatus::Filled => None,
        };
        let still_open = !state.is_terminal() && filled < order.quantity;
        if let Some(kind) = ends
            && still_open
        {
            out.adjustments.push(event(kind));
        }
    }
    for &id in &snapshot.missing {
        let Some(entry) = orders.get(id) else {
            continue;
        };
        if entry.state.is_terminal() {
            continue;
        }
        let sent = created_at(id).unwrap_or(UnixNanos::EPOCH);
        if now.as_nanos().saturating_sub(sent.as_nanos()) < policy.lost_after_nanos {
            out.pending.push(id);
            continue;
        }
        let acknowledged = entry.venue_order_id.is_some() || entry.state.is_working();
        let kind = if acknowledged {
            OrderEventKind::Canceled
        } else {
            OrderEventKind::Rejected(RejectReason::VenueUnavailable)
        };
        out.adjustments
            .push(Adjustment::Lost(ExecutionReport::Order(OrderEvent {
                client_order_id: id,
                venue_order_id: entry.venue_order_id,
                ts: now,
                kind,
            })));
    }
    out.adjustments.extend(cancels);
    out
}

/// A balance that differs once every execution is booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceDiff {
    /// The asset.
    pub asset: Asset,
    /// What the portfolio holds (without executions after the venue's balance time).
    pub local: Money,
    /// What the venue holds.
    pub venue: Money,
}

impl BalanceDiff {
    /// `venue − local`: what to book as an external change.
    #[must_use]
    pub fn delta(&self) -> Money {
        Money::from_raw(self.venue.raw() - self.local.raw())
    }
}

/// Compares the venue's balances with the portfolio's. `later` are executions the portfolio
/// has booked with a venue time after `venue.ts` (they are not in the venue's balances yet),
/// with their instrument's key; their effect is taken out of the local side first. Assets
/// either side lists are compared; one missing on a side holds zero there.
#[must_use]
pub fn diff_balances(
    portfolio: &Portfolio,
    venue: &VenueBalances,
    later: &[(InstrumentKey, Fill)],
) -> Vec<BalanceDiff> {
    let mut local = portfolio.balances();
    let mut add = |asset: Asset, amount: i128| match local.iter_mut().find(|b| b.asset == asset) {
        Some(b) => b.amount = Money::from_raw(b.amount.raw() + amount),
        None => local.push(AssetBalance {
            asset,
            amount: Money::from_raw(amount),
        }),
    };
    // Undo each later execution: what it paid or received, its units, its fee.
    for (key, fill) in later {
        let instrument = portfolio.instrument(*key);
        let notional = fill.notional().raw();
        let units = i128::from(fill.quantity.raw());
        let (cash, base) = match fill.side {
            Side::Buy => (notional, -units),
            Side::Sell => (-notional, units),
        };
        add(portfolio.currency(), cash);
        if let Some(asset) = instrument.base_asset() {
            add(asset, base);
        }
        add(fill.fee_asset, fill.fee.raw());
    }
    let mut out = Vec::new();
    for b in &local {
        let theirs = venue
            .balances
            .iter()
            .find(|v| v.asset == b.asset)
            .map_or(Money::ZERO, |v| v.amount);
        if theirs != b.amount {
            out.push(BalanceDiff {
                asset: b.asset,
                local: b.amount,
                venue: theirs,
            });
        }
    }
    for v in &venue.balances {
        if !local.iter().any(|b| b.asset == v.asset) && v.amount != Money::ZERO {
            out.push(BalanceDiff {
                asset: v.asset,
                local: Money::ZERO,
                venue: v.amount,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use tradepulse_model::{Instrument, Liquidity, Price, TradeId};
    use tradepulse_portfolio::AccountConfig;

    use super::*;
    use crate::order::SlotId;

    fn id(text: &str) -> ClientOrderId {
        ClientOrderId::new(text).unwrap_or_else(|_| unreachable!())
    }

    fn btc() -> Instrument {
        Instrument::new(
            "BTCUSDT.BINANCE".parse().unwrap_or_else(|_| unreachable!()),
            "USDT",
            "0.01".parse().unwrap_or_else(|_| unreachable!()),
            "0.001".parse().unwrap_or_else(|_| unreachable!()),
            Money::ZERO,
        )
        .unwrap_or_else(|_| unreachable!())
        .with_base_asset(Asset::new("BTC").unwrap_or_else(|_| unreachable!()))
    }

    fn q(text: &str) -> Quantity {
        text.parse().unwrap_or_else(|_| unreachable!())
    }

    fn venue_order(cid: &str, status: VenueOrderStatus, filled: &str) -> VenueOrder {
        VenueOrder {
            client_order_id: id(cid),
            venue_order_id: VenueOrderId::new(&format!("V{cid}"))
                .unwrap_or_else(|_| unreachable!()),
            instrument: btc().id().clone(),
            side: Side::Buy,
            quantity: q("1"),
            filled: q(filled),
            kind: OrderKind::Limit {
                price: "100".parse().unwrap_or_else(|_| unreachable!()),
            },
            time_in_force: TimeInForce::Gtc,
            status,
            ts: UnixNanos::new(50),
        }
    }

    fn fill(cid: &str, trade: u64, quantity: &str, ts: i64) -> Fill {
        Fill {
            client_order_id: id(cid),
            venue_order_id: VenueOrderId::new(&format!("V{cid}"))
                .unwrap_or_else(|_| unreachable!()),
            trade_id: TradeId::numbered("", trade),
            ts: UnixNanos::new(ts),
            side: Side::Buy,
            quantity: q(quantity),
            price: "100".parse().unwrap_or_else(|_| unreachable!()),
            fee: Money::ZERO,
            fee_asset: Asset::new("USDT").unwrap_or_else(|_| unreachable!()),
            liquidity: Liquidity::Maker,
        }
    }

    fn manager(with: &[&str]) -> (OrderManager, InstrumentKey) {
        let mut portfolio = Portfolio::new(
            Asset::new("USDT").unwrap_or_else(|_| unreachable!()),
            Money::ZERO,
            AccountConfig::cash(),
        );
        let key = portfolio
            .add_instrument(btc())
            .unwrap_or_else(|_| unreachable!());
        let mut orders = OrderManager::new();
        orders.add_instrument(key);
        orders.add_slot(SlotId(0));
        for cid in with {
            let request = venue_order(cid, VenueOrderStatus::Open, "0").request();
            orders
                .register(request, SlotId(0), key, Price::ZERO, false)
                .unwrap_or_else(|_| unreachable!());
        }
        (orders, key)
    }

    const POLICY: ReconcilePolicy = ReconcilePolicy {
        unknown_orders: UnknownOrders::Adopt,
        lost_after_nanos: 1_000,
    };

    #[test]
    fn unknown_venue_orders_are_adopted_with_their_fills_or_cancelled() {
        let (orders, _) = manager(&[]);
        let snapshot = VenueSnapshot {
            orders: vec![
                venue_order("ext-1", VenueOrderStatus::Open, "0.4"),
                venue_order("ext-2", VenueOrderStatus::Canceled, "0"),
            ],
            fills: vec![fill("ext-1", 7, "0.4", 40)],
            ..VenueSnapshot::default()
        };
        let r = diff_orders(&orders, &snapshot, &POLICY, |_| None, UnixNanos::new(100));
        assert!(r.is_complete());
        assert_eq!(r.adjustments.len(), 2, "{r:?}");
        assert!(
            matches!(&r.adjustments[0], Adjustment::Adopt(o) if o.client_order_id == id("ext-1"))
        );
        assert!(
            matches!(r.adjustments[1], Adjustment::Report(ExecutionReport::Fill(f)) if f.trade_id == TradeId::numbered("", 7))
        );

        let cancel = ReconcilePolicy {
            unknown_orders: UnknownOrders::Cancel,
            ..POLICY
        };
        let r = diff_orders(&orders, &snapshot, &cancel, |_| None, UnixNanos::new(100));
        assert!(
            matches!(r.adjustments.last(), Some(Adjustment::Cancel { client_order_id, .. }) if *client_order_id == id("ext-1"))
        );
    }

    #[test]
    fn missed_acknowledgements_fills_and_ends_are_reported_once() {
        let (mut orders, _) = manager(&["a-1", "a-2"]);
        // a-2 knows trade 1 already.
        orders
            .apply_fill(&fill("a-2", 1, "0.2", 10))
            .unwrap_or_else(|_| unreachable!());
        let snapshot = VenueSnapshot {
            orders: vec![
                venue_order("a-1", VenueOrderStatus::Open, "0"),
                venue_order("a-2", VenueOrderStatus::Canceled, "0.5"),
            ],
            fills: vec![fill("a-2", 2, "0.3", 20), fill("a-2", 1, "0.2", 10)],
            ..VenueSnapshot::default()
        };
        let r = diff_orders(&orders, &snapshot, &POLICY, |_| None, UnixNanos::new(100));
        assert!(r.is_complete(), "{r:?}");
        let kinds: Vec<String> = r
            .adjustments
            .iter()
            .map(|a| match a {
                Adjustment::Report(ExecutionReport::Order(e)) => {
                    format!("{} {}", e.client_order_id, e.kind.as_str())
                }
                Adjustment::Report(ExecutionReport::Fill(f)) => {
                    format!("{} fill {}", f.client_order_id, f.trade_id)
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(kinds, ["a-1 accepted", "a-2 fill 2", "a-2 canceled"]);
        assert!(orders.has_trade(id("a-2"), TradeId::numbered("", 1)));
        assert!(!orders.has_trade(id("a-1"), TradeId::numbered("", 1)));
    }

    #[test]
    fn orders_the_venue_does_not_know_are_lost_after_the_grace_only() {
        let (orders, _) = manager(&["l-1"]);
        let snapshot = VenueSnapshot {
            missing: vec![id("l-1")],
            ..VenueSnapshot::default()
        };
        let sent = |_| Some(UnixNanos::new(500));
        let young = diff_orders(&orders, &snapshot, &POLICY, sent, UnixNanos::new(1_000));
        assert_eq!(young.pending, [id("l-1")]);
        assert!(young.adjustments.is_empty());
        let old = diff_orders(&orders, &snapshot, &POLICY, sent, UnixNanos::new(1_500));
        assert!(old.is_complete());
        assert!(matches!(
            old.adjustments[..],
            [Adjustment::Lost(ExecutionReport::Order(OrderEvent {
                kind: OrderEventKind::Rejected(RejectReason::VenueUnavailable),
                ..
            }))]
        ));
    }

    #[test]
    fn more_fills_at_the_venue_than_listed_is_a_discrepancy_not_a_guess() {
        let (orders, _) = manager(&["d-1"]);
        let snapshot = VenueSnapshot {
            orders: vec![venue_order("d-1", VenueOrderStatus::Filled, "1")],
            fills: vec![fill("d-1", 3, "0.5", 30)],
            ..VenueSnapshot::default()
        };
        let r = diff_orders(&orders, &snapshot, &POLICY, |_| None, UnixNanos::new(100));
        assert!(!r.is_complete());
        assert_eq!(
            r.discrepancies,
            [Discrepancy::MissingFills {
                client_order_id: id("d-1"),
                venue_filled: q("1"),
                local_filled: q("0.5"),
            }]
        );
    }

    #[test]
    fn balances_compare_without_executions_after_the_venue_time() {
        let usdt = Asset::new("USDT").unwrap_or_else(|_| unreachable!());
        let btc_asset = Asset::new("BTC").unwrap_or_else(|_| unreachable!());
        let mut portfolio = Portfolio::new(
            usdt,
            "1000".parse().unwrap_or_else(|_| unreachable!()),
            AccountConfig::cash(),
        );
        let key = portfolio
            .add_instrument(btc())
            .unwrap_or_else(|_| unreachable!());
        let later = fill("b-1", 9, "1", 200);
        portfolio
            .apply_fill(key, &later)
            .unwrap_or_else(|_| unreachable!());
        // The venue's balances are from before the fill, and it holds 0.5 BTC we never booked.
        let venue = VenueBalances {
            ts: UnixNanos::new(100),
            balances: vec![
                AssetBalance {
                    asset: usdt,
                    amount: "1000".parse().unwrap_or_else(|_| unreachable!()),
                },
                AssetBalance {
                    asset: btc_asset,
                    amount: "0.5".parse().unwrap_or_else(|_| unreachable!()),
                },
            ],
        };
        let diffs = diff_balances(&portfolio, &venue, &[(key, later)]);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert_eq!(diffs[0].asset, btc_asset);
        assert_eq!(
            diffs[0].delta(),
            "0.5".parse().unwrap_or_else(|_| unreachable!())
        );
        assert!(
            diff_balances(&portfolio, &venue, &[])
                .iter()
                .any(|d| d.asset == usdt)
        );
    }
}
