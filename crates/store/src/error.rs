//! [`Error`]: everything that can go wrong in the store, grouped by what the caller should do
//! ([`Action`]).

use std::path::PathBuf;
use std::time::Duration;

use tradepulse_model::ClientOrderId;

use crate::url::{BackendKind, RedactedUrl};

/// What a caller should do about an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The failure is transient (network, server restarting, lock contention): retry with
    /// backoff; nothing was committed by the failed attempt.
    Retry,
    /// The request or configuration is wrong: fix it; retrying the same request fails again.
    FixInput,
    /// The store is in a state the program cannot handle (failed migration, corrupt row): stop
    /// and page an operator.
    Halt,
}

/// A store error. Messages never contain secrets: database URLs are shown redacted. The
/// underlying driver error is the [`std::error::Error::source`], not repeated in the message
/// (print the chain, e.g. anyhow's `{:#}`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- retry -----
    /// The database could not be reached when connecting.
    #[error("cannot connect to {backend} at {url} (is the server running and reachable?)")]
    Unreachable {
        /// Which backend.
        backend: BackendKind,
        /// The URL, password redacted.
        url: RedactedUrl,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// Connecting did not finish within the configured timeout.
    #[error(
        "cannot connect to {backend} at {url}: no answer within {after:?} (is the server running and reachable?)"
    )]
    ConnectTimeout {
        /// Which backend.
        backend: BackendKind,
        /// The URL, password redacted.
        url: RedactedUrl,
        /// The timeout that expired.
        after: Duration,
    },
    /// A transient database failure (connection lost, serialisation failure, database busy).
    #[error("transient database failure during {op}; retry")]
    Transient {
        /// The repository operation.
        op: &'static str,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// A statement of the live journal's SQLite writer failed; transient when the database
    /// was busy or locked, the disk full or the file unreadable (see [`Error::action`]).
    #[error("SQLite {op} failed")]
    Sqlite {
        /// The operation.
        op: &'static str,
        /// The driver error.
        #[source]
        source: rusqlite::Error,
    },
    /// A Redis command failed.
    #[error("redis {op} failed")]
    Redis {
        /// The command or operation.
        op: &'static str,
        /// The client error.
        #[source]
        source: redis::RedisError,
    },
    /// A Redis connection or command did not finish in time.
    #[error("redis {op} at {url}: no answer within {after:?} (is Redis running and reachable?)")]
    RedisTimeout {
        /// The command or operation.
        op: &'static str,
        /// The URL, password redacted.
        url: RedactedUrl,
        /// The timeout that expired.
        after: Duration,
    },

    // ----- fix input -----
    /// An order with this client order id already exists (client order ids are unique forever).
    #[error("client order id {client_order_id} already exists; choose a new id (never reuse one)")]
    DuplicateClientOrderId {
        /// The offending id.
        client_order_id: ClientOrderId,
    },
    /// A row with this key already exists in an append-only or keyed table.
    #[error("{table}: a row with key {key} already exists")]
    Conflict {
        /// Table name.
        table: &'static str,
        /// The key, as text.
        key: String,
    },
    /// A referenced row does not exist.
    #[error("{table}: no row with key {key}")]
    NotFound {
        /// Table name.
        table: &'static str,
        /// The key, as text.
        key: String,
    },
    /// The database or Redis URL cannot be used.
    #[error("invalid {what} URL {url}: {reason}")]
    InvalidUrl {
        /// `database` or `redis`.
        what: &'static str,
        /// The URL, password redacted.
        url: RedactedUrl,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A `*_FILE` secret mount could not be read.
    #[error("cannot read secret file {path} (from {var})")]
    SecretFile {
        /// The environment variable that named the file.
        var: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A value handed to the store breaks a rule.
    #[error("invalid {what}: {reason}")]
    InvalidValue {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A value could not be serialised to JSON.
    #[error("cannot encode {what} as JSON")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
    /// A stream entry cannot be decoded into the consumer's type. It stays pending: acknowledge
    /// it (or copy it to a dead-letter stream first) and read again.
    #[error("stream entry {id} cannot be decoded: {reason}; acknowledge or dead-letter it")]
    PoisonEntry {
        /// The Redis entry id.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The database rejected a statement for a reason that is not transient (constraint, type).
    #[error("database rejected {op}")]
    Rejected {
        /// The repository operation.
        op: &'static str,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },

    // ----- halt -----
    /// Applying the embedded migrations failed.
    #[error("database migration failed; the schema may be newer than this binary")]
    Migration {
        /// The migrator error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The async runtime for a blocking call could not be started.
    #[error("cannot start the async runtime")]
    Runtime {
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A stored value cannot be decoded (corrupt row or schema drift).
    #[error("corrupt value in {table}.{column}: {value:?}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// The stored text.
        value: String,
    },
    /// A stored sweep shard record or trial is missing a field or holds one that cannot be
    /// decoded (a corrupt row, or one written by an older version).
    #[error("sweep '{sweep_id}', {record}: {reason}")]
    CorruptSweep {
        /// The sweep.
        sweep_id: String,
        /// Which record (`trial 7`, `shard record 2`).
        record: String,
        /// The field and what is wrong with it.
        reason: String,
    },
    /// A stored JSON document (checkpoint, stream entry) cannot be decoded into the asked type.
    #[error("cannot decode {what} from JSON")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The serde error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// What the caller should do.
    #[must_use]
    pub fn action(&self) -> Action {
        match self {
            Self::Unreachable { .. }
            | Self::ConnectTimeout { .. }
            | Self::Transient { .. }
            | Self::RedisTimeout { .. } => Action::Retry,
            Self::Sqlite { source, .. } => {
                if rusqlite_is_transient(source) {
                    Action::Retry
                } else {
                    Action::FixInput
                }
            }
            Self::Redis { source, .. } => {
                if redis_is_transient(source) {
                    Action::Retry
                } else {
                    Action::Halt
                }
            }
            Self::DuplicateClientOrderId { .. }
            | Self::Conflict { .. }
            | Self::NotFound { .. }
            | Self::InvalidUrl { .. }
            | Self::SecretFile { .. }
            | Self::InvalidValue { .. }
            | Self::Encode { .. }
            | Self::PoisonEntry { .. }
            | Self::Rejected { .. } => Action::FixInput,
            Self::Migration { .. }
            | Self::Runtime { .. }
            | Self::Corrupt { .. }
            | Self::CorruptSweep { .. }
            | Self::Decode { .. } => Action::Halt,
        }
    }

    /// `true` when retrying may succeed ([`Action::Retry`]).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.action() == Action::Retry
    }

    /// Classifies a driver error from operation `op`.
    pub(crate) fn db(op: &'static str, source: sqlx::Error) -> Self {
        if sqlx_is_transient(&source) {
            Self::Transient { op, source }
        } else {
            Self::Rejected { op, source }
        }
    }

    pub(crate) fn sqlite(op: &'static str, source: rusqlite::Error) -> Self {
        Self::Sqlite { op, source }
    }

    pub(crate) fn redis(op: &'static str, source: redis::RedisError) -> Self {
        Self::Redis { op, source }
    }
}

/// `true` for driver errors worth retrying: I/O, pool exhaustion, PostgreSQL connection
/// exceptions (class 08), serialisation failures and deadlocks (40001, 40P01), server shutdown
/// (57P0x), and SQLite busy/locked.
pub(crate) fn sqlx_is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code == "40001"
                || code == "40P01"
                || code.starts_with("57P0")
                // SQLite primary result codes BUSY (5) and LOCKED (6), possibly extended.
                || code == "5"
                || code == "6"
                || code.parse::<i32>().is_ok_and(|c| c & 0xff == 5 || c & 0xff == 6)
        }),
        _ => false,
    }
}

/// `true` for SQLite failures another attempt may get past: busy or locked (another writer),
/// I/O errors, a full disk, a file that cannot be opened right now.
fn rusqlite_is_transient(error: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode;
    matches!(
        error.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::CannotOpen
        )
    )
}

fn redis_is_transient(error: &redis::RedisError) -> bool {
    error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(
            error.code(),
            Some("LOADING" | "TRYAGAIN" | "BUSY" | "MASTERDOWN")
        )
}

/// `true` when `error` is a unique-constraint violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `Result` with the store's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
