//! The live execution engine's journal: sessions, one transaction per batch of orders, order
//! events, fills and balance adjustments (group commit), and reading it all back in the order
//! it was written for a restart.

use sqlx::AssertSqlSafe;
use tradepulse_model::{Money, Price, UnixNanos};

use super::records::{OrderEvent, OrderRecord, StoredFill};
use super::repo::{decode_event, decode_order, kind_prices, money, multi_row_insert};
use super::row::{Columns, Decode};
use super::{Store, on_pool};
use crate::error::{Error, Result, is_unique_violation};

/// Rows per multi-row `INSERT` (at most 11 parameters each: well under SQLite's 32,766 and
/// PostgreSQL's 65,535 parameters per statement).
const ROWS_PER_INSERT: usize = 400;

/// The journal's inserts, `(head, parameters per row)`, shared by the pool's multi-row batches
/// and the SQLite writer's one-row statements ([`multi_row_insert`] adds the values).
pub(super) const ORDERS: (&str, usize) = (
    "INSERT INTO orders (client_order_id, instrument, side, kind, limit_price_raw, \
     trigger_price_raw, quantity_raw, time_in_force, strategy, created_at_ns)",
    10,
);
pub(super) const EVENTS: (&str, usize) = (
    "INSERT INTO order_events (client_order_id, seq, kind, ts_ns, payload_json)",
    5,
);
pub(super) const FILLS: (&str, usize) = (
    "INSERT INTO fills (client_order_id, seq, ts_ns, side, quantity_raw, price_raw, fee_money, \
     liquidity, venue_order_id, trade_id, fee_asset)",
    11,
);
/// A trade id stored for the order already is a repeated report: skipped.
pub(super) const FILLS_ON_CONFLICT: &str = " ON CONFLICT DO NOTHING";
pub(super) const ADJUSTMENTS: (&str, usize) = (
    "INSERT INTO balance_adjustments (after_event_id, ts_ns, asset, amount_money, price_raw, \
     reason)",
    6,
);
/// The id an adjustment is booked after.
pub(super) const LAST_EVENT_ID: &str = "SELECT COALESCE(MAX(id), 0) FROM order_events";

/// An external change of a balance, as journaled (see `balance_adjustments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceAdjustment {
    /// The `order_events.id` it was booked after (0 before any event); assigned when written.
    pub after_event_id: i64,
    /// When.
    pub ts: UnixNanos,
    /// Asset code.
    pub asset: String,
    /// Signed change.
    pub amount: Money,
    /// Cost per unit when the asset is an instrument's base asset.
    pub price: Price,
    /// Why (`opening balance`, `reconciliation`, `deposit`, …).
    pub reason: String,
}

/// One row of a journal batch ([`Store::append_journal`]), in the order things happened.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalRow {
    /// A new order (written before it is sent).
    Order(OrderRecord),
    /// An event of an order written in this or an earlier batch.
    Event(OrderEvent),
    /// An execution of an order; a trade id already stored for the order is skipped (a venue
    /// repeats reports).
    Fill(StoredFill),
    /// An external balance change.
    Adjustment(BalanceAdjustment),
}

/// An order event with the id that orders it among all events.
#[derive(Debug, Clone, PartialEq)]
pub struct JournaledEvent {
    /// `order_events.id`: the order in which events were written.
    pub id: i64,
    /// The event.
    pub event: OrderEvent,
}

/// Everything a live engine journaled, for a restart ([`Store::load_journal`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadedJournal {
    /// Every order, in no particular order (events say when each was submitted).
    pub orders: Vec<OrderRecord>,
    /// Every order event, in the order written.
    pub events: Vec<JournaledEvent>,
    /// Every balance adjustment, in the order written.
    pub adjustments: Vec<BalanceAdjustment>,
}

impl Store {
    /// Starts a live session of `service` and returns its id, unique in this database (an
    /// identity column: two processes, or a process and its restart, never get the same one).
    ///
    /// # Errors
    /// Database failures.
    pub async fn start_session(
        &self,
        service: &str,
        host: &str,
        pid: u32,
        at: UnixNanos,
    ) -> Result<i64> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query_scalar(
                    "INSERT INTO live_sessions (service, host, pid, started_at_ns) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(service)
                .bind(host)
                .bind(i64::from(pid))
                .bind(at.as_nanos())
                .fetch_one(pool)
                .await
                .map_err(|e| Error::db("start_session", e))
            })
        })
        .await
    }

    /// Writes a batch of journal rows in **one transaction**, in order: orders, events and
    /// fills as multi-row inserts, each adjustment after the events before it. A live engine
    /// calls this once per batch of orders before any of them is sent (write-ahead, group
    /// commit). A fill whose `(client_order_id, trade_id)` is stored already is skipped.
    ///
    /// Assumes one writer per database (one engine per account): an adjustment's
    /// `after_event_id` is the largest event id at the time it is written.
    ///
    /// # Errors
    /// [`Error::DuplicateClientOrderId`] if an order's id exists; [`Error::Conflict`] for an
    /// event `(client_order_id, seq)` that exists; [`Error::NotFound`] for an event or fill of
    /// an order never stored; [`Error::Transient`] once the retries are used up. Nothing of the
    /// batch is stored then.
    pub async fn append_journal(&self, rows: &[JournalRow]) -> Result<()> {
        const OP: &str = "append_journal";
        if rows.is_empty() {
            return Ok(());
        }
        let encoded: Vec<Encoded> = rows.iter().map(encode).collect();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await.map_err(|e| Error::db(OP, e))?;
                for segment in segments(&encoded) {
                    match segment {
                        Segment::Adjustment(a) => {
                            let after: i64 = sqlx::query_scalar(LAST_EVENT_ID)
                                .fetch_one(&mut *tx)
                                .await
                                .map_err(|e| Error::db(OP, e))?;
                            sqlx::query(AssertSqlSafe(multi_row_insert(
                                self.backend(),
                                ADJUSTMENTS.0,
                                ADJUSTMENTS.1,
                                1,
                            )))
                            .bind(after)
                            .bind(a.ts.as_nanos())
                            .bind(&a.asset)
                            .bind(money(a.amount))
                            .bind(a.price.raw())
                            .bind(&a.reason)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| Error::db(OP, e))?;
                        }
                        Segment::Rows {
                            orders,
                            events,
                            fills,
                        } => {
                            for chunk in orders.chunks(ROWS_PER_INSERT) {
                                let sql = multi_row_insert(
                                    self.backend(),
                                    ORDERS.0,
                                    ORDERS.1,
                                    chunk.len(),
                                );
                                let mut q = sqlx::query(AssertSqlSafe(sql));
                                for o in chunk {
                                    let r = &o.record.request;
                                    q = q
                                        .bind(r.client_order_id.as_str())
                                        .bind(o.instrument.as_str())
                                        .bind(r.side.as_str())
                                        .bind(r.kind.as_str())
                                        .bind(o.limit)
                                        .bind(o.trigger)
                                        .bind(r.quantity.raw())
                                        .bind(r.time_in_force.as_str())
                                        .bind(o.record.strategy.as_str())
                                        .bind(o.record.created_at.as_nanos());
                                }
                                q.execute(&mut *tx).await.map_err(|e| {
                                    if is_unique_violation(&e) {
                                        Error::DuplicateClientOrderId {
                                            client_order_id: chunk[0]
                                                .record
                                                .request
                                                .client_order_id,
                                        }
                                    } else {
                                        Error::db(OP, e)
                                    }
                                })?;
                            }
                            for chunk in events.chunks(ROWS_PER_INSERT) {
                                let sql = multi_row_insert(
                                    self.backend(),
                                    EVENTS.0,
                                    EVENTS.1,
                                    chunk.len(),
                                );
                                let mut q = sqlx::query(AssertSqlSafe(sql));
                                for (e, payload) in chunk {
                                    q = q
                                        .bind(e.client_order_id.as_str())
                                        .bind(e.seq)
                                        .bind(e.kind.as_str())
                                        .bind(e.ts.as_nanos())
                                        .bind(payload.as_str());
                                }
                                q.execute(&mut *tx).await.map_err(|e| {
                                    row_error(OP, "order_events", e, &chunk[0].0.client_order_id)
                                })?;
                            }
                            for chunk in fills.chunks(ROWS_PER_INSERT) {
                                let mut sql =
                                    multi_row_insert(self.backend(), FILLS.0, FILLS.1, chunk.len());
                                sql.push_str(FILLS_ON_CONFLICT);
                                let mut q = sqlx::query(AssertSqlSafe(sql));
                                for s in chunk {
                                    let f = &s.fill;
                                    q = q
                                        .bind(f.client_order_id.as_str())
                                        .bind(s.seq)
                                        .bind(f.ts.as_nanos())
                                        .bind(f.side.as_str())
                                        .bind(f.quantity.raw())
                                        .bind(f.price.raw())
                                        .bind(money(f.fee))
                                        .bind(f.liquidity.as_str())
                                        .bind(f.venue_order_id.as_str())
                                        .bind(f.trade_id.as_str())
                                        .bind(f.fee_asset.as_str());
                                }
                                q.execute(&mut *tx).await.map_err(|e| {
                                    row_error(OP, "fills", e, &chunk[0].fill.client_order_id)
                                })?;
                            }
                        }
                    }
                }
                tx.commit().await.map_err(|e| Error::db(OP, e))
            })
        })
        .await
    }

    /// Reads back everything [`Store::append_journal`] wrote: every order, every event in the
    /// order written, every balance adjustment.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn load_journal(&self) -> Result<LoadedJournal> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                // One read transaction: a snapshot in which every event has its order row,
                // even while another process is appending.
                let mut tx = pool
                    .begin()
                    .await
                    .map_err(|e| Error::db("load_journal", e))?;
                if self.backend() == crate::url::BackendKind::Postgres {
                    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| Error::db("load_journal", e))?;
                }
                let orders = sqlx::query("SELECT * FROM orders")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| Error::db("load_journal", e))?;
                let orders = orders.iter().map(decode_order).collect::<Result<_>>()?;
                let events = sqlx::query("SELECT * FROM order_events ORDER BY id")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| Error::db("load_journal", e))?;
                let events = events
                    .iter()
                    .map(|row| {
                        Ok(JournaledEvent {
                            id: row.i64("id")?,
                            event: decode_event(row)?,
                        })
                    })
                    .collect::<Result<_>>()?;
                let adjustments = sqlx::query("SELECT * FROM balance_adjustments ORDER BY id")
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| Error::db("load_journal", e))?;
                let adjustments = adjustments
                    .iter()
                    .map(|row| {
                        let d = Decode {
                            row,
                            table: "balance_adjustments",
                        };
                        Ok(BalanceAdjustment {
                            after_event_id: row.i64("after_event_id")?,
                            ts: d.time("ts_ns")?,
                            asset: row.text("asset")?,
                            amount: d.money("amount_money")?,
                            price: Price::from_raw(row.i64("price_raw")?),
                            reason: row.text("reason")?,
                        })
                    })
                    .collect::<Result<_>>()?;
                tx.commit()
                    .await
                    .map_err(|e| Error::db("load_journal", e))?;
                Ok(LoadedJournal {
                    orders,
                    events,
                    adjustments,
                })
            })
        })
        .await
    }

    /// Every stored fill, in no particular order (for checks and the API).
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn all_fills(&self) -> Result<Vec<StoredFill>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM fills")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("all_fills", e))?;
                rows.iter().map(super::repo::decode_fill).collect()
            })
        })
        .await
    }
}

fn row_error(
    op: &'static str,
    table: &'static str,
    e: sqlx::Error,
    first: &tradepulse_model::ClientOrderId,
) -> Error {
    if is_unique_violation(&e) {
        Error::Conflict {
            table,
            key: format!("(client_order_id, seq) in the batch starting at {first}"),
        }
    } else if matches!(&e, sqlx::Error::Database(db) if db.is_foreign_key_violation()) {
        Error::NotFound {
            table: "orders",
            key: format!("a client_order_id of the batch starting at {first}"),
        }
    } else {
        Error::db(op, e)
    }
}

/// A row with its text columns prepared once (a retried transaction reuses them).
pub(super) enum Encoded<'a> {
    Order(EncodedOrder<'a>),
    Event(&'a OrderEvent, String),
    Fill(&'a StoredFill),
    Adjustment(&'a BalanceAdjustment),
}

pub(super) struct EncodedOrder<'a> {
    pub(super) record: &'a OrderRecord,
    pub(super) instrument: String,
    pub(super) limit: Option<i64>,
    pub(super) trigger: Option<i64>,
}

pub(super) fn encode(row: &JournalRow) -> Encoded<'_> {
    match row {
        JournalRow::Order(record) => {
            let (limit, trigger) = kind_prices(&record.request.kind);
            Encoded::Order(EncodedOrder {
                record,
                instrument: record.request.instrument.to_string(),
                limit,
                trigger,
            })
        }
        JournalRow::Event(e) => Encoded::Event(e, e.payload.to_string()),
        JournalRow::Fill(f) => Encoded::Fill(f),
        JournalRow::Adjustment(a) => Encoded::Adjustment(a),
    }
}

/// Runs of rows written together (orders, then events, then fills: every event and fill of a
/// run refers to an order of this run or an earlier one), split at each adjustment.
pub(super) enum Segment<'e, 'a> {
    Rows {
        orders: Vec<&'e EncodedOrder<'a>>,
        events: Vec<(&'a OrderEvent, &'e String)>,
        fills: Vec<&'a StoredFill>,
    },
    Adjustment(&'a BalanceAdjustment),
}

pub(super) fn segments<'e, 'a>(rows: &'e [Encoded<'a>]) -> Vec<Segment<'e, 'a>> {
    let mut out = Vec::new();
    let mut orders = Vec::new();
    let mut events = Vec::new();
    let mut fills = Vec::new();
    for row in rows {
        match row {
            Encoded::Order(o) => orders.push(o),
            Encoded::Event(e, payload) => events.push((*e, payload)),
            Encoded::Fill(f) => fills.push(*f),
            Encoded::Adjustment(a) => {
                out.push(Segment::Rows {
                    orders: std::mem::take(&mut orders),
                    events: std::mem::take(&mut events),
                    fills: std::mem::take(&mut fills),
                });
                out.push(Segment::Adjustment(a));
            }
        }
    }
    out.push(Segment::Rows {
        orders,
        events,
        fills,
    });
    out
}
