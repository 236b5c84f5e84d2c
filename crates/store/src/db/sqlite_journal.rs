//! [`SqliteJournalWriter`]: the live journal's batches written to a SQLite store on the calling
//! thread.
//!
//! Through the pool, a journal commit is four round trips to sqlx's per-connection worker thread
//! (begin, the rows, commit), each a cross-thread wake-up, and every thousandth page of log
//! makes a commit wait for a checkpoint. An order waits for that commit before
//! it leaves (write-ahead), so the engine thread owns a connection of its own instead: the same
//! rows in the same transaction ([`Store::append_journal`]'s rules), with statements prepared
//! once and cached; a thread of its own checkpoints the write-ahead log while it writes, and
//! the writer's own checkpoints, which let the log restart, come ten times less often than
//! SQLite's default.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior, params};
use sqlx::sqlite::SqliteConnectOptions;
use tradepulse_model::ClientOrderId;

use super::journal::{
    ADJUSTMENTS, EVENTS, Encoded, FILLS, FILLS_ON_CONFLICT, LAST_EVENT_ID, ORDERS, Segment, encode,
    segments,
};
use super::repo::{money, multi_row_insert};
use super::{SqliteSync, Store};
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use crate::url::BackendKind;
use crate::{JournalRow, RedactedUrl};

/// How long a statement waits for another connection's write lock (the pool's writers) before
/// it fails as busy: the same as the pool's connections.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How often the checkpoint thread copies the log into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

/// Writes journal batches to a SQLite store synchronously, on the thread that calls
/// [`SqliteJournalWriter::append`]. Opened by [`Store::sqlite_journal_writer`]; shares the
/// store's readiness flag, retry policy and durability setting.
pub struct SqliteJournalWriter {
    connection: Connection,
    url: RedactedUrl,
    retry: RetryPolicy,
    ready: Arc<AtomicBool>,
    statements: Statements,
    _checkpointer: Checkpointer,
}

/// The journal's one-row inserts in SQLite's text, made once.
struct Statements {
    order: String,
    event: String,
    fill: String,
    adjustment: String,
}

impl Statements {
    fn new() -> Self {
        let one = |(head, columns): (&str, usize)| {
            multi_row_insert(BackendKind::Sqlite, head, columns, 1)
        };
        Self {
            order: one(ORDERS),
            event: one(EVENTS),
            fill: one(FILLS) + FILLS_ON_CONFLICT,
            adjustment: one(ADJUSTMENTS),
        }
    }
}

/// The thread that checkpoints the log while the writer writes; stopped and joined when the
/// writer is dropped.
struct Checkpointer {
    stop: mpsc::Sender<()>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let _ = self.stop.send(());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for SqliteJournalWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteJournalWriter")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A synchronous writer of journal batches for a SQLite file store; `None` for PostgreSQL
    /// and in-memory SQLite (whose batches go through the pool, [`Store::append_journal`]).
    /// Call it after the store is migrated (it writes the journal's tables, it creates none).
    ///
    /// # Errors
    /// [`Error::Sqlite`] if the file cannot be opened or configured.
    pub fn sqlite_journal_writer(&self) -> Result<Option<SqliteJournalWriter>> {
        if self.backend() != BackendKind::Sqlite {
            return Ok(None);
        }
        let Some(path) = sqlite_file(self.url().expose_secret()) else {
            return Ok(None);
        };
        let connection = open(&path, self.sqlite_sync)?;
        connection
            .pragma_update(None, "wal_autocheckpoint", super::SQLITE_CHECKPOINT_PAGES)
            .map_err(|e| Error::sqlite("open journal writer", e))?;
        let checkpoints = open(&path, self.sqlite_sync)?;
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("journal-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoints, &stopped))
            .map_err(|source| Error::Runtime { source })?;
        Ok(Some(SqliteJournalWriter {
            connection,
            url: self.url().redacted(),
            retry: self.retry,
            ready: Arc::clone(&self.ready),
            statements: Statements::new(),
            _checkpointer: Checkpointer {
                stop,
                thread: Some(thread),
            },
        }))
    }
}

/// The file of a `sqlite:` URL, or `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let path = options.get_filename();
    let text = path.to_str()?;
    if text.is_empty() || text == ":memory:" || text.contains("mode=memory") {
        return None;
    }
    Some(path.to_path_buf())
}

fn open(path: &std::path::Path, sync: SqliteSync) -> Result<Connection> {
    let op = "open journal writer";
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::sqlite(op, e))?;
    connection
        .busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| Error::sqlite(op, e))?;
    // The pool's connections set the same: the log mode is the file's, the rest per connection.
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| Error::sqlite(op, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::InvalidValue {
            what: "SQLite journal mode",
            reason: "the database file refuses write-ahead-log mode",
        });
    }
    let synchronous = match sync {
        SqliteSync::Full => "FULL",
        SqliteSync::Normal => "NORMAL",
    };
    connection
        .pragma_update(None, "synchronous", synchronous)
        .map_err(|e| Error::sqlite(op, e))?;
    connection
        .pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| Error::sqlite(op, e))?;
    Ok(connection)
}

/// Copies the log into the database file every [`CHECKPOINT_INTERVAL`], so the bulk of the
/// copying and syncing happens on this thread and the writer's own checkpoint (every
/// [`super::SQLITE_CHECKPOINT_PAGES`], which lets the log restart from its beginning) finds
/// little left to do.
fn checkpoint_loop(connection: &Connection, stop: &mpsc::Receiver<()>) {
    // PASSIVE: never waits for a lock, so the writer is never held up by it; a busy moment is
    // simply checkpointed next time. (A RESTART after it, to let the log start over, held the
    // writer off for the length of its syncs: the 2,000 orders/s run's p99 went from 8 to 18 ms.)
    let checkpoint = || {
        let _ = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    };
    loop {
        match stop.recv_timeout(CHECKPOINT_INTERVAL) {
            Err(RecvTimeoutError::Timeout) => checkpoint(),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl SqliteJournalWriter {
    /// Writes a batch of journal rows in one transaction, with the rules of
    /// [`Store::append_journal`] (same order, same duplicate handling, same errors); retries
    /// transient failures (a busy database) with the store's policy, on this thread.
    ///
    /// # Errors
    /// [`Error::DuplicateClientOrderId`], [`Error::Conflict`], [`Error::NotFound`] as
    /// [`Store::append_journal`]; [`Error::Sqlite`] for other failures. Nothing of the batch
    /// is stored then.
    pub fn append(&mut self, rows: &[JournalRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let encoded: Vec<Encoded<'_>> = rows.iter().map(encode).collect();
        let mut attempt = 1;
        loop {
            match self.write(&encoded) {
                Ok(()) => {
                    self.ready.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                Err(error) => {
                    let transient = error.is_transient();
                    if transient {
                        self.ready.store(false, Ordering::Relaxed);
                    }
                    if !transient || attempt >= self.retry.max_attempts {
                        return Err(error);
                    }
                    std::thread::sleep(self.retry.backoff(attempt));
                    attempt += 1;
                }
            }
        }
    }

    fn write(&mut self, encoded: &[Encoded<'_>]) -> Result<()> {
        const OP: &str = "append_journal";
        // IMMEDIATE: the write lock is taken at the start, waiting (busy timeout) for the pool's
        // writers; a deferred transaction that read first (an adjustment's last event id) would
        // fail at once when it upgrades after another connection's commit.
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| Error::sqlite(OP, e))?;
        for segment in segments(encoded) {
            match segment {
                Segment::Adjustment(a) => {
                    let after: i64 = tx
                        .prepare_cached(LAST_EVENT_ID)
                        .and_then(|mut s| s.query_row([], |row| row.get(0)))
                        .map_err(|e| Error::sqlite(OP, e))?;
                    tx.prepare_cached(&self.statements.adjustment)
                        .and_then(|mut s| {
                            s.execute(params![
                                after,
                                a.ts.as_nanos(),
                                a.asset,
                                money(a.amount),
                                a.price.raw(),
                                a.reason
                            ])
                        })
                        .map_err(|e| Error::sqlite(OP, e))?;
                }
                Segment::Rows {
                    orders,
                    events,
                    fills,
                } => write_rows(&tx, &self.statements, &orders, &events, &fills)?,
            }
        }
        tx.commit().map_err(|e| Error::sqlite(OP, e))
    }
}

fn write_rows(
    tx: &Transaction<'_>,
    statements: &Statements,
    orders: &[&super::journal::EncodedOrder<'_>],
    events: &[(&super::records::OrderEvent, &String)],
    fills: &[&super::records::StoredFill],
) -> Result<()> {
    const OP: &str = "append_journal";
    if !orders.is_empty() {
        let mut insert = tx
            .prepare_cached(&statements.order)
            .map_err(|e| Error::sqlite(OP, e))?;
        for o in orders {
            let r = &o.record.request;
            insert
                .execute(params![
                    r.client_order_id.as_str(),
                    o.instrument,
                    r.side.as_str(),
                    r.kind.as_str(),
                    o.limit,
                    o.trigger,
                    r.quantity.raw(),
                    r.time_in_force.as_str(),
                    o.record.strategy,
                    o.record.created_at.as_nanos()
                ])
                .map_err(|e| {
                    if constraint(&e) == Some(Constraint::Unique) {
                        Error::DuplicateClientOrderId {
                            client_order_id: r.client_order_id,
                        }
                    } else {
                        Error::sqlite(OP, e)
                    }
                })?;
        }
    }
    if !events.is_empty() {
        let mut insert = tx
            .prepare_cached(&statements.event)
            .map_err(|e| Error::sqlite(OP, e))?;
        for (e, payload) in events {
            insert
                .execute(params![
                    e.client_order_id.as_str(),
                    e.seq,
                    e.kind,
                    e.ts.as_nanos(),
                    payload
                ])
                .map_err(|err| row_error(OP, "order_events", err, e.client_order_id, e.seq))?;
        }
    }
    if !fills.is_empty() {
        let mut insert = tx
            .prepare_cached(&statements.fill)
            .map_err(|e| Error::sqlite(OP, e))?;
        for s in fills {
            let f = &s.fill;
            insert
                .execute(params![
                    f.client_order_id.as_str(),
                    s.seq,
                    f.ts.as_nanos(),
                    f.side.as_str(),
                    f.quantity.raw(),
                    f.price.raw(),
                    money(f.fee),
                    f.liquidity.as_str(),
                    f.venue_order_id.as_str(),
                    f.trade_id.as_str(),
                    f.fee_asset.as_str()
                ])
                .map_err(|err| row_error(OP, "fills", err, f.client_order_id, s.seq))?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Constraint {
    Unique,
    ForeignKey,
    Other,
}

fn constraint(error: &rusqlite::Error) -> Option<Constraint> {
    let rusqlite::Error::SqliteFailure(failure, _) = error else {
        return None;
    };
    if failure.code != ErrorCode::ConstraintViolation {
        return None;
    }
    Some(match failure.extended_code {
        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            Constraint::Unique
        }
        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Constraint::ForeignKey,
        _ => Constraint::Other,
    })
}

fn row_error(
    op: &'static str,
    table: &'static str,
    error: rusqlite::Error,
    id: ClientOrderId,
    seq: i64,
) -> Error {
    match constraint(&error) {
        Some(Constraint::Unique) => Error::Conflict {
            table,
            key: format!("({id}, {seq})"),
        },
        Some(Constraint::ForeignKey) => Error::NotFound {
            table: "orders",
            key: id.to_string(),
        },
        _ => Error::sqlite(op, error),
    }
}
