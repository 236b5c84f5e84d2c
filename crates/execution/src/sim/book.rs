//! [`SimBook`]: the matching engine of one instrument of the simulated venue.

use tradepulse_model::{
    Asset, Bar, Bps, ClientOrderId, Fill, Instrument, Liquidity, OrderEvent, OrderEventKind,
    OrderKind, OrderRequest, Price, Quantity, RejectReason, Side, TimeInForce, TradeId, UnixNanos,
    VenueOrderId,
};
use tradepulse_risk::ProposedFill;

use crate::order::{OrderState, OrderTransition};
use crate::sim::config::{FillModel, SimConfig};
use crate::venue::{ExecutionReport, FundsCheck};

#[derive(Debug, Clone)]
struct WorkingOrder {
    request: OrderRequest,
    venue_order_id: VenueOrderId,
    state: OrderState,
    /// End of the UTC day of the decision, for DAY orders.
    expires_at: Option<UnixNanos>,
    /// Whether it has had its first chance to execute (IOC/FOK; marketable-on-arrival limits).
    evaluated: bool,
    /// The first bar time at which it reaches the venue, once known (latency).
    arrives_at: Option<UnixNanos>,
    /// Trailing stops: the best price seen since the order started working (highest for a
    /// sell, lowest for a buy); `None` until a price is known.
    trail: Option<Price>,
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

/// Numbers the venue's orders and trades (`S1`, `T1`, …), shared by the books of one venue.
#[derive(Debug, Clone, Default)]
pub(crate) struct Numbering {
    orders: u64,
    trades: u64,
}

impl Numbering {
    fn next_order(&mut self) -> VenueOrderId {
        self.orders += 1;
        VenueOrderId::numbered("S", self.orders)
    }

    fn next_trade(&mut self) -> TradeId {
        self.trades += 1;
        TradeId::numbered("T", self.trades)
    }
}

/// The working orders of one instrument and the latest bar seen.
#[derive(Debug)]
pub(crate) struct SimBook {
    instrument: Instrument,
    config: SimConfig,
    fee_asset: Asset,
    working: Vec<WorkingOrder>,
    /// Working OCO pairs.
    oco: Vec<(ClientOrderId, ClientOrderId)>,
    /// Brackets whose entry has not filled yet: (entry, stop-loss, take-profit).
    brackets: Vec<(ClientOrderId, OrderRequest, OrderRequest)>,
    /// The latest complete bar.
    last: Option<Bar>,
}

impl SimBook {
    pub(crate) fn new(instrument: Instrument, config: SimConfig) -> Self {
        Self {
            fee_asset: instrument.quote_currency(),
            instrument,
            config,
            working: Vec::new(),
            oco: Vec::new(),
            brackets: Vec::new(),
            last: None,
        }
    }

    pub(crate) fn instrument(&self) -> &Instrument {
        &self.instrument
    }

    pub(crate) fn working_orders(&self) -> usize {
        self.working.len()
    }

    /// Whether an order sent now reaches the venue at once: in `close` mode without latency,
    /// after a bar has been seen (its close is the price it meets). Otherwise it arrives at a
    /// later bar's open.
    fn arrives_now(&self) -> bool {
        self.config.fill_model == FillModel::Close
            && self.config.latency_ms == 0
            && self.last.is_some()
    }

    pub(crate) fn submit(
        &mut self,
        request: OrderRequest,
        now: UnixNanos,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) {
        let from = out.len();
        if let Some(order) = self.admit(request, now, ids, out) {
            self.place(order, now, ids, funds, out);
        }
        self.resolve_links(from, now, ids, out);
    }

    pub(crate) fn submit_oco(
        &mut self,
        first: OrderRequest,
        second: OrderRequest,
        now: UnixNanos,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) {
        if !self.check_group(&[&first, &second], now, out) {
            return;
        }
        let from = out.len();
        self.oco
            .push((first.client_order_id, second.client_order_id));
        for request in [first, second] {
            if let Some(order) = self.admit(request, now, ids, out) {
                self.place(order, now, ids, funds, out);
            }
        }
        self.resolve_links(from, now, ids, out);
    }

    /// Submits a bracket: `(entry, stop_loss, take_profit)`.
    pub(crate) fn submit_bracket(
        &mut self,
        (entry, stop_loss, take_profit): (OrderRequest, OrderRequest, OrderRequest),
        now: UnixNanos,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) {
        if !self.check_group(&[&entry, &stop_loss, &take_profit], now, out) {
            return;
        }
        let from = out.len();
        self.brackets
            .push((entry.client_order_id, stop_loss, take_profit));
        if let Some(order) = self.admit(entry, now, ids, out) {
            self.place(order, now, ids, funds, out);
        }
        self.resolve_links(from, now, ids, out);
    }

    /// Checks every order of a group; if any is invalid, rejects all of them and returns false.
    fn check_group(
        &self,
        group: &[&OrderRequest],
        now: UnixNanos,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
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
                    self.check(r)
                }
            })
            .collect();
        if verdicts.iter().all(Result::is_ok) {
            return true;
        }
        for (request, verdict) in group.iter().zip(verdicts) {
            out.push(report(
                request.client_order_id,
                None,
                now,
                OrderEventKind::Rejected(
                    verdict.err().unwrap_or(RejectReason::LinkedOrderRejected),
                ),
            ));
        }
        false
    }

    /// The venue's own checks (the order's rules were checked by the risk engine before it
    /// was sent): it must be for this book and its id must not be working already.
    fn check(&self, request: &OrderRequest) -> Result<(), RejectReason> {
        if &request.instrument != self.instrument.id() {
            return Err(RejectReason::UnknownInstrument);
        }
        if self
            .working
            .iter()
            .any(|o| o.request.client_order_id == request.client_order_id)
            || self.brackets.iter().any(|(_, sl, tp)| {
                sl.client_order_id == request.client_order_id
                    || tp.client_order_id == request.client_order_id
            })
        {
            return Err(RejectReason::DuplicateClientOrderId);
        }
        Ok(())
    }

    /// Builds the working order, or rejects it.
    fn admit(
        &mut self,
        request: OrderRequest,
        now: UnixNanos,
        ids: &mut Numbering,
        out: &mut Vec<ExecutionReport>,
    ) -> Option<WorkingOrder> {
        if let Err(reason) = self.check(&request) {
            out.push(report(
                request.client_order_id,
                None,
                now,
                OrderEventKind::Rejected(reason),
            ));
            return None;
        }
        let expires_at = (request.time_in_force == TimeInForce::Day).then(|| {
            let day = now.as_nanos().div_euclid(UnixNanos::NANOS_PER_DAY);
            UnixNanos::new((day + 1) * UnixNanos::NANOS_PER_DAY)
        });
        Some(WorkingOrder {
            request,
            venue_order_id: ids.next_order(),
            state: OrderState::Submitted,
            expires_at,
            evaluated: false,
            arrives_at: None,
            // The trail starts at the last price known when the order is sent: none before the
            // first bar (an order from `on_start` must not trail bar 0's close before bar 0).
            trail: self.last.map(|b| b.close),
        })
    }

    /// Executes an order that arrives now (at the latest close), or queues it for a later bar.
    fn place(
        &mut self,
        mut order: WorkingOrder,
        now: UnixNanos,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) {
        if let (true, Some(bar)) = (self.arrives_now(), self.last) {
            let done = self.execute_at(&mut order, &bar, ids, funds, out);
            order.evaluated = true;
            if done || self.finish_immediate(&mut order, now, out) {
                return;
            }
            acknowledge(&mut order, now, out);
        }
        self.working.push(order);
    }

    pub(crate) fn cancel(
        &mut self,
        id: ClientOrderId,
        now: UnixNanos,
        ids: &mut Numbering,
        out: &mut Vec<ExecutionReport>,
    ) {
        let from = out.len();
        self.cancel_one(id, now, out);
        self.resolve_links(from, now, ids, out);
    }

    fn cancel_one(&mut self, id: ClientOrderId, now: UnixNanos, out: &mut Vec<ExecutionReport>) {
        match self
            .working
            .iter()
            .position(|o| o.request.client_order_id == id)
        {
            Some(i) => {
                let mut order = self.working.remove(i);
                transition(&mut order, OrderTransition::Cancel);
                out.push(report(
                    id,
                    Some(order.venue_order_id),
                    now,
                    OrderEventKind::Canceled,
                ));
            }
            None => out.push(report(
                id,
                None,
                now,
                OrderEventKind::CancelRejected(RejectReason::UnknownOrder),
            )),
        }
    }

    /// Expires every working order (the data has ended).
    pub(crate) fn expire_all(
        &mut self,
        now: UnixNanos,
        ids: &mut Numbering,
        out: &mut Vec<ExecutionReport>,
    ) {
        let from = out.len();
        for mut order in self.working.drain(..) {
            transition(&mut order, OrderTransition::Expire);
            out.push(report(
                order.request.client_order_id,
                Some(order.venue_order_id),
                now,
                OrderEventKind::Expired,
            ));
        }
        self.resolve_links(from, now, ids, out);
    }

    /// Applies the links of OCO pairs and brackets to the reports from `out[from..]`: a fill
    /// cancels its OCO partner; a completely filled bracket entry releases its exits; an entry
    /// that ended otherwise rejects them. Newly pushed reports are processed too.
    fn resolve_links(
        &mut self,
        from: usize,
        ts: UnixNanos,
        ids: &mut Numbering,
        out: &mut Vec<ExecutionReport>,
    ) {
        if self.oco.is_empty() && self.brackets.is_empty() {
            return;
        }
        let mut i = from;
        while i < out.len() {
            let (id, filled, ended) = match out[i] {
                ExecutionReport::Fill(f) => (f.client_order_id, true, false),
                ExecutionReport::Order(e) => (
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
                        let venue_order_id = ids.next_order();
                        out.push(report(
                            exit.client_order_id,
                            Some(venue_order_id),
                            ts,
                            OrderEventKind::Accepted,
                        ));
                        self.working.push(WorkingOrder {
                            request: exit,
                            venue_order_id,
                            state: OrderState::Accepted,
                            expires_at: None,
                            // Exits accepted on a bar first work on the next bar, as resting
                            // orders.
                            evaluated: true,
                            arrives_at: Some(ts),
                            trail: self.last.map(|b| b.close),
                        });
                    }
                } else {
                    for exit in [stop_loss, take_profit] {
                        out.push(report(
                            exit.client_order_id,
                            None,
                            ts,
                            OrderEventKind::Rejected(RejectReason::ParentNotFilled),
                        ));
                    }
                }
            }
        }
    }

    /// Takes `bar` as the latest complete bar (the close orders sent now meet in `close` mode,
    /// where trailing stops start).
    pub(crate) fn see(&mut self, bar: &Bar) {
        self.last = Some(*bar);
    }

    /// Matches working orders against a new bar, before the strategy sees it; orders sent
    /// before it arrive at its open.
    #[inline]
    pub(crate) fn on_bar(
        &mut self,
        bar: &Bar,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) {
        self.last = Some(*bar);
        if !self.working.is_empty() {
            self.match_working(bar, ids, funds, out);
        }
    }

    fn match_working(
        &mut self,
        bar: &Bar,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) {
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
                transition(order, OrderTransition::Expire);
                out.push(report(
                    id,
                    Some(order.venue_order_id),
                    bar.ts,
                    OrderEventKind::Expired,
                ));
                return false;
            }
            if self.config.latency_ms > 0 {
                let latency = i64::try_from(self.config.latency_ms)
                    .unwrap_or(i64::MAX / 1_000_000)
                    .saturating_mul(1_000_000);
                let arrives_at = *order
                    .arrives_at
                    .get_or_insert_with(|| bar.ts.saturating_add(latency));
                if bar.ts < arrives_at {
                    return true;
                }
            }
            let first_chance = !order.evaluated;
            let immediate = matches!(
                order.request.time_in_force,
                TimeInForce::Ioc | TimeInForce::Fok
            );
            let done = if immediate && first_chance {
                // First chance is the open only.
                let open = Bar {
                    close: bar.open,
                    ..*bar
                };
                self.execute_at(order, &open, ids, funds, out)
            } else {
                self.execute_in_bar(order, bar, false, ids, funds, out)
            };
            order.evaluated = true;
            if !self.oco.is_empty()
                && out[before..]
                    .iter()
                    .any(|e| matches!(e, ExecutionReport::Fill(_)))
            {
                filled_here.push(id);
            }
            if done || self.finish_immediate(order, bar.ts, out) {
                return false;
            }
            acknowledge(order, bar.ts, out);
            true
        });
        self.working = orders;
        self.resolve_links(from, bar.ts, ids, out);
    }

    /// Cancels an IOC/FOK order that has had its chance; true if it was cancelled.
    fn finish_immediate(
        &self,
        order: &mut WorkingOrder,
        ts: UnixNanos,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
        if !matches!(
            order.request.time_in_force,
            TimeInForce::Ioc | TimeInForce::Fok
        ) {
            return false;
        }
        acknowledge(order, ts, out);
        transition(order, OrderTransition::Cancel);
        out.push(report(
            order.request.client_order_id,
            Some(order.venue_order_id),
            ts,
            OrderEventKind::Canceled,
        ));
        true
    }

    /// Executes against `bar`'s close alone (the decision bar in `close` mode, or a bar's open
    /// for a first IOC/FOK chance, passed with `close = open`), with that bar's volume, as an
    /// order arriving at that price: a marketable limit takes liquidity. True if the order is
    /// done (filled, or refused for lack of funds).
    fn execute_at(
        &self,
        order: &mut WorkingOrder,
        bar: &Bar,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
        let point = Bar {
            ts: bar.ts,
            open: bar.close,
            high: bar.close,
            low: bar.close,
            close: bar.close,
            volume: bar.volume,
        };
        self.execute_in_bar(order, &point, true, ids, funds, out)
    }

    /// Executes a working order against a bar's open and range; true if it is done. `arriving`:
    /// the order meets the market at this moment (sent in `close` mode, an IOC/FOK's only
    /// chance), so a marketable limit takes liquidity; a limit resting from an earlier bar is a
    /// maker even when the open gaps through it.
    fn execute_in_bar(
        &self,
        order: &mut WorkingOrder,
        bar: &Bar,
        arriving: bool,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
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
        // A limit that is marketable when it meets the market (or when its stop triggers at the
        // open) takes liquidity: it pays the taker fee, slippage, spread and impact, never
        // beyond its limit. A limit resting in the book is a maker.
        let limit_fill = |limit: Price, marketable_now: bool| {
            if at_or_better(bar.open, limit) {
                if marketable_now {
                    Execution::Fill {
                        price: bar.open,
                        liquidity: Liquidity::Taker,
                    }
                } else {
                    Execution::maker(bar.open)
                }
            } else if at_or_better(best_in_bar, limit) {
                Execution::maker(limit)
            } else {
                Execution::None
            }
        };
        let execution = match order.request.kind {
            OrderKind::Market => Execution::taker(bar.open),
            OrderKind::Limit { price } => limit_fill(price, arriving),
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
                    limit_fill(limit, false)
                } else if reaches_stop(bar.open, trigger) {
                    mark_triggered(order, bar.ts, out);
                    limit_fill(limit, true)
                } else if reaches_stop(worst_in_bar, trigger) {
                    mark_triggered(order, bar.ts, out);
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
            Execution::Fill { price, liquidity } => {
                let cap = match order.request.kind {
                    OrderKind::Limit { price } | OrderKind::StopLimit { limit: price, .. } => {
                        Some(price)
                    }
                    _ => None,
                };
                self.fill(order, price, liquidity, cap, bar, ids, funds, out)
            }
            Execution::Triggered | Execution::None => false,
        }
    }

    /// Fills as much of the order's remaining quantity as the bar and the account allow at
    /// `price` (adjusted for taker costs, never beyond the limit `cap`); true if the order is
    /// now done: completely filled, or refused because the account cannot pay.
    #[allow(
        clippy::too_many_arguments,
        reason = "the fill's inputs; a struct would only repack them for one private call"
    )]
    fn fill(
        &self,
        order: &mut WorkingOrder,
        price: Price,
        liquidity: Liquidity,
        cap: Option<Price>,
        bar: &Bar,
        ids: &mut Numbering,
        funds: &mut dyn FundsCheck,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
        let side = order.request.side;
        let remaining = order
            .request
            .quantity
            .checked_sub(order.state.filled(order.request.quantity))
            .unwrap_or(order.request.quantity);
        let quantity = match self.config.max_participation {
            Some(share) => remaining.min(self.participation_cap(bar.volume, share)),
            None => remaining,
        };
        let all_or_nothing = order.request.time_in_force == TimeInForce::Fok;
        if !quantity.is_positive() || (all_or_nothing && quantity < remaining) {
            return false;
        }
        let mut price = match liquidity {
            Liquidity::Taker => self.taker_price(side, price, quantity, bar.volume),
            Liquidity::Maker => price,
        };
        if let Some(limit) = cap {
            price = match side {
                Side::Buy => price.min(limit),
                Side::Sell => price.max(limit),
            };
        }
        let rate = match liquidity {
            Liquidity::Maker => self.config.maker_fee_bps,
            Liquidity::Taker => self.config.taker_fee_bps,
        };
        let fee = price.notional(quantity).bps(rate);
        let allowed = funds.allow(ProposedFill {
            side,
            quantity,
            price,
            fee,
        });
        if allowed < quantity {
            if !allowed.is_positive() || all_or_nothing {
                return self.refuse_for_funds(order, bar.ts, out);
            }
            // The account pays for part of it: fill that part, the rest is cancelled below.
            let fee = price.notional(allowed).bps(rate);
            self.book_fill(order, allowed, price, fee, liquidity, bar.ts, ids, out);
            if order.state != OrderState::Filled {
                transition(order, OrderTransition::Cancel);
                out.push(report(
                    order.request.client_order_id,
                    Some(order.venue_order_id),
                    bar.ts,
                    OrderEventKind::Canceled,
                ));
            }
            return true;
        }
        self.book_fill(order, quantity, price, fee, liquidity, bar.ts, ids, out);
        order.state == OrderState::Filled
    }

    /// The account cannot pay for any of the fill: an order that is only now reaching the venue
    /// is rejected there (`INSUFFICIENT_BUYING_POWER`, as a venue refuses an order without
    /// balance); one that was already working is cancelled.
    fn refuse_for_funds(
        &self,
        order: &mut WorkingOrder,
        ts: UnixNanos,
        out: &mut Vec<ExecutionReport>,
    ) -> bool {
        let id = order.request.client_order_id;
        if order.state == OrderState::Submitted {
            let reason = RejectReason::InsufficientBuyingPower;
            transition(order, OrderTransition::Reject(reason));
            out.push(report(id, None, ts, OrderEventKind::Rejected(reason)));
        } else {
            transition(order, OrderTransition::Cancel);
            out.push(report(
                id,
                Some(order.venue_order_id),
                ts,
                OrderEventKind::Canceled,
            ));
        }
        true
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the fill's fields; a struct would only repack them for one private call"
    )]
    fn book_fill(
        &self,
        order: &mut WorkingOrder,
        quantity: Quantity,
        price: Price,
        fee: tradepulse_model::Money,
        liquidity: Liquidity,
        ts: UnixNanos,
        ids: &mut Numbering,
        out: &mut Vec<ExecutionReport>,
    ) {
        acknowledge(order, ts, out);
        transition(order, OrderTransition::Fill(quantity));
        out.push(ExecutionReport::Fill(Fill {
            client_order_id: order.request.client_order_id,
            venue_order_id: order.venue_order_id,
            trade_id: ids.next_trade(),
            ts,
            side: order.request.side,
            quantity,
            price,
            fee,
            fee_asset: self.fee_asset,
            liquidity,
        }));
    }

    /// The most one order may take of a bar of `volume`: `share × volume`, rounded down to whole
    /// lots (a fractional lot size such as 0.001 BTC keeps its fractions); a volume too large to
    /// count in a [`Quantity`] caps nothing.
    fn participation_cap(&self, volume: f64, share: tradepulse_model::Ratio) -> Quantity {
        let lot = self.instrument.lot_size();
        let lots = (volume * share.as_f64() / lot.as_f64()).floor();
        if lots.is_nan() || lots < 0.0 {
            return Quantity::ZERO;
        }
        // Exact below 2^53 lots; beyond the range of a Quantity the cap is no constraint.
        let max_lots = (i64::MAX / lot.raw()) as f64;
        if lots >= max_lots {
            return Quantity::from_raw(i64::MAX / lot.raw() * lot.raw());
        }
        Quantity::from_raw(lots as i64 * lot.raw())
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
        let bps = Bps::from_raw(i64::try_from(bps).unwrap_or(i64::MAX));
        let tick = self.instrument.tick_size();
        match side {
            Side::Buy => price.shifted_bps(bps).ceil_to(tick),
            Side::Sell => price.shifted_bps(Bps::from_raw(-bps.raw())).floor_to(tick),
        }
    }
}

fn report(
    client_order_id: ClientOrderId,
    venue_order_id: Option<VenueOrderId>,
    ts: UnixNanos,
    kind: OrderEventKind,
) -> ExecutionReport {
    ExecutionReport::Order(OrderEvent {
        client_order_id,
        venue_order_id,
        ts,
        kind,
    })
}

/// Reports the order as accepted, once: when it first reaches the venue and rests, or just
/// before its first event there.
fn acknowledge(order: &mut WorkingOrder, ts: UnixNanos, out: &mut Vec<ExecutionReport>) {
    if order.state == OrderState::Submitted {
        transition(order, OrderTransition::Accept);
        out.push(report(
            order.request.client_order_id,
            Some(order.venue_order_id),
            ts,
            OrderEventKind::Accepted,
        ));
    }
}

fn mark_triggered(order: &mut WorkingOrder, ts: UnixNanos, out: &mut Vec<ExecutionReport>) {
    if order.state == OrderState::Triggered {
        return;
    }
    acknowledge(order, ts, out);
    transition(order, OrderTransition::Trigger);
    out.push(report(
        order.request.client_order_id,
        Some(order.venue_order_id),
        ts,
        OrderEventKind::Triggered,
    ));
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
