//! [`Context`]: what a strategy may see and do while handling an event.

use tradepulse_model::{
    ClientOrderId, Instrument, Money, OrderIdPrefix, OrderKind, OrderRequest, Position, Price,
    Quantity, Side, TimeInForce, UnixNanos,
};

/// A request from the strategy to the engine, queued while the strategy runs and executed (through
/// the risk checks and the venue) after it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Submit a new order.
    Submit(OrderRequest),
    /// Cancel a working order.
    Cancel(ClientOrderId),
    /// Cancel every working order.
    CancelAll,
    /// Two orders that cancel each other: the first fill of either cancels the other.
    SubmitOco(OrderRequest, OrderRequest),
    /// An entry order whose exits, a stop-loss and a take-profit (an OCO pair for the entry's
    /// quantity on the other side), start working once the entry is completely filled.
    SubmitBracket {
        /// The entry.
        entry: OrderRequest,
        /// Stop order closing the position at a loss.
        stop_loss: OrderRequest,
        /// Limit order closing the position at a profit.
        take_profit: OrderRequest,
    },
}

/// The client order ids of a bracket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BracketIds {
    /// The entry order.
    pub entry: ClientOrderId,
    /// The stop-loss.
    pub stop_loss: ClientOrderId,
    /// The take-profit.
    pub take_profit: ClientOrderId,
}

/// The engine-owned state a [`Context`] reads from.
#[derive(Debug)]
pub struct Snapshot<'a> {
    /// Current time: the timestamp of the event being handled.
    pub now: UnixNanos,
    /// The traded instrument.
    pub instrument: &'a Instrument,
    /// The position in it.
    pub position: &'a Position,
    /// Cash of the account.
    pub cash: Money,
    /// Latest price known at `now` (the current bar's close once the bar is complete), used to
    /// mark the position; zero before any price is known (in `on_start`).
    pub mark: Price,
    /// The strategy's orders that can still fill (sent, or working at the venue).
    pub open_orders: usize,
    /// Value of the positions in the account's other instruments at their latest prices (zero
    /// when only one instrument is traded).
    pub others_value: Money,
}

/// What a strategy can see and do. It exposes the present only: the current time, the position,
/// cash, equity marked at the latest known price, and a way to submit or cancel orders. There is
/// no handle on the data source, so a strategy cannot read a bar before the engine delivers it.
#[derive(Debug)]
pub struct Context<'a> {
    snapshot: Snapshot<'a>,
    commands: &'a mut Vec<Command>,
    order_prefix: &'a OrderIdPrefix,
    next_order_seq: &'a mut u64,
}

impl<'a> Context<'a> {
    /// Built by the engine for each event.
    pub fn new(
        snapshot: Snapshot<'a>,
        commands: &'a mut Vec<Command>,
        order_prefix: &'a OrderIdPrefix,
        next_order_seq: &'a mut u64,
    ) -> Self {
        Self {
            snapshot,
            commands,
            order_prefix,
            next_order_seq,
        }
    }

    /// The time of the event being handled.
    #[must_use]
    pub fn now(&self) -> UnixNanos {
        self.snapshot.now
    }

    /// The traded instrument and its venue rules.
    #[must_use]
    pub fn instrument(&self) -> &Instrument {
        self.snapshot.instrument
    }

    /// The current position.
    #[must_use]
    pub fn position(&self) -> &Position {
        self.snapshot.position
    }

    /// Current cash.
    #[must_use]
    pub fn cash(&self) -> Money {
        self.snapshot.cash
    }

    /// Equity: cash plus this position marked at the latest known price plus the account's
    /// positions in other instruments.
    #[must_use]
    pub fn equity(&self) -> Money {
        let value = self.snapshot.position.market_value(self.snapshot.mark);
        Money::from_raw(self.snapshot.cash.raw() + value.raw() + self.snapshot.others_value.raw())
    }

    /// The latest known price.
    #[must_use]
    pub fn mark(&self) -> Price {
        self.snapshot.mark
    }

    /// The strategy's orders that can still fill (sent and not yet acknowledged, or working),
    /// not counting those submitted during this call.
    #[must_use]
    pub fn open_orders(&self) -> usize {
        self.snapshot.open_orders
    }

    /// Orders submitted during this call and not yet sent.
    #[must_use]
    pub fn pending_submissions(&self) -> usize {
        self.commands
            .iter()
            .map(|c| match c {
                Command::Submit(_) => 1,
                Command::SubmitOco(..) => 2,
                Command::SubmitBracket { .. } => 3,
                Command::Cancel(_) | Command::CancelAll => 0,
            })
            .sum()
    }

    /// Queues an order and returns its client order id, chosen now so the order can never be
    /// sent twice.
    pub fn submit(
        &mut self,
        side: Side,
        quantity: Quantity,
        kind: OrderKind,
        time_in_force: TimeInForce,
    ) -> ClientOrderId {
        let request = self.request(side, quantity, kind, time_in_force);
        let id = request.client_order_id;
        self.commands.push(Command::Submit(request));
        id
    }

    /// An order request with a fresh client order id.
    fn request(
        &mut self,
        side: Side,
        quantity: Quantity,
        kind: OrderKind,
        time_in_force: TimeInForce,
    ) -> OrderRequest {
        *self.next_order_seq += 1;
        OrderRequest {
            client_order_id: self.order_prefix.id(*self.next_order_seq),
            instrument: self.snapshot.instrument.id().clone(),
            side,
            quantity,
            kind,
            time_in_force,
        }
    }

    /// Queues two GTC orders of the same side and quantity that cancel each other (one-cancels-
    /// other): e.g. a stop below and a limit above to leave a position either way.
    pub fn oco(
        &mut self,
        side: Side,
        quantity: Quantity,
        first: OrderKind,
        second: OrderKind,
    ) -> (ClientOrderId, ClientOrderId) {
        let a = self.request(side, quantity, first, TimeInForce::Gtc);
        let b = self.request(side, quantity, second, TimeInForce::Gtc);
        let ids = (a.client_order_id, b.client_order_id);
        self.commands.push(Command::SubmitOco(a, b));
        ids
    }

    /// Queues a bracket: the `entry` order (GTC) and, once it has filled completely, a stop-loss
    /// at `stop_loss` and a take-profit limit at `take_profit` on the other side for the same
    /// quantity, cancelling each other.
    pub fn bracket(
        &mut self,
        side: Side,
        quantity: Quantity,
        entry: OrderKind,
        stop_loss: Price,
        take_profit: Price,
    ) -> BracketIds {
        let entry = self.request(side, quantity, entry, TimeInForce::Gtc);
        let exit = side.opposite();
        let stop_loss = self.request(
            exit,
            quantity,
            OrderKind::Stop { trigger: stop_loss },
            TimeInForce::Gtc,
        );
        let take_profit = self.request(
            exit,
            quantity,
            OrderKind::Limit { price: take_profit },
            TimeInForce::Gtc,
        );
        let ids = BracketIds {
            entry: entry.client_order_id,
            stop_loss: stop_loss.client_order_id,
            take_profit: take_profit.client_order_id,
        };
        self.commands.push(Command::SubmitBracket {
            entry,
            stop_loss,
            take_profit,
        });
        ids
    }

    /// Queues a market order (GTC).
    pub fn market(&mut self, side: Side, quantity: Quantity) -> ClientOrderId {
        self.submit(side, quantity, OrderKind::Market, TimeInForce::Gtc)
    }

    /// Queues a cancel of one working order.
    pub fn cancel(&mut self, id: ClientOrderId) {
        self.commands.push(Command::Cancel(id));
    }

    /// Queues a cancel of every working order.
    pub fn cancel_all(&mut self) {
        self.commands.push(Command::CancelAll);
    }

    /// The largest quantity, in whole lots, that `fraction` of current equity buys at `price`
    /// (zero if the price is not positive or equity is negative).
    #[must_use]
    pub fn quantity_for_equity_fraction(
        &self,
        fraction: tradepulse_model::Ratio,
        price: Price,
    ) -> Quantity {
        let budget = self.equity().scaled(fraction);
        if budget.is_negative() {
            return Quantity::ZERO;
        }
        budget.units_at(price).map_or(Quantity::ZERO, |q| {
            q.trunc_to(self.snapshot.instrument.lot_size())
        })
    }
}
