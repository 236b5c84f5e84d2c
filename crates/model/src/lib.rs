//! TradePulse domain model: the values every other crate trades in.
//!
//! This crate sits at the bottom of the workspace and depends on nothing of ours; indicators,
//! data, strategy, risk, execution, backtest, store and server all build on it. It is sync,
//! allocation-light and has no I/O.
//!
//! Main types:
//! - Exact numbers: [`Price`], [`Quantity`] (i64 mantissa) and [`Money`] (i128 mantissa), all at the
//!   fixed scale 1e-9, parsed from decimal text and never built as `f64 * scale`; [`Bps`] and
//!   [`Ratio`] for exact rates. The per-instrument precision (tick and lot size) lives in
//!   [`Instrument`].
//! - Time: [`UnixNanos`] (UTC nanoseconds).
//! - Market data: [`Bar`].
//! - Trading: [`OrderRequest`] ([`OrderKind`], [`Side`], [`TimeInForce`]), [`Fill`],
//!   [`Position`] and [`CashAccount`] (exact accounting; see the identity in [`Position`]'s module).
//!
//! ```
//! use tradepulse_model::{Money, Price, Quantity, Side, Position, CashAccount};
//!
//! let price: Price = "101.25".parse()?;
//! let qty: Quantity = "3".parse()?;
//! let mut account = CashAccount::new("1000".parse()?);
//! let mut position = Position::default();
//! position.apply(Side::Buy, qty, price)?;
//! account.settle(Side::Buy, price.notional(qty), price.notional(qty).bps("10".parse()?))?;
//! assert_eq!(account.cash().to_string(), "695.94625");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No cargo features.

mod asset;
mod bar;
mod fill;
pub mod fixed;
mod identifiers;
mod instrument;
mod money;
mod order;
mod position;
mod price;
mod quantity;
mod time;

pub use asset::Asset;
pub use bar::{Bar, BarError};
pub use fill::{Fill, Liquidity};
pub use fixed::ParseDecimalError;
pub use identifiers::{ClientOrderId, IdError, InstrumentId, OrderIdPrefix, TradeId, VenueOrderId};
pub use instrument::{Instrument, InstrumentError, InstrumentSpec, InstrumentSpecError};
pub use money::{Bps, Money, Ratio};
pub use order::{
    OrderEvent, OrderEventKind, OrderKind, OrderRequest, RejectReason, Side, TimeInForce,
};
pub use position::{CashAccount, Overflow, Position};
pub use price::Price;
pub use quantity::Quantity;
pub use time::{ParseTimeError, UnixNanos, UnixUnit};
