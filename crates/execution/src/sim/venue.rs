//! [`SimVenue`]: a bar-driven matching engine shared by backtest and paper trading, one book per
//! instrument.
//!
//! # When orders execute
//!
//! The pipeline hands the venue each new bar **before** the strategy sees it
//! ([`Venue::on_bar`], while orders are working), and hands it the strategy's orders, with the
//! latest bar, **after** the strategy has seen the bar ([`Venue::submit`]). An order *reaches* the venue, and is accepted (or refused) there,
//! at the first moment it could execute; until then it is `Submitted`, as a live order is
//! between sending and the venue's acknowledgement. So an order decided on bar *t* reaches the
//! venue and can at the earliest execute:
//!
//! - `next_open`: at bar *t+1*'s open (market orders fill at that open);
//! - `close`: at bar *t*'s close, where it executes if it is a market order or marketable
//!   there (an order sent before any bar, from `on_start`, reaches the venue at bar 0's open).
//!
//! Orders still working are matched against each later bar, in submission order:
//!
//! | order (buy; sell mirrors) | bar opens through the price (gap) | price inside the bar's range | liquidity |
//! |---|---|---|---|
//! | market | fills at the open | — | taker |
//! | limit `L` | open ≤ L: fills at the **open** (the better price) | low ≤ L: fills at `L` | maker when resting (a limit sent at an earlier close rests through the gap); taker when marketable as it is sent in `close` mode or at an IOC/FOK's only chance, at the price plus costs, never beyond `L` |
//! | stop `S` | open ≥ S: triggers and fills at the **open** (worse than `S`) | high ≥ S: fills at `S` | taker |
//! | trailing stop, offset `d` (sell) | trigger = highest price seen − d: open ≤ trigger fills at the open | low ≤ trigger: fills at the trigger; else the bar's high raises the best price for the next bar | taker |
//! | stop-limit `S`/`L` | open ≥ S: triggers; fills at the open (taker) if open ≤ L, else at `L` if low ≤ L (maker) | high ≥ S: triggers at `S`; fills at `S` if S ≤ L, else works as a limit from the next bar | taker when triggered marketable, maker after |
//!
//! Known limitation: a bar carries no path between its open, high, low and close, so a
//! stop-limit triggered inside a bar whose limit is below the trigger (buy) waits for the next
//! bar instead of guessing whether the price came back within the same bar.
//!
//! IOC and FOK orders get one chance: the moment they reach the venue (their submission in
//! `close` mode, else the next bar's open), as takers; whatever is not filled then is
//! cancelled, and a FOK order that cannot fill entirely fills nothing. DAY orders expire at the
//! first bar of a later UTC day than the decision. Orders still working when the data ends
//! expire.
//!
//! # The account's money
//!
//! Before every fill the venue asks the pipeline's [`FundsCheck`] how much of it the account can
//! pay for, at the fill's real price and fee (a gapped open can cost more than the close the
//! order was sized at). An order reaching the venue that the account cannot pay for at all is
//! rejected there with `INSUFFICIENT_BUYING_POWER`; one already working is cancelled; with
//! `risk.buying_power.on_shortfall: shrink` the affordable part fills and the rest is
//! cancelled.
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
//! to whole lots, so fractional lots such as 0.001 BTC keep their fractions) on that bar; the rest stays working and fills on later bars at their prices (partial
//! fills). An IOC order cancels its unfilled rest; a FOK order that cannot fill entirely at once
//! is cancelled without filling. With `latency_ms`, an order ignores bars opening less than that
//! long after the bar where it would first have executed (in `close` mode it then never fills at
//! the decision bar's close).
//!
//! The order's own rules (tick, lot, minimum notional) are the risk engine's checks, made before
//! the order is sent; the venue refuses only what a venue would: an unknown instrument, a client
//! order id that is already working. It numbers its orders `S1, S2, …` and its executions
//! `T1, T2, …`.

use tradepulse_model::{
    Bar, ClientOrderId, Instrument, InstrumentId, OrderEvent, OrderEventKind, RejectReason,
    UnixNanos,
};

use crate::sim::book::{Numbering, SimBook};
use crate::sim::config::SimConfig;
use crate::venue::{ExecutionReport, FundsCheck, Submission, Venue, VenueError};

/// The simulated venue: one matching book per instrument, one fill model and cost schedule.
#[derive(Debug)]
pub struct SimVenue {
    config: SimConfig,
    books: Vec<SimBook>,
    numbering: Numbering,
}

impl SimVenue {
    /// A venue filling and charging per `config`, with no instrument yet.
    #[must_use]
    pub fn new(config: SimConfig) -> Self {
        Self {
            config,
            books: Vec::new(),
            numbering: Numbering::default(),
        }
    }

    /// The venue's configuration.
    #[must_use]
    pub const fn config(&self) -> &SimConfig {
        &self.config
    }
}

impl Venue for SimVenue {
    fn name(&self) -> &str {
        "sim"
    }

    fn add_instrument(&mut self, instrument: &Instrument) -> Result<(), VenueError> {
        if self
            .books
            .iter()
            .any(|b| b.instrument().id() == instrument.id())
        {
            return Err(VenueError::Duplicate(instrument.id().clone()));
        }
        self.books
            .push(SimBook::new(instrument.clone(), self.config));
        Ok(())
    }

    fn submit(
        &mut self,
        submission: Submission,
        latest: Option<&Bar>,
        now: UnixNanos,
        funds: &mut dyn FundsCheck,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let instrument = match &submission {
            Submission::Single(o) | Submission::Oco(o, _) => &o.instrument,
            Submission::Bracket { entry, .. } => &entry.instrument,
        };
        let Some(index) = self
            .books
            .iter()
            .position(|b| b.instrument().id() == instrument)
        else {
            for order in submission.each() {
                reports.push(ExecutionReport::Order(OrderEvent {
                    client_order_id: order.client_order_id,
                    venue_order_id: None,
                    ts: now,
                    kind: OrderEventKind::Rejected(RejectReason::UnknownInstrument),
                }));
            }
            return;
        };
        let book = &mut self.books[index];
        if let Some(bar) = latest {
            book.see(bar);
        }
        let ids = &mut self.numbering;
        match submission {
            Submission::Single(order) => book.submit(order, now, ids, funds, reports),
            Submission::Oco(first, second) => {
                book.submit_oco(first, second, now, ids, funds, reports);
            }
            Submission::Bracket {
                entry,
                stop_loss,
                take_profit,
            } => book.submit_bracket((entry, stop_loss, take_profit), now, ids, funds, reports),
        }
    }

    fn cancel(
        &mut self,
        instrument: &InstrumentId,
        id: ClientOrderId,
        now: UnixNanos,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let ids = &mut self.numbering;
        match self
            .books
            .iter_mut()
            .find(|b| b.instrument().id() == instrument)
        {
            Some(book) => book.cancel(id, now, ids, reports),
            None => reports.push(ExecutionReport::Order(OrderEvent {
                client_order_id: id,
                venue_order_id: None,
                ts: now,
                kind: OrderEventKind::CancelRejected(RejectReason::UnknownOrder),
            })),
        }
    }

    #[inline]
    fn on_bar(
        &mut self,
        instrument: &InstrumentId,
        bar: &Bar,
        funds: &mut dyn FundsCheck,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let ids = &mut self.numbering;
        if let Some(book) = self
            .books
            .iter_mut()
            .find(|b| b.instrument().id() == instrument)
        {
            book.on_bar(bar, ids, funds, reports);
        }
    }

    fn poll(&mut self, _now: UnixNanos, _reports: &mut Vec<ExecutionReport>) {
        // Everything is reported synchronously by the calls themselves.
    }

    fn finish(&mut self, now: UnixNanos, reports: &mut Vec<ExecutionReport>) {
        let ids = &mut self.numbering;
        for book in &mut self.books {
            book.expire_all(now, ids, reports);
        }
    }

    fn working_orders(&self) -> usize {
        self.books.iter().map(SimBook::working_orders).sum()
    }
}
