//! [`Store`]: the repository over SQLite or PostgreSQL, its connection and migrations.

mod journal;
mod records;
mod repo;
mod row;
mod sqlite_journal;
mod sweep;

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, SqlSafeStr};

pub use journal::{BalanceAdjustment, JournalRow, JournaledEvent, LoadedJournal};
pub use records::{
    ApiToken, AuditEntry, BacktestRun, Balance, EquitySnapshot, KillSwitchState, NewApiToken,
    NewBacktestRun, OrderEvent, OrderRecord, PositionRecord, RunId, RunTrade, StoredFill,
    StrategyCheckpoint, SweepShard, SweepTrial, TokenHash,
};
pub use sqlite_journal::SqliteJournalWriter;
pub use sweep::StoredSweep;

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::url::{BackendKind, DatabaseUrl};

/// Runs `$body` with `$pool` bound to the concrete pool of `$store`; the body is compiled once
/// per backend, so the same SQL text serves both (SQLite accepts `$1`-style parameters).
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Give up connecting (and acquiring a pooled connection) after this long.
    pub connect_timeout: Duration,
    /// Pool size.
    pub max_connections: u32,
    /// Apply the embedded migrations right after connecting.
    pub migrate_on_start: bool,
    /// Retries of transient failures inside every repository call.
    pub retry: RetryPolicy,
    /// PostgreSQL only: put every table in this schema (created if missing) instead of
    /// `public`. Lower-case letters, digits and `_` only. Used for multi-tenant databases and
    /// for test isolation.
    pub pg_schema: Option<String>,
    /// PostgreSQL only: `application_name` reported to the server (visible in
    /// `pg_stat_activity`).
    pub application_name: Option<String>,
    /// SQLite only: when a commit returns (see [`SqliteSync`]).
    pub sqlite_sync: SqliteSync,
}

/// When a SQLite commit returns, in write-ahead-log mode (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteSync {
    /// After the log is on disk (`FULL`): a commit survives a crash of the process and of the
    /// machine (a power loss). The default.
    #[default]
    Full,
    /// After the log is written to the operating system (`NORMAL`), synced at checkpoints: a
    /// commit survives a crash of the process (the system keeps the written pages), but the
    /// last commits can be lost with a power loss or a kernel crash. About a hundred times
    /// cheaper per commit.
    Normal,
}

impl Default for StoreOptions {
    /// 3 s connect timeout, 5 connections, migrate on start, default retries.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            max_connections: 5,
            migrate_on_start: true,
            retry: RetryPolicy::default(),
            pg_schema: None,
            application_name: None,
            sqlite_sync: SqliteSync::Full,
        }
    }
}

/// Pages of write-ahead log (4 KiB each) after which a commit of the pool's connections
/// checkpoints the log into the database file, SQLite's default being 1,000. That commit waits
/// for the checkpoint, which syncs the log and the database file. 10,000 pages: a log of at most
/// ~40 MB. A store with a journal writer (`sqlite_journal`) keeps its log shorter than that with
/// a checkpoint thread of its own, so its commits do not checkpoint.
pub(crate) const SQLITE_CHECKPOINT_PAGES: i64 = 10_000;

/// The TradePulse repository: one API over a SQLite file or a PostgreSQL database.
///
/// Cheap to clone (the pool is shared). Every call retries transient failures with backoff
/// ([`StoreOptions::retry`]); while a call is failing, [`Store::is_ready`] is `false`.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    url: DatabaseUrl,
    retry: RetryPolicy,
    ready: Arc<AtomicBool>,
    sqlite_sync: SqliteSync,
}

fn embedded(backend: BackendKind) -> Migrator {
    // (version, name, SQLite text, PostgreSQL text), oldest first.
    let migrations: [(i64, &'static str, &'static str, &'static str); 5] = [
        (
            1,
            "init",
            include_str!("../../migrations/sqlite/0001_init.sql"),
            include_str!("../../migrations/postgres/0001_init.sql"),
        ),
        (
            2,
            "fill venue ids",
            include_str!("../../migrations/sqlite/0002_fill_venue_ids.sql"),
            include_str!("../../migrations/postgres/0002_fill_venue_ids.sql"),
        ),
        (
            3,
            "sweep shards",
            include_str!("../../migrations/sqlite/0003_sweep_shards.sql"),
            include_str!("../../migrations/postgres/0003_sweep_shards.sql"),
        ),
        (
            4,
            "live journal",
            include_str!("../../migrations/sqlite/0004_live_journal.sql"),
            include_str!("../../migrations/postgres/0004_live_journal.sql"),
        ),
        (
            5,
            "strategy checkpoints",
            include_str!("../../migrations/sqlite/0005_strategy_checkpoints.sql"),
            include_str!("../../migrations/postgres/0005_strategy_checkpoints.sql"),
        ),
    ];
    Migrator::with_migrations(
        migrations
            .into_iter()
            .map(|(version, name, sqlite, postgres)| {
                let sql = match backend {
                    BackendKind::Sqlite => sqlite,
                    BackendKind::Postgres => postgres,
                };
                Migration::new(
                    version,
                    Cow::Borrowed(name),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

fn valid_schema_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl Store {
    /// Connects with default options (migrations applied on start).
    ///
    /// # Errors
    /// See [`Store::connect_with`].
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        Self::connect_with(url, StoreOptions::default()).await
    }

    /// Connects, fails fast if the database cannot be reached, and optionally migrates.
    ///
    /// # Errors
    /// [`Error::ConnectTimeout`] or [`Error::Unreachable`] when the server does not answer
    /// (within [`StoreOptions::connect_timeout`]); [`Error::InvalidUrl`] for a malformed URL or
    /// schema name; [`Error::Migration`] if migrating fails.
    pub async fn connect_with(url: &DatabaseUrl, options: StoreOptions) -> Result<Self> {
        let invalid = |reason| Error::InvalidUrl {
            what: "database",
            url: url.redacted(),
            reason,
        };
        let timeout = options.connect_timeout;
        let backend = url.backend();
        let unreachable = |source| Error::Unreachable {
            backend,
            url: url.redacted(),
            source,
        };
        let timed_out = || Error::ConnectTimeout {
            backend,
            url: url.redacted(),
            after: timeout,
        };
        let pool = match backend {
            BackendKind::Sqlite => {
                let connect = SqliteConnectOptions::from_str(url.expose_secret())
                    .map_err(|_| invalid("not a valid sqlite URL"))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(match options.sqlite_sync {
                        SqliteSync::Full => SqliteSynchronous::Full,
                        SqliteSync::Normal => SqliteSynchronous::Normal,
                    })
                    .busy_timeout(Duration::from_secs(5))
                    .pragma("wal_autocheckpoint", SQLITE_CHECKPOINT_PAGES.to_string())
                    .foreign_keys(true);
                // One direct attempt first: the pool would keep retrying a hopeless target
                // until the timeout, this fails at once with the real cause.
                let probe =
                    tokio::time::timeout(timeout, sqlx::SqliteConnection::connect_with(&connect))
                        .await
                        .map_err(|_| timed_out())?
                        .map_err(unreachable)?;
                let _ = probe.close().await;
                let pool = tokio::time::timeout(
                    timeout,
                    SqlitePoolOptions::new()
                        .max_connections(options.max_connections)
                        // A connection to a local file does not go stale the way a socket
                        // does; a ping before every checkout was a round trip to the
                        // connection's thread on every journal commit.
                        .test_before_acquire(false)
                        .acquire_timeout(timeout)
                        .connect_with(connect),
                )
                .await
                .map_err(|_| timed_out())?
                .map_err(unreachable)?;
                Pool::Sqlite(pool)
            }
            BackendKind::Postgres => {
                let mut connect = PgConnectOptions::from_str(url.expose_secret())
                    .map_err(|_| invalid("not a valid postgres URL"))?;
                if let Some(name) = &options.application_name {
                    connect = connect.application_name(name);
                }
                if let Some(schema) = &options.pg_schema {
                    if !valid_schema_name(schema) {
                        return Err(Error::InvalidValue {
                            what: "PostgreSQL schema name",
                            reason: "use 1-63 of [a-z0-9_], not starting with a digit",
                        });
                    }
                    connect = connect.options([("search_path", schema.as_str())]);
                }
                // One direct attempt first: a refused connection fails at once with its real
                // cause instead of the pool retrying until the timeout.
                let probe =
                    tokio::time::timeout(timeout, sqlx::PgConnection::connect_with(&connect))
                        .await
                        .map_err(|_| timed_out())?
                        .map_err(unreachable)?;
                let _ = probe.close().await;
                let pool = tokio::time::timeout(
                    timeout,
                    PgPoolOptions::new()
                        .max_connections(options.max_connections)
                        .acquire_timeout(timeout)
                        .connect_with(connect),
                )
                .await
                .map_err(|_| timed_out())?
                .map_err(unreachable)?;
                if let Some(schema) = &options.pg_schema {
                    let sql = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
                    sqlx::query(AssertSqlSafe(sql))
                        .execute(&pool)
                        .await
                        .map_err(|e| Error::db("create schema", e))?;
                }
                Pool::Postgres(pool)
            }
        };
        let store = Self {
            pool,
            url: url.clone(),
            retry: options.retry,
            ready: Arc::new(AtomicBool::new(true)),
            sqlite_sync: options.sqlite_sync,
        };
        if options.migrate_on_start {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies the embedded migrations that are not applied yet (idempotent).
    ///
    /// # Errors
    /// [`Error::Migration`].
    pub async fn migrate(&self) -> Result<()> {
        let migrator = embedded(self.backend());
        let result = on_pool!(self, |pool| migrator.run(pool).await);
        result.map_err(|source| Error::Migration { source })
    }

    /// Versions of the migrations applied to this database, oldest first (empty for a fresh
    /// database).
    ///
    /// # Errors
    /// Database failures other than "no migrations table yet".
    pub async fn applied_migrations(&self) -> Result<Vec<i64>> {
        let exists: Result<bool> = on_pool!(self, |pool| {
            let sql = match self.backend() {
                BackendKind::Sqlite => {
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' \
                     AND name = '_sqlx_migrations'"
                }
                BackendKind::Postgres => "SELECT to_regclass('_sqlx_migrations') IS NOT NULL",
            };
            sqlx::query_scalar(sql)
                .fetch_one(pool)
                .await
                .map_err(|e| Error::db("applied_migrations", e))
        });
        if !exists? {
            return Ok(Vec::new());
        }
        on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| Error::db("applied_migrations", e))
        })
    }

    /// Versions of the embedded migrations, oldest first.
    #[must_use]
    pub fn embedded_migrations(backend: BackendKind) -> Vec<i64> {
        embedded(backend).iter().map(|m| m.version).collect()
    }

    /// Which backend this store uses.
    #[must_use]
    pub fn backend(&self) -> BackendKind {
        self.url.backend()
    }

    /// The database URL (redacted when printed).
    #[must_use]
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// `false` while repository calls are failing with transient errors (connection lost);
    /// `true` again after the next success. For `/readyz`.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Round-trips `SELECT 1` (no retries) and updates [`Store::is_ready`].
    ///
    /// # Errors
    /// The transient error that made the database unreachable.
    pub async fn ping(&self) -> Result<()> {
        let result = on_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()));
        let result = result.map_err(|e| Error::db("ping", e));
        self.ready.store(result.is_ok(), Ordering::Relaxed);
        result
    }

    /// Closes the pool (waits for connections to be returned).
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await);
    }

    /// Runs `op` under the retry policy, flipping readiness on transient failures.
    pub(crate) async fn retrying<T, F, Fut>(&self, op: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let ready = &self.ready;
        let result = self
            .retry
            .run(op, |transient| {
                if transient {
                    ready.store(false, Ordering::Relaxed);
                }
            })
            .await;
        if result.is_ok() {
            ready.store(true, Ordering::Relaxed);
        }
        result
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "a test should fail loudly on a broken fixture"
)]
mod tests {
    use super::*;

    /// `sqlite_sync` reaches every pooled connection as `PRAGMA synchronous` (2 = FULL,
    /// 1 = NORMAL), and FULL is the default.
    #[tokio::test]
    async fn sqlite_sync_sets_the_pragma_of_every_connection() {
        let dir = tempfile::tempdir().unwrap();
        for (sync, expected) in [
            (None, 2),
            (Some(SqliteSync::Full), 2),
            (Some(SqliteSync::Normal), 1),
        ] {
            let url = DatabaseUrl::sqlite_file(&dir.path().join(format!("{sync:?}.db")));
            let options = StoreOptions {
                sqlite_sync: sync.unwrap_or_default(),
                max_connections: 2,
                ..StoreOptions::default()
            };
            let store = Store::connect_with(&url, options).await.unwrap();
            let Pool::Sqlite(pool) = &store.pool else {
                unreachable!("a SQLite URL")
            };
            for _ in 0..3 {
                let mut a = pool.acquire().await.unwrap();
                let mut b = pool.acquire().await.unwrap();
                for conn in [&mut a, &mut b] {
                    let (value,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                        .fetch_one(&mut **conn)
                        .await
                        .unwrap();
                    assert_eq!(value, expected, "{sync:?}");
                }
            }
            store.close().await;
        }
    }
}
