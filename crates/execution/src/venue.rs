//! [`Venue`]: where orders go, as the pipeline sees it — sync and non-blocking.

use tradepulse_model::{
    Bar, ClientOrderId, Fill, Instrument, InstrumentId, OrderEvent, OrderRequest, Quantity,
    UnixNanos,
};
use tradepulse_risk::ProposedFill;

/// What the pipeline sends to a venue: one order, or a linked group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// One order.
    Single(OrderRequest),
    /// Two working orders where the first fill of either cancels the other.
    Oco(OrderRequest, OrderRequest),
    /// An entry whose exits (an OCO pair) start working once it has filled completely.
    Bracket {
        /// The entry.
        entry: OrderRequest,
        /// Stop order closing the position at a loss.
        stop_loss: OrderRequest,
        /// Limit order closing the position at a profit.
        take_profit: OrderRequest,
    },
}

impl Submission {
    /// Every order of the submission, entry first.
    pub fn each(&self) -> impl Iterator<Item = &OrderRequest> {
        let (a, b, c) = match self {
            Self::Single(a) => (a, None, None),
            Self::Oco(a, b) => (a, Some(b), None),
            Self::Bracket {
                entry,
                stop_loss,
                take_profit,
            } => (entry, Some(stop_loss), Some(take_profit)),
        };
        std::iter::once(a).chain(b).chain(c)
    }
}

/// What a venue reports back about our orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionReport {
    /// An order event other than a fill (accepted, rejected, triggered, cancelled, cancel
    /// rejected, expired).
    Order(OrderEvent),
    /// An execution.
    Fill(Fill),
}

impl ExecutionReport {
    /// The order the report is about.
    #[must_use]
    pub const fn client_order_id(&self) -> ClientOrderId {
        match self {
            Self::Order(e) => e.client_order_id,
            Self::Fill(f) => f.client_order_id,
        }
    }
}

/// Asked by a simulated venue before each fill, as a real exchange checks the account's balance:
/// how much of this fill the account may take (whole lots; zero = none). The pipeline answers
/// from the portfolio and the risk engine ([`tradepulse_risk::RiskEngine::fill_allowance`]).
/// Live adapters never call it: the real venue does that check itself.
pub trait FundsCheck {
    /// The quantity of `fill` (at most its own) the account can take.
    fn allow(&mut self, fill: ProposedFill) -> Quantity;
}

/// Allows every fill: for tests of a venue's matching alone, and for venues used without a
/// portfolio. The pipeline never uses it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unchecked;

impl FundsCheck for Unchecked {
    fn allow(&mut self, fill: ProposedFill) -> Quantity {
        fill.quantity
    }
}

/// A venue refused to trade an instrument at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    /// The venue does not list the instrument.
    #[error("{venue} does not list {instrument}")]
    UnknownInstrument {
        /// The venue's name.
        venue: String,
        /// The instrument.
        instrument: InstrumentId,
    },
    /// The instrument was added before.
    #[error("{0} was added to the venue twice")]
    Duplicate(InstrumentId),
}

/// An execution venue as the pipeline sees it: the simulated [`SimVenue`](crate::SimVenue), or
/// a live adapter (Binance …) that hands requests to its async I/O task over a channel and feeds
/// the reports it receives back through [`Venue::poll`].
///
/// Every method is sync and must not block: a live adapter queues the request and returns;
/// its outcome arrives later as reports. Reports may come in any order, more than once, and
/// late; the order manager applies them idempotently.
pub trait Venue: Send {
    /// Short name, used in logs and as the metrics label `venue` (`sim`, `binance`).
    fn name(&self) -> &str;

    /// Prepares to trade `instrument` (a simulated venue opens a book for it; a live venue
    /// checks that it lists it).
    ///
    /// # Errors
    /// [`VenueError`] if the venue cannot trade it.
    fn add_instrument(&mut self, instrument: &Instrument) -> Result<(), VenueError>;

    /// Sends orders that passed the risk checks and were recorded. Reports about them are
    /// pushed to `reports` now (a simulated venue) or come later through [`Venue::poll`].
    /// `latest` is the instrument's latest complete bar, if any: the price a simulated venue
    /// executes `close`-mode orders at (live venues ignore it).
    fn submit(
        &mut self,
        submission: Submission,
        latest: Option<&Bar>,
        now: UnixNanos,
        funds: &mut dyn FundsCheck,
        reports: &mut Vec<ExecutionReport>,
    );

    /// Requests a cancel; the outcome is a `Canceled` or `CancelRejected` report.
    fn cancel(
        &mut self,
        instrument: &InstrumentId,
        id: ClientOrderId,
        now: UnixNanos,
        reports: &mut Vec<ExecutionReport>,
    );

    /// A completed bar of `instrument`, while orders for it can still fill (the pipeline does not
    /// call it otherwise). A simulated venue matches its working orders against it here, before
    /// any strategy sees the bar; a live venue executes against the real market and ignores it.
    fn on_bar(
        &mut self,
        instrument: &InstrumentId,
        bar: &Bar,
        funds: &mut dyn FundsCheck,
        reports: &mut Vec<ExecutionReport>,
    );

    /// Reports that arrived since the last call (a live venue's I/O task); a simulated venue
    /// reports synchronously and has none pending.
    fn poll(&mut self, now: UnixNanos, reports: &mut Vec<ExecutionReport>);

    /// The data ended (a backtest) or the session stops: a simulated venue expires the orders
    /// still working; a live venue leaves them at the exchange (cancelling them on shutdown is
    /// the caller's decision).
    fn finish(&mut self, now: UnixNanos, reports: &mut Vec<ExecutionReport>);

    /// Orders still working at the venue.
    fn working_orders(&self) -> usize;
}
