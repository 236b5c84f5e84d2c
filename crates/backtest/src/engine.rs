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

use tradepulse_execution::{SimConfig, SimVenue, VenueEvent};
use tradepulse_model::{
    Bar, CashAccount, Fill, Instrument, Money, OrderEvent, OrderEventKind, Overflow, Position,
    Price, UnixNanos,
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
    /// No bars.
    #[error("no bars to run on")]
    NoData,
}

/// A booked fill and what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillRecord {
    /// The fill.
    pub fill: Fill,
    /// PnL it realised.
    pub realized_pnl: Money,
    /// Position quantity after it.
    pub position_after: tradepulse_model::Quantity,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Bars processed.
    pub bars: usize,
    /// Equity at each bar's close (f64: for analytics; the exact final value is
    /// [`RunResult::final_equity`]).
    pub equity: Vec<f64>,
    /// Bars that ended with a non-zero position.
    pub exposed_bars: usize,
    /// Every fill, in order.
    pub fills: Vec<FillRecord>,
    /// Closed round trips.
    pub round_trips: Vec<RoundTrip>,
    /// Orders sent to the venue.
    pub orders_submitted: usize,
    /// Orders the venue refused.
    pub orders_rejected: usize,
    /// Starting cash.
    pub initial_cash: Money,
    /// Cash at the end.
    pub final_cash: Money,
    /// Position at the end (not closed out).
    pub final_position: Position,
    /// Last close, used to mark the final position.
    pub final_mark: Price,
    /// Fees paid.
    pub fees_paid: Money,
    /// Borrow costs of short positions paid.
    pub borrow_paid: Money,
}

impl RunResult {
    /// Exact final equity: cash plus the position marked at the last close.
    #[must_use]
    pub fn final_equity(&self) -> Money {
        Money::from_raw(
            self.final_cash.raw() + self.final_position.market_value(self.final_mark).raw(),
        )
    }
}

/// The backtest loop for one instrument.
#[derive(Debug)]
pub struct Engine {
    instrument: Instrument,
    venue: SimVenue,
    position: Position,
    account: CashAccount,
    initial_cash: Money,
    commands: Vec<Command>,
    spare_commands: Vec<Command>,
    events: Vec<VenueEvent>,
    order_seq: u64,
    order_prefix: String,
    book: RoundTripBook,
    fills: Vec<FillRecord>,
    orders_submitted: usize,
    orders_rejected: usize,
    // f64 mirrors of cash and quantity, refreshed on fills, so marking equity each bar costs one
    // multiply-add instead of 128-bit division.
    cash_f64: f64,
    quantity_f64: f64,
    warmup: usize,
    borrow_bps: tradepulse_model::Bps,
}

/// The parts of the engine a [`Context`] reads, borrowed apart from the command buffer.
macro_rules! context {
    ($engine:expr, $now:expr, $mark:expr) => {
        Context::new(
            Snapshot {
                now: $now,
                instrument: &$engine.instrument,
                position: &$engine.position,
                account: &$engine.account,
                mark: $mark,
                open_orders: $engine.venue.working_orders(),
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
            venue: SimVenue::new(instrument.clone(), config),
            instrument,
            position: Position::default(),
            account: CashAccount::new(initial_cash),
            initial_cash,
            commands: Vec::with_capacity(8),
            spare_commands: Vec::with_capacity(8),
            events: Vec::with_capacity(8),
            order_seq: 0,
            order_prefix: String::new(),
            book: RoundTripBook::default(),
            fills: Vec::new(),
            orders_submitted: 0,
            orders_rejected: 0,
            cash_f64: initial_cash.as_f64(),
            quantity_f64: 0.0,
            warmup: 0,
            borrow_bps: tradepulse_model::Bps::ZERO,
        }
    }

    /// Charges short positions `bps` per year of their market value, accrued between bars.
    #[must_use]
    pub fn with_short_borrow(mut self, bps: tradepulse_model::Bps) -> Self {
        self.borrow_bps = bps;
        self
    }

    /// Accrues borrow on the short value held since the previous bar, over the time since it.
    fn accrue_borrow(
        &mut self,
        short_value: Money,
        from: UnixNanos,
        to: UnixNanos,
    ) -> Result<(), EngineError> {
        const YEAR_NANOS: i128 = 31_557_600 * 1_000_000_000;
        let elapsed = i128::from(to.as_nanos() - from.as_nanos());
        let annual = short_value.bps(self.borrow_bps);
        let cost = Money::from_raw(annual.raw() * elapsed / YEAR_NANOS);
        self.account
            .pay_borrow(cost)
            .map_err(|Overflow| EngineError::Overflow { ts: to })?;
        self.cash_f64 = self.account.cash().as_f64();
        Ok(())
    }

    /// Feeds the first `bars` bars to the strategy as history only: its orders are rejected with
    /// `WARM_UP`, and equity, exposure and metrics start after them. Walk-forward uses this so a
    /// strategy enters its test window with its indicators already formed.
    #[must_use]
    pub fn with_warmup(mut self, bars: usize) -> Self {
        self.warmup = bars;
        self
    }

    /// Runs `strategy` over `bars` (which must be in time order; the data loader guarantees it).
    ///
    /// # Errors
    /// [`EngineError`] if there are no bars, accounting overflows, or the strategy loops.
    pub fn run(
        mut self,
        bars: &[Bar],
        strategy: &mut dyn Strategy,
    ) -> Result<RunResult, EngineError> {
        let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
            return Err(EngineError::NoData);
        };
        self.order_prefix = strategy.name().to_owned();
        let warmup = self.warmup.min(bars.len());
        let mut equity = Vec::with_capacity(bars.len() - warmup);
        let mut exposed_bars = 0usize;

        strategy.on_start(&mut context!(self, first.ts, first.open));
        self.drain(strategy, first, first.open, 0)?;

        for bar in &bars[..warmup] {
            strategy.on_bar(bar, &mut context!(self, bar.ts, bar.close));
            self.reject_warmup_orders(strategy, bar)?;
        }
        // Short market value at the previous close, and when that was (borrow accrual).
        let mut short_since: Option<(Money, UnixNanos)> = None;
        for (index, bar) in bars.iter().enumerate().skip(warmup) {
            if let Some((value, since)) = short_since.take() {
                self.accrue_borrow(value, since, bar.ts)?;
            }
            // 1. Orders from earlier bars meet this bar.
            if self.venue.working_orders() > 0 {
                self.venue.on_bar(bar, &mut self.events);
            }
            if !self.events.is_empty() {
                self.dispatch(strategy, bar, bar.open, index)?;
                self.drain(strategy, bar, bar.open, index)?;
            }
            // 2. The strategy sees the completed bar.
            strategy.on_bar(bar, &mut context!(self, bar.ts, bar.close));
            // 3. Its orders go to the venue.
            if !self.commands.is_empty() {
                self.drain(strategy, bar, bar.close, index)?;
            }
            // 4. Mark at the close.
            equity.push(self.cash_f64 + self.quantity_f64 * bar.close.as_f64());
            exposed_bars += usize::from(!self.position.is_flat());
            if self.borrow_bps.raw() != 0 && self.position.quantity().is_negative() {
                short_since = Some((self.position.market_value(bar.close).abs(), bar.ts));
            }
        }

        strategy.on_stop(&mut context!(self, last.ts, last.close));
        self.drain(strategy, last, last.close, bars.len() - 1)?;
        self.venue.expire_all(last.ts, &mut self.events);
        self.dispatch(strategy, last, last.close, bars.len() - 1)?;

        Ok(RunResult {
            bars: bars.len() - warmup,
            equity,
            exposed_bars,
            fills: self.fills,
            round_trips: self.book.into_closed(),
            orders_submitted: self.orders_submitted,
            orders_rejected: self.orders_rejected,
            initial_cash: self.initial_cash,
            final_cash: self.account.cash(),
            final_position: self.position,
            final_mark: last.close,
            fees_paid: self.account.fees_paid(),
            borrow_paid: self.account.borrow_paid(),
        })
    }

    /// Sends queued commands to the venue and feeds the results back until both queues are empty.
    fn drain(
        &mut self,
        strategy: &mut dyn Strategy,
        bar: &Bar,
        mark: Price,
        index: usize,
    ) -> Result<(), EngineError> {
        for _ in 0..MAX_ROUNDS_PER_BAR {
            if self.commands.is_empty() && self.events.is_empty() {
                return Ok(());
            }
            std::mem::swap(&mut self.commands, &mut self.spare_commands);
            for command in self.spare_commands.drain(..) {
                match command {
                    Command::Submit(request) => {
                        self.orders_submitted += 1;
                        self.venue.submit(request, bar, &mut self.events);
                    }
                    Command::SubmitOco(first, second) => {
                        self.orders_submitted += 2;
                        self.venue.submit_oco(first, second, bar, &mut self.events);
                    }
                    Command::SubmitBracket {
                        entry,
                        stop_loss,
                        take_profit,
                    } => {
                        self.orders_submitted += 3;
                        self.venue.submit_bracket(
                            entry,
                            stop_loss,
                            take_profit,
                            bar,
                            &mut self.events,
                        );
                    }
                    Command::Cancel(id) => self.venue.cancel(id, bar.ts, &mut self.events),
                    Command::CancelAll => self.venue.cancel_all(bar.ts, &mut self.events),
                }
            }
            self.dispatch(strategy, bar, mark, index)?;
        }
        Err(EngineError::RunawayStrategy { ts: bar.ts })
    }

    /// Books venue events and reports them to the strategy.
    fn dispatch(
        &mut self,
        strategy: &mut dyn Strategy,
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
                    self.book_fill(&fill, index)
                        .map_err(|Overflow| EngineError::Overflow { ts: fill.ts })?;
                    strategy.on_fill(&fill, &mut context!(self, bar.ts, mark));
                }
                VenueEvent::Order(order_event) => {
                    self.note(&order_event);
                    strategy.on_order_event(&order_event, &mut context!(self, bar.ts, mark));
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
                    strategy.on_order_event(&order_event, &mut context!(self, bar.ts, bar.close));
                }
            }
            self.events = rejected;
        }
        Err(EngineError::RunawayStrategy { ts: bar.ts })
    }

    fn note(&mut self, event: &OrderEvent) {
        if matches!(event.kind, OrderEventKind::Rejected(_)) {
            self.orders_rejected += 1;
        }
    }

    fn book_fill(&mut self, fill: &Fill, bar_index: usize) -> Result<(), Overflow> {
        let before = self.position.quantity();
        let realized = self.position.apply(fill.side, fill.quantity, fill.price)?;
        self.account.settle(fill.side, fill.notional(), fill.fee)?;
        self.book.record(fill, before, realized, bar_index);
        self.fills.push(FillRecord {
            fill: *fill,
            realized_pnl: realized,
            position_after: self.position.quantity(),
        });
        self.cash_f64 = self.account.cash().as_f64();
        self.quantity_f64 = self.position.quantity().as_f64();
        Ok(())
    }
}
