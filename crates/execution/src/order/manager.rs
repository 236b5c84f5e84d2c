//! [`OrderManager`]: every order of the session, its state, and what working orders commit.

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use tradepulse_model::{
    ClientOrderId, Fill, Money, OrderEvent, OrderEventKind, OrderKind, OrderRequest, Price,
    Quantity, Side, TradeId, VenueOrderId,
};
use tradepulse_portfolio::InstrumentKey;
use tradepulse_risk::Working;

use crate::order::{InvalidTransition, OrderState, OrderTransition};

/// Index of a strategy slot in the pipeline (who sent an order, who hears about it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub(crate) u32);

impl SlotId {
    /// Position in the order slots were added.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Where an order came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Sent by this pipeline.
    Local,
    /// Found at the venue without a record here (reconciliation adopts it).
    External,
}

/// One order as the order manager knows it.
#[derive(Debug, Clone)]
pub struct OrderEntry {
    /// The order as sent.
    pub request: OrderRequest,
    /// The strategy slot that sent it.
    pub slot: SlotId,
    /// Its instrument's key.
    pub key: InstrumentKey,
    /// Where it is in its life.
    pub state: OrderState,
    /// The venue's id, once known.
    pub venue_order_id: Option<VenueOrderId>,
    /// Sent by us, or found at the venue.
    pub origin: Origin,
    /// A bracket exit that starts working only when its entry has filled.
    contingent: bool,
    /// The price its working quantity is valued at (limit, trigger, or the reference when sent).
    value_price: Price,
}

impl OrderEntry {
    /// Unfilled quantity while the order can still fill, else zero.
    #[must_use]
    pub fn open_quantity(&self) -> Quantity {
        if self.state.is_terminal() {
            return Quantity::ZERO;
        }
        self.request
            .quantity
            .checked_sub(self.state.filled(self.request.quantity))
            .unwrap_or(Quantity::ZERO)
    }

    /// Filled so far.
    #[must_use]
    pub const fn filled(&self) -> Quantity {
        self.state.filled(self.request.quantity)
    }

    fn contribution(&self) -> Contribution {
        Contribution {
            active: !self.contingent && !self.state.is_terminal(),
            key: self.key,
            slot: self.slot,
            side: self.request.side,
            open: self.open_quantity(),
            value_price: self.value_price,
        }
    }
}

/// What one order adds to the working totals: `Copy`, so totals update without cloning the
/// order.
#[derive(Debug, Clone, Copy)]
struct Contribution {
    active: bool,
    key: InstrumentKey,
    slot: SlotId,
    side: Side,
    open: Quantity,
    value_price: Price,
}

/// What applying a report did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The order moved to a new state (an order event).
    Event {
        /// Who sent the order.
        slot: SlotId,
        /// Its instrument.
        key: InstrumentKey,
    },
    /// A new execution to book.
    Fill {
        /// Who sent the order.
        slot: SlotId,
        /// Its instrument.
        key: InstrumentKey,
    },
    /// Already applied (a repeated report of the same execution, or an event the order has
    /// moved past): ignored, as idempotence requires.
    Stale,
    /// About an order this manager does not know.
    Unknown,
}

/// A report that contradicts what the order manager knows (e.g. a fill beyond the order's
/// quantity). It is not applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{id}: {source}")]
pub struct ReportError {
    /// The order.
    pub id: ClientOrderId,
    /// The refused transition.
    #[source]
    pub source: InvalidTransition,
}

/// A client order id that was used before in this session (or recorded before a restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("client order id {0} was used before")]
pub struct DuplicateOrder(pub ClientOrderId);

/// Every order of the session by client order id, with the totals the risk engine needs:
/// working quantity and notional per instrument and side, open orders per slot.
///
/// Reports apply idempotently: a fill is keyed by (instrument, venue trade id) and applies
/// once however often it is reported; an order event the order has already moved past (an
/// acknowledgement arriving after the first fill, a second cancel confirmation) is
/// [`Applied::Stale`]. Terminal orders are kept, so late fills book and ids are never reused.
#[derive(Debug, Default)]
pub struct OrderManager {
    orders: HashMap<ClientOrderId, OrderEntry>,
    trades: HashSet<(InstrumentKey, TradeId)>,
    working: Vec<Working>,
    open_by_slot: Vec<u32>,
    open: usize,
}

impl OrderManager {
    /// An empty manager.
    #[must_use]
    pub fn new() -> Self {
        Self {
            orders: HashMap::new(),
            trades: HashSet::new(),
            working: Vec::new(),
            open_by_slot: Vec::new(),
            open: 0,
        }
    }

    /// Makes room for instrument `key` (keys are dense, in order).
    pub fn add_instrument(&mut self, key: InstrumentKey) {
        if self.working.len() <= key.index() {
            self.working.resize(key.index() + 1, Working::default());
        }
    }

    /// Makes room for slot `slot`.
    pub fn add_slot(&mut self, slot: SlotId) {
        if self.open_by_slot.len() <= slot.index() {
            self.open_by_slot.resize(slot.index() + 1, 0);
        }
    }

    /// Working totals per instrument, indexed by key (for the risk engine).
    #[must_use]
    pub fn working(&self) -> &[Working] {
        &self.working
    }

    /// Orders that can still fill, over all slots (bracket exits waiting for their entry not
    /// counted).
    #[must_use]
    pub const fn open_orders(&self) -> usize {
        self.open
    }

    /// Orders of `slot` that can still fill.
    #[must_use]
    pub fn open_orders_of(&self, slot: SlotId) -> usize {
        self.open_by_slot
            .get(slot.index())
            .map_or(0, |&n| n as usize)
    }

    /// The order with this id.
    #[must_use]
    pub fn get(&self, id: ClientOrderId) -> Option<&OrderEntry> {
        self.orders.get(&id)
    }

    /// True if the id was used in this session.
    #[must_use]
    pub fn contains(&self, id: ClientOrderId) -> bool {
        self.orders.contains_key(&id)
    }

    /// Every order, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &OrderEntry> {
        self.orders.values()
    }

    /// Open orders of `slot` for `key`, in no particular order.
    pub fn open_of(&self, slot: SlotId) -> impl Iterator<Item = &OrderEntry> {
        self.orders
            .values()
            .filter(move |o| o.slot == slot && !o.state.is_terminal())
    }

    /// Records an order about to be sent (state `Submitted`); `value_price` values its working
    /// quantity for buying-power reservations. `contingent` marks a bracket exit.
    ///
    /// # Errors
    /// [`DuplicateOrder`] if the id was used before.
    pub fn register(
        &mut self,
        request: OrderRequest,
        slot: SlotId,
        key: InstrumentKey,
        value_price: Price,
        contingent: bool,
    ) -> Result<(), DuplicateOrder> {
        self.insert(OrderEntry {
            request,
            slot,
            key,
            state: OrderState::Submitted,
            venue_order_id: None,
            origin: Origin::Local,
            contingent,
            value_price,
        })
    }

    /// Records an order found at the venue that this manager did not know (reconciliation).
    ///
    /// # Errors
    /// [`DuplicateOrder`] if the id is known.
    pub fn adopt(
        &mut self,
        request: OrderRequest,
        slot: SlotId,
        key: InstrumentKey,
        state: OrderState,
        venue_order_id: Option<VenueOrderId>,
        value_price: Price,
    ) -> Result<(), DuplicateOrder> {
        self.insert(OrderEntry {
            request,
            slot,
            key,
            state,
            venue_order_id,
            origin: Origin::External,
            contingent: false,
            value_price,
        })
    }

    fn insert(&mut self, entry: OrderEntry) -> Result<(), DuplicateOrder> {
        let id = entry.request.client_order_id;
        if self.orders.contains_key(&id) {
            return Err(DuplicateOrder(id));
        }
        self.count(entry.contribution(), 1);
        self.orders.insert(id, entry);
        Ok(())
    }

    /// Records that a cancel of `id` was requested. Returns the order's instrument key, or
    /// `None` if the order is unknown or has ended (nothing to cancel).
    pub fn request_cancel(&mut self, id: ClientOrderId) -> Option<InstrumentKey> {
        let entry = self.orders.get(&id)?;
        if entry.state.is_terminal() || matches!(entry.state, OrderState::PendingCancel { .. }) {
            return None;
        }
        let key = entry.key;
        self.transition(id, OrderTransition::RequestCancel, false)
            .ok()?;
        Some(key)
    }

    /// Applies an order event.
    ///
    /// # Errors
    /// [`ReportError`] if it contradicts the order's state (it is not applied).
    pub fn apply_event(&mut self, event: &OrderEvent) -> Result<Applied, ReportError> {
        let id = event.client_order_id;
        let Some(entry) = self.orders.get_mut(&id) else {
            return Ok(Applied::Unknown);
        };
        if entry.venue_order_id.is_none() {
            entry.venue_order_id = event.venue_order_id;
        }
        let transition = match event.kind {
            OrderEventKind::Accepted => OrderTransition::Accept,
            OrderEventKind::Rejected(r) => OrderTransition::Reject(r),
            OrderEventKind::Triggered => OrderTransition::Trigger,
            OrderEventKind::Canceled => OrderTransition::Cancel,
            OrderEventKind::CancelRejected(r) => OrderTransition::CancelReject(r),
            OrderEventKind::Expired => OrderTransition::Expire,
        };
        let (slot, key, state) = (entry.slot, entry.key, entry.state);
        if is_stale(state, transition) {
            return Ok(Applied::Stale);
        }
        // A bracket exit is released (starts counting as working) by its acceptance.
        let release = matches!(event.kind, OrderEventKind::Accepted) && entry.contingent;
        self.transition(id, transition, release)
            .map_err(|source| ReportError { id, source })?;
        Ok(Applied::Event { slot, key })
    }

    /// Applies a fill; a fill whose (instrument, trade id) was applied before is
    /// [`Applied::Stale`].
    ///
    /// # Errors
    /// [`ReportError`] if it contradicts the order (e.g. fills beyond its quantity).
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<Applied, ReportError> {
        let id = fill.client_order_id;
        let Some(entry) = self.orders.get_mut(&id) else {
            return Ok(Applied::Unknown);
        };
        let (slot, key) = (entry.slot, entry.key);
        if entry.venue_order_id.is_none() {
            entry.venue_order_id = Some(fill.venue_order_id);
        }
        if !self.trades.insert((key, fill.trade_id)) {
            return Ok(Applied::Stale);
        }
        if let Err(source) = self.transition(id, OrderTransition::Fill(fill.quantity), false) {
            self.trades.remove(&(key, fill.trade_id));
            return Err(ReportError { id, source });
        }
        Ok(Applied::Fill { slot, key })
    }

    /// Moves order `id` by `event` (and releases a contingent order), keeping the working
    /// totals in step.
    fn transition(
        &mut self,
        id: ClientOrderId,
        event: OrderTransition,
        release: bool,
    ) -> Result<(), InvalidTransition> {
        let Some(entry) = self.orders.get_mut(&id) else {
            return Ok(());
        };
        let next = entry.state.apply(event, entry.request.quantity)?;
        let before = entry.contribution();
        entry.state = next;
        if release {
            entry.contingent = false;
        }
        let after = entry.contribution();
        self.count(before, -1);
        self.count(after, 1);
        Ok(())
    }

    /// Adds (`sign` 1) or removes (−1) an order's contribution to the totals.
    fn count(&mut self, c: Contribution, sign: i64) {
        if !c.active {
            return;
        }
        let w = &mut self.working[c.key.index()];
        let open = c.open.raw() * sign;
        match c.side {
            Side::Buy => {
                w.buy_quantity = Quantity::from_raw(w.buy_quantity.raw() + open);
                let notional = c.value_price.notional(c.open).raw() * i128::from(sign);
                w.buy_notional = Money::from_raw(w.buy_notional.raw() + notional);
            }
            Side::Sell => {
                w.sell_quantity = Quantity::from_raw(w.sell_quantity.raw() + open);
            }
        }
        let slot = &mut self.open_by_slot[c.slot.index()];
        if sign > 0 {
            self.open += 1;
            *slot += 1;
        } else {
            self.open -= 1;
            *slot -= 1;
        }
    }
}

/// The price an order's working quantity is valued at: its limit or trigger, else `reference`.
#[must_use]
pub fn value_price(kind: &OrderKind, reference: Price) -> Price {
    match *kind {
        OrderKind::Limit { price } => price,
        OrderKind::Stop { trigger } => trigger,
        OrderKind::StopLimit { limit, .. } => limit,
        OrderKind::Market | OrderKind::TrailingStop { .. } => reference,
    }
}

/// True for an event the order has already moved past (a repeated or late report), which
/// applies as a no-op.
fn is_stale(state: OrderState, event: OrderTransition) -> bool {
    use OrderState as S;
    use OrderTransition as E;
    match event {
        E::Accept => !matches!(
            state,
            S::Submitted
                | S::PendingCancel {
                    acknowledged: false,
                    ..
                }
        ),
        E::Trigger => !matches!(
            state,
            S::Accepted
                | S::PendingCancel {
                    triggered: false,
                    ..
                }
        ),
        E::Cancel | E::Expire => state.is_terminal(),
        E::Reject(_) => matches!(state, S::Rejected(_)),
        E::CancelReject(_) => !matches!(state, S::PendingCancel { .. }) && !state.is_terminal(),
        E::Fill(_) | E::RequestCancel => false,
    }
}
