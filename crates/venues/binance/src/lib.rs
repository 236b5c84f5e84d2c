//! TradePulse's Binance Spot adapter: a signed REST client, the user-data stream over the
//! WebSocket API, the public market-data streams, and the mapping of Binance's JSON to the model.
//!
//! **Where it sits.** An async I/O edge (tokio, reqwest, tokio-tungstenite) above
//! `tradepulse-model` and `tradepulse-execution`; the sync pipeline never depends on it.
//! [`BinanceVenue`] is the pipeline's `Venue`: it hands requests to a task that owns a
//! [`RestClient`] and a [`UserDataStream`] and feeds the updates back as execution reports. The
//! core service's live runner reads [`MarketDataStream`]. Tests run against
//! `tradepulse-fake-binance`.
//!
//! **Main types.**
//! - [`BinanceConfig`] (`deny_unknown_fields`): testnet, production or custom URLs, `recvWindow`,
//!   deadlines, retry and reconnect settings. [`Credentials`]: an HMAC or Ed25519 key in redacting
//!   types ([`secrecy`]); never printed, logged or put in an error.
//! - [`RestClient`]: exchangeInfo → [`SymbolRules`] → model `Instrument` (tick, lot, minimum
//!   notional), new/cancel/query order, open orders, account balances, myTrades, klines; server-time
//!   sync, rate-limit headers ([`RateLimitSnapshot`]) and `Retry-After` back-off; orders idempotent
//!   by client order id ([`RestClient::submit_order`]).
//! - [`UserDataStream`]: `executionReport` / `outboundAccountPosition` / `balanceUpdate` as
//!   [`UserStreamEvent`]s, reconnecting, with a REST catch-up so no fill is lost or duplicated.
//! - [`MarketDataStream`]: kline, trade and bookTicker as [`MarketEvent`]s, reconnecting, with a
//!   REST kline backfill of the gap.
//! - [`Error`] with [`ErrorClass`]: `Transient` (retry with the same client order id), `Rejected`
//!   (Binance's code kept, e.g. -1013, -2010, -2011) or `Fatal`.
//!
//! - [`BinanceVenue`]: the sync `tradepulse_execution::Venue` over all of the above
//!   ([`report_of`] and [`reject_reason`] are its mapping to the model's reports and reasons).
//!
//! Modules: [`dto`] holds Binance's wire types, [`mapping`] turns them into model types; the
//! `Venue` glue only uses `mapping`'s types.
//!
//! **Why our own client and not `binance-sdk`.** Binance's official Rust connector
//! (`binance-sdk` 77.2, `spot` feature, default features off, `rustls-tls`) was measured on this
//! machine: 263 crates in its normal dependency tree (this crate: 135) and 2 min 36 s of CPU
//! (4 min 15 s wall) for a clean debug build of a program using it (this crate: 1 min 52 s CPU).
//! It brings a second HTTP stack (reqwest 0.12 beside our 0.13), a second WebSocket stack
//! (tokio-tungstenite 0.26 beside 0.29), OpenSSL through `native-tls` even with its rustls
//! feature, ed25519-dalek 2 and hmac 0.12 beside the versions we use, `tracing-subscriber` and
//! `tokio/full` as library dependencies, and an API returning `anyhow::Result`, so the Binance
//! code has to be dug out of an opaque error before a failure can be classified. Its generated
//! code covers hundreds of endpoints we do not call. This crate implements the dozen we need from
//! Binance's documentation, with typed errors that keep the code, a deadline on every await, and
//! base URLs a local fake can take; `docs/venues.md` has the measurements and commands.
//!
//! ```
//! use tradepulse_venue_binance::{BinanceConfig, Credentials, KeyType, RestClient};
//!
//! let config = BinanceConfig::custom(
//!     "http://127.0.0.1:9", "ws://127.0.0.1:9/ws-api/v3", "ws://127.0.0.1:9",
//! );
//! let credentials = Credentials::hmac("my-api-key".into(), "my-secret".into());
//! assert_eq!(credentials.key_type(), KeyType::Hmac);
//! assert!(!format!("{credentials:?}").contains("my-secret"));
//! let client = RestClient::new(&config, Some(credentials))?;
//! assert!(client.rate_limits().used_weight.is_empty()); // nothing sent yet
//! # Ok::<(), tradepulse_venue_binance::Error>(())
//! ```
//!
//! No cargo features.

mod config;
mod credentials;
pub mod dto;
mod error;
mod limits;
pub mod mapping;
mod market;
mod rest;
mod user_stream;
mod venue;
mod ws;

pub use config::{BinanceConfig, BinanceEnvironment, Endpoints};
pub use credentials::{Credentials, KeyType, ws_api_payload};
pub use error::{Error, ErrorClass};
pub use limits::{RateLimitSnapshot, Usage};
pub use mapping::{
    Balance, FilterViolation, LotRule, NewOrder, OrderUpdate, OrderUpdateKind, SymbolRules,
    TradeFill, UpdateSource,
};
pub use market::{MarketDataStream, MarketEvent, MarketStreamStats, MarketSubscription};
pub use rest::{Account, KlinesQuery, OrderRef, RestClient, TradesQuery};
pub use secrecy::SecretString;
pub use user_stream::{UserDataStream, UserStreamConfig, UserStreamEvent, UserStreamStats};
pub use venue::{BinanceVenue, reject_reason, report_of};
