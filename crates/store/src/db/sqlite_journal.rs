//! [`SqliteJournalWriter`]: the live journal's batches written to a SQLite store on the calling
//! thread.
//!
//! Through the pool, a journal commit is four round trips to sqlx's per-connection worker thread
//! (begin, the rows, commit), each a cross-thread wake-up, and every thousandth page of log
//! makes a commit wait for a checkpoint. An order waits for that commit before
//! it leaves (write-ahead), so the engine thread owns a connection of its own instead: the same
//! rows in the same transaction ([`Store::append_journal`]'s rules), with statements prepared
//! once and cached.
//!
//! The write-ahead log is checkpointed by a thread of its own, never by the writer's commits.
//! A checkpoint that runs while the writer commits copies the log up to its start, so under a
//! steady load the log would never be wholly copied and could never start over: it would grow
//! until the writer's own checkpoint (a commit that copies and syncs, with every order behind
//! it waiting). So the thread copies the bulk of the log concurrently, and once the log is
//! [`RESTART_PAGES`] long it copies the little written meanwhile with the writer held off
//! between two commits (a mutex, not SQLite's busy waiting, so the writer resumes as soon as
//! that copy and its syncs are done: 0.5–1.8 ms measured at 2,000 orders/s); the writer's next
//! commit then starts the log over. When more than [`GATED_PAGES_MAX`] pages were written
//! during the last concurrent pass (the pool writing a sweep's trials, say), it does not hold
//! the writer off that round.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
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

/// How long a statement waits for another connection's write lock (the pool's writers, e.g.
/// the audit log's batches) before it fails as busy: about the pool's 5 s, in short steps.
/// SQLite's own busy timeout sleeps 1, 2, 5, 10 … ms between tries, so an order whose commit met
/// a pool commit of a few hundred microseconds waited a millisecond or more; the first
/// [`BUSY_FINE_TRIES`] tries here are [`BUSY_FINE_STEP`] apart, then a millisecond.
const BUSY_FINE_STEP: Duration = Duration::from_micros(50);
const BUSY_FINE_TRIES: i32 = 1_000;
const BUSY_COARSE_TRIES: i32 = 5_000;

fn wait_for_lock(tries: i32) -> bool {
    if tries < BUSY_FINE_TRIES {
        std::thread::sleep(BUSY_FINE_STEP);
        true
    } else if tries < BUSY_FINE_TRIES + BUSY_COARSE_TRIES {
        std::thread::sleep(Duration::from_millis(1));
        true
    } else {
        false
    }
}

/// How often the checkpoint thread copies the log into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// Log pages (4 KiB) after which the checkpoint thread lets the log start over (at 2,000
/// orders/s, ~20,000 pages a second, at every [`CHECKPOINT_INTERVAL`]): well below the pool's
/// own checkpoint threshold ([`super::SQLITE_CHECKPOINT_PAGES`]), so no commit of the pool's
/// checkpoints either.
const RESTART_PAGES: i64 = 4_000;

/// Most pages the copy with the writer held off may have to copy (those written during the last
/// concurrent pass): more, and the round is skipped rather than hold orders up for long.
const GATED_PAGES_MAX: i64 = 1_024;

/// Concurrent passes at most before the one with the writer held off.
const CONCURRENT_PASSES: usize = 4;

/// The writer's own checkpoint threshold: only reached if the log cannot start over for a long
/// time (a reader holding an old snapshot), so the file still stays bounded (~400 MB).
const WRITER_CHECKPOINT_PAGES: i64 = 100_000;

/// Writes journal batches to a SQLite store synchronously, on the thread that calls
/// [`SqliteJournalWriter::append`]. Opened by [`Store::sqlite_journal_writer`]; shares the
/// store's readiness flag, retry policy and durability setting.
pub struct SqliteJournalWriter {
    connection: Connection,
    url: RedactedUrl,
    retry: RetryPolicy,
    ready: Arc<AtomicBool>,
    statements: Statements,
    /// Held for each transaction; the checkpoint thread holds it to copy the end of the log.
    gate: Arc<Mutex<()>>,
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
            .pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
            .map_err(|e| Error::sqlite("open journal writer", e))?;
        let checkpoints = open(&path, self.sqlite_sync)?;
        let gate = Arc::new(Mutex::new(()));
        let (stop, stopped) = mpsc::channel();
        let thread = {
            let gate = Arc::clone(&gate);
            std::thread::Builder::new()
                .name("journal-checkpoint".into())
                .spawn(move || checkpoint_loop(&checkpoints, &gate, &stopped, RESTART_PAGES))
                .map_err(|source| Error::Runtime { source })?
        };
        Ok(Some(SqliteJournalWriter {
            connection,
            url: self.url().redacted(),
            retry: self.retry,
            ready: Arc::clone(&self.ready),
            statements: Statements::new(),
            gate,
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
        .busy_handler(Some(wait_for_lock))
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

/// Copies the log into the database file every [`CHECKPOINT_INTERVAL`] and, once it is
/// [`RESTART_PAGES`] long, lets it start over (see the module's documentation).
fn checkpoint_loop(
    connection: &Connection,
    gate: &Mutex<()>,
    stop: &mpsc::Receiver<()>,
    restart_pages: i64,
) {
    // PASSIVE: never waits for SQLite's locks; a busy moment is simply checkpointed next time.
    // (A RESTART checkpoint instead held the writer off through SQLite's busy waiting for the
    // length of its syncs: the 2,000 orders/s run's p99 went from 8 to 18 ms.) The answer is
    // the log's length and how much of it is copied.
    let checkpoint = || {
        connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
                Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
            })
            .ok()
    };
    loop {
        match stop.recv_timeout(CHECKPOINT_INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let Some((log, _)) = checkpoint() else {
            continue;
        };
        if log < restart_pages {
            continue;
        }
        // What was written during that pass, still concurrently, until little is (a pass copies
        // the log as long as it was when the pass began); then the end of the log between two
        // of the writer's commits, so the whole log is copied and its next commit restarts it.
        let mut before = log;
        let mut written = i64::MAX;
        for _ in 0..CONCURRENT_PASSES {
            let Some((now, _)) = checkpoint() else {
                break;
            };
            written = now - before;
            before = now;
            if written <= GATED_PAGES_MAX / 4 {
                break;
            }
        }
        if written <= GATED_PAGES_MAX {
            let _writer_waits = gate.lock().unwrap_or_else(PoisonError::into_inner);
            checkpoint();
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
        let gate = Arc::clone(&self.gate);
        let _no_checkpoint = gate.lock().unwrap_or_else(PoisonError::into_inner);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Pages in the log file of `db`.
    fn log_pages(db: &std::path::Path) -> u64 {
        let wal = db.with_extension("db-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len() / 4096)
    }

    /// Under writes without a pause, the checkpoint thread still lets the log start over: its
    /// file stays near the restart length instead of growing with every commit. (Without the
    /// gate, every checkpoint overlaps a commit, and the log grows to the writer's threshold.)
    #[test]
    fn the_log_starts_over_under_continuous_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("j.db");
        drop(Connection::open(&db).unwrap());
        let writer = open(&db, SqliteSync::Normal).unwrap();
        writer
            .pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)
            .unwrap();
        writer
            .execute_batch(
                "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX tv ON t (v)",
            )
            .unwrap();
        let gate = Arc::new(Mutex::new(()));
        let (stop, stopped) = mpsc::channel();
        let checkpoints = open(&db, SqliteSync::Normal).unwrap();
        let thread = {
            let gate = Arc::clone(&gate);
            std::thread::spawn(move || checkpoint_loop(&checkpoints, &gate, &stopped, 200))
        };
        let mut most = 0;
        let started = std::time::Instant::now();
        let mut written = 0u64;
        while started.elapsed() < Duration::from_secs(3) {
            {
                let _held = gate.lock().unwrap();
                // A random index page per commit, as the journal's inserts touch.
                writer
                    .execute(
                        "INSERT INTO t (v) VALUES (?1)",
                        [format!(
                            "{:016x}",
                            written.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                        )],
                    )
                    .unwrap();
            }
            written += 1;
            // The engine thread does other work between its commits.
            std::thread::yield_now();
            most = most.max(log_pages(&db));
        }
        drop(stop);
        thread.join().unwrap();
        let frames: i64 = writer
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap();
        assert!(written > 1_000, "only {written} commits");
        // Each commit adds at least one frame (two here: a table and an index page), so a log
        // that never started over would hold at least `written` pages; it starts over about
        // every checkpoint interval, a dozen times in the run.
        assert!(
            most < written / 2,
            "the log file reached {most} pages after {written} commits (log now {frames} frames)"
        );
    }
}
