//! What the engine answers: orders, positions, balances, status, events. Plain model types;
//! the HTTP layer turns them into its JSON documents.

use tradepulse_execution::{OrderState, Origin};
use tradepulse_model::{
    Asset, ClientOrderId, Fill, InstrumentId, Money, OrderKind, OrderRequest, Price, Quantity,
    RejectReason, Side, TimeInForce, UnixNanos, VenueOrderId,
};
use tradepulse_risk::KillScope;

/// An intent from an API client (or an operator) to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitRequest {
    /// The client's id for the order, if it chose one (then a repeated submit with the same id
    /// returns the first order: idempotent). Without one the engine assigns a session id.
    pub client_order_id: Option<ClientOrderId>,
    /// Who sends it (kill switches and order-rate limits are per strategy).
    pub strategy: String,
    /// What to trade.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Positive quantity.
    pub quantity: Quantity,
    /// Type and prices.
    pub kind: OrderKind,
    /// Time in force.
    pub time_in_force: TimeInForce,
    /// When the decision was made (the strategy's clock); the request's arrival if `None`.
    /// Decision-to-ack and decision-to-fill latencies are measured from it.
    pub decided_at: Option<UnixNanos>,
}

/// One order as the engine knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The order as sent.
    pub request: OrderRequest,
    /// Who sent it (`external` for orders adopted from the venue).
    pub strategy: String,
    /// Where it is in its life; `None` for an intent refused before the venue.
    pub state: Option<OrderState>,
    /// Why it was refused or rejected.
    pub reject_reason: Option<RejectReason>,
    /// The venue's id, once known.
    pub venue_order_id: Option<VenueOrderId>,
    /// Sent by us or adopted from the venue.
    pub origin: Origin,
    /// Executed so far.
    pub filled: Quantity,
    /// Average execution price (`None` before the first fill).
    pub avg_fill_price: Option<Price>,
    /// Fees charged, per asset.
    pub fees: Vec<(Asset, Money)>,
    /// When it was recorded (before it was sent).
    pub created_at: UnixNanos,
    /// When it last changed.
    pub updated_at: UnixNanos,
}

impl OrderView {
    /// `submitted`, `accepted`, …, or `refused` for an intent that never reached the venue.
    #[must_use]
    pub fn status(&self) -> &'static str {
        self.state.map_or("refused", |s| s.as_str())
    }

    /// True while the order can still fill.
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.state.is_some_and(|s| s.is_open())
    }
}

/// An in-process strategy as the engine runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyView {
    /// Its configured name.
    pub name: String,
    /// The strategy's own name (`sma_cross`, …).
    pub kind: String,
    /// The instrument it trades.
    pub instrument: InstrumentId,
    /// Bars it has seen (counting those before a restart).
    pub bars: i64,
    /// Time of the last bar it saw.
    pub last_bar: Option<UnixNanos>,
    /// Its state is checkpointed after every bar.
    pub checkpointed: bool,
    /// This session started from its checkpoint.
    pub restored: bool,
    /// Its kill switch (`strategy:NAME`) is engaged: its intents are refused.
    pub stopped: bool,
    /// The position of its instrument.
    pub position: Quantity,
}

/// Which orders to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderFilter {
    /// `open` (can still fill), `closed` (ended, refused included), or one status name.
    pub status: Option<String>,
    /// Only this instrument.
    pub instrument: Option<InstrumentId>,
    /// Only this strategy.
    pub strategy: Option<String>,
    /// Only orders created at or after this time.
    pub since: Option<UnixNanos>,
    /// At most this many, newest first (capped at [`OrderFilter::MAX_LIMIT`]).
    pub limit: Option<usize>,
}

impl OrderFilter {
    /// Largest page.
    pub const MAX_LIMIT: usize = 1_000;
    /// Page without a limit.
    pub const DEFAULT_LIMIT: usize = 100;

    pub(crate) fn matches(&self, order: &OrderView) -> bool {
        if let Some(s) = &self.status {
            let ok = match s.as_str() {
                "open" => order.is_open(),
                "closed" => !order.is_open(),
                name => order.status() == name,
            };
            if !ok {
                return false;
            }
        }
        self.instrument
            .as_ref()
            .is_none_or(|i| &order.request.instrument == i)
            && self.strategy.as_ref().is_none_or(|s| &order.strategy == s)
            && self.since.is_none_or(|t| order.created_at >= t)
    }
}

/// One position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionView {
    /// The instrument.
    pub instrument: InstrumentId,
    /// Signed quantity.
    pub quantity: Quantity,
    /// Signed cost basis of the open quantity.
    pub cost_basis: Money,
    /// Realised PnL (before fees).
    pub realized_pnl: Money,
    /// Latest price, if known.
    pub mark: Option<Price>,
    /// Unrealised PnL at the mark.
    pub unrealized_pnl: Option<Money>,
}

/// One balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BalanceView {
    /// The asset.
    pub asset: Asset,
    /// Total held (negative: owed).
    pub total: Money,
}

/// The engine's health and counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineStatus {
    /// Restored, reconciled and accepting orders.
    pub ready: bool,
    /// Why not, when not ready.
    pub not_ready_reason: Option<String>,
    /// The session id (part of every id the session assigns).
    pub session: i64,
    /// The venue's name.
    pub venue: String,
    /// Orders that can still fill.
    pub open_orders: usize,
    /// Kill switches engaged.
    pub kill_switches: Vec<KillScope>,
    /// Orders sent this session.
    pub orders_sent: u64,
    /// Fills booked this session.
    pub fills: u64,
    /// Refusals and rejections this session.
    pub rejected: u64,
    /// `rejected` by reason code (only reasons that occurred).
    pub rejected_by_reason: Vec<(&'static str, u64)>,
    /// Last complete reconciliation.
    pub last_reconciliation: Option<UnixNanos>,
    /// Journal rows waiting to be written.
    pub journal_pending: usize,
    /// Cash plus every position at its mark, in the account currency.
    pub equity: Money,
    /// Σ |market value| of the positions.
    pub gross_exposure: Money,
}

/// Something the engine did, for streams, persistence elsewhere and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// An order changed (sent, acknowledged, cancelled, …, or refused before the venue).
    Order(Box<OrderView>),
    /// An execution was booked.
    Fill {
        /// The fill.
        fill: Box<Fill>,
        /// The order's instrument.
        instrument: InstrumentId,
        /// The order's strategy.
        strategy: String,
    },
    /// A kill switch changed.
    KillSwitch {
        /// Where.
        scope: KillScope,
        /// Engaged or not.
        engaged: bool,
    },
    /// Reconciliation ran.
    Reconciled {
        /// Corrections applied.
        adjustments: usize,
        /// Whether local and venue state agree.
        complete: bool,
    },
}
