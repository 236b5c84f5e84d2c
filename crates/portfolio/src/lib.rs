//! TradePulse portfolio: what one account holds and what it is worth, exactly.
//!
//! Sits above `tradepulse-model` and beside `tradepulse-risk`; the pipeline in
//! `tradepulse-execution` owns one [`Portfolio`] and books every fill into it, the same way in
//! backtest, paper and live, and the risk engine reads it (positions, cash, exposure, equity).
//!
//! Main types:
//! - [`Portfolio`]: positions per instrument ([`InstrumentKey`]), cash in the account currency,
//!   balances of other assets ([`AssetBalance`]), realised and unrealised PnL, fees, borrow on
//!   shorts and financing of borrowed cash, equity. Its accounting identity is stated (and
//!   property-tested) on the type.
//! - [`AccountConfig`]: a cash account (no shorts, no borrowing) or a margin account (leverage,
//!   financing and short-borrow rates).
//!
//! ```
//! use tradepulse_model::*;
//! use tradepulse_portfolio::{AccountConfig, Portfolio};
//!
//! let btc = Instrument::new(
//!     "BTCUSDT.BINANCE".parse()?, "USDT", "0.01".parse()?, "0.00001".parse()?, Money::ZERO,
//! )?
//! .with_base_asset(Asset::new("BTC")?);
//! let mut portfolio = Portfolio::new(Asset::new("USDT")?, "1000".parse()?, AccountConfig::cash());
//! let key = portfolio.add_instrument(btc)?;
//! // Buy 0.01 BTC at 50,000; Binance charges the fee in the received asset.
//! portfolio.apply_fill(key, &Fill {
//!     client_order_id: ClientOrderId::new("c-1")?,
//!     venue_order_id: VenueOrderId::new("123")?,
//!     trade_id: TradeId::new("9")?,
//!     ts: UnixNanos::new(0),
//!     side: Side::Buy,
//!     quantity: "0.01".parse()?,
//!     price: "50000".parse()?,
//!     fee: "0.00001".parse()?,
//!     fee_asset: Asset::new("BTC")?,
//!     liquidity: Liquidity::Taker,
//! })?;
//! assert_eq!(portfolio.cash().to_string(), "500.00");
//! assert_eq!(portfolio.position(key).quantity().to_string(), "0.00999");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No cargo features.

mod account;
mod portfolio;

pub use account::{AccountConfig, AccountKind};
pub use portfolio::{AssetBalance, Booking, InstrumentKey, Portfolio, PortfolioError};

#[cfg(test)]
mod tests;
