//! [`OrderManager`]: every order of the session, its state, and what working orders commit.

use std::collections::VecDeque;

use foldhash::{HashMap, HashMapExt};
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
    /// The venue trade ids applied to it, so a repeated report applies once.
    trades: TradeIds,
}

/// The trade ids of one order: nearly always one or two, so the first is kept inline.
#[derive(Debug, Clone, Default)]
struct TradeIds {
    first: Option<TradeId>,
    more: Vec<TradeId>,
}

impl TradeIds {
    /// Adds `id`; false if it was there.
    fn insert(&mut self, id: TradeId) -> bool {
        match self.first {
            None => {
                self.first = Some(id);
                true
            }
            Some(first) if first == id => false,
            Some(_) if self.more.contains(&id) => false,
            Some(_) => {
                self.more.push(id);
                true
            }
        }
    }

    fn contains(&self, id: TradeId) -> bool {
        self.first == Some(id) || self.more.contains(&id)
    }

    fn remove(&mut self, id: TradeId) {
        if self.first == Some(id) {
            self.first = self.more.pop();
        } else {
            self.more.retain(|t| *t != id);
        }
    }
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

/// Orders a live session's map holds before it first grows (boxed entries: 6 MB of map).
const LIVE_ORDERS_RESERVED: usize = 1 << 16;

/// The orders of the session by client order id, with the totals the risk engine needs:
/// working quantity and notional per instrument and side, open orders per slot and instrument.
///
/// Reports apply idempotently: a fill is keyed by its order and venue trade id and applies once
/// however often it is reported; an order event the order has already moved past (an
/// acknowledgement arriving after the first fill, a second cancel confirmation) is
/// [`Applied::Stale`].
///
/// # What is kept
///
/// Open orders are kept until they end; ended orders are kept for the last
/// [`OrderManager::ENDED_KEPT`] that ended (late fills after a cancel or an expiry arrive within
/// seconds, and book), so a backtest's memory and lookups stay small however long it runs. A
/// live driver, which answers a repeated client order id with the first order and serves every
/// order of its session by id, keeps all of them ([`OrderManager::keep_ended`]). An id is
/// refused as a duplicate while its order is kept; across a session's whole life and across
/// restarts the journal is the record of every id used (the store's unique client order id),
/// and ids from the pipeline's own sequences never repeat.
#[derive(Debug)]
pub struct OrderManager {
    /// Open orders and the last ended ones. Boxed: a live session keeps every order, and when
    /// the map grows it moves every entry on the engine thread; a box moves in 8 bytes where an
    /// entry is ~260 (a 120,000-order session's growth stalled orders for up to ~70 ms).
    orders: HashMap<ClientOrderId, Box<OrderEntry>>,
    /// The ended orders kept, oldest first: the ones to forget first.
    ended: VecDeque<ClientOrderId>,
    /// How many ended orders to keep (`usize::MAX`: all).
    ended_kept: usize,
    totals: Totals,
}

/// What the open orders add up to. Kept apart from the order map so that an order can be moved
/// and the totals updated with one lookup.
#[derive(Debug, Default)]
struct Totals {
    working: Vec<Working>,
    open_by_slot: Vec<u32>,
    open: usize,
}

impl Default for OrderManager {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderManager {
    /// How many ended orders are kept for late reports.
    pub const ENDED_KEPT: usize = 4096;

    /// An empty manager.
    #[must_use]
    pub fn new() -> Self {
        Self {
            orders: HashMap::new(),
            ended: VecDeque::new(),
            ended_kept: Self::ENDED_KEPT,
            totals: Totals::default(),
        }
    }

    /// Keeps the last `n` ended orders instead of [`OrderManager::ENDED_KEPT`] (`usize::MAX`:
    /// every order, as a live session needs for idempotent submits and lookups by id).
    pub fn keep_ended(&mut self, n: usize) {
        self.ended_kept = n.max(1);
        if n == usize::MAX {
            // A session's first orders do not grow the map at all.
            self.orders.reserve(LIVE_ORDERS_RESERVED);
        }
        while self.ended.len() > self.ended_kept {
            if let Some(oldest) = self.ended.pop_front() {
                self.orders.remove(&oldest);
            }
        }
    }

    /// Makes room for instrument `key` (keys are dense, in order).
    pub fn add_instrument(&mut self, key: InstrumentKey) {
        let working = &mut self.totals.working;
        if working.len() <= key.index() {
            working.resize(key.index() + 1, Working::default());
        }
    }

    /// Makes room for slot `slot`.
    pub fn add_slot(&mut self, slot: SlotId) {
        let open = &mut self.totals.open_by_slot;
        if open.len() <= slot.index() {
            open.resize(slot.index() + 1, 0);
        }
    }

    /// Working totals per instrument, indexed by key (for the risk engine).
    #[must_use]
    pub fn working(&self) -> &[Working] {
        &self.totals.working
    }

    /// Orders that can still fill, over all slots (bracket exits waiting for their entry not
    /// counted).
    #[must_use]
    pub const fn open_orders(&self) -> usize {
        self.totals.open
    }

    /// Orders for instrument `key` that can still fill.
    #[must_use]
    #[inline]
    pub fn open_orders_on(&self, key: InstrumentKey) -> u32 {
        self.totals.working.get(key.index()).map_or(0, |w| w.orders)
    }

    /// Orders of `slot` that can still fill.
    #[must_use]
    pub fn open_orders_of(&self, slot: SlotId) -> usize {
        self.totals
            .open_by_slot
            .get(slot.index())
            .map_or(0, |&n| n as usize)
    }

    /// The order with this id.
    #[must_use]
    pub fn get(&self, id: ClientOrderId) -> Option<&OrderEntry> {
        self.orders.get(&id).map(Box::as_ref)
    }

    /// True if an order with this id is kept (open, or among the last ended).
    #[must_use]
    pub fn contains(&self, id: ClientOrderId) -> bool {
        self.orders.contains_key(&id)
    }

    /// True if the execution `trade_id` was applied to the kept order `id` (reconciliation asks
    /// before reporting a fill the venue lists; executions of orders no longer kept are older
    /// than the live driver's per-instrument trade-id watermark and are not listed again).
    #[must_use]
    pub fn has_trade(&self, id: ClientOrderId, trade_id: TradeId) -> bool {
        self.orders
            .get(&id)
            .is_some_and(|entry| entry.trades.contains(trade_id))
    }

    /// Every kept order, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &OrderEntry> {
        self.orders.values().map(Box::as_ref)
    }

    /// Open orders of `slot`, in no particular order.
    pub fn open_of(&self, slot: SlotId) -> impl Iterator<Item = &OrderEntry> {
        self.orders
            .values()
            .map(Box::as_ref)
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
            trades: TradeIds::default(),
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
            trades: TradeIds::default(),
        })
    }

    fn insert(&mut self, entry: OrderEntry) -> Result<(), DuplicateOrder> {
        let id = entry.request.client_order_id;
        let ended = entry.state.is_terminal();
        match self.orders.entry(id) {
            std::collections::hash_map::Entry::Occupied(_) => return Err(DuplicateOrder(id)),
            std::collections::hash_map::Entry::Vacant(slot) => {
                self.totals.count(entry.contribution(), 1);
                slot.insert(Box::new(entry));
            }
        }
        if ended {
            self.ended(id);
        }
        Ok(())
    }

    /// Order `id` has ended: it is kept among the last [`OrderManager::ENDED_KEPT`] ended, and
    /// the oldest beyond that is forgotten.
    fn ended(&mut self, id: ClientOrderId) {
        if self.ended_kept == usize::MAX {
            return; // every order is kept: nothing to forget, no queue to grow
        }
        if self.ended.len() >= self.ended_kept
            && let Some(oldest) = self.ended.pop_front()
        {
            self.orders.remove(&oldest);
        }
        self.ended.push_back(id);
    }

    /// Records that a cancel of `id` was requested. Returns the order's instrument key, or
    /// `None` if the order is unknown or has ended (nothing to cancel).
    pub fn request_cancel(&mut self, id: ClientOrderId) -> Option<InstrumentKey> {
        let entry = self.orders.get_mut(&id)?;
        if entry.state.is_terminal() || matches!(entry.state, OrderState::PendingCancel { .. }) {
            return None;
        }
        self.totals
            .step(entry, OrderTransition::RequestCancel, false)
            .ok()?;
        Some(entry.key)
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
        let open = !entry.state.is_terminal();
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
        self.totals
            .step(entry, transition, release)
            .map_err(|source| ReportError { id, source })?;
        if open && entry.state.is_terminal() {
            self.ended(id);
        }
        Ok(Applied::Event { slot, key })
    }

    /// Applies a fill; a fill whose trade id was applied to its order before is
    /// [`Applied::Stale`].
    ///
    /// # Errors
    /// [`ReportError`] if it contradicts the order (e.g. fills beyond its quantity).
    pub fn apply_fill(&mut self, fill: &Fill) -> Result<Applied, ReportError> {
        let id = fill.client_order_id;
        let Some(entry) = self.orders.get_mut(&id) else {
            return Ok(Applied::Unknown);
        };
        let open = !entry.state.is_terminal();
        let (slot, key) = (entry.slot, entry.key);
        if entry.venue_order_id.is_none() {
            entry.venue_order_id = Some(fill.venue_order_id);
        }
        if !entry.trades.insert(fill.trade_id) {
            return Ok(Applied::Stale);
        }
        if let Err(source) = self
            .totals
            .step(entry, OrderTransition::Fill(fill.quantity), false)
        {
            entry.trades.remove(fill.trade_id);
            return Err(ReportError { id, source });
        }
        if open && entry.state.is_terminal() {
            self.ended(id);
        }
        Ok(Applied::Fill { slot, key })
    }
}

impl Totals {
    /// Moves `entry` by `event` (and releases a contingent order), keeping the totals in step.
    fn step(
        &mut self,
        entry: &mut OrderEntry,
        event: OrderTransition,
        release: bool,
    ) -> Result<(), InvalidTransition> {
        let next = entry.state.apply(event, entry.request.quantity)?;
        let before = entry.contribution();
        entry.state = next;
        if release {
            entry.contingent = false;
        }
        self.count(before, -1);
        self.count(entry.contribution(), 1);
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
            w.orders += 1;
        } else {
            self.open -= 1;
            *slot -= 1;
            w.orders -= 1;
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

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "a test should fail loudly on a broken fixture"
    )]

    use tradepulse_model::{Asset, Liquidity, OrderEventKind, TimeInForce, UnixNanos};

    use super::*;

    fn key() -> InstrumentKey {
        let mut p = tradepulse_portfolio::Portfolio::new(
            Asset::new("USD").unwrap(),
            Money::ZERO,
            tradepulse_portfolio::AccountConfig::cash(),
        );
        p.add_instrument(
            tradepulse_model::Instrument::new(
                "X.SIM".parse().unwrap(),
                "USD",
                Price::from_raw(1),
                Quantity::from_units(1),
                Money::ZERO,
            )
            .unwrap(),
        )
        .unwrap()
    }

    fn manager() -> (OrderManager, InstrumentKey, SlotId) {
        let mut m = OrderManager::new();
        let key = key();
        m.add_instrument(key);
        let slot = SlotId(0);
        m.add_slot(slot);
        (m, key, slot)
    }

    fn request(id: &str, units: i32) -> OrderRequest {
        OrderRequest {
            client_order_id: ClientOrderId::new(id).unwrap(),
            instrument: "X.SIM".parse().unwrap(),
            side: Side::Buy,
            quantity: Quantity::from_units(units),
            kind: OrderKind::Market,
            time_in_force: TimeInForce::Gtc,
        }
    }

    fn event(id: &str, kind: OrderEventKind) -> OrderEvent {
        OrderEvent {
            client_order_id: ClientOrderId::new(id).unwrap(),
            venue_order_id: None,
            ts: UnixNanos::EPOCH,
            kind,
        }
    }

    fn fill(id: &str, trade: &str, units: i32) -> Fill {
        Fill {
            client_order_id: ClientOrderId::new(id).unwrap(),
            venue_order_id: VenueOrderId::new("v").unwrap(),
            trade_id: TradeId::new(trade).unwrap(),
            ts: UnixNanos::EPOCH,
            side: Side::Buy,
            quantity: Quantity::from_units(units),
            price: Price::from_raw(1_000_000_000),
            fee: Money::ZERO,
            fee_asset: Asset::new("USD").unwrap(),
            liquidity: Liquidity::Taker,
        }
    }

    #[test]
    fn reports_apply_once_and_late_fills_book_after_a_cancel() {
        let (mut m, key, slot) = manager();
        m.register(request("a", 10), slot, key, Price::from_raw(1), false)
            .unwrap();
        assert_eq!(m.open_orders_on(key), 1);
        assert!(
            m.register(request("a", 1), slot, key, Price::ZERO, false)
                .is_err()
        );
        assert!(matches!(
            m.apply_event(&event("a", OrderEventKind::Accepted)),
            Ok(Applied::Event { .. })
        ));
        assert_eq!(
            m.apply_event(&event("a", OrderEventKind::Accepted)),
            Ok(Applied::Stale)
        );
        assert!(matches!(
            m.apply_fill(&fill("a", "t1", 4)),
            Ok(Applied::Fill { .. })
        ));
        assert_eq!(m.apply_fill(&fill("a", "t1", 4)), Ok(Applied::Stale));
        assert_eq!(
            m.working()[key.index()].buy_quantity,
            Quantity::from_units(6)
        );
        assert!(m.request_cancel(ClientOrderId::new("a").unwrap()).is_some());
        m.apply_event(&event("a", OrderEventKind::Canceled))
            .unwrap();
        assert_eq!(m.open_orders(), 0);
        assert_eq!(m.working()[key.index()].buy_quantity, Quantity::ZERO);
        // A fill that crossed the cancel books; its repeat does not.
        assert!(matches!(
            m.apply_fill(&fill("a", "t2", 3)),
            Ok(Applied::Fill { .. })
        ));
        assert_eq!(m.apply_fill(&fill("a", "t2", 3)), Ok(Applied::Stale));
        assert_eq!(
            m.get(ClientOrderId::new("a").unwrap()).unwrap().filled(),
            Quantity::from_units(7)
        );
        assert!(
            m.apply_fill(&fill("a", "t3", 4)).is_err(),
            "beyond the quantity"
        );
        assert_eq!(m.apply_fill(&fill("zz", "t9", 1)), Ok(Applied::Unknown));
    }

    #[test]
    fn only_the_last_ended_orders_are_kept() {
        let (mut m, key, slot) = manager();
        let n = OrderManager::ENDED_KEPT + 10;
        for i in 0..n {
            let id = format!("o{i}");
            m.register(request(&id, 1), slot, key, Price::ZERO, false)
                .unwrap();
            m.apply_fill(&fill(&id, "t", 1)).unwrap();
        }
        assert_eq!(m.iter().count(), OrderManager::ENDED_KEPT);
        assert!(!m.contains(ClientOrderId::new("o0").unwrap()));
        assert!(m.contains(ClientOrderId::new(&format!("o{}", n - 1)).unwrap()));
        assert_eq!(m.open_orders(), 0);

        // A live session keeps every order: the first id is still a duplicate.
        let (mut m, key, slot) = manager();
        m.keep_ended(usize::MAX);
        for i in 0..n {
            let id = format!("o{i}");
            m.register(request(&id, 1), slot, key, Price::ZERO, false)
                .unwrap();
            m.apply_fill(&fill(&id, "t", 1)).unwrap();
        }
        assert_eq!(m.iter().count(), n);
        assert!(
            m.register(request("o0", 1), slot, key, Price::ZERO, false)
                .is_err()
        );
        m.keep_ended(8);
        assert_eq!(
            m.iter().count(),
            n,
            "orders that ended while all were kept stay"
        );
    }
}
