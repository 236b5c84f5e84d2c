//! TradePulse live runtime: the wall-clock driver of the one trading pipeline.
//!
//! **Where it sits.** An I/O edge (tokio) above `tradepulse-execution` (the sync
//! [`Pipeline`](tradepulse_execution::Pipeline), order manager, reconciliation diff),
//! `tradepulse-store` (the journal) and `tradepulse-venue-binance`; used by the execution
//! service (`tradepulse exec`, `tradepulse-server`) and by the core service, which runs
//! strategies in-process on the same engine or sends orders to a remote exec.
//!
//! **Main types.**
//! - [`Engine::start`] → [`EngineHandle`]: one thread owns the pipeline and takes commands
//!   over a channel (submit, cancel, kill switch, bars and prices, queries, shutdown); events
//!   go out on a broadcast channel ([`EngineEvent`]). Intents waiting together are sent as one
//!   batch under one journal commit (group commit).
//! - [`StoreJournal`]: the pipeline's write-ahead journal over SQLite or PostgreSQL: an order
//!   and its `submitted` event are durable before the venue is called. On start the engine
//!   replays it (ids used, open orders, applied trade ids, positions, balances) and takes a
//!   new session id from the store, so client order ids never repeat across restarts.
//! - Reconciliation ([`SnapshotSource`], [`ReconcileSettings`]): at start and periodically the
//!   venue's orders, executions and balances are diffed against local state and corrected
//!   (adopt or cancel unknown orders, resolve orders lost in flight, book missed fills and
//!   external balance changes), every correction audited; until the first run completes no
//!   order leaves. [`BinanceSnapshots`] reads Binance's REST API, [`SimSnapshots`] stands for
//!   the in-process simulated venue.
//! - [`SecretSource`] ([`EnvSecrets`]: `NAME` or a `NAME_FILE` mount; [`VaultSecrets`]: a
//!   HashiCorp Vault KV v2 secret, token or Kubernetes auth, lease renewal) and the redacting
//!   [`Secret`]; [`Registry`] and [`EngineMetrics`]: Prometheus series without a global
//!   recorder; [`load_yaml`]: typed configs with file:line:key errors.
//!
//! ```no_run
//! # async fn demo(store: tradepulse_store::Store, instrument: tradepulse_model::Instrument)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use tradepulse_execution::{SimConfig, SimVenue};
//! use tradepulse_live::*;
//! use tradepulse_model::*;
//!
//! let mut config = EngineConfig::new("exec", Asset::new("USD")?);
//! config.opening_cash = Some("100000".parse()?);
//! let venue = VenueSetup {
//!     venue: Box::new(SimVenue::new(SimConfig::default())),
//!     instruments: vec![instrument.clone()],
//!     snapshots: Arc::new(SimSnapshots::default()),
//!     prices: None,
//! };
//! let engine = Engine::start(config, store, venue, Vec::new(), &Registry::new()).await?;
//! while !engine.is_ready() {
//!     tokio::time::sleep(Duration::from_millis(10)).await; // reconciling
//! }
//! let outcome = engine.submit(SubmitRequest {
//!     client_order_id: Some(ClientOrderId::new("demo-1")?),
//!     strategy: "api".into(),
//!     instrument: instrument.id().clone(),
//!     side: Side::Buy,
//!     quantity: "1".parse()?,
//!     kind: OrderKind::Limit { price: "100".parse()? },
//!     time_in_force: TimeInForce::Gtc,
//!     decided_at: None,
//! }, Duration::from_secs(1)).await?;
//! println!("{}", outcome.order.status());
//! engine.shutdown(true, Duration::from_secs(5)).await?;
//! # Ok(()) }
//! ```
//!
//! No cargo features.

mod binance;
mod config;
mod engine;
mod feed;
mod journal;
pub mod metrics;
mod reconcile;
mod secrets;
mod vault;
mod views;

pub use binance::{
    BinanceBars, BinanceFeedOptions, BinanceFeedReport, BinanceSnapshots, binance_bars,
    binance_credentials, binance_venue,
};
pub use config::{ConfigError, load_yaml, parse_yaml};
pub use engine::{
    EXTERNAL, Engine, EngineConfig, EngineError, EngineHandle, KillSwitchChange, MARKET_BACKLOG,
    PriceFeed, ReconcileOutcome, ShutdownReport, StrategySetup, SubmitOutcome, VenueSetup,
};
pub use feed::{BarMessage, ReplayReport, ReplaySpeed, StreamReport, replay_bars, stream_bars};
pub use journal::{CorruptJournal, StoreJournal};
pub use metrics::{EngineMetrics, Registry};
pub use reconcile::{
    BoxFuture, LocalOrder, ReconcileScope, ReconcileSettings, SimSnapshots, SnapshotError,
    SnapshotSource, VenueUsage,
};
pub use secrets::{EnvSecrets, Secret, SecretError, SecretSource, StaticSecrets};
pub use vault::{LayeredSecrets, SecretsConfig, VaultAuth, VaultConfig, VaultSecrets};
pub use views::{
    BalanceView, EngineEvent, EngineStatus, OrderFilter, OrderView, PositionView, StrategyView,
    SubmitRequest,
};
