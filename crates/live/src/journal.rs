//! [`StoreJournal`]: the pipeline's [`Journal`] over the store (SQLite or PostgreSQL), and the
//! decoding of what it wrote for a restart.
//!
//! `record` turns each entry into rows in memory; `flush` writes them in one transaction and
//! returns once they are durable: on the calling thread through a connection of its own for a
//! SQLite file ([`SqliteJournalWriter`]: no hop to the pool's threads on an order's path),
//! through the pool otherwise ([`Store::append_journal`]). The pipeline flushes before
//! it calls the venue with the orders of a batch, so an order and its `submitted` event are
//! on disk before the venue hears of it (write-ahead), and a batch of intents costs one
//! commit (group commit). Reports are written with the next flush; the engine flushes at
//! least every few milliseconds while any are waiting.
//!
//! When a flush fails, the orders of the batch are refused by the pipeline (never sent): their
//! rows are dropped and the journal forgets them, so later reports about them are not written
//! against orders the store does not have. The other rows (reports) stay buffered and are
//! written with the next successful flush.

use std::time::{Duration, Instant};

use foldhash::{HashMap, HashMapExt};
use serde_json::{Value, json};
use tradepulse_execution::{ExecutionReport, Journal, JournalEntry, JournalError};
use tradepulse_model::{
    Asset, ClientOrderId, Fill, Liquidity, Money, OrderEvent, OrderEventKind, Price, Quantity,
    RejectReason, Side, TradeId, UnixNanos, VenueOrderId,
};
use tradepulse_store::{
    BalanceAdjustment, JournalRow, OrderEvent as StoredEvent, OrderRecord, SqliteJournalWriter,
    Store, StoredFill,
};

use crate::metrics::EngineMetrics;

/// Next sequence numbers of one order's events and fills.
#[derive(Debug, Clone, Copy, Default)]
struct Sequence {
    event: i64,
    fill: i64,
}

/// The pipeline's journal over the store. Its flush blocks the calling thread (the engine
/// thread, never a runtime worker) until the batch is durable.
pub struct StoreJournal {
    writer: Writer,
    rows: Vec<JournalRow>,
    known: HashMap<ClientOrderId, Sequence>,
    /// Rows dropped while the store was unreachable for too long (reconciliation recovers
    /// what they said from the venue).
    dropped: u64,
    metrics: Option<EngineMetrics>,
    last_flush: Instant,
}

impl std::fmt::Debug for StoreJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreJournal")
            .field("pending_rows", &self.rows.len())
            .field("orders", &self.known.len())
            .finish_non_exhaustive()
    }
}

/// Where a batch goes.
enum Writer {
    /// The store's own connection of the calling thread (a SQLite file).
    Direct(Box<SqliteJournalWriter>),
    /// The store's pool, through its runtime (PostgreSQL, in-memory SQLite).
    Pool {
        store: Store,
        runtime: tokio::runtime::Handle,
    },
}

impl Writer {
    fn append(&mut self, rows: &[JournalRow]) -> tradepulse_store::Result<()> {
        match self {
            Self::Direct(writer) => writer.append(rows),
            Self::Pool { store, runtime } => runtime.block_on(store.append_journal(rows)),
        }
    }
}

/// Rows kept while the store is down before the oldest reports are dropped.
const MAX_BUFFERED_ROWS: usize = 1_000_000;

impl StoreJournal {
    /// A journal writing to `store`: a SQLite file through a connection of the flushing thread,
    /// anything else through the pool on `runtime` (the runtime the store's pool lives on).
    ///
    /// # Errors
    /// The store's error if the SQLite file cannot be opened for writing.
    pub fn new(store: Store, runtime: tokio::runtime::Handle) -> tradepulse_store::Result<Self> {
        let writer = match store.sqlite_journal_writer()? {
            Some(direct) => Writer::Direct(Box::new(direct)),
            None => Writer::Pool { store, runtime },
        };
        Ok(Self {
            writer,
            rows: Vec::with_capacity(256),
            // A session's first orders do not grow the map on the engine thread (~5 MB).
            known: HashMap::with_capacity(1 << 16),
            dropped: 0,
            metrics: None,
            last_flush: Instant::now(),
        })
    }

    /// Records flush times and failures in `metrics`.
    pub fn set_metrics(&mut self, metrics: EngineMetrics) {
        self.metrics = Some(metrics);
    }

    /// Continues the numbering of orders journaled by earlier sessions (from
    /// [`Restored::sequences`]).
    pub(crate) fn resume(
        &mut self,
        sequences: impl IntoIterator<Item = (ClientOrderId, i64, i64)>,
    ) {
        for (id, event, fill) in sequences {
            self.known.insert(id, Sequence { event, fill });
        }
    }

    /// Rows waiting for the next flush.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.rows.len()
    }

    /// Time since the last flush.
    #[must_use]
    pub fn since_flush(&self) -> Duration {
        self.last_flush.elapsed()
    }

    /// Rows given up on while the store was unreachable.
    #[must_use]
    pub const fn dropped(&self) -> u64 {
        self.dropped
    }

    fn event(&mut self, id: ClientOrderId, kind: &str, ts: UnixNanos, payload: Value) {
        let Some(seq) = self.known.get_mut(&id) else {
            return; // not ours (reconciliation decides), or dropped with a failed batch
        };
        let n = seq.event;
        seq.event += 1;
        self.rows.push(JournalRow::Event(StoredEvent {
            client_order_id: id,
            seq: n,
            kind: kind.to_owned(),
            ts,
            payload,
        }));
    }

    fn order(&mut self, record: OrderRecord, kind: &str, payload: Value) {
        let id = record.request.client_order_id;
        let ts = record.created_at;
        if self.known.contains_key(&id) {
            return; // journaled before (a replayed adoption)
        }
        self.known.insert(id, Sequence::default());
        self.rows.push(JournalRow::Order(record));
        self.event(id, kind, ts, payload);
    }

    fn report(&mut self, report: &ExecutionReport) {
        match report {
            ExecutionReport::Order(e) => {
                let mut payload =
                    json!({ "venue_order_id": e.venue_order_id.map(|v| v.to_string()) });
                if let OrderEventKind::Rejected(r) | OrderEventKind::CancelRejected(r) = e.kind {
                    payload["reason"] = json!(r.code());
                }
                self.event(e.client_order_id, e.kind.as_str(), e.ts, payload);
            }
            ExecutionReport::Fill(f) => {
                let Some(seq) = self.known.get_mut(&f.client_order_id) else {
                    return;
                };
                let n = seq.fill;
                seq.fill += 1;
                self.rows
                    .push(JournalRow::Fill(StoredFill { seq: n, fill: *f }));
                self.event(f.client_order_id, "fill", f.ts, fill_payload(f));
            }
        }
    }

    /// Drops the order rows of a failed batch (their orders are refused, never sent) and
    /// forgets those orders; keeps the reports for the next flush.
    fn drop_orders(&mut self) {
        let mut dropped: Vec<ClientOrderId> = Vec::new();
        for row in &self.rows {
            if let JournalRow::Order(o) = row {
                dropped.push(o.request.client_order_id);
            }
        }
        for id in &dropped {
            self.known.remove(id);
        }
        self.rows.retain(|row| match row {
            JournalRow::Order(_) => false,
            JournalRow::Event(e) => !dropped.contains(&e.client_order_id),
            JournalRow::Fill(f) => !dropped.contains(&f.fill.client_order_id),
            JournalRow::Adjustment(_) => true,
        });
        if self.rows.len() > MAX_BUFFERED_ROWS {
            let excess = self.rows.len() - MAX_BUFFERED_ROWS;
            self.rows.drain(..excess);
            self.dropped += excess as u64;
        }
    }
}

fn fill_payload(f: &Fill) -> Value {
    json!({
        "venue_order_id": f.venue_order_id.as_str(),
        "trade_id": f.trade_id.as_str(),
        "side": f.side.as_str(),
        "quantity_raw": f.quantity.raw(),
        "price_raw": f.price.raw(),
        "fee_money": f.fee.raw().to_string(),
        "fee_asset": f.fee_asset.as_str(),
        "liquidity": f.liquidity.as_str(),
    })
}

impl Journal for StoreJournal {
    fn record(&mut self, entry: &JournalEntry<'_>) -> Result<(), JournalError> {
        match *entry {
            JournalEntry::Submitted {
                strategy,
                request,
                ts,
            } => self.order(
                OrderRecord {
                    request: request.clone(),
                    strategy: strategy.to_owned(),
                    created_at: ts,
                },
                "submitted",
                json!({}),
            ),
            JournalEntry::Refused {
                strategy,
                request,
                reason,
                ts,
            } => {
                // A reused id is the other order's: nothing new to record.
                if reason != RejectReason::DuplicateClientOrderId {
                    self.order(
                        OrderRecord {
                            request: request.clone(),
                            strategy: strategy.to_owned(),
                            created_at: ts,
                        },
                        "refused",
                        json!({ "reason": reason.code() }),
                    );
                }
            }
            JournalEntry::CancelRequested {
                client_order_id,
                ts,
            } => self.event(client_order_id, "cancel_requested", ts, json!({})),
            JournalEntry::Report(report) => self.report(report),
            JournalEntry::Adopted {
                strategy,
                request,
                venue_order_id,
                ts,
            } => self.order(
                OrderRecord {
                    request: request.clone(),
                    strategy: strategy.to_owned(),
                    created_at: ts,
                },
                "adopted",
                json!({ "venue_order_id": venue_order_id.as_str() }),
            ),
            JournalEntry::BalanceAdjusted {
                asset,
                amount,
                price,
                ts,
            } => self.rows.push(JournalRow::Adjustment(BalanceAdjustment {
                after_event_id: 0,
                ts,
                asset: asset.as_str().to_owned(),
                amount,
                price,
                reason: "reconciliation".into(),
            })),
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), JournalError> {
        self.last_flush = Instant::now();
        if self.rows.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let result = self.writer.append(&self.rows);
        if let Some(m) = &self.metrics {
            m.journal_flush
                .observe(&[], started.elapsed().as_secs_f64());
        }
        match result {
            Ok(()) => {
                self.rows.clear();
                Ok(())
            }
            Err(e) => {
                if let Some(m) = &self.metrics {
                    m.journal_failures.inc(&[]);
                }
                self.drop_orders();
                Err(JournalError {
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// A journal record decoded for the engine's restore, in the order it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Replayed {
    /// An order submitted (or adopted, with the venue's id) by `strategy`.
    Order {
        strategy: String,
        request: tradepulse_model::OrderRequest,
        venue_order_id: Option<VenueOrderId>,
        created_at: UnixNanos,
    },
    /// An intent refused before the venue.
    Refused {
        strategy: String,
        request: tradepulse_model::OrderRequest,
        reason: RejectReason,
        created_at: UnixNanos,
    },
    /// A cancel request.
    CancelRequested(ClientOrderId),
    /// A report.
    Report(ExecutionReport),
    /// An external balance change.
    Balance {
        asset: Asset,
        amount: Money,
        price: Price,
    },
}

/// What [`decode`] made of a stored journal.
#[derive(Debug, Default)]
pub(crate) struct Restored {
    /// Every record, in the order written.
    pub records: Vec<Replayed>,
    /// Per order: next event and fill sequence numbers.
    pub sequences: Vec<(ClientOrderId, i64, i64)>,
}

/// A stored row the journal cannot have written.
#[derive(Debug, thiserror::Error)]
#[error("journal event {id} ({kind} of {client_order_id}): {reason}")]
pub struct CorruptJournal {
    /// `order_events.id`.
    pub id: i64,
    /// The event's kind.
    pub kind: String,
    /// The order.
    pub client_order_id: ClientOrderId,
    /// What is wrong.
    pub reason: String,
}

/// Decodes a stored journal into records to replay, merging balance adjustments in by
/// `after_event_id`.
pub(crate) fn decode(
    journal: &tradepulse_store::LoadedJournal,
) -> Result<Restored, CorruptJournal> {
    let orders: HashMap<ClientOrderId, &OrderRecord> = journal
        .orders
        .iter()
        .map(|o| (o.request.client_order_id, o))
        .collect();
    let mut out = Restored::default();
    let mut sequences: HashMap<ClientOrderId, (i64, i64)> = HashMap::new();
    let mut adjustments = journal.adjustments.iter().peekable();
    let balance = |a: &BalanceAdjustment| -> Result<Replayed, CorruptJournal> {
        Ok(Replayed::Balance {
            asset: Asset::new(&a.asset).map_err(|e| CorruptJournal {
                id: a.after_event_id,
                kind: "balance_adjustment".into(),
                client_order_id: ClientOrderId::sequenced("adjustment", 0),
                reason: e.to_string(),
            })?,
            amount: a.amount,
            price: a.price,
        })
    };
    for stored in &journal.events {
        while let Some(a) = adjustments.next_if(|a| a.after_event_id < stored.id) {
            out.records.push(balance(a)?);
        }
        let e = &stored.event;
        let id = e.client_order_id;
        let corrupt = |reason: String| CorruptJournal {
            id: stored.id,
            kind: e.kind.clone(),
            client_order_id: id,
            reason,
        };
        let seq = sequences.entry(id).or_insert((0, 0));
        seq.0 = seq.0.max(e.seq + 1);
        let text = |key: &str| -> Result<&str, CorruptJournal> {
            e.payload
                .get(key)
                .and_then(Value::as_str)
                .ok_or_else(|| corrupt(format!("payload has no text `{key}`")))
        };
        let venue_id = || -> Result<Option<VenueOrderId>, CorruptJournal> {
            match e.payload.get("venue_order_id").and_then(Value::as_str) {
                None => Ok(None),
                Some(v) => VenueOrderId::new(v)
                    .map(Some)
                    .map_err(|err| corrupt(err.to_string())),
            }
        };
        let reason = || -> Result<RejectReason, CorruptJournal> {
            let code = text("reason")?;
            RejectReason::from_code(code).ok_or_else(|| corrupt(format!("unknown reason {code}")))
        };
        let order_event = |kind| -> Result<Replayed, CorruptJournal> {
            Ok(Replayed::Report(ExecutionReport::Order(OrderEvent {
                client_order_id: id,
                venue_order_id: venue_id()?,
                ts: e.ts,
                kind,
            })))
        };
        let record = match e.kind.as_str() {
            "submitted" | "adopted" | "refused" => {
                let order = orders
                    .get(&id)
                    .ok_or_else(|| corrupt("no order row".into()))?;
                match e.kind.as_str() {
                    "refused" => Replayed::Refused {
                        strategy: order.strategy.clone(),
                        request: order.request.clone(),
                        reason: reason()?,
                        created_at: order.created_at,
                    },
                    kind => Replayed::Order {
                        strategy: order.strategy.clone(),
                        request: order.request.clone(),
                        venue_order_id: if kind == "adopted" { venue_id()? } else { None },
                        created_at: order.created_at,
                    },
                }
            }
            "cancel_requested" => Replayed::CancelRequested(id),
            "accepted" => order_event(OrderEventKind::Accepted)?,
            "triggered" => order_event(OrderEventKind::Triggered)?,
            "canceled" => order_event(OrderEventKind::Canceled)?,
            "expired" => order_event(OrderEventKind::Expired)?,
            "rejected" => order_event(OrderEventKind::Rejected(reason()?))?,
            "cancel_rejected" => order_event(OrderEventKind::CancelRejected(reason()?))?,
            "fill" => {
                seq.1 += 1;
                let raw = |key: &str| -> Result<i64, CorruptJournal> {
                    e.payload
                        .get(key)
                        .and_then(Value::as_i64)
                        .ok_or_else(|| corrupt(format!("payload has no integer `{key}`")))
                };
                let fee: i128 = text("fee_money")?
                    .parse()
                    .map_err(|_| corrupt("fee_money is not an integer".into()))?;
                Replayed::Report(ExecutionReport::Fill(Fill {
                    client_order_id: id,
                    venue_order_id: VenueOrderId::new(text("venue_order_id")?)
                        .map_err(|err| corrupt(err.to_string()))?,
                    trade_id: TradeId::new(text("trade_id")?)
                        .map_err(|err| corrupt(err.to_string()))?,
                    ts: e.ts,
                    side: match text("side")? {
                        "buy" => Side::Buy,
                        "sell" => Side::Sell,
                        other => return Err(corrupt(format!("side {other}"))),
                    },
                    quantity: Quantity::from_raw(raw("quantity_raw")?),
                    price: Price::from_raw(raw("price_raw")?),
                    fee: Money::from_raw(fee),
                    fee_asset: Asset::new(text("fee_asset")?)
                        .map_err(|err| corrupt(err.to_string()))?,
                    liquidity: match text("liquidity")? {
                        "maker" => Liquidity::Maker,
                        _ => Liquidity::Taker,
                    },
                }))
            }
            other => return Err(corrupt(format!("unknown event kind {other}"))),
        };
        out.records.push(record);
    }
    for a in adjustments {
        out.records.push(balance(a)?);
    }
    out.sequences = sequences
        .into_iter()
        .map(|(id, (event, fill))| (id, event, fill))
        .collect();
    Ok(out)
}
