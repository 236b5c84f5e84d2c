//! [`Engine`]: the deterministic, single-threaded backtest event loop.
//!
//! For each bar, in this order:
//! 1. the venue matches working orders against the new bar (orders decided on earlier bars),
//!    and each fill is booked and reported to the strategy;
//! 2. the strategy sees the completed bar (`on_bar`), with equity marked at its close;
//! 3. its orders go to the venue (which, in `close` mode, may fill them at this close), and any
//!    resulting events go back to the strategy until nothing is left to do;
//! 4. equity at the close is recorded.
//!
//! The strategy therefore never sees a bar before the venue has used it, and an order decided on
//! bar *t* never trades on a price before bar *t*'s close.
//!
//! The per-bar path allocates nothing: command and event buffers are reused, and the equity
//! curve is pre-sized.
//!
//! # Several instruments
//!
//! An engine may trade several instruments ([`Engine::add_instrument`], [`Engine::run_many`]):
//! each has its own bar feed, venue, position and strategy instance, and all share one cash
//! account. Bars of all feeds are processed in timestamp order (ties: feed order), each
//! strategy instance sees only its instrument's bars, and equity — cash plus every position at
//! its latest close — is recorded once per distinct timestamp. A strategy's [`Context::equity`]
//! includes the other instruments' positions.

use tradepulse_execution::{SimConfig, SimVenue, VenueEvent};
use tradepulse_model::{
    Bar, CashAccount, Fill, Instrument, InstrumentId, Money, OrderEvent, OrderEventKind, Overflow,
    Position, Price, UnixNanos,
};
use tradepulse_strategy::{Command, Context, Snapshot, Strategy};

use crate::trades::{RoundTrip, RoundTripBook};

/// Most rounds of strategy reactions (order → event → new order …) allowed within one bar; a
/// strategy that keeps reacting past this is looping.
const MAX_ROUNDS_PER_BAR: usize = 64;

/// A backtest could not run to the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Exact accounting left the fixed-point range.
    #[error("accounting overflow at {ts}: a position or balance left the supported range")]
    Overflow {
        /// When.
        ts: UnixNanos,
    },
    /// The strategy kept sending orders in reaction to its own fills within one bar.
    #[error("strategy kept reacting to its own orders for {MAX_ROUNDS_PER_BAR} rounds at {ts}")]
    RunawayStrategy {
        /// When.
        ts: UnixNanos,
    },
    /// No bars (in some feed).
    #[error("no bars to run on")]
    NoData,
    /// `run_many` was given a different number of feeds or strategies than instruments.
    #[error("{instruments} instruments but {feeds} bar feeds and {strategies} strategies")]
    Mismatch {
        /// Instruments added.
        instruments: usize,
        /// Feeds given.
        feeds: usize,
        /// Strategies given.
        strategies: usize,
    },
}

/// A booked fill and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The fill.
    pub fill: Fill,
    /// PnL it realised.
    pub realized_pnl: Money,
    /// Position quantity after it.
    pub position_after: tradepulse_model::Quantity,
}

/// A position at the end of a run, marked at its instrument's last close (not closed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalPosition {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The position.
    pub position: Position,
    /// The instrument's last close.
    pub mark: Price,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Equity points: bars for one instrument, distinct timestamps for several.
    pub bars: usize,
    /// Time of each equity point.
    pub timestamps: Vec<UnixNanos>,
    /// Equity at each point (f64: for analytics; the exact final value is
    /// [`RunResult::final_equity`]).
    pub equity: Vec<f64>,
    /// Equity points with a non-zero position in some instrument.
    pub exposed_bars: usize,
    /// Every fill, in order.
    pub fills: Vec<FillRecord>,
    /// Closed round trips, in order of their exit.
    pub round_trips: Vec<RoundTrip>,
    /// Orders sent to the venue.
    pub orders_submitted: usize,
    /// Orders the venue refused.
    pub orders_rejected: usize,
    /// Starting cash.
    pub initial_cash: Money,
    /// Cash at the end.
    pub final_cash: Money,
    /// Positions at the end, one per instrument.
    pub positions: Vec<FinalPosition>,
    /// Fees paid.
    pub fees_paid: Money,
    /// Borrow costs of short positions paid.
    pub borrow_paid: Money,
}

impl RunResult {
    /// Exact final equity: cash plus every position marked at its last close.
    #[must_use]
    pub fn final_equity(&self) -> Money {
        let value: i128 = self
            .positions
            .iter()
            .map(|p| p.position.market_value(p.mark).raw())
            .sum();
        Money::from_raw(self.final_cash.raw() + value)
    }
}

/// One traded instrument inside the engine.
#[derive(Debug)]
struct Leg {
    instrument: Instrument,
    venue: SimVenue,
    position: Position,
    /// Latest close seen.
    mark: Price,
    book: RoundTripBook,
    // f64 mirrors refreshed on fills and bars, so marking equity costs a multiply-add instead of
    // 128-bit arithmetic.
    quantity_f64: f64,
    mark_f64: f64,
    /// Short market value at this leg's previous close and when that was (borrow accrual).
    short_since: Option<(Money, UnixNanos)>,
}

/// The backtest loop.
#[derive(Debug)]
pub struct Engine {
    legs: Vec<Leg>,
    account: CashAccount,
    initial_cash: Money,
    commands: Vec<Command>,
    spare_commands: Vec<Command>,
    events: Vec<VenueEvent>,
    order_seq: u64,
    order_prefix: String,
    fills: Vec<FillRecord>,
    closed: Vec<RoundTrip>,
    orders_submitted: usize,
    orders_rejected: usize,
    cash_f64: f64,
    warmup: usize,
    borrow_bps: tradepulse_model::Bps,
}

/// A [`Context`] for leg `$leg`, borrowing the engine's parts apart from the command buffer.
macro_rules! context {
    ($engine:expr, $leg:expr, $now:expr, $mark:expr) => {
        Context::new(
            Snapshot {
                now: $now,
                instrument: &$engine.legs[$leg].instrument,
                position: &$engine.legs[$leg].position,
                account: &$engine.account,
                mark: $mark,
                open_orders: $engine.legs[$leg].venue.working_orders(),
                others_value: $engine.others_value($leg),
            },
            &mut $engine.commands,
            &$engine.order_prefix,
            &mut $engine.order_seq,
        )
    };
}

impl Engine {
    /// An engine trading `instrument` on a [`SimVenue`] with `config`, starting with `initial_cash`.
    #[must_use]
    pub fn new(instrument: Instrument, config: SimConfig, initial_cash: Money) -> Self {
        Self {
            legs: Vec::new(),
            account: CashAccount::new(initial_cash),
            initial_cash,
            commands: Vec::with_capacity(8),
            spare_commands: Vec::with_capacity(8),
            events: Vec::with_capacity(8),
            order_seq: 0,
            order_prefix: String::new(),
            fills: Vec::new(),
            closed: Vec::new(),
            orders_submitted: 0,
            orders_rejected: 0,
            cash_f64: initial_cash.as_f64(),
            warmup: 0,
            borrow_bps: tradepulse_model::Bps::ZERO,
        }
        .add_instrument(instrument, config)
    }

    /// Adds another instrument, traded on its own venue with `config` from the same cash.
    #[must_use]
    pub fn add_instrument(mut self, instrument: Instrument, config: SimConfig) -> Self {
        self.legs.push(Leg {
            venue: SimVenue::new(instrument.clone(), config),
            instrument,
            position: Position::default(),
            mark: Price::ZERO,
            book: RoundTripBook::default(),
            quantity_f64: 0.0,
            mark_f64: 0.0,
            short_since: None,
        });
        self
    }

    /// Feeds the first `bars` bars to the strategy as history only: its orders are rejected with
    /// `WARM_UP`, and equity, exposure and metrics start after them. Walk-forward uses this so a
    /// strategy enters its test window with its indicators already formed.
    #[must_use]
    pub fn with_warmup(mut self, bars: usize) -> Self {
        self.warmup = bars;
        self
    }

    /// Charges short positions `bps` per year of their market value, accrued between bars.
    #[must_use]
    pub fn with_short_borrow(mut self, bps: tradepulse_model::Bps) -> Self {
        self.borrow_bps = bps;
        self
    }

    /// Value of the positions in every instrument but `leg`, at their latest closes.
    fn others_value(&self, leg: usize) -> Money {
        if self.legs.len() == 1 {
            return Money::ZERO;
        }
        let raw = self
            .legs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != leg)
            .map(|(_, l)| l.position.market_value(l.mark).raw())
            .sum();
        Money::from_raw(raw)
    }

    /// Accrues borrow on leg `leg`'s short value held since its previous bar.
    fn accrue_borrow(&mut self, leg: usize, to: UnixNanos) -> Result<(), EngineError> {
        const YEAR_NANOS: i128 = 31_557_600 * 1_000_000_000;
        let Some((short_value, from)) = self.legs[leg].short_since.take() else {
            return Ok(());
        };
        let elapsed = i128::from(to.as_nanos() - from.as_nanos());
        let annual = short_value.bps(self.borrow_bps);
        let cost = Money::from_raw(annual.raw() * elapsed / YEAR_NANOS);
        self.account
            .pay_borrow(cost)
            .map_err(|Overflow| EngineError::Overflow { ts: to })?;
        self.cash_f64 = self.account.cash().as_f64();
        Ok(())
    }

    /// Runs `strategy` over `bars` (which must be in time order; the data loader guarantees it)
    /// for the engine's single instrument.
    ///
    /// # Errors
    /// [`EngineError`] if there are no bars, accounting overflows, or the strategy loops.
    pub fn run(self, bars: &[Bar], strategy: &mut dyn Strategy) -> Result<RunResult, EngineError> {
        self.run_many(&[bars], &mut [strategy])
    }

    /// Runs one strategy instance per instrument (in the order they were added) over its feed.
    ///
    /// # Errors
    /// [`EngineError`] if there are no bars, the feeds or strategies do not match the
    /// instruments, accounting overflows, or a strategy loops.
    pub fn run_many(
        mut self,
        feeds: &[&[Bar]],
        strategies: &mut [&mut dyn Strategy],
    ) -> Result<RunResult, EngineError> {
        if feeds.len() != self.legs.len() || strategies.len() != self.legs.len() {
            return Err(EngineError::Mismatch {
                instruments: self.legs.len(),
                feeds: feeds.len(),
                strategies: strategies.len(),
            });
        }
        let total: usize = feeds.iter().map(|f| f.len()).sum();
        if feeds.iter().any(|f| f.is_empty()) {
            return Err(EngineError::NoData);
        }
        self.order_prefix = strategies
            .first()
            .map_or_else(String::new, |s| s.name().to_owned());
        let warmup = self.warmup.min(total);
        let mut timestamps = Vec::with_capacity(total - warmup);
        let mut equity = Vec::with_capacity(total - warmup);
        let mut exposed_bars = 0usize;

        for (leg, strategy) in strategies.iter_mut().enumerate() {
            let first = &feeds[leg][0];
            strategy.on_start(&mut context!(self, leg, first.ts, first.open));
            self.drain(&mut **strategy, leg, first, first.open, 0)?;
        }

        if let ([bars], [strategy]) = (feeds, &mut *strategies) {
            // One instrument (the common case) needs no merging: a plain loop.
            let strategy = &mut **strategy;
            for (index, bar) in bars.iter().enumerate() {
                if index < warmup {
                    self.legs[0].mark = bar.close;
                    strategy.on_bar(bar, &mut context!(self, 0, bar.ts, bar.close));
                    self.reject_warmup_orders(strategy, 0, bar)?;
                    continue;
                }
                self.step(strategy, 0, bar, index)?;
                let leg = &self.legs[0];
                equity.push(self.cash_f64 + leg.quantity_f64 * leg.mark_f64);
                exposed_bars += usize::from(!leg.position.is_flat());
            }
            // One instrument: the timeline is its bars' times, copied in one pass rather than
            // written bar by bar next to the equity (half the memory traffic in the loop).
            timestamps.extend(bars[warmup.min(bars.len())..].iter().map(|b| b.ts));
        } else {
            let mut cursors = vec![0usize; feeds.len()];
            let mut index = 0usize;
            while let Some(leg) = next_feed(feeds, &cursors) {
                let bar = &feeds[leg][cursors[leg]];
                cursors[leg] += 1;
                let strategy = &mut *strategies[leg];
                if index < warmup {
                    self.legs[leg].mark = bar.close;
                    strategy.on_bar(bar, &mut context!(self, leg, bar.ts, bar.close));
                    self.reject_warmup_orders(strategy, leg, bar)?;
                    index += 1;
                    continue;
                }
                self.step(strategy, leg, bar, index)?;
                index += 1;
                // Record equity once every bar of this timestamp has been handled.
                let same_time_follows = next_feed(feeds, &cursors)
                    .is_some_and(|next| feeds[next][cursors[next]].ts == bar.ts);
                if !same_time_follows {
                    let positions: f64 =
                        self.legs.iter().map(|l| l.quantity_f64 * l.mark_f64).sum();
                    timestamps.push(bar.ts);
                    equity.push(self.cash_f64 + positions);
                    exposed_bars += usize::from(self.legs.iter().any(|l| !l.position.is_flat()));
                }
            }
        }
        let index = total;

        for (leg, strategy) in strategies.iter_mut().enumerate() {
            let last = &feeds[leg][feeds[leg].len() - 1];
            let strategy = &mut **strategy;
            strategy.on_stop(&mut context!(self, leg, last.ts, last.close));
            self.drain(strategy, leg, last, last.close, index)?;
            self.legs[leg].venue.expire_all(last.ts, &mut self.events);
            self.dispatch(strategy, leg, last, last.close, index)?;
        }

        let mut closed = self.closed;
        for leg in &mut self.legs {
            closed.extend(std::mem::take(&mut leg.book).into_closed());
        }
        // Round trips of different instruments interleave in time: order them by exit.
        closed.sort_by_key(|t| t.exit_ts);
        Ok(RunResult {
            bars: equity.len(),
            timestamps,
            equity,
            exposed_bars,
            fills: self.fills,
            round_trips: closed,
            orders_submitted: self.orders_submitted,
            orders_rejected: self.orders_rejected,
            initial_cash: self.initial_cash,
            final_cash: self.account.cash(),
            positions: self
                .legs
                .iter()
                .map(|l| FinalPosition {
                    instrument: l.instrument.id().clone(),
                    position: l.position,
                    mark: l.mark,
                })
                .collect(),
            fees_paid: self.account.fees_paid(),
            borrow_paid: self.account.borrow_paid(),
        })
    }

    /// One bar of leg `leg`: fills of earlier orders, the strategy, its new orders.
    #[inline(always)]
    fn step(
        &mut self,
        strategy: &mut dyn Strategy,
        leg: usize,
        bar: &Bar,
        index: usize,
    ) -> Result<(), EngineError> {
        if self.legs[leg].short_since.is_some() {
            self.accrue_borrow(leg, bar.ts)?;
        }
        // 1. Orders from earlier bars meet this bar.
        if self.legs[leg].venue.working_orders() > 0 {
            self.legs[leg].venue.on_bar(bar, &mut self.events);
        }
        if !self.events.is_empty() {
            self.dispatch(strategy, leg, bar, bar.open, index)?;
            self.drain(strategy, leg, bar, bar.open, index)?;
        }
        // 2. The strategy sees the completed bar.
        let l = &mut self.legs[leg];
        l.mark = bar.close;
        l.mark_f64 = bar.close.as_f64();
        strategy.on_bar(bar, &mut context!(self, leg, bar.ts, bar.close));
        // 3. Its orders go to the venue.
        if !self.commands.is_empty() {
            self.drain(strategy, leg, bar, bar.close, index)?;
        }
        let l = &mut self.legs[leg];
        if self.borrow_bps.raw() != 0 && l.position.quantity().is_negative() {
            l.short_since = Some((l.position.market_value(bar.close).abs(), bar.ts));
        }
        Ok(())
    }

    /// Sends queued commands to leg `leg`'s venue and feeds the results back until both queues
    /// are empty.
    fn drain(
        &mut self,
        strategy: &mut dyn Strategy,
        leg: usize,
        bar: &Bar,
        mark: Price,
        index: usize,
    ) -> Result<(), EngineError> {
        for _ in 0..MAX_ROUNDS_PER_BAR {
            if self.commands.is_empty() && self.events.is_empty() {
                return Ok(());
            }
            std::mem::swap(&mut self.commands, &mut self.spare_commands);
            let venue = &mut self.legs[leg].venue;
            for command in self.spare_commands.drain(..) {
                match command {
                    Command::Submit(request) => {
                        self.orders_submitted += 1;
                        venue.submit(request, bar, &mut self.events);
                    }
                    Command::SubmitOco(first, second) => {
                        self.orders_submitted += 2;
                        venue.submit_oco(first, second, bar, &mut self.events);
                    }
                    Command::SubmitBracket {
                        entry,
                        stop_loss,
                        take_profit,
                    } => {
                        self.orders_submitted += 3;
                        venue.submit_bracket(entry, stop_loss, take_profit, bar, &mut self.events);
                    }
                    Command::Cancel(id) => venue.cancel(id, bar.ts, &mut self.events),
                    Command::CancelAll => venue.cancel_all(bar.ts, &mut self.events),
                }
            }
            self.dispatch(strategy, leg, bar, mark, index)?;
        }
        Err(EngineError::RunawayStrategy { ts: bar.ts })
    }

    /// Books venue events of leg `leg` and reports them to its strategy.
    fn dispatch(
        &mut self,
        strategy: &mut dyn Strategy,
        leg: usize,
        bar: &Bar,
        mark: Price,
        index: usize,
    ) -> Result<(), EngineError> {
        // Callbacks only queue commands; the venue is not called while events are dispatched, so
        // taking the buffer out (and putting it back, capacity kept) loses nothing.
        let mut pending = std::mem::take(&mut self.events);
        for event in pending.drain(..) {
            match event {
                VenueEvent::Fill(fill) => {
                    self.book_fill(leg, &fill, index)
                        .map_err(|Overflow| EngineError::Overflow { ts: fill.ts })?;
                    strategy.on_fill(&fill, &mut context!(self, leg, bar.ts, mark));
                }
                VenueEvent::Order(order_event) => {
                    if matches!(order_event.kind, OrderEventKind::Rejected(_)) {
                        self.orders_rejected += 1;
                    }
                    strategy.on_order_event(&order_event, &mut context!(self, leg, bar.ts, mark));
                }
            }
        }
        self.events = pending;
        Ok(())
    }

    /// Answers every order queued during warm-up with a `WARM_UP` rejection, so the strategy
    /// knows nothing was sent.
    fn reject_warmup_orders(
        &mut self,
        strategy: &mut dyn Strategy,
        leg: usize,
        bar: &Bar,
    ) -> Result<(), EngineError> {
        for _ in 0..MAX_ROUNDS_PER_BAR {
            if self.commands.is_empty() {
                return Ok(());
            }
            std::mem::swap(&mut self.commands, &mut self.spare_commands);
            let mut rejected = std::mem::take(&mut self.events);
            for command in self.spare_commands.drain(..) {
                let ids = match command {
                    Command::Submit(r) => [Some(r.client_order_id), None, None],
                    Command::SubmitOco(a, b) => {
                        [Some(a.client_order_id), Some(b.client_order_id), None]
                    }
                    Command::SubmitBracket {
                        entry,
                        stop_loss,
                        take_profit,
                    } => [
                        Some(entry.client_order_id),
                        Some(stop_loss.client_order_id),
                        Some(take_profit.client_order_id),
                    ],
                    Command::Cancel(_) | Command::CancelAll => [None, None, None],
                };
                for id in ids.into_iter().flatten() {
                    rejected.push(VenueEvent::Order(OrderEvent {
                        client_order_id: id,
                        ts: bar.ts,
                        kind: OrderEventKind::Rejected(tradepulse_model::RejectReason::WarmUp),
                    }));
                }
            }
            for event in rejected.drain(..) {
                if let VenueEvent::Order(order_event) = event {
                    strategy
                        .on_order_event(&order_event, &mut context!(self, leg, bar.ts, bar.close));
                }
            }
            self.events = rejected;
        }
        Err(EngineError::RunawayStrategy { ts: bar.ts })
    }

    fn book_fill(&mut self, leg: usize, fill: &Fill, bar_index: usize) -> Result<(), Overflow> {
        let l = &mut self.legs[leg];
        let before = l.position.quantity();
        let realized = l.position.apply(fill.side, fill.quantity, fill.price)?;
        self.account.settle(fill.side, fill.notional(), fill.fee)?;
        l.book
            .record(l.instrument.id(), fill, before, realized, bar_index);
        self.fills.push(FillRecord {
            instrument: l.instrument.id().clone(),
            fill: *fill,
            realized_pnl: realized,
            position_after: l.position.quantity(),
        });
        self.cash_f64 = self.account.cash().as_f64();
        l.quantity_f64 = l.position.quantity().as_f64();
        Ok(())
    }
}

/// The feed whose next bar comes first (ties: the lower feed index), if any is left.
fn next_feed(feeds: &[&[Bar]], cursors: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, UnixNanos)> = None;
    for (i, feed) in feeds.iter().enumerate() {
        if let Some(bar) = feed.get(cursors[i])
            && best.is_none_or(|(_, ts)| bar.ts < ts)
        {
            best = Some((i, bar.ts));
        }
    }
    best.map(|(i, _)| i)
}
