//! TradePulse execution: the order lifecycle and the simulated venue.
//!
//! Sits above `tradepulse-model` and below backtest, store and server. [`OrderState`] is the
//! order state machine (one pure `apply`, every allowed pair in one `match`); [`SimVenue`] is the
//! bar-driven matching engine that backtest and paper trading share, so a backtest fill and a
//! paper fill of the same order agree. Its module docs state exactly when and at what price each
//! order type fills.
//!
//! ```
//! use tradepulse_execution::{SimConfig, SimVenue, VenueEvent};
//! use tradepulse_model::*;
//!
//! let instrument = Instrument::new(
//!     InstrumentId::new("ES", "SIM")?, "USD", "0.25".parse()?, Quantity::from_units(1), Money::ZERO,
//! )?;
//! let mut venue = SimVenue::new(instrument.clone(), SimConfig::default()); // next-open fills
//! let bar = |ts: i64, o: &str, c: &str| Bar {
//!     ts: UnixNanos::new(ts), open: o.parse().unwrap(), high: "110".parse().unwrap(),
//!     low: "90".parse().unwrap(), close: c.parse().unwrap(), volume: 1.0,
//! };
//! let order = OrderRequest {
//!     client_order_id: ClientOrderId::new("doc-1")?, instrument: instrument.id().clone(),
//!     side: Side::Buy, quantity: Quantity::from_units(2), kind: OrderKind::Market,
//!     time_in_force: TimeInForce::Gtc,
//! };
//! let mut events = Vec::new();
//! venue.submit(order, &bar(0, "100", "101"), &mut events);   // decided on bar 0's close
//! venue.on_bar(&bar(60, "102", "103"), &mut events);          // fills at bar 1's open
//! let VenueEvent::Fill(fill) = events[1] else { panic!("expected a fill") };
//! assert_eq!(fill.price.to_string(), "102.0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No cargo features.

mod order;
mod sim;

pub use order::{InvalidTransition, OrderState, OrderTransition};
pub use sim::{FillModel, SimConfig, SimVenue, VenueEvent};
