//! TradePulse execution: the one trading pipeline, the order lifecycle, the `Venue` trait and
//! the simulated venue.
//!
//! Sits above model, strategy, risk and portfolio, and below backtest, the live runner, the
//! venue adapters and the services. Everything here is sync and free of I/O:
//! - [`Pipeline`]: market event → [`Strategy`](tradepulse_strategy::Strategy) → order intent →
//!   [`RiskEngine`](tradepulse_risk::RiskEngine) → [`OrderManager`] (+ [`Journal`], written
//!   ahead of the venue) → [`Venue`] → [`ExecutionReport`] → order manager and
//!   [`Portfolio`](tradepulse_portfolio::Portfolio). A backtest drives it with a simulated
//!   clock; the execution engine and the live runner drive the same code with the wall clock.
//! - [`OrderState`]: the order state machine (one pure `apply`, every allowed pair in one
//!   `match`, live venues' races allowed on purpose); [`OrderManager`] applies reports
//!   idempotently (fills keyed by venue trade id).
//! - [`Venue`]: where orders go; [`SimVenue`] is the bar-driven matching engine that backtest
//!   and paper trading share, so a backtest fill and a paper fill of the same order agree. Its
//!   module docs state exactly when and at what price each order type fills. Live adapters
//!   (`tradepulse-venue-binance`) implement the same trait.
//! - [`reconcile`]: reconciliation as a pure diff between the order manager and portfolio and
//!   a venue's snapshot (orders, executions, balances); the live driver applies what it finds
//!   through [`Pipeline::adopt`], [`Pipeline::inject`] and [`Pipeline::adjust_balance`], and a
//!   restarted process rebuilds its state from its journal with [`Pipeline::restore`].
//!
//! ```
//! use tradepulse_execution::{NoJournal, OrderIds, Pipeline, PipelineEvent, SimConfig, SimVenue};
//! use tradepulse_model::*;
//! use tradepulse_portfolio::{AccountConfig, Portfolio};
//! use tradepulse_risk::{RiskConfig, RiskEngine};
//! use tradepulse_strategy::{BuyAndHold, BuyAndHoldParams, Size};
//!
//! let es = Instrument::new(
//!     InstrumentId::new("ES", "SIM")?, "USD", "0.25".parse()?, Quantity::from_units(1), Money::ZERO,
//! )?;
//! let portfolio = Portfolio::new(Asset::new("USD")?, "100000".parse()?, AccountConfig::cash());
//! let venue = SimVenue::new(SimConfig::default()); // decided at a close, filled at the next open
//! let mut pipeline = Pipeline::new(
//!     portfolio, RiskEngine::new(RiskConfig::default())?, Box::new(venue), Box::new(NoJournal),
//! );
//! let key = pipeline.add_instrument(es)?;
//! let strategy = BuyAndHold::new(BuyAndHoldParams { size: Size::Units(Quantity::from_units(2)) })?;
//! pipeline.add_strategy("bh", key, Some(Box::new(strategy)),
//!     OrderIds { prefix: "bh".into(), first_sequence: 1 });
//! let bar = |ts: i64, o: &str, c: &str| Bar {
//!     ts: UnixNanos::new(ts), open: o.parse().unwrap(), high: "110".parse().unwrap(),
//!     low: "90".parse().unwrap(), close: c.parse().unwrap(), volume: 1.0,
//! };
//! pipeline.start(UnixNanos::new(0))?;
//! let (b0, b1) = (bar(0, "100", "101"), bar(60, "102", "103"));
//! pipeline.on_bar(key, &b0, b0.ts)?;  // decides on bar 0's close (a backtest's simulated clock)
//! pipeline.on_bar(key, &b1, b1.ts)?;  // fills at bar 1's open
//! let fill = pipeline.drain_events().find_map(|e| match e {
//!     PipelineEvent::Fill { fill, .. } => Some(fill),
//!     _ => None,
//! });
//! assert_eq!(fill.map(|f| f.price.to_string()), Some("102.0".to_owned()));
//! assert_eq!(pipeline.portfolio().position(key).quantity(), Quantity::from_units(2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No cargo features.

mod order;
mod pipeline;
pub mod reconcile;
mod sim;
mod venue;

pub use order::{
    Applied, DuplicateOrder, InvalidTransition, OrderEntry, OrderManager, OrderState,
    OrderTransition, Origin, ReportError, SlotId, value_price,
};
pub use pipeline::{
    Clock, IgnoredReport, Journal, JournalEntry, JournalError, MAX_ROUNDS, NoJournal, OrderIds,
    Pipeline, PipelineError, PipelineEvent, PipelineStats, Restore, WallClock,
};
pub use sim::{FillModel, SimConfig, SimVenue};
pub use venue::{ExecutionReport, FundsCheck, Submission, Unchecked, Venue, VenueError};
