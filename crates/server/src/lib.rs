//! TradePulse HTTP services. Today: the execution engine's service, `tradepulse exec`.
//!
//! **Where it sits.** The outermost I/O edge: axum 0.8 over `tradepulse-live` (the engine),
//! `tradepulse-store` (tokens, audit) and the venue adapters; the `tradepulse` binary only
//! parses arguments and calls [`RunningExec`]. The core service (issue 13) adds its own
//! routes beside these and reuses [`auth`], [`error`] and the metrics registry.
//!
//! **Main parts.**
//! - [`ExecConfig`]: the YAML config (`configs/exec/*.yaml`; unknown keys are errors naming
//!   file, line and key).
//! - [`RunningExec`]: store, tokens, venue (sim with a synthetic market, or Binance), engine,
//!   API; [`RunningExec::stop`] is the graceful shutdown.
//! - [`api::router`]: `/v1/orders` (submit — idempotent on the client order id —, list with
//!   filters, get, cancel), `/v1/positions`, `/v1/balances`, `/v1/kill-switch` (admin),
//!   `/v1/status`, `/v1/stream` (WebSocket of execution reports), `/v1/openapi.json`
//!   (generated from the handlers' types), `/healthz`, `/readyz`, `/metrics`. Every request
//!   has a deadline; errors are JSON `{code, message}` ([`error::ApiError`]).
//! - [`auth`]: bearer tokens with roles viewer < trader < admin, stored as SHA-256 hashes.
//! - [`verify`]: `tradepulse verify`, the post-deploy check of running services (health,
//!   readiness, metrics, order-latency SLO, reject and error spikes, kill switch,
//!   reconciliation).
//!
//! ```
//! let doc = tradepulse_server::api::openapi();
//! assert!(doc.paths.paths.contains_key("/v1/orders"));
//! assert!(doc.paths.paths.contains_key("/v1/kill-switch"));
//! ```
//!
//! No cargo features.

/// The version of this build: `TRADEPULSE_BUILD_VERSION` at compile time (the Makefile, the
/// image builds: `git describe --tags --always --dirty`), else `git describe --tags --always`
/// of the checkout, else the crate version (`build.rs`). `tradepulse --version` prints it and
/// `tradepulse_build_info{version}` carries it.
pub const VERSION: &str = env!("TRADEPULSE_VERSION");

pub mod api;
pub mod auth;
pub mod backtests;
mod config;
mod core;
pub mod core_api;
mod core_config;
pub mod dto;
pub mod error;
mod exec;
mod limits;
mod recent;
mod remote;
pub mod sweeps;
pub mod verify;

pub use config::{
    AuthConfig, BinanceVenueConfig, EngineLoopConfig, ExecConfig, HttpConfig, ReconciliationConfig,
    ShutdownConfig, SimMarketConfig, SimVenueConfig, TokenConfig, VenueConfig,
};
pub use core::{CORE_ACCOUNT, RunningCore, check_environment, production_banner};
pub use core_config::{
    ApiConfig, BacktestsConfig, CoreConfig, CoreSimConfig, CoreVenueConfig, Environment,
    ExecutionConfig, InProcessConfig, LIVE_TRADING_ENV, MarketDataConfig, RateLimitConfig,
    RedisFeedConfig, RemoteExecConfig, ReplayConfig, StrategyConfig, WebConfig,
};
pub use exec::{RunningExec, ServiceError, StopReport};
pub use remote::{RemoteError, RemoteExec};
pub use tradepulse_live::metrics::LOG_MESSAGES;
