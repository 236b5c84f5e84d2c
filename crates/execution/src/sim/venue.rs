//! [`SimVenue`]: a bar-driven matching engine shared by backtest and paper trading.
//!
//! # When orders execute
//!
//! The engine hands the venue each new bar **before** the strategy sees it
//! ([`SimVenue::on_bar`]), and hands it the strategy's orders **after** the strategy has seen the
//! bar ([`SimVenue::submit`]). So an order decided on bar *t* can at the earliest execute:
//!
//! - `next_open`: at bar *t+1* (market orders at its open);
//! - `close`: at bar *t*'s close, if it is a market order or marketable at that close.
//!
//! Orders still working are matched against each later bar, in submission order:
//!
//! | order (buy; sell mirrors) | bar opens through the price (gap) | price inside the bar's range | liquidity |
//! |---|---|---|---|
//! | market | fills at the open | — | taker |
//! | limit `L` | open ≤ L: fills at the **open** (the better price) | low ≤ L: fills at `L` | maker |
//! | stop `S` | open ≥ S: triggers and fills at the **open** (worse than `S`) | high ≥ S: fills at `S` | taker |
//! | trailing stop, offset `d` (sell) | trigger = highest price seen − d: open ≤ trigger fills at the open | low ≤ trigger: fills at the trigger; else the bar's high raises the best price for the next bar | taker |
//! | stop-limit `S`/`L` | open ≥ S: triggers; fills at the open if open ≤ L, else at `L` if low ≤ L | high ≥ S: triggers at `S`; fills at `S` if S ≤ L, else works as a limit from the next bar | taker at trigger, maker after |
//!
//! Known limitation: a bar carries no path between its open, high, low and close, so a
//! stop-limit triggered inside a bar whose limit is below the trigger (buy) waits for the next
//! bar instead of guessing whether the price came back within the same bar.
//!
//! IOC and FOK orders get one chance: the first moment they could execute (their submission in
//! `close` mode, else the next bar's open); whatever is not filled then is cancelled. Fills are
//! always complete here (no volume cap yet), so FOK behaves like IOC. DAY orders expire at the
//! first bar of a later UTC day. Orders still working when the data ends expire.
//!
//! # Linked orders
//!
//! An OCO pair ([`SimVenue::submit_oco`]) is two working orders where the first fill of either
//! cancels the other. A bracket ([`SimVenue::submit_bracket`]) is an entry order plus a stop-loss
//! and a take-profit that are accepted, as an OCO pair, only once the entry has filled
//! completely; if the entry ends otherwise (cancelled, expired), they are rejected with
//! `PARENT_NOT_FILLED`. A group is refused whole if any member is invalid (the others with
//! `LINKED_ORDER_REJECTED`). Exits accepted on a bar first work on the next bar. Known
//! limitation: a partial fill of an OCO leg (under `max_participation`) cancels the other leg
//! while the rest of the filled leg keeps working.
//!
//! Taker fills move against the trader by `slippage_bps + spread_bps / 2 + impact`, where the
//! square-root impact is `impact_coefficient × √(q / V)` for a fill of `q` on a bar of volume `V`
//! (computed in `f64`, rounded to 1e-9 bp; a zero-volume bar counts as `q = V`), and are then
//! rounded to the tick, again against the trader; limit fills get their price. Fees are charged
//! on every fill's notional at the maker or taker rate. Fills are stamped with the timestamp of
//! the bar they happen in.
//!
//! With `max_participation`, an order takes at most that fraction of a bar's volume (rounded down
//! to lots) on that bar; the rest stays working and fills on later bars at their prices (partial
//! fills). An IOC order cancels its unfilled rest; a FOK order that cannot fill entirely at once
//! is cancelled without filling. With `latency_ms`, an order ignores bars opening less than that
//! long after the bar where it would first have executed (in `close` mode it then never fills at
//! the decision bar's close).

use tradepulse_model::{
    Bar, ClientOrderId, Fill, Instrument, Liquidity, OrderEvent, OrderEventKind, OrderKind,
    OrderRequest, Price, Quantity, RejectReason, Side, TimeInForce, UnixNanos,
};

use crate::order::{OrderState, OrderTransition};
use crate::sim::config::{FillModel, SimConfig};

/// What the venue reports back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueEvent {
    /// An order event other than a fill.
    Order(OrderEvent),
    /// A fill.
    Fill(Fill),
}

#[derive(Debug, Clone)]
struct WorkingOrder {
    request: OrderRequest,
    state: OrderState,
    /// End of the UTC day of acceptance, for DAY orders.
    expires_at: Option<UnixNanos>,
    /// Whether it has had its first chance to execute (for IOC/FOK).
    evaluated: bool,
    /// With latency: the first bar time at which it can execute, set when it sees its first bar.
    active_at: Option<UnixNanos>,
    /// Trailing stops: the best price seen since the order started working (highest for a
    /// sell, lowest for a buy).
    trail: Option<Price>,
}

/// The simulated venue for one instrument.
#[derive(Debug)]
pub struct SimVenue {
    instrument: Instrument,
    config: SimConfig,
    working: Vec<WorkingOrder>,
    // foldhash: this set is probed once per order; SipHash showed up in the engine profile.
    used_ids: foldhash::HashSet<ClientOrderId>,
    /// Working OCO pairs.
    oco: Vec<(ClientOrderId, ClientOrderId)>,
    /// Brackets whose entry has not filled yet: (entry, stop-loss, take-profit).
    brackets: Vec<(ClientOrderId, OrderRequest, OrderRequest)>,
}

/// How a working order meets a price.
enum Execution {
    Fill {
        price: Price,
        liquidity: Liquidity,
    },
    /// Triggered but not filled yet.
    Triggered,
    None,
}

impl Execution {
    const fn taker(price: Price) -> Self {
        Self::Fill {
            price,
            liquidity: Liquidity::Taker,
        }
    }

    const fn maker(price: Price) -> Self {
        Self::Fill {
            price,
            liquidity: Liquidity::Maker,
        }
    }
}

impl SimVenue {
    /// A venue trading `instrument` with `config`.
    #[must_use]
    pub fn new(instrument: Instrument, config: SimConfig) -> Self {
        Self {
            instrument,
            config,
            working: Vec::new(),
            used_ids: foldhash::HashSet::default(),
            oco: Vec::new(),
            brackets: Vec::new(),
        }
    }

    /// The venue's configuration.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Number of orders still working.
    #[must_use]
    pub fn working_orders(&self) -> usize {
        self.working.len()
    }

    /// Accepts or rejects an order sent after the strategy saw `bar` (the latest complete bar),
    /// and in `close` mode executes it at that bar's close when it is marketable there.
    pub fn submit(&mut self, request: OrderRequest, bar: &Bar, out: &mut Vec<VenueEvent>) {
        let from = out.len();
        self.submit_one(request, bar, out);
        self.resolve_links(from, bar.ts, out);
    }

    /// Submits two orders as an OCO pair (see the module docs).
    pub fn submit_oco(
        &mut self,
        first: OrderRequest,
        second: OrderRequest,
        bar: &Bar,
        out: &mut Vec<VenueEvent>,
    ) {
        if !self.check_group(&[&first, &second], bar, out) {
            return;
        }
        let from = out.len();
        self.oco
            .push((first.client_order_id, second.client_order_id));
        self.submit_one(first, bar, out);
        self.submit_one(second, bar, out);
        self.resolve_links(from, bar.ts, out);
    }

    /// Submits a bracket (see the module docs).
    pub fn submit_bracket(
        &mut self,
        entry: OrderRequest,
        stop_loss: OrderRequest,
        take_profit: OrderRequest,
        bar: &Bar,
        out: &mut Vec<VenueEvent>,
    ) {
        if !self.check_group(&[&entry, &stop_loss, &take_profit], bar, out) {
            return;
        }
        let from = out.len();
        // The exits' ids are taken now, so nothing else can use them meanwhile.
        self.used_ids.insert(stop_loss.client_order_id);
        self.used_ids.insert(take_profit.client_order_id);
        self.brackets
            .push((entry.client_order_id, stop_loss, take_profit));
        self.submit_one(entry, bar, out);
        self.resolve_links(from, bar.ts, out);
    }

    /// Checks every order of a group; if any is invalid, rejects all of them and returns false.
    fn check_group(&self, group: &[&OrderRequest], bar: &Bar, out: &mut Vec<VenueEvent>) -> bool {
        let verdicts: Vec<Result<(), RejectReason>> = group
            .iter()
            .map(|r| {
                let duplicate_in_group = group
                    .iter()
                    .filter(|o| o.client_order_id == r.client_order_id)
                    .count()
                    > 1;
                if duplicate_in_group {
                    Err(RejectReason::DuplicateClientOrderId)
                } else {
                    self.check(r, bar.close)
                }
            })
            .collect();
        if verdicts.iter().all(Result::is_ok) {
            return true;
        }
        for (request, verdict) in group.iter().zip(verdicts) {
            out.push(VenueEvent::Order(OrderEvent {
                client_order_id: request.client_order_id,
                ts: bar.ts,
                kind: OrderEventKind::Rejected(
                    verdict.err().unwrap_or(RejectReason::LinkedOrderRejected),
                ),
            }));
        }
        false
    }

    /// Applies the links of OCO pairs and brackets to the events from `out[from..]`: a fill
    /// cancels its OCO partner; a completely filled bracket entry releases its exits; an entry
    /// that ended otherwise rejects them. Newly pushed events are processed too.
    fn resolve_links(&mut self, from: usize, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        if self.oco.is_empty() && self.brackets.is_empty() {
            return;
        }
        let mut i = from;
        while i < out.len() {
            let (id, filled, ended) = match out[i] {
                VenueEvent::Fill(f) => (f.client_order_id, true, false),
                VenueEvent::Order(e) => (
                    e.client_order_id,
                    false,
                    matches!(
                        e.kind,
                        OrderEventKind::Canceled
                            | OrderEventKind::Expired
                            | OrderEventKind::Rejected(_)
                    ),
                ),
            };
            i += 1;
            if filled && let Some(k) = self.oco.iter().position(|&(a, b)| a == id || b == id) {
                let (a, b) = self.oco.remove(k);
                let partner = if a == id { b } else { a };
                if self
                    .working
                    .iter()
                    .any(|o| o.request.client_order_id == partner)
                {
                    self.cancel_one(partner, ts, out);
                }
            }
            let still_working = self.working.iter().any(|o| o.request.client_order_id == id);
            if (filled || ended)
                && !still_working
                && let Some(k) = self.brackets.iter().position(|(entry, ..)| *entry == id)
            {
                let (_, stop_loss, take_profit) = self.brackets.remove(k);
                if filled {
                    self.oco
                        .push((stop_loss.client_order_id, take_profit.client_order_id));
                    for exit in [stop_loss, take_profit] {
                        out.push(VenueEvent::Order(OrderEvent {
                            client_order_id: exit.client_order_id,
                            ts,
                            kind: OrderEventKind::Accepted,
                        }));
                        self.working.push(WorkingOrder {
                            request: exit,
                            state: OrderState::Accepted,
                            expires_at: None,
                            evaluated: false,
                            active_at: None,
                            trail: None,
                        });
                    }
                } else {
                    for exit in [stop_loss, take_profit] {
                        out.push(VenueEvent::Order(OrderEvent {
                            client_order_id: exit.client_order_id,
                            ts,
                            kind: OrderEventKind::Rejected(RejectReason::ParentNotFilled),
                        }));
                    }
                }
            }
        }
    }

    fn submit_one(&mut self, request: OrderRequest, bar: &Bar, out: &mut Vec<VenueEvent>) {
        let id = request.client_order_id;
        let event = |kind| {
            VenueEvent::Order(OrderEvent {
                client_order_id: id,
                ts: bar.ts,
                kind,
            })
        };
        if let Err(reason) = self.check(&request, bar.close) {
            out.push(event(OrderEventKind::Rejected(reason)));
            return;
        }
        self.used_ids.insert(id);
        out.push(event(OrderEventKind::Accepted));
        let expires_at = (request.time_in_force == TimeInForce::Day).then(|| {
            let day = bar.ts.as_nanos().div_euclid(UnixNanos::NANOS_PER_DAY);
            UnixNanos::new((day + 1) * UnixNanos::NANOS_PER_DAY)
        });
        let mut order = WorkingOrder {
            request,
            state: OrderState::Accepted,
            expires_at,
            evaluated: false,
            active_at: None,
            trail: Some(bar.close),
        };
        if self.config.fill_model == FillModel::Close && self.config.latency_ms == 0 {
            let done = self.execute_at(&mut order, bar, out);
            order.evaluated = true;
            if done || self.finish_immediate(&mut order, bar.ts, out) {
                return;
            }
        }
        self.working.push(order);
    }

    /// Cancels a working order; an unknown id is rejected with `UNKNOWN_ORDER`.
    pub fn cancel(&mut self, id: ClientOrderId, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        let from = out.len();
        self.cancel_one(id, ts, out);
        self.resolve_links(from, ts, out);
    }

    fn cancel_one(&mut self, id: ClientOrderId, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        match self
            .working
            .iter()
            .position(|o| o.request.client_order_id == id)
        {
            Some(i) => {
                let mut order = self.working.remove(i);
                Self::transition(&mut order, OrderTransition::Cancel);
                out.push(VenueEvent::Order(OrderEvent {
                    client_order_id: id,
                    ts,
                    kind: OrderEventKind::Canceled,
                }));
            }
            None => out.push(VenueEvent::Order(OrderEvent {
                client_order_id: id,
                ts,
                kind: OrderEventKind::Rejected(RejectReason::UnknownOrder),
            })),
        }
    }

    /// Cancels every working order.
    pub fn cancel_all(&mut self, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        let from = out.len();
        for mut order in self.working.drain(..) {
            Self::transition(&mut order, OrderTransition::Cancel);
            out.push(VenueEvent::Order(OrderEvent {
                client_order_id: order.request.client_order_id,
                ts,
                kind: OrderEventKind::Canceled,
            }));
        }
        self.resolve_links(from, ts, out);
    }

    /// Expires every working order (the data has ended).
    pub fn expire_all(&mut self, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        let from = out.len();
        for mut order in self.working.drain(..) {
            Self::transition(&mut order, OrderTransition::Expire);
            out.push(VenueEvent::Order(OrderEvent {
                client_order_id: order.request.client_order_id,
                ts,
                kind: OrderEventKind::Expired,
            }));
        }
        self.resolve_links(from, ts, out);
    }

    /// Matches working orders against a new bar, before the strategy sees it.
    pub fn on_bar(&mut self, bar: &Bar, out: &mut Vec<VenueEvent>) {
        if self.working.is_empty() {
            return;
        }
        let from = out.len();
        let mut orders = std::mem::take(&mut self.working);
        // OCO legs filled on this bar: their partners must not fill on it too. Legs are matched in
        // submission order, so a bracket's stop-loss is tried before its take-profit when one
        // bar reaches both (the conservative reading of an OHLC bar).
        let mut filled_here: Vec<ClientOrderId> = Vec::new();
        orders.retain_mut(|order| {
            let id = order.request.client_order_id;
            if !filled_here.is_empty()
                && self.oco.iter().any(|&(a, b)| {
                    (a == id && filled_here.contains(&b)) || (b == id && filled_here.contains(&a))
                })
            {
                return true;
            }
            let before = out.len();
            if order.expires_at.is_some_and(|t| bar.ts >= t) {
                Self::transition(order, OrderTransition::Expire);
                out.push(VenueEvent::Order(OrderEvent {
                    client_order_id: order.request.client_order_id,
                    ts: bar.ts,
                    kind: OrderEventKind::Expired,
                }));
                return false;
            }
            if self.config.latency_ms > 0 {
                let latency = i64::try_from(self.config.latency_ms)
                    .unwrap_or(i64::MAX / 1_000_000)
                    .saturating_mul(1_000_000);
                let active_at = *order
                    .active_at
                    .get_or_insert_with(|| bar.ts.saturating_add(latency));
                if bar.ts < active_at {
                    return true;
                }
            }
            let immediate = matches!(
                order.request.time_in_force,
                TimeInForce::Ioc | TimeInForce::Fok
            );
            let done = if immediate && !order.evaluated {
                // First chance is the open only.
                let open = Bar {
                    close: bar.open,
                    ..*bar
                };
                self.execute_at(order, &open, out)
            } else {
                self.execute_in_bar(order, bar, out)
            };
            order.evaluated = true;
            if !self.oco.is_empty()
                && out[before..]
                    .iter()
                    .any(|e| matches!(e, VenueEvent::Fill(_)))
            {
                filled_here.push(id);
            }
            !(done || self.finish_immediate(order, bar.ts, out))
        });
        self.working = orders;
        self.resolve_links(from, bar.ts, out);
    }

    /// Cancels an IOC/FOK order that has had its chance; true if it was cancelled.
    fn finish_immediate(
        &self,
        order: &mut WorkingOrder,
        ts: UnixNanos,
        out: &mut Vec<VenueEvent>,
    ) -> bool {
        if !matches!(
            order.request.time_in_force,
            TimeInForce::Ioc | TimeInForce::Fok
        ) {
            return false;
        }
        Self::transition(order, OrderTransition::Cancel);
        out.push(VenueEvent::Order(OrderEvent {
            client_order_id: order.request.client_order_id,
            ts,
            kind: OrderEventKind::Canceled,
        }));
        true
    }

    fn check(&self, request: &OrderRequest, reference: Price) -> Result<(), RejectReason> {
        if &request.instrument != self.instrument.id() {
            return Err(RejectReason::UnknownInstrument);
        }
        if self.used_ids.contains(&request.client_order_id)
            || self
                .working
                .iter()
                .any(|o| o.request.client_order_id == request.client_order_id)
        {
            return Err(RejectReason::DuplicateClientOrderId);
        }
        if !request.quantity.is_positive() {
            return Err(RejectReason::InvalidQuantity);
        }
        if !request.quantity.is_multiple_of(self.instrument.lot_size()) {
            return Err(RejectReason::QuantityNotMultipleOfLot);
        }
        let tick = self.instrument.tick_size();
        let on_tick = |p: Price| p.is_positive() && p.raw() % tick.raw() == 0;
        let price_ok = match request.kind {
            OrderKind::Market => true,
            OrderKind::Limit { price } => on_tick(price),
            OrderKind::Stop { trigger } => on_tick(trigger),
            OrderKind::StopLimit { trigger, limit } => on_tick(trigger) && on_tick(limit),
            OrderKind::TrailingStop { offset } => on_tick(offset),
        };
        if !price_ok {
            return Err(RejectReason::InvalidPrice);
        }
        let price = match request.kind {
            OrderKind::Market => reference,
            OrderKind::Limit { price } => price,
            OrderKind::Stop { trigger } => trigger,
            OrderKind::StopLimit { limit, .. } => limit,
            OrderKind::TrailingStop { .. } => reference,
        };
        if price.notional(request.quantity) < self.instrument.min_notional() {
            return Err(RejectReason::BelowMinNotional);
        }
        Ok(())
    }

    /// Executes against `bar`'s close alone (the decision bar in `close` mode, or a bar's open
    /// for a first IOC/FOK chance, passed with `close = open`), with that bar's volume; true if
    /// the order is completely filled.
    fn execute_at(&self, order: &mut WorkingOrder, bar: &Bar, out: &mut Vec<VenueEvent>) -> bool {
        let point = Bar {
            ts: bar.ts,
            open: bar.close,
            high: bar.close,
            low: bar.close,
            close: bar.close,
            volume: bar.volume,
        };
        self.execute_in_bar(order, &point, out)
    }

    /// Executes a working order against a bar's open and range; true if it is done (filled).
    fn execute_in_bar(
        &self,
        order: &mut WorkingOrder,
        bar: &Bar,
        out: &mut Vec<VenueEvent>,
    ) -> bool {
        let side = order.request.side;
        // "Reached" from the side's point of view: a buy limit is reached when the market trades
        // at or below it, a buy stop when it trades at or above it.
        let at_or_better = |p: Price, limit: Price| match side {
            Side::Buy => p <= limit,
            Side::Sell => p >= limit,
        };
        let best_in_bar = match side {
            Side::Buy => bar.low,
            Side::Sell => bar.high,
        };
        let worst_in_bar = match side {
            Side::Buy => bar.high,
            Side::Sell => bar.low,
        };
        // A buy stop triggers when the market trades at or above its trigger, a sell stop at or
        // below.
        let reaches_stop = |p: Price, trigger: Price| match side {
            Side::Buy => p >= trigger,
            Side::Sell => p <= trigger,
        };
        let already_triggered = matches!(
            order.state,
            OrderState::Triggered | OrderState::PartiallyFilled { .. }
        );
        let execution = match order.request.kind {
            OrderKind::Market => Execution::taker(bar.open),
            OrderKind::Limit { price } => Self::limit(bar, price, at_or_better, best_in_bar),
            // A stop that has filled in part was triggered before: its rest is a market order.
            OrderKind::Stop { .. } | OrderKind::TrailingStop { .. } if already_triggered => {
                Execution::taker(bar.open)
            }
            OrderKind::Stop { trigger } => {
                if reaches_stop(bar.open, trigger) {
                    // Gapped through the trigger: the open is the first price available.
                    Execution::taker(bar.open)
                } else if reaches_stop(worst_in_bar, trigger) {
                    Execution::taker(trigger)
                } else {
                    Execution::None
                }
            }
            OrderKind::TrailingStop { offset } => {
                // The trigger trails the best price seen before this bar; the bar's own
                // extreme only moves it afterwards, since a bar does not say whether its high
                // came before its low.
                let best = order.trail.unwrap_or(bar.open);
                let trigger = match side {
                    Side::Buy => best.checked_add(offset),
                    Side::Sell => best.checked_sub(offset),
                }
                .unwrap_or(best);
                if reaches_stop(bar.open, trigger) {
                    Execution::taker(bar.open)
                } else if reaches_stop(worst_in_bar, trigger) {
                    Execution::taker(trigger)
                } else {
                    order.trail = Some(match side {
                        Side::Buy => best.min(bar.low),
                        Side::Sell => best.max(bar.high),
                    });
                    Execution::None
                }
            }
            OrderKind::StopLimit { trigger, limit } => {
                if already_triggered {
                    Self::limit(bar, limit, at_or_better, best_in_bar)
                } else if reaches_stop(bar.open, trigger) {
                    self.mark_triggered(order, bar.ts, out);
                    Self::limit(bar, limit, at_or_better, best_in_bar)
                } else if reaches_stop(worst_in_bar, trigger) {
                    self.mark_triggered(order, bar.ts, out);
                    if at_or_better(trigger, limit) {
                        Execution::taker(trigger)
                    } else {
                        Execution::Triggered
                    }
                } else {
                    Execution::None
                }
            }
        };
        match execution {
            Execution::Fill { price, liquidity } => self.fill(order, price, liquidity, bar, out),
            Execution::Triggered | Execution::None => false,
        }
    }

    fn limit(
        bar: &Bar,
        limit: Price,
        at_or_better: impl Fn(Price, Price) -> bool,
        best_in_bar: Price,
    ) -> Execution {
        if at_or_better(bar.open, limit) {
            Execution::maker(bar.open)
        } else if at_or_better(best_in_bar, limit) {
            Execution::maker(limit)
        } else {
            Execution::None
        }
    }

    fn mark_triggered(&self, order: &mut WorkingOrder, ts: UnixNanos, out: &mut Vec<VenueEvent>) {
        if order.state == OrderState::Triggered {
            return;
        }
        Self::transition(order, OrderTransition::Trigger);
        out.push(VenueEvent::Order(OrderEvent {
            client_order_id: order.request.client_order_id,
            ts,
            kind: OrderEventKind::Triggered,
        }));
    }

    /// Fills as much of the order's remaining quantity as the bar allows at `price` (adjusted for
    /// taker costs); true if the order is now completely filled.
    fn fill(
        &self,
        order: &mut WorkingOrder,
        price: Price,
        liquidity: Liquidity,
        bar: &Bar,
        out: &mut Vec<VenueEvent>,
    ) -> bool {
        let side = order.request.side;
        let remaining = order
            .request
            .quantity
            .checked_sub(order.state.filled(order.request.quantity))
            .unwrap_or(order.request.quantity);
        let quantity = match self.config.max_participation {
            Some(cap) => {
                let available = Quantity::try_from_f64((bar.volume * cap.as_f64()).floor())
                    .unwrap_or(Quantity::ZERO)
                    .trunc_to(self.instrument.lot_size());
                remaining.min(available)
            }
            None => remaining,
        };
        let all_or_nothing = order.request.time_in_force == TimeInForce::Fok;
        if !quantity.is_positive() || (all_or_nothing && quantity < remaining) {
            return false;
        }
        let price = match liquidity {
            Liquidity::Taker => self.taker_price(side, price, quantity, bar.volume),
            Liquidity::Maker => price,
        };
        let rate = match liquidity {
            Liquidity::Maker => self.config.maker_fee_bps,
            Liquidity::Taker => self.config.taker_fee_bps,
        };
        let fee = price.notional(quantity).bps(rate);
        Self::transition(order, OrderTransition::Fill(quantity));
        out.push(VenueEvent::Fill(Fill {
            client_order_id: order.request.client_order_id,
            ts: bar.ts,
            side,
            quantity,
            price,
            fee,
            liquidity,
        }));
        order.state == OrderState::Filled
    }

    /// `price` moved against the trader by slippage, half the spread and square-root impact, then
    /// rounded to the tick against the trader.
    fn taker_price(&self, side: Side, price: Price, quantity: Quantity, volume: f64) -> Price {
        let c = &self.config;
        let mut bps = i128::from(c.slippage_bps.raw()) + i128::from(c.spread_bps.raw()) / 2;
        if c.impact_coefficient.raw() != 0 {
            let ratio = if volume > 0.0 {
                quantity.as_f64() / volume
            } else {
                1.0
            };
            let impact_bps = c.impact_coefficient.as_f64() * ratio.sqrt() * 10_000.0;
            bps += (impact_bps * 1e9).round() as i128;
        }
        if bps == 0 {
            return price;
        }
        let bps = tradepulse_model::Bps::from_raw(i64::try_from(bps).unwrap_or(i64::MAX));
        let tick = self.instrument.tick_size();
        match side {
            Side::Buy => price.shifted_bps(bps).ceil_to(tick),
            Side::Sell => {
                let down = tradepulse_model::Bps::from_raw(-bps.raw());
                price.shifted_bps(down).floor_to(tick)
            }
        }
    }

    /// Applies a transition the venue itself decided; the venue only takes allowed steps, so a
    /// refusal here is a bug in this file, caught by tests rather than by a panic in production.
    fn transition(order: &mut WorkingOrder, event: OrderTransition) {
        if let Ok(next) = order.state.apply(event, order.request.quantity) {
            order.state = next;
        } else {
            debug_assert!(
                false,
                "SimVenue took an invalid step {event:?} from {:?}",
                order.state
            );
        }
    }
}
