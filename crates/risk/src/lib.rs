//! TradePulse risk: the pre-trade checks every order passes, in backtest, paper and live.
//!
//! Sits above `tradepulse-model` and `tradepulse-portfolio`; the pipeline in
//! `tradepulse-execution` asks the [`RiskEngine`] about every order intent before the order
//! manager records it and the venue sees it, and a simulated venue asks it again before every
//! fill ([`RiskEngine::fill_allowance`]), because a fill can come at another price than the one
//! the order was checked at (a gap, slippage).
//!
//! Main types:
//! - [`RiskConfig`]: the `risk:` section of a config (documented in `docs/configuration.md`;
//!   unknown keys are errors), shared by backtests and live trading.
//! - [`RiskEngine`]: order, position, exposure and buying-power limits, order-rate windows on
//!   the mode's clock, price bands, the daily-loss and drawdown guards ([`TradingState`]) and the
//!   [`KillSwitch`] (global, per strategy, per instrument).
//! - [`Rejection`]: the stable [`RejectReason`](tradepulse_model::RejectReason) code a strategy
//!   receives, plus the typed values behind it ([`Breach`]).
//!
//! ```
//! use tradepulse_model::*;
//! use tradepulse_portfolio::{AccountConfig, Portfolio};
//! use tradepulse_risk::{Book, Intent, RiskConfig, RiskEngine, Working};
//!
//! let spx = Instrument::new("SPX.SIM".parse()?, "USD", "0.01".parse()?, Quantity::from_units(1), Money::ZERO)?;
//! let mut portfolio = Portfolio::new(Asset::new("USD")?, "1000".parse()?, AccountConfig::cash());
//! let key = portfolio.add_instrument(spx.clone())?;
//! let config = RiskConfig { max_position: Some(Quantity::from_units(5)), ..RiskConfig::default() };
//! let mut risk = RiskEngine::new(config)?;
//! risk.register_instrument(key, &spx);
//! let strategy = risk.register_strategy("demo");
//! let order = |units| OrderRequest {
//!     client_order_id: ClientOrderId::new("demo-1").unwrap(), instrument: spx.id().clone(),
//!     side: Side::Buy, quantity: Quantity::from_units(units), kind: OrderKind::Market,
//!     time_in_force: TimeInForce::Gtc,
//! };
//! let book = Book { portfolio: &portfolio, working: &[Working::default()], open_orders: 0,
//!                   reference: Some("100".parse()?) };
//! let now = UnixNanos::new(0);
//! assert!(risk.check(&Intent { strategy, key, request: &order(5), now }, &book).is_ok());
//! let refused = risk.check(&Intent { strategy, key, request: &order(6), now }, &book).unwrap_err();
//! assert_eq!(refused.reason, RejectReason::MaxPosition);
//! assert_eq!(refused.to_string(), "MAX_POSITION: value=6, limit=5");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No cargo features.

mod config;
mod engine;
mod kill_switch;
mod rate;
mod rejection;

pub use config::{
    BuyingPowerConfig, InstrumentLimits, InvalidRiskConfig, KillSwitchConfig, OrderRateConfig,
    PriceBandConfig, RateLimit, ReferencePrice, RiskConfig, Shortfall,
};
pub use engine::{
    Book, Intent, Pending, ProposedFill, RiskEngine, StrategyId, TradingState, Working,
};
pub use kill_switch::{KillScope, KillSwitch};
pub use rejection::{Breach, Rejection};

#[cfg(test)]
mod tests;
