//! The live engine's journal (schema v4) on both backends: unique session ids across
//! reopened stores, one transaction per batch (all or nothing), repeated fills stored once,
//! and everything read back in the order it was written; the same batches through the engine
//! thread's own SQLite connection ([`tradepulse_store::SqliteJournalWriter`]).

use serde_json::json;
use tradepulse_model::{
    Asset, ClientOrderId, Fill, Liquidity, OrderKind, OrderRequest, Side, TimeInForce, TradeId,
    UnixNanos, VenueOrderId,
};
use tradepulse_store::{
    BalanceAdjustment, Error, JournalRow, KillSwitchState, OrderEvent, OrderRecord, StoredFill,
};

use crate::both_backends;
use crate::support::TestDb;

fn order(id: &str) -> OrderRecord {
    OrderRecord {
        request: OrderRequest {
            client_order_id: ClientOrderId::new(id).unwrap(),
            instrument: "BTCUSDT.BINANCE".parse().unwrap(),
            side: Side::Buy,
            quantity: "0.5".parse().unwrap(),
            kind: OrderKind::Limit {
                price: "50000.01".parse().unwrap(),
            },
            time_in_force: TimeInForce::Gtc,
        },
        strategy: "api".into(),
        created_at: UnixNanos::new(1),
    }
}

fn event(id: &str, seq: i64, kind: &str) -> OrderEvent {
    OrderEvent {
        client_order_id: ClientOrderId::new(id).unwrap(),
        seq,
        kind: kind.into(),
        ts: UnixNanos::new(10 + seq),
        payload: json!({"seq": seq}),
    }
}

fn fill(id: &str, seq: i64, trade: &str) -> StoredFill {
    StoredFill {
        seq,
        fill: Fill {
            client_order_id: ClientOrderId::new(id).unwrap(),
            venue_order_id: VenueOrderId::new("12").unwrap(),
            trade_id: TradeId::new(trade).unwrap(),
            ts: UnixNanos::new(20),
            side: Side::Buy,
            quantity: "0.25".parse().unwrap(),
            price: "50000.01".parse().unwrap(),
            fee: "0.00025".parse().unwrap(),
            fee_asset: Asset::new("BTC").unwrap(),
            liquidity: Liquidity::Maker,
        },
    }
}

fn adjustment(asset: &str, amount: &str) -> BalanceAdjustment {
    BalanceAdjustment {
        after_event_id: -1, // assigned when written
        ts: UnixNanos::new(5),
        asset: asset.into(),
        amount: amount.parse().unwrap(),
        price: "50000".parse().unwrap(),
        reason: "opening balance".into(),
    }
}

async fn sessions_are_unique_across_restarts(db: &TestDb) {
    let first = db
        .store
        .start_session("exec", "host", 1, UnixNanos::new(1))
        .await
        .unwrap();
    let restarted = db.reopen().await;
    let second = restarted
        .start_session("exec", "host", 2, UnixNanos::new(2))
        .await
        .unwrap();
    let other_process = db
        .store
        .start_session("core", "host", 3, UnixNanos::new(3))
        .await
        .unwrap();
    assert!(first < second && second < other_process);
    restarted.close().await;
}

/// How a batch reaches the database: the pool, or the synchronous SQLite writer.
#[derive(Clone, Copy)]
enum Writer {
    Pool,
    Direct,
}

async fn append(db: &TestDb, writer: Writer, rows: &[JournalRow]) -> Result<(), Error> {
    match writer {
        Writer::Pool => db.store.append_journal(rows).await,
        Writer::Direct => {
            let mut direct = db
                .store
                .sqlite_journal_writer()
                .unwrap()
                .expect("a SQLite file store has a direct writer");
            tokio::task::block_in_place(|| direct.append(rows))
        }
    }
}

async fn a_batch_is_written_in_order_and_read_back(db: &TestDb) {
    batch_in_order(db, Writer::Pool).await;
}

async fn a_failing_batch_stores_nothing(db: &TestDb) {
    failing_batch(db, Writer::Pool).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_sqlite_writer_writes_a_batch_in_order() {
    let db = TestDb::sqlite().await;
    batch_in_order(&db, Writer::Direct).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_sqlite_writer_stores_nothing_of_a_failing_batch() {
    let db = TestDb::sqlite().await;
    failing_batch(&db, Writer::Direct).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_has_no_direct_writer() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    assert!(db.store.sqlite_journal_writer().unwrap().is_none());
    db.finish().await;
}

/// The direct writer and the pool's writers share SQLite's one write lock: batches that read
/// before they write (an adjustment's last event id) go through while the pool writes too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_direct_writer_and_the_pool_write_side_by_side() {
    let db = TestDb::sqlite().await;
    let store = db.store.clone();
    let pool_writes = tokio::spawn(async move {
        for i in 0..200 {
            store
                .append_audit(&tradepulse_store::AuditEntry {
                    id: 0,
                    ts: UnixNanos::new(i),
                    actor: "test".into(),
                    action: "http.POST".into(),
                    target: "/v1/orders".into(),
                    detail: json!({ "i": i }),
                })
                .await
                .unwrap();
        }
    });
    let mut writer = db.store.sqlite_journal_writer().unwrap().unwrap();
    tokio::task::block_in_place(|| {
        for i in 0..200 {
            let id = format!("p-{i}");
            writer
                .append(&[
                    JournalRow::Adjustment(adjustment("USDT", "1")),
                    JournalRow::Order(order(&id)),
                    JournalRow::Event(event(&id, 0, "submitted")),
                ])
                .unwrap();
        }
    });
    pool_writes.await.unwrap();
    let journal = db.store.load_journal().await.unwrap();
    assert_eq!(
        (journal.orders.len(), journal.adjustments.len()),
        (200, 200)
    );
    assert_eq!(db.store.audit_log(1_000).await.unwrap().len(), 200);
    drop(writer);
    db.finish().await;
}

async fn batch_in_order(db: &TestDb, writer: Writer) {
    let s = &db.store;
    append(
        db,
        writer,
        &[
            JournalRow::Adjustment(adjustment("USDT", "1000")),
            JournalRow::Order(order("a-1")),
            JournalRow::Event(event("a-1", 0, "submitted")),
            JournalRow::Order(order("a-2")),
            JournalRow::Event(event("a-2", 0, "submitted")),
        ],
    )
    .await
    .unwrap();
    append(
        db,
        writer,
        &[
            JournalRow::Event(event("a-1", 1, "accepted")),
            JournalRow::Event(event("a-1", 2, "fill")),
            JournalRow::Fill(fill("a-1", 0, "900")),
            JournalRow::Adjustment(adjustment("BTC", "-0.1")),
            // The venue repeated the trade: the event is kept (it was received), the fill is not
            // stored twice.
            JournalRow::Event(event("a-1", 3, "fill")),
            JournalRow::Fill(fill("a-1", 1, "900")),
        ],
    )
    .await
    .unwrap();
    let journal = s.load_journal().await.unwrap();
    assert_eq!(journal.orders.len(), 2);
    let order_of_events: Vec<(String, i64)> = journal
        .events
        .iter()
        .map(|e| (e.event.client_order_id.to_string(), e.event.seq))
        .collect();
    assert_eq!(
        order_of_events,
        [
            ("a-1".into(), 0),
            ("a-2".into(), 0),
            ("a-1".into(), 1),
            ("a-1".into(), 2),
            ("a-1".into(), 3)
        ]
    );
    assert!(journal.events.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(journal.adjustments.len(), 2);
    assert_eq!(journal.adjustments[0].after_event_id, 0);
    assert_eq!(journal.adjustments[0].asset, "USDT");
    // The second adjustment follows the first fill event of order a-1.
    assert_eq!(journal.adjustments[1].after_event_id, journal.events[3].id);
    assert_eq!(journal.adjustments[1].amount, "-0.1".parse().unwrap());
    let fills = s.all_fills().await.unwrap();
    assert_eq!(fills.len(), 1);
    assert_eq!(fills[0].fill, fill("a-1", 0, "900").fill);
}

async fn failing_batch(db: &TestDb, writer: Writer) {
    let s = &db.store;
    append(db, writer, &[JournalRow::Order(order("b-1"))])
        .await
        .unwrap();
    let err = append(
        db,
        writer,
        &[
            JournalRow::Order(order("b-2")),
            JournalRow::Event(event("b-2", 0, "submitted")),
            JournalRow::Order(order("b-1")),
        ],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::DuplicateClientOrderId { .. }),
        "{err:?}"
    );
    let journal = s.load_journal().await.unwrap();
    assert_eq!(journal.orders.len(), 1);
    assert!(journal.events.is_empty());
    let orphan = append(
        db,
        writer,
        &[JournalRow::Event(event("never", 0, "accepted"))],
    )
    .await
    .unwrap_err();
    assert!(matches!(orphan, Error::NotFound { .. }), "{orphan:?}");
}

async fn kill_switches_are_listed(db: &TestDb) {
    for (scope, engaged) in [("global", true), ("strategy:sma", false)] {
        db.store
            .set_kill_switch(&KillSwitchState {
                scope: scope.into(),
                engaged,
                reason: "drill".into(),
                actor: "ops".into(),
                updated_at: UnixNanos::new(1),
            })
            .await
            .unwrap();
    }
    let all = db.store.kill_switches().await.unwrap();
    let scopes: Vec<(&str, bool)> = all.iter().map(|k| (k.scope.as_str(), k.engaged)).collect();
    assert_eq!(scopes, [("global", true), ("strategy:sma", false)]);
}

both_backends!(
    sessions_are_unique_across_restarts,
    a_batch_is_written_in_order_and_read_back,
    a_failing_batch_stores_nothing,
    kill_switches_are_listed,
);
