//! TradePulse storage: the system of record (SQLite or PostgreSQL) and the real-time layer
//! (Redis).
//!
//! # Where it sits
//! `tradepulse-store` uses `tradepulse-model` (exact [`Price`](tradepulse_model::Price),
//! [`Money`](tradepulse_model::Money), [`UnixNanos`](tradepulse_model::UnixNanos), orders and
//! fills) and `tradepulse-research` (sweep results), and is called by the binary (`tradepulse db
//! migrate`, `sweep`, `sweep-merge --from-db`), the backtest runner (runs) and the live engine
//! (orders, events, fills, portfolio, kill switch) — it is an I/O edge, so it is async (tokio)
//! while the trading core and research stay sync.
//!
//! # Main types
//! - [`Store`]: one repository API over two backends chosen by [`DatabaseUrl`]: a SQLite file
//!   (the zero-setup default, [`DEFAULT_SQLITE_PATH`]) or PostgreSQL 14+. The URL comes from
//!   config, `TRADEPULSE_DATABASE_URL` or a `TRADEPULSE_DATABASE_URL_FILE` secret mount
//!   ([`DatabaseUrl::resolve`]) and is never printed unredacted. Migrations are embedded
//!   (one directory per backend under `migrations/`) and applied by [`Store::migrate`] or on
//!   connect. Every call retries transient failures with backoff ([`RetryPolicy`]) and
//!   reports readiness ([`Store::is_ready`]); multi-row writes are single transactions.
//! - Sweeps: [`Store::save_sweep_results`] stores one shard's
//!   [`SweepResults`](tradepulse_research::sweep::SweepResults) (trials in batches, one
//!   transaction per batch, then the shard's record) and [`Store::sweep_shard_set`] loads every
//!   shard of a sweep as a [`ShardSet`](tradepulse_research::sweep::ShardSet) to merge; the
//!   mapping between research results and rows is written once, in this crate, and reading is
//!   strict ([`Error::CorruptSweep`] names the record and field).
//! - Schema: backtest runs with metrics and trades, sweep trials and shards, orders (unique
//!   client order id → [`Error::DuplicateClientOrderId`]), append-only order events, fills,
//!   positions, balances, equity snapshots, kill-switch state, an append-only audit log and API
//!   token hashes ([`TokenHash`]; tokens themselves are never stored).
//! - The live engine's journal: [`Store::start_session`] (a unique id per process start, for
//!   client order ids that never repeat), [`Store::append_journal`] (orders, order events,
//!   fills and [`BalanceAdjustment`]s of one batch in one transaction: the group commit made
//!   before a batch of orders is sent) and [`Store::load_journal`] (all of it back, in the
//!   order written, for a restart).
//! - Storage of exact numbers: prices and quantities as their `i64` mantissas (`BIGINT`),
//!   money as its `i128` mantissa in decimal `TEXT` (SQLite has no 128-bit integer; both
//!   backends store the same text), times as `i64` UTC nanoseconds.
//! - Redis ([`RedisConfig`], keys under a prefix): [`MarketStream`] (`XADD … MAXLEN`) and
//!   [`StreamConsumer`] (consumer groups, ack, recovery of dead consumers' entries, resume
//!   after reconnect); [`KillSwitchBus`] (persist in the database, broadcast over pub/sub);
//!   [`CheckpointStore`] (save/restore any serialisable indicator state).
//! - [`Error`]: grouped by what to do about it ([`Action`]: retry, fix input, halt).
//!
//! # Example
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tradepulse_model::{ClientOrderId, OrderKind, OrderRequest, Side, TimeInForce, UnixNanos};
//! use tradepulse_store::{DatabaseUrl, Error, OrderRecord, Store};
//!
//! let dir = tempfile::tempdir()?;
//! let store = Store::connect(&DatabaseUrl::sqlite_file(&dir.path().join("tp.db"))).await?;
//! let order = OrderRecord {
//!     request: OrderRequest {
//!         client_order_id: ClientOrderId::new("sma-000001")?,
//!         instrument: "BTCUSDT.BINANCE".parse()?,
//!         side: Side::Buy,
//!         quantity: "0.5".parse()?,
//!         kind: OrderKind::Limit { price: "64000.5".parse()? },
//!         time_in_force: TimeInForce::Gtc,
//!     },
//!     strategy: "sma_cross".into(),
//!     created_at: UnixNanos::new(1_700_000_000_000_000_000),
//! };
//! store.insert_order(&order).await?;
//! assert_eq!(store.order(order.request.client_order_id).await?, Some(order.clone()));
//! assert!(matches!(
//!     store.insert_order(&order).await,
//!     Err(Error::DuplicateClientOrderId { .. })
//! ));
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! No cargo features: both database drivers and the Redis client are always built (the store
//! is only linked by the binary and the server).

mod db;
mod error;
mod migrate;
mod realtime;
mod retry;
mod url;

pub use db::{
    ApiToken, AuditEntry, BacktestRun, Balance, BalanceAdjustment, EquitySnapshot, JournalRow,
    JournaledEvent, KillSwitchState, LoadedJournal, NewApiToken, NewBacktestRun, OrderEvent,
    OrderRecord, PositionRecord, RunId, RunTrade, SqliteJournalWriter, SqliteSync, Store,
    StoreOptions, StoredFill, StoredSweep, StrategyCheckpoint, SweepShard, SweepTrial, TokenHash,
};
pub use error::{Action, Error, Result};
pub use migrate::{MigrationOutcome, migrate_database};
pub use realtime::{
    CheckpointStore, KillSwitchBus, KillSwitchSubscription, MarketStream, REDIS_URL_ENV,
    REDIS_URL_FILE_ENV, RedisConfig, StreamConsumer, StreamEntry,
};
pub use retry::RetryPolicy;
pub use url::{
    BackendKind, DATABASE_URL_ENV, DATABASE_URL_FILE_ENV, DEFAULT_SQLITE_PATH, DatabaseUrl,
    RedactedUrl,
};
