//! [`Pipeline`]: market event → strategy → order intent → risk → order manager → venue →
//! execution report → portfolio. The one path every order takes, in backtest, paper and live.
//!
//! The pipeline is plain sync code driven from outside, and told the time with every event: a
//! backtest calls [`Pipeline::on_bar`] for each bar of its data with the bar's own time (the
//! simulated clock); a live runner calls the same method when a bar closes, with the wall
//! clock's time ([`WallClock`]), [`Pipeline::poll`] when the venue's I/O task has reports, and
//! [`Pipeline::submit`] for intents that arrive over an API (the execution engine serving a
//! remote core). Nothing inside knows which mode it runs in; the time is what order-rate
//! limits, daily-loss days and order timestamps use.
//!
//! # One event, in order
//!
//! For a bar of instrument *i*:
//! 1. borrow and financing accrue from the previous close to this bar;
//! 2. intents held for want of a price (sent in `on_start`) are checked at the bar's open, the
//!    price they meet at the venue;
//! 3. the venue sees the bar: a simulated venue fills working orders against it, asking the
//!    [`FundsCheck`] before each fill; the reports are applied (order manager, portfolio) and
//!    the owning strategies hear of them (`on_fill`, `on_order_event`, the context marked at the
//!    bar's open);
//! 4. the instrument is marked at the close; the loss and drawdown guards see the new equity;
//! 5. each strategy trading *i* sees the bar (`on_bar`);
//! 6. every command a callback queued goes through the risk engine, is recorded by the order
//!    manager and the [`Journal`] (flushed before the venue is called), and is sent; reports
//!    go back to step 3's handling, and so on until nothing is left to do (at most
//!    [`MAX_ROUNDS`] rounds: a strategy reacting to itself forever is an error);
//! 7. the borrow and financing clocks restart at the close.
//!
//! A strategy therefore never sees a bar before the venue has used it, and an order decided on
//! bar *t* never trades on a price before bar *t*'s close.
//!
//! The per-bar path allocates nothing once its buffers are warm.

mod journal;

use tradepulse_model::{
    Asset, Bar, ClientOrderId, Instrument, InstrumentId, Money, OrderEvent, OrderEventKind,
    OrderKind, OrderRequest, Overflow, Price, Quantity, RejectReason, UnixNanos, VenueOrderId,
};
use tradepulse_portfolio::{Booking, InstrumentKey, Portfolio, PortfolioError};
use tradepulse_risk::{
    Book, Intent, KillScope, Pending, ProposedFill, ReferencePrice, Rejection, RiskEngine,
    StrategyId,
};
use tradepulse_strategy::{Command, Context, Snapshot, Strategy};

pub use journal::{Journal, JournalEntry, JournalError, NoJournal};

/// Where a live driver reads the time it passes to the pipeline.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> UnixNanos;
}

/// The system's wall clock, for paper and live sessions.
#[derive(Debug, Clone, Copy, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> UnixNanos {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        UnixNanos::new(nanos)
    }
}

use crate::order::{Applied, OrderManager, OrderState, ReportError, SlotId, value_price};
use crate::venue::{ExecutionReport, FundsCheck, Submission, Venue, VenueError};

/// Most rounds of reactions (order → report → new order …) allowed within one event; a strategy
/// that keeps reacting past this is looping.
pub const MAX_ROUNDS: usize = 64;

/// The pipeline cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PipelineError {
    /// Exact accounting left the fixed-point range.
    #[error("accounting overflow at {ts}: a position or balance left the supported range")]
    Overflow {
        /// When.
        ts: UnixNanos,
    },
    /// A strategy kept sending orders in reaction to its own reports within one event.
    #[error("strategy kept reacting to its own orders for {MAX_ROUNDS} rounds at {ts}")]
    RunawayStrategy {
        /// When.
        ts: UnixNanos,
    },
    /// The portfolio cannot hold the instrument.
    #[error(transparent)]
    Portfolio(#[from] PortfolioError),
    /// The venue cannot trade the instrument.
    #[error(transparent)]
    Venue(#[from] VenueError),
    /// A key or name that was never added.
    #[error("unknown {what}: {name}")]
    Unknown {
        /// Instrument or strategy.
        what: &'static str,
        /// Which.
        name: String,
    },
}

/// Something the pipeline did, for whoever drives it (a backtest's fill log, a live service's
/// store and event stream). Drained with [`Pipeline::drain_events`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineEvent {
    /// An intent refused before it reached the venue (risk, warm-up, a used id, the journal).
    Refused {
        /// Who sent it.
        slot: SlotId,
        /// The order.
        client_order_id: ClientOrderId,
        /// Why, with the values behind it.
        rejection: Rejection,
    },
    /// An order passed the risk checks, was recorded and sent.
    Sent {
        /// Who sent it.
        slot: SlotId,
        /// Its instrument.
        key: InstrumentKey,
        /// The order.
        client_order_id: ClientOrderId,
    },
    /// An order event from the venue, applied.
    Order {
        /// Who sent the order.
        slot: SlotId,
        /// Its instrument.
        key: InstrumentKey,
        /// The event.
        event: OrderEvent,
    },
    /// A fill from the venue, applied and booked.
    Fill {
        /// Who sent the order.
        slot: SlotId,
        /// Its instrument.
        key: InstrumentKey,
        /// The fill.
        fill: tradepulse_model::Fill,
        /// What it did to the portfolio.
        booking: Booking,
    },
    /// The journal could not make a batch durable; its orders were refused with
    /// `STORE_UNAVAILABLE` instead of being sent.
    JournalUnavailable(JournalError),
    /// A report that applied as a no-op: repeated, late, about an unknown order, or
    /// contradicting the order (then `why` says how).
    Ignored {
        /// The report.
        report: ExecutionReport,
        /// Why it was not applied.
        why: IgnoredReport,
    },
}

/// One record of an earlier session, replayed by [`Pipeline::restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    /// An order recorded before it was sent (or adopted, with the venue's id).
    Order {
        /// The slot that sent (or adopted) it.
        slot: SlotId,
        /// The order.
        request: OrderRequest,
        /// `Some` for an order adopted from the venue.
        venue_order_id: Option<VenueOrderId>,
    },
    /// A cancel was requested.
    CancelRequested(ClientOrderId),
    /// A report received.
    Report(ExecutionReport),
    /// An external balance change.
    Balance {
        /// The asset.
        asset: Asset,
        /// Signed change.
        amount: Money,
        /// Cost per unit of a base asset.
        price: Price,
    },
}

/// Why a report did not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgnoredReport {
    /// Applied before (the same trade id), or an event the order had moved past.
    Stale,
    /// About an order the pipeline does not know (reconciliation decides what it is).
    Unknown,
    /// It contradicts the order's state.
    Invalid(ReportError),
}

/// Counters of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineStats {
    /// Orders sent to the venue.
    pub orders_sent: u64,
    /// Intents refused before the venue (risk, warm-up, a used id).
    pub refused: u64,
    /// Refusals and venue rejections, by [`RejectReason::index`].
    pub rejections: Vec<u64>,
    /// Fills booked.
    pub fills: u64,
    /// Reports ignored as stale (duplicates, late events).
    pub stale_reports: u64,
    /// Reports about unknown orders.
    pub unknown_reports: u64,
    /// Reports contradicting an order's state.
    pub invalid_reports: u64,
}

impl PipelineStats {
    fn new() -> Self {
        Self {
            orders_sent: 0,
            refused: 0,
            rejections: vec![0; RejectReason::ALL.len()],
            fills: 0,
            stale_reports: 0,
            unknown_reports: 0,
            invalid_reports: 0,
        }
    }

    /// Total refusals and rejections.
    #[must_use]
    pub fn rejected(&self) -> u64 {
        self.rejections.iter().sum()
    }

    /// `(reason, count)` for every reason that occurred, in [`RejectReason::ALL`] order.
    pub fn rejections_by_reason(&self) -> impl Iterator<Item = (RejectReason, u64)> + '_ {
        RejectReason::ALL
            .iter()
            .zip(&self.rejections)
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| (*r, *n))
    }
}

/// The latest prices of one instrument and the slots trading it.
#[derive(Debug)]
struct Market {
    id: InstrumentId,
    /// The latest complete bar, handed to the venue with orders sent after it.
    bar: Option<Bar>,
    last: Option<Price>,
    mid: Option<Price>,
    slots: Vec<SlotId>,
}

/// A strategy (or, without one, an API client) sending orders through the pipeline.
struct Slot<'a> {
    name: String,
    key: InstrumentKey,
    strategy: Option<Box<dyn Strategy + Send + 'a>>,
    risk: StrategyId,
    /// Index of the slot's id sequence in [`Pipeline::sequences`].
    sequence: usize,
}

/// A client order id prefix and the last sequence number used with it; slots with the same
/// prefix share one, so their ids never collide.
#[derive(Debug)]
struct Sequence {
    prefix: String,
    ids: tradepulse_model::OrderIdPrefix,
    last: u64,
}

impl std::fmt::Debug for Slot<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("has_strategy", &self.strategy.is_some())
            .finish_non_exhaustive()
    }
}

/// How a strategy slot names its orders: `PREFIX-000001`, … from `first_sequence` on (slots
/// with the same prefix share one sequence). A live process passes a prefix unique to the
/// session, so ids never repeat across restarts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderIds {
    /// Prefix of the client order ids.
    pub prefix: String,
    /// Sequence number of the first id.
    pub first_sequence: u64,
}

/// The one trading pipeline (see the module docs). `'a` is how long the strategies it runs are
/// borrowed for (`'static` when it owns them).
pub struct Pipeline<'a> {
    portfolio: Portfolio,
    risk: RiskEngine,
    orders: OrderManager,
    venue: Box<dyn Venue + 'a>,
    journal: Box<dyn Journal + 'a>,
    markets: Vec<Market>,
    slots: Vec<Slot<'a>>,
    sequences: Vec<Sequence>,
    /// Commands of the strategy callback running now (the [`Context`] writes here).
    commands: Vec<Command>,
    /// Commands waiting to be sent, with their slot.
    queued: Vec<(SlotId, Command)>,
    spare_queued: Vec<(SlotId, Command)>,
    /// Intents that need a price before any is known (sent in `on_start`).
    held: Vec<(SlotId, Command)>,
    /// Submissions recorded in this round, sent after the journal flush.
    outbox: Vec<(InstrumentKey, Submission)>,
    reports: Vec<ExecutionReport>,
    spare_reports: Vec<ExecutionReport>,
    unbooked: Unbooked,
    events: Vec<PipelineEvent>,
    stats: PipelineStats,
    now: UnixNanos,
    /// The price strategies' contexts are marked at, for one instrument, while an event is
    /// handled (a bar's open while its fills are reported).
    mark_override: Option<(InstrumentKey, Price)>,
    trading: bool,
    reference: ReferencePrice,
    /// Record every event, or only fills (a backtest, which needs nothing else).
    all_events: bool,
    /// Whether the account pays borrow or financing (accrued between events).
    accruing: bool,
}

impl std::fmt::Debug for Pipeline<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("venue", &self.venue.name())
            .field("now", &self.now)
            .field("slots", &self.slots)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Fills the venue has made that the portfolio has not booked yet (they are in the report
/// queue): the cash they move and the position change per instrument. Cleared when the reports
/// are applied.
#[derive(Debug, Default)]
struct Unbooked {
    cash: i128,
    quantity: Vec<i64>,
}

/// The pipeline's answer to a venue's [`FundsCheck`]: the risk engine's fill allowance over the
/// portfolio, counting the fills made but not booked yet.
struct PortfolioFunds<'a> {
    risk: &'a RiskEngine,
    portfolio: &'a Portfolio,
    key: InstrumentKey,
    unbooked: &'a mut Unbooked,
}

impl FundsCheck for PortfolioFunds<'_> {
    fn allow(&mut self, fill: ProposedFill) -> Quantity {
        let index = self.key.index();
        let pending = Pending {
            cash: self.unbooked.cash,
            quantity: self.unbooked.quantity[index],
        };
        let allowed = self
            .risk
            .fill_allowance(self.portfolio, self.key, pending, fill);
        if allowed.is_positive() {
            let mut after = pending;
            after.add(ProposedFill {
                quantity: allowed,
                ..fill
            });
            self.unbooked.cash = after.cash;
            self.unbooked.quantity[index] = after.quantity;
        }
        allowed
    }
}

impl<'a> Pipeline<'a> {
    /// A pipeline over `portfolio` (its instruments are added with
    /// [`Pipeline::add_instrument`]), checking with `risk`, sending to `venue` and recording in
    /// `journal`.
    #[must_use]
    pub fn new(
        portfolio: Portfolio,
        risk: RiskEngine,
        venue: Box<dyn Venue + 'a>,
        journal: Box<dyn Journal + 'a>,
    ) -> Self {
        let reference = risk
            .config()
            .price_band
            .map_or(ReferencePrice::Last, |b| b.reference);
        let accruing = {
            let account = portfolio.account();
            account.short_borrow_bps.raw() != 0 || account.financing_bps.raw() != 0
        };
        Self {
            portfolio,
            risk,
            orders: OrderManager::new(),
            venue,
            journal,
            markets: Vec::new(),
            slots: Vec::new(),
            sequences: Vec::new(),
            commands: Vec::with_capacity(8),
            queued: Vec::with_capacity(8),
            spare_queued: Vec::with_capacity(8),
            held: Vec::new(),
            outbox: Vec::with_capacity(8),
            reports: Vec::with_capacity(8),
            spare_reports: Vec::with_capacity(8),
            unbooked: Unbooked::default(),
            events: Vec::with_capacity(16),
            stats: PipelineStats::new(),
            now: UnixNanos::EPOCH,
            mark_override: None,
            trading: true,
            reference,
            all_events: true,
            accruing,
        }
    }

    /// Records every event (the default: a live service persists and streams them), or, with
    /// `false`, only fills, ignored reports and journal failures (a backtest, which builds its
    /// reports from fills and counts the rest in [`PipelineStats`]).
    pub fn record_all_events(&mut self, on: bool) {
        self.all_events = on;
    }

    /// Adds a tradable instrument to the portfolio, the risk engine, the order manager and the
    /// venue.
    ///
    /// # Errors
    /// [`PipelineError`] if the portfolio or the venue cannot take it.
    pub fn add_instrument(
        &mut self,
        instrument: Instrument,
    ) -> Result<InstrumentKey, PipelineError> {
        self.venue.add_instrument(&instrument)?;
        let key = self.portfolio.add_instrument(instrument.clone())?;
        self.risk.register_instrument(key, &instrument);
        self.orders.add_instrument(key);
        self.unbooked.quantity.push(0);
        self.markets.push(Market {
            id: instrument.id().clone(),
            bar: None,
            last: None,
            mid: None,
            slots: Vec::new(),
        });
        Ok(key)
    }

    /// Adds a strategy trading instrument `key` under `name` (kill switches and order-rate
    /// limits are by name). Without a strategy the slot is an API client's: its intents come
    /// through [`Pipeline::submit`] and its reports only as [`PipelineEvent`]s.
    ///
    /// # Panics
    /// If `key` did not come from this pipeline.
    pub fn add_strategy(
        &mut self,
        name: &str,
        key: InstrumentKey,
        strategy: Option<Box<dyn Strategy + Send + 'a>>,
        ids: OrderIds,
    ) -> SlotId {
        let slot = SlotId(self.slots.len() as u32);
        let risk = self.risk.register_strategy(name);
        self.orders.add_slot(slot);
        self.markets[key.index()].slots.push(slot);
        let sequence = match self.sequences.iter().position(|s| s.prefix == ids.prefix) {
            Some(i) => i,
            None => {
                self.sequences.push(Sequence {
                    ids: tradepulse_model::OrderIdPrefix::new(&ids.prefix),
                    prefix: ids.prefix,
                    last: ids.first_sequence.saturating_sub(1),
                });
                self.sequences.len() - 1
            }
        };
        self.slots.push(Slot {
            name: name.to_owned(),
            key,
            strategy,
            risk,
            sequence,
        });
        slot
    }

    /// The portfolio.
    #[must_use]
    pub const fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }

    /// The risk engine.
    #[must_use]
    pub const fn risk(&self) -> &RiskEngine {
        &self.risk
    }

    /// Keeps the last `n` ended orders (`usize::MAX`: all) instead of the backtest's bound; see
    /// [`OrderManager::keep_ended`]. A live driver keeps all of its session's orders.
    pub fn keep_ended_orders(&mut self, n: usize) {
        self.orders.keep_ended(n);
    }

    /// The order manager.
    #[must_use]
    pub const fn orders(&self) -> &OrderManager {
        &self.orders
    }

    /// The venue.
    #[must_use]
    pub fn venue(&self) -> &dyn Venue {
        self.venue.as_ref()
    }

    /// Counters so far.
    #[must_use]
    pub const fn stats(&self) -> &PipelineStats {
        &self.stats
    }

    /// The time of the event handled last.
    #[must_use]
    pub const fn now(&self) -> UnixNanos {
        self.now
    }

    /// The name of `slot`.
    #[must_use]
    pub fn slot_name(&self, slot: SlotId) -> &str {
        &self.slots[slot.index()].name
    }

    /// The instrument `slot` trades.
    #[must_use]
    pub fn slot_instrument(&self, slot: SlotId) -> InstrumentKey {
        self.slots[slot.index()].key
    }

    /// The strategy of `slot` (`None` for an API client's slot): a live runner reads its
    /// [`Strategy::checkpoint`] after a bar.
    ///
    /// # Panics
    /// If `slot` did not come from this pipeline.
    #[must_use]
    pub fn strategy(&self, slot: SlotId) -> Option<&(dyn Strategy + Send + 'a)> {
        self.slots[slot.index()].strategy.as_deref()
    }

    /// The strategy of `slot`, mutably: a live runner restores a checkpoint into it before the
    /// first event.
    ///
    /// # Panics
    /// If `slot` did not come from this pipeline.
    pub fn strategy_mut(&mut self, slot: SlotId) -> Option<&mut (dyn Strategy + Send + 'a)> {
        match &mut self.slots[slot.index()].strategy {
            Some(s) => Some(s.as_mut()),
            None => None,
        }
    }

    /// The slot named `name`.
    #[must_use]
    pub fn slot_of(&self, name: &str) -> Option<SlotId> {
        self.slots
            .iter()
            .position(|s| s.name == name)
            .map(|i| SlotId(i as u32))
    }

    /// Events since the last drain, oldest first.
    #[must_use]
    pub fn events(&self) -> &[PipelineEvent] {
        &self.events
    }

    /// Takes the events since the last drain, oldest first.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, PipelineEvent> {
        self.events.drain(..)
    }

    /// Turns trading on or off. While off (warming a strategy up on history), every intent is
    /// refused with `WARM_UP`, so the strategy knows nothing was sent.
    pub fn set_trading(&mut self, on: bool) {
        self.trading = on;
    }

    /// Turns a kill switch on or off; the next intent sees it. Returns whether it changed.
    pub fn set_kill_switch(&mut self, scope: &KillScope, on: bool) -> bool {
        self.risk.set_kill_switch(scope, on)
    }

    /// Calls every strategy's `on_start` at `now` and sends what they queue.
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn start(&mut self, now: UnixNanos) -> Result<(), PipelineError> {
        self.now = now;
        for slot in 0..self.slots.len() {
            self.callback(SlotId(slot as u32), |s, ctx| s.on_start(ctx));
        }
        self.settle()
    }

    /// Calls every strategy's `on_stop`, lets the venue finish (a simulated venue expires what
    /// is still working) and applies the last reports.
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn stop(&mut self, now: UnixNanos) -> Result<(), PipelineError> {
        self.now = now;
        for slot in 0..self.slots.len() {
            self.callback(SlotId(slot as u32), |s, ctx| s.on_stop(ctx));
            self.settle()?;
        }
        self.venue.finish(now, &mut self.reports);
        self.settle()
    }

    /// Handles a completed bar of `key` at time `now` (see the module docs for the order of
    /// steps): a backtest passes the bar's own time, a live session the wall clock's.
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    ///
    /// # Panics
    /// If `key` did not come from this pipeline.
    #[inline]
    pub fn on_bar(
        &mut self,
        key: InstrumentKey,
        bar: &Bar,
        now: UnixNanos,
    ) -> Result<(), PipelineError> {
        self.now = now;
        // Steps 1–3 have nothing to do on most bars; they live out of line so the common path
        // stays short.
        if self.accruing
            || !self.held.is_empty()
            || self.orders.open_orders_on(key) > 0
            || !self.reports.is_empty()
            || !self.queued.is_empty()
        {
            self.before_strategies(key, bar)?;
        }
        self.portfolio.set_mark(key, bar.close);
        let market = &mut self.markets[key.index()];
        market.bar = Some(*bar);
        market.last = Some(bar.close);
        if self.risk.watches_equity() {
            self.risk.on_equity(now, self.portfolio.equity_f64());
        }
        // Most instruments have one strategy: no loop state to keep across the callbacks.
        let slots = &self.markets[key.index()].slots;
        if let [slot] = slots[..] {
            self.callback(slot, |s, ctx| s.on_bar(bar, ctx));
        } else {
            for i in 0..slots.len() {
                let slot = self.markets[key.index()].slots[i];
                self.callback(slot, |s, ctx| s.on_bar(bar, ctx));
            }
        }
        if !self.queued.is_empty() {
            self.settle()?;
        }
        if self.accruing {
            self.portfolio.start_accruals(key, bar.ts);
        }
        Ok(())
    }

    /// Steps 1–3 of a bar: accruals, held intents, the venue's matching and its reports.
    #[inline(never)]
    fn before_strategies(&mut self, key: InstrumentKey, bar: &Bar) -> Result<(), PipelineError> {
        if self.accruing {
            self.portfolio
                .accrue(key, bar.ts)
                .map_err(|Overflow| PipelineError::Overflow { ts: bar.ts })?;
        }
        if !self.held.is_empty() {
            self.release_held(key, bar.open);
        }
        // The venue only has something to do with the bar while orders for it can fill.
        if self.orders.open_orders_on(key) > 0 {
            let mut funds = PortfolioFunds {
                risk: &self.risk,
                portfolio: &self.portfolio,
                key,
                unbooked: &mut self.unbooked,
            };
            self.venue.on_bar(
                &self.markets[key.index()].id,
                bar,
                &mut funds,
                &mut self.reports,
            );
        }
        if !self.reports.is_empty() || !self.queued.is_empty() {
            self.mark_override = Some((key, bar.open));
            let settled = self.settle();
            self.mark_override = None;
            settled?;
        }
        Ok(())
    }

    /// A trade (or a quote's mid, with `mid: true`) of `key` at `price`: the reference price for
    /// risk checks and the mark of the position, without a strategy callback.
    ///
    /// # Panics
    /// If `key` did not come from this pipeline.
    pub fn on_price(&mut self, key: InstrumentKey, price: Price, mid: bool, now: UnixNanos) {
        self.now = now;
        let market = &mut self.markets[key.index()];
        if mid {
            market.mid = Some(price);
        } else {
            market.last = Some(price);
            self.portfolio.set_mark(key, price);
        }
    }

    /// Applies the reports a live venue received since the last call.
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn poll(&mut self, now: UnixNanos) -> Result<(), PipelineError> {
        self.now = now;
        self.venue.poll(now, &mut self.reports);
        if self.reports.is_empty() && self.queued.is_empty() {
            return Ok(());
        }
        self.settle()
    }

    /// Sends an intent on behalf of `slot` (an API client, or an operator), through the same
    /// checks as a strategy's. The outcome is in the events ([`PipelineEvent::Refused`],
    /// [`PipelineEvent::Sent`], then the venue's reports).
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn submit(&mut self, slot: SlotId, request: OrderRequest) -> Result<(), PipelineError> {
        self.queued.push((slot, Command::Submit(request)));
        self.settle()
    }

    /// Requests a cancel of order `id` on behalf of `slot` (which must own it).
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn cancel(&mut self, slot: SlotId, id: ClientOrderId) -> Result<(), PipelineError> {
        self.queued.push((slot, Command::Cancel(id)));
        self.settle()
    }

    /// Moves the pipeline's clock to `now` without an event: a live driver calls it before
    /// [`Pipeline::submit`], [`Pipeline::submit_many`] or [`Pipeline::cancel`], so order-rate
    /// windows and order timestamps use the wall clock.
    pub fn set_time(&mut self, now: UnixNanos) {
        self.now = now;
    }

    /// Sends several intents as one batch: each goes through the same checks as
    /// [`Pipeline::submit`], and the journal makes the whole batch durable with one flush
    /// before the venue hears of any (group commit).
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn submit_many(
        &mut self,
        intents: impl IntoIterator<Item = (SlotId, OrderRequest)>,
    ) -> Result<(), PipelineError> {
        self.queued.extend(
            intents
                .into_iter()
                .map(|(slot, request)| (slot, Command::Submit(request))),
        );
        self.settle()
    }

    /// Applies reports that reached the process other than through [`Venue::poll`] (the
    /// missed fills and state changes reconciliation found), exactly as the venue's own:
    /// journaled, applied idempotently, booked, heard by the owning strategies.
    ///
    /// # Errors
    /// [`PipelineError`] if accounting overflows or a strategy loops.
    pub fn inject(
        &mut self,
        reports: impl IntoIterator<Item = ExecutionReport>,
        now: UnixNanos,
    ) -> Result<(), PipelineError> {
        self.now = now;
        self.reports.extend(reports);
        self.settle()
    }

    /// Records an order found at the venue that this pipeline did not send (reconciliation),
    /// as working and owned by `slot`; its fills then book like any other.
    ///
    /// # Errors
    /// [`PipelineError::Unknown`] for an instrument that was never added; a known id is
    /// refused with [`DuplicateOrder`](crate::DuplicateOrder) inside the error's name.
    pub fn adopt(
        &mut self,
        slot: SlotId,
        request: OrderRequest,
        venue_order_id: VenueOrderId,
        now: UnixNanos,
    ) -> Result<(), PipelineError> {
        self.now = now;
        let key =
            self.portfolio
                .key_of(&request.instrument)
                .ok_or_else(|| PipelineError::Unknown {
                    what: "instrument",
                    name: request.instrument.to_string(),
                })?;
        let price = value_price(&request.kind, self.reference(key).unwrap_or(Price::ZERO));
        let _ = self.journal.record(&JournalEntry::Adopted {
            strategy: &self.slots[slot.index()].name,
            request: &request,
            venue_order_id,
            ts: now,
        });
        self.orders
            .adopt(
                request.clone(),
                slot,
                key,
                OrderState::Accepted,
                Some(venue_order_id),
                price,
            )
            .map_err(|e| PipelineError::Unknown {
                what: "order to adopt",
                name: e.to_string(),
            })
    }

    /// Books an external change of a balance (a deposit, a withdrawal, an opening balance
    /// found by reconciliation) and journals it; see
    /// [`Portfolio::adjust_balance`](tradepulse_portfolio::Portfolio::adjust_balance).
    ///
    /// # Errors
    /// [`PipelineError::Overflow`] if the balance leaves the fixed-point range.
    pub fn adjust_balance(
        &mut self,
        asset: Asset,
        amount: Money,
        price: Price,
        now: UnixNanos,
    ) -> Result<(), PipelineError> {
        self.now = now;
        self.portfolio
            .adjust_balance(asset, amount, price)
            .map_err(|Overflow| PipelineError::Overflow { ts: now })?;
        let _ = self.journal.record(&JournalEntry::BalanceAdjusted {
            asset,
            amount,
            price,
            ts: now,
        });
        Ok(())
    }

    /// Makes everything journaled so far durable (reports, adoptions and adjustments are
    /// otherwise made durable with the next batch of orders).
    ///
    /// # Errors
    /// [`JournalError`] if the journal cannot.
    pub fn flush_journal(&mut self) -> Result<(), JournalError> {
        self.journal.flush()
    }

    /// Rebuilds state from a record of an earlier session, without the journal, the venue or
    /// any strategy hearing of it: a restarted process replays its journal through this, in
    /// the order it was written, before it reconciles with the venue. Returns why a report did
    /// not apply, if it did not (a repeated report is [`IgnoredReport::Stale`], as live).
    ///
    /// # Errors
    /// [`PipelineError::Unknown`] for an order of an instrument that was never added;
    /// [`PipelineError::Overflow`] if accounting overflows.
    pub fn restore(&mut self, record: Restore) -> Result<Option<IgnoredReport>, PipelineError> {
        match record {
            Restore::Order {
                slot,
                request,
                venue_order_id,
            } => {
                let key = self.portfolio.key_of(&request.instrument).ok_or_else(|| {
                    PipelineError::Unknown {
                        what: "instrument",
                        name: request.instrument.to_string(),
                    }
                })?;
                // Market orders are valued at the price they met; none is known here.
                let price = value_price(&request.kind, Price::ZERO);
                let result = match venue_order_id {
                    None => self.orders.register(request, slot, key, price, false),
                    Some(v) => {
                        self.orders
                            .adopt(request, slot, key, OrderState::Accepted, Some(v), price)
                    }
                };
                // A record replayed twice is the same order.
                Ok(result.err().map(|_| IgnoredReport::Stale))
            }
            Restore::CancelRequested(id) => {
                self.orders.request_cancel(id);
                Ok(None)
            }
            Restore::Report(report) => match report {
                ExecutionReport::Order(event) => Ok(match self.orders.apply_event(&event) {
                    Ok(Applied::Event { .. } | Applied::Fill { .. }) => None,
                    Ok(Applied::Stale) => Some(IgnoredReport::Stale),
                    Ok(Applied::Unknown) => Some(IgnoredReport::Unknown),
                    Err(e) => Some(IgnoredReport::Invalid(e)),
                }),
                ExecutionReport::Fill(fill) => match self.orders.apply_fill(&fill) {
                    Ok(Applied::Fill { key, .. }) => {
                        self.portfolio
                            .apply_fill(key, &fill)
                            .map_err(|Overflow| PipelineError::Overflow { ts: fill.ts })?;
                        Ok(None)
                    }
                    Ok(Applied::Event { .. }) => Ok(None),
                    Ok(Applied::Stale) => Ok(Some(IgnoredReport::Stale)),
                    Ok(Applied::Unknown) => Ok(Some(IgnoredReport::Unknown)),
                    Err(e) => Ok(Some(IgnoredReport::Invalid(e))),
                },
            },
            Restore::Balance {
                asset,
                amount,
                price,
            } => {
                self.portfolio
                    .adjust_balance(asset, amount, price)
                    .map_err(|Overflow| PipelineError::Overflow { ts: self.now })?;
                Ok(None)
            }
        }
    }

    /// Runs `f` on `slot`'s strategy with a context of the present, then queues the commands it
    /// made. A slot without a strategy is skipped.
    #[inline]
    fn callback(&mut self, slot: SlotId, f: impl FnOnce(&mut dyn Strategy, &mut Context<'_>)) {
        let s = &mut self.slots[slot.index()];
        let Some(strategy) = s.strategy.as_mut() else {
            return;
        };
        let key = s.key;
        let mark = match self.mark_override {
            Some((k, price)) if k == key => price,
            _ => self.portfolio.mark(key).unwrap_or(Price::ZERO),
        };
        let snapshot = Snapshot {
            now: self.now,
            instrument: self.portfolio.instrument(key),
            position: self.portfolio.position(key),
            cash: self.portfolio.cash(),
            mark,
            open_orders: self.orders.open_orders_of(slot),
            others_value: self.portfolio.others_value(key),
        };
        let sequence = &mut self.sequences[s.sequence];
        let mut ctx = Context::new(
            snapshot,
            &mut self.commands,
            &sequence.ids,
            &mut sequence.last,
        );
        f(strategy.as_mut(), &mut ctx);
        if !self.commands.is_empty() {
            self.queue_commands(slot);
        }
    }

    #[inline(never)]
    fn queue_commands(&mut self, slot: SlotId) {
        self.queued
            .extend(self.commands.drain(..).map(|command| (slot, command)));
    }

    /// Applies reports and sends queued commands until both are exhausted.
    #[inline(never)]
    fn settle(&mut self) -> Result<(), PipelineError> {
        for _ in 0..MAX_ROUNDS {
            if self.reports.is_empty() && self.queued.is_empty() {
                return Ok(());
            }
            if !self.reports.is_empty() {
                self.apply_reports()?;
            }
            if !self.queued.is_empty() {
                self.send_queued();
            }
        }
        Err(PipelineError::RunawayStrategy { ts: self.now })
    }

    /// Applies the venue's reports: order manager, portfolio, the owning strategy.
    fn apply_reports(&mut self) -> Result<(), PipelineError> {
        std::mem::swap(&mut self.reports, &mut self.spare_reports);
        let mut reports = std::mem::take(&mut self.spare_reports);
        let mut result = Ok(());
        for report in &reports {
            // A journal that cannot take a report loses nothing the venue does not also keep:
            // reconciliation recovers it; the report is still applied.
            let _ = self.journal.record(&JournalEntry::Report(report));
            match report {
                ExecutionReport::Order(event) => self.apply_event(event, report),
                ExecutionReport::Fill(fill) => {
                    if let Err(e) = self.apply_fill(fill, report) {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        reports.clear();
        self.spare_reports = reports;
        // Every fill the venue made is booked (or refused as stale) now.
        self.unbooked.cash = 0;
        self.unbooked.quantity.fill(0);
        result
    }

    fn apply_event(&mut self, event: &OrderEvent, report: &ExecutionReport) {
        match self.orders.apply_event(event) {
            Ok(Applied::Event { slot, key }) => {
                if let OrderEventKind::Rejected(reason) = event.kind {
                    self.stats.rejections[reason.index()] += 1;
                }
                if self.all_events {
                    self.events.push(PipelineEvent::Order {
                        slot,
                        key,
                        event: *event,
                    });
                }
                self.callback(slot, |s, ctx| s.on_order_event(event, ctx));
            }
            Ok(Applied::Fill { .. }) => {}
            Ok(Applied::Stale) => self.ignore(*report, IgnoredReport::Stale),
            Ok(Applied::Unknown) => self.ignore(*report, IgnoredReport::Unknown),
            Err(e) => self.ignore(*report, IgnoredReport::Invalid(e)),
        }
    }

    fn apply_fill(
        &mut self,
        fill: &tradepulse_model::Fill,
        report: &ExecutionReport,
    ) -> Result<(), PipelineError> {
        match self.orders.apply_fill(fill) {
            Ok(Applied::Fill { slot, key }) => {
                let booking = self
                    .portfolio
                    .apply_fill(key, fill)
                    .map_err(|Overflow| PipelineError::Overflow { ts: fill.ts })?;
                self.stats.fills += 1;
                self.events.push(PipelineEvent::Fill {
                    slot,
                    key,
                    fill: *fill,
                    booking,
                });
                self.callback(slot, |s, ctx| s.on_fill(fill, ctx));
            }
            Ok(Applied::Event { .. }) => {}
            Ok(Applied::Stale) => self.ignore(*report, IgnoredReport::Stale),
            Ok(Applied::Unknown) => self.ignore(*report, IgnoredReport::Unknown),
            Err(e) => self.ignore(*report, IgnoredReport::Invalid(e)),
        }
        Ok(())
    }

    fn ignore(&mut self, report: ExecutionReport, why: IgnoredReport) {
        match why {
            IgnoredReport::Stale => self.stats.stale_reports += 1,
            IgnoredReport::Unknown => self.stats.unknown_reports += 1,
            IgnoredReport::Invalid(_) => self.stats.invalid_reports += 1,
        }
        self.events.push(PipelineEvent::Ignored { report, why });
    }

    /// Checks and records the queued commands, makes the journal durable, then sends them.
    fn send_queued(&mut self) {
        std::mem::swap(&mut self.queued, &mut self.spare_queued);
        let mut commands = std::mem::take(&mut self.spare_queued);
        for (slot, command) in commands.drain(..) {
            match command {
                Command::Submit(request) => self.stage_single(slot, request),
                Command::SubmitOco(first, second) => {
                    self.stage_group(slot, vec![first, second], false)
                }
                Command::SubmitBracket {
                    entry,
                    stop_loss,
                    take_profit,
                } => self.stage_group(slot, vec![entry, stop_loss, take_profit], true),
                Command::Cancel(id) => self.cancel_one(slot, id),
                Command::CancelAll => {
                    let ids: Vec<ClientOrderId> = self
                        .orders
                        .open_of(slot)
                        .map(|o| o.request.client_order_id)
                        .collect();
                    for id in ids {
                        self.cancel_one(slot, id);
                    }
                }
            }
        }
        self.spare_queued = commands;
        if self.outbox.is_empty() {
            return;
        }
        if let Err(e) = self.journal.flush() {
            // Nothing recorded in this batch may be sent: it is not durable.
            self.events.push(PipelineEvent::JournalUnavailable(e));
            let outbox = std::mem::take(&mut self.outbox);
            for (_, submission) in outbox {
                for order in submission.each() {
                    self.reports.push(ExecutionReport::Order(OrderEvent {
                        client_order_id: order.client_order_id,
                        venue_order_id: None,
                        ts: self.now,
                        kind: OrderEventKind::Rejected(RejectReason::StoreUnavailable),
                    }));
                }
            }
            return;
        }
        let mut outbox = std::mem::take(&mut self.outbox);
        for (key, submission) in outbox.drain(..) {
            self.stats.orders_sent += submission.each().count() as u64;
            let mut funds = PortfolioFunds {
                risk: &self.risk,
                portfolio: &self.portfolio,
                key,
                unbooked: &mut self.unbooked,
            };
            let latest = self.markets[key.index()].bar.as_ref();
            self.venue
                .submit(submission, latest, self.now, &mut funds, &mut self.reports);
        }
        self.outbox = outbox;
    }

    /// The reference price of `key` (last trade or close, or mid) if known.
    fn reference(&self, key: InstrumentKey) -> Option<Price> {
        let market = &self.markets[key.index()];
        match self.reference {
            ReferencePrice::Last => market.last,
            ReferencePrice::Mid => market.mid.or(market.last),
        }
    }

    /// The instrument of an intent, which must be the slot's.
    fn intent_key(
        &self,
        slot: SlotId,
        request: &OrderRequest,
    ) -> Result<InstrumentKey, RejectReason> {
        let key = self.slots[slot.index()].key;
        if &request.instrument == self.portfolio.instrument(key).id() {
            Ok(key)
        } else {
            self.portfolio
                .key_of(&request.instrument)
                .ok_or(RejectReason::UnknownInstrument)
        }
    }

    fn stage_single(&mut self, slot: SlotId, mut request: OrderRequest) {
        let key = match self.intent_key(slot, &request) {
            Ok(key) => key,
            Err(reason) => return self.refuse(slot, &request, Rejection::from(reason)),
        };
        if needs_reference(&request.kind) && self.reference(key).is_none() && self.trading {
            self.held.push((slot, Command::Submit(request)));
            return;
        }
        match self.check(slot, key, &request) {
            Ok(quantity) => {
                request.quantity = quantity;
                self.record_and_queue(slot, key, Submission::Single(request));
            }
            Err(rejection) => self.refuse(slot, &request, rejection),
        }
    }

    /// An OCO pair or a bracket: every order is checked (a bracket's exits only against the
    /// kill switches and the instrument rules: they close what the entry opens); if any fails,
    /// the group is refused whole, the others with `LINKED_ORDER_REJECTED`.
    fn stage_group(&mut self, slot: SlotId, group: Vec<OrderRequest>, bracket: bool) {
        let key = match self.intent_key(slot, &group[0]) {
            Ok(key) => key,
            Err(reason) => {
                for request in &group {
                    self.refuse(slot, request, Rejection::from(reason));
                }
                return;
            }
        };
        if self.trading
            && self.reference(key).is_none()
            && group.iter().any(|r| needs_reference(&r.kind))
        {
            let command = if bracket {
                let mut it = group.into_iter();
                let (Some(entry), Some(stop_loss), Some(take_profit)) =
                    (it.next(), it.next(), it.next())
                else {
                    return;
                };
                Command::SubmitBracket {
                    entry,
                    stop_loss,
                    take_profit,
                }
            } else {
                let mut it = group.into_iter();
                let (Some(a), Some(b)) = (it.next(), it.next()) else {
                    return;
                };
                Command::SubmitOco(a, b)
            };
            self.held.push((slot, command));
            return;
        }
        let ids_repeat = group.iter().enumerate().any(|(i, a)| {
            group[..i]
                .iter()
                .any(|b| b.client_order_id == a.client_order_id)
        });
        if ids_repeat {
            for request in &group {
                self.refuse(
                    slot,
                    request,
                    Rejection::from(RejectReason::DuplicateClientOrderId),
                );
            }
            return;
        }
        let mut verdicts = Vec::with_capacity(group.len());
        for (i, request) in group.iter().enumerate() {
            let verdict = if bracket && i > 0 {
                self.check_exit(slot, key, request)
            } else {
                self.check(slot, key, request).and_then(|q| {
                    if q == request.quantity {
                        Ok(())
                    } else {
                        // A linked group is sized as a whole: no shrinking one leg.
                        Err(Rejection::from(RejectReason::InsufficientBuyingPower))
                    }
                })
            };
            verdicts.push(verdict);
        }
        if verdicts.iter().all(Result::is_ok) {
            let mut it = group.into_iter();
            let submission = match (it.next(), it.next(), it.next()) {
                (Some(entry), Some(stop_loss), Some(take_profit)) => Submission::Bracket {
                    entry,
                    stop_loss,
                    take_profit,
                },
                (Some(a), Some(b), None) => Submission::Oco(a, b),
                (Some(a), None, None) => Submission::Single(a),
                _ => return,
            };
            self.record_and_queue(slot, key, submission);
            return;
        }
        for (request, verdict) in group.iter().zip(verdicts) {
            let rejection = verdict
                .err()
                .unwrap_or(Rejection::from(RejectReason::LinkedOrderRejected));
            self.refuse(slot, request, rejection);
        }
    }

    /// What no order passes, before any risk check: trading is off (warm-up). An id already
    /// used is refused when the order manager records the order (one lookup, not two).
    fn precheck(&self, _request: &OrderRequest) -> Result<(), Rejection> {
        if !self.trading {
            return Err(Rejection::from(RejectReason::WarmUp));
        }
        Ok(())
    }

    fn check(
        &mut self,
        slot: SlotId,
        key: InstrumentKey,
        request: &OrderRequest,
    ) -> Result<Quantity, Rejection> {
        self.precheck(request)?;
        let book = Book {
            portfolio: &self.portfolio,
            working: self.orders.working(),
            open_orders: self.orders.open_orders(),
            reference: self.reference(key),
        };
        let intent = Intent {
            strategy: self.slots[slot.index()].risk,
            key,
            request,
            now: self.now,
        };
        self.risk.check(&intent, &book)
    }

    fn check_exit(
        &self,
        slot: SlotId,
        key: InstrumentKey,
        request: &OrderRequest,
    ) -> Result<(), Rejection> {
        self.precheck(request)?;
        let intent = Intent {
            strategy: self.slots[slot.index()].risk,
            key,
            request,
            now: self.now,
        };
        self.risk.check_exit(&intent, &self.portfolio)
    }

    /// Records checked orders in the order manager and the journal and queues them for the
    /// venue.
    fn record_and_queue(&mut self, slot: SlotId, key: InstrumentKey, submission: Submission) {
        let reference = self.reference(key).unwrap_or(Price::ZERO);
        let bracket = matches!(submission, Submission::Bracket { .. });
        for (i, request) in submission.each().enumerate() {
            let contingent = bracket && i > 0;
            let price = value_price(&request.kind, reference);
            if self
                .orders
                .register(request.clone(), slot, key, price, contingent)
                .is_err()
            {
                // The id is in use: refuse the group; what was recorded of it ends the normal
                // way and nothing is sent.
                let reason = RejectReason::DuplicateClientOrderId;
                for (j, r) in submission.each().enumerate() {
                    if j < i {
                        self.reports.push(ExecutionReport::Order(OrderEvent {
                            client_order_id: r.client_order_id,
                            venue_order_id: None,
                            ts: self.now,
                            kind: OrderEventKind::Rejected(reason),
                        }));
                    } else {
                        self.refuse(slot, r, Rejection::from(reason));
                    }
                }
                return;
            }
            let _ = self.journal.record(&JournalEntry::Submitted {
                strategy: &self.slots[slot.index()].name,
                request,
                ts: self.now,
            });
            if self.all_events {
                self.events.push(PipelineEvent::Sent {
                    slot,
                    key,
                    client_order_id: request.client_order_id,
                });
            }
        }
        self.outbox.push((key, submission));
    }

    /// An intent refused before the venue: counted, journaled, reported to its strategy.
    fn refuse(&mut self, slot: SlotId, request: &OrderRequest, rejection: Rejection) {
        self.stats.refused += 1;
        self.stats.rejections[rejection.reason.index()] += 1;
        let _ = self.journal.record(&JournalEntry::Refused {
            strategy: &self.slots[slot.index()].name,
            request,
            reason: rejection.reason,
            ts: self.now,
        });
        if self.all_events {
            self.events.push(PipelineEvent::Refused {
                slot,
                client_order_id: request.client_order_id,
                rejection,
            });
        }
        let event = OrderEvent {
            client_order_id: request.client_order_id,
            venue_order_id: None,
            ts: self.now,
            kind: OrderEventKind::Rejected(rejection.reason),
        };
        self.callback(slot, |s, ctx| s.on_order_event(&event, ctx));
    }

    fn cancel_one(&mut self, slot: SlotId, id: ClientOrderId) {
        let owned = self.orders.get(id).is_some_and(|o| o.slot == slot);
        let key = if owned {
            self.orders.request_cancel(id)
        } else {
            None
        };
        let Some(key) = key else {
            let event = OrderEvent {
                client_order_id: id,
                venue_order_id: None,
                ts: self.now,
                kind: OrderEventKind::CancelRejected(RejectReason::UnknownOrder),
            };
            if self.all_events {
                self.events.push(PipelineEvent::Order {
                    slot,
                    key: self.slots[slot.index()].key,
                    event,
                });
            }
            self.callback(slot, |s, ctx| s.on_order_event(&event, ctx));
            return;
        };
        let _ = self.journal.record(&JournalEntry::CancelRequested {
            client_order_id: id,
            ts: self.now,
        });
        let instrument = self.markets[key.index()].id.clone();
        self.venue
            .cancel(&instrument, id, self.now, &mut self.reports);
    }

    /// Intents held for want of a price, checked now that `key` has one (`price`, the price they
    /// meet when they reach the venue).
    fn release_held(&mut self, key: InstrumentKey, price: Price) {
        let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|(slot, _)| self.slots[slot.index()].key == key);
        self.held = others;
        if mine.is_empty() {
            return;
        }
        let market = &mut self.markets[key.index()];
        let before = market.last;
        market.last = Some(price);
        self.queued.extend(mine);
        self.send_queued();
        self.markets[key.index()].last = before;
    }
}

/// True for orders valued at the reference price (no limit or trigger of their own).
const fn needs_reference(kind: &OrderKind) -> bool {
    matches!(kind, OrderKind::Market | OrderKind::TrailingStop { .. })
}
