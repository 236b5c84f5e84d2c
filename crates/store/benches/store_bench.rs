//! Storage benchmarks (issue 5), a plain binary so it can report percentiles:
//!
//! 1. batched order-event insert throughput into SQLite (temp file) and PostgreSQL (a fresh
//!    schema, dropped afterwards), for several batch sizes — the OMS persists every event
//!    before acting on it, so this bounds the event rate of one writer;
//! 2. Redis stream publish→consume latency (p50/p99) on loopback, one message in flight —
//!    the market-data hop between a feed and a strategy runner.
//!
//! Run with `cargo bench -p tradepulse-store --bench store_bench`. Services default to
//! `postgres://postgres@127.0.0.1:5432/test` and `redis://127.0.0.1:6379`
//! (`TRADEPULSE_TEST_PG_URL`, `TRADEPULSE_TEST_REDIS_URL`); an unreachable one is skipped.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "benchmark binary")]

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;
use tradepulse_model::{ClientOrderId, OrderKind, OrderRequest, Side, TimeInForce, UnixNanos};
use tradepulse_store::{
    DatabaseUrl, MarketStream, OrderEvent, OrderRecord, RedisConfig, Store, StoreOptions,
    StreamConsumer, StreamEntry,
};

const ORDERS: usize = 100;

async fn seed_orders(store: &Store) -> Vec<ClientOrderId> {
    let mut ids = Vec::with_capacity(ORDERS);
    for i in 0..ORDERS {
        let id = ClientOrderId::sequenced("bench", i as u64);
        store
            .insert_order(&OrderRecord {
                request: OrderRequest {
                    client_order_id: id,
                    instrument: "BTCUSDT.BINANCE".parse().unwrap(),
                    side: Side::Buy,
                    quantity: "1".parse().unwrap(),
                    kind: OrderKind::Market,
                    time_in_force: TimeInForce::Ioc,
                },
                strategy: "bench".into(),
                created_at: UnixNanos::new(0),
            })
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

async fn insert_throughput(label: &str, store: &Store) {
    let ids = seed_orders(store).await;
    let mut next_seq = vec![0_i64; ids.len()];
    for (batch, total) in [(1_usize, 2_000_usize), (100, 50_000), (1_000, 200_000)] {
        let mut events = Vec::with_capacity(batch);
        let started = Instant::now();
        let mut written = 0;
        let mut k = 0;
        while written < total {
            events.clear();
            for _ in 0..batch {
                let o = k % ids.len();
                k += 1;
                events.push(OrderEvent {
                    client_order_id: ids[o],
                    seq: next_seq[o],
                    kind: "accepted".into(),
                    ts: UnixNanos::new(k as i64),
                    payload: json!({"venue_order_id": k, "status": "accepted"}),
                });
                next_seq[o] += 1;
            }
            store.append_order_events(&events).await.unwrap();
            written += batch;
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "order_events {label:<10} batch={batch:<5} events={total:<7} {:>10.0} events/s  ({:.3} s)",
            total as f64 / secs,
            secs
        );
    }
}

async fn bench_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite_file(&dir.path().join("bench.db"));
    let store = Store::connect(&url).await.unwrap();
    insert_throughput("sqlite", &store).await;
    store.close().await;
}

async fn bench_postgres() {
    let raw = std::env::var("TRADEPULSE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let url = DatabaseUrl::parse(&raw).unwrap();
    let schema = format!("bench_{}", std::process::id());
    let options = StoreOptions {
        pg_schema: Some(schema.clone()),
        ..StoreOptions::default()
    };
    let store = match Store::connect_with(&url, options).await {
        Ok(store) => store,
        Err(e) => {
            println!("skipping PostgreSQL: {e}");
            return;
        }
    };
    insert_throughput("postgres", &store).await;
    store.close().await;
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&raw).await.unwrap();
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&mut admin)
        .await
        .unwrap();
}

#[derive(Serialize, Deserialize)]
struct Tick {
    sent_ns: u64,
    price_raw: i64,
    size_raw: i64,
}

async fn bench_redis() {
    let url = std::env::var("TRADEPULSE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let config = RedisConfig::new(&url).with_prefix(&format!("bench{}", std::process::id()));
    let stream = match MarketStream::connect(&config, "ticks", 10_000).await {
        Ok(stream) => stream,
        Err(e) => {
            println!("skipping Redis: {e}");
            return;
        }
    };
    let mut consumer = StreamConsumer::join(&config, "ticks", "bench", "c1")
        .await
        .unwrap()
        .with_block(Duration::from_millis(500));
    let base = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(16);
    let reader = tokio::spawn(async move {
        loop {
            let batch: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
            let now = u64::try_from(base.elapsed().as_nanos()).unwrap();
            let ids: Vec<String> = batch.iter().map(|e| e.id.clone()).collect();
            for entry in &batch {
                if tx.send(now - entry.value.sent_ns).await.is_err() {
                    return;
                }
            }
            consumer.ack(&ids).await.unwrap();
        }
    });
    let (warmup, n) = (500, 10_000);
    let mut latencies = Vec::with_capacity(n);
    for i in 0..warmup + n {
        let tick = Tick {
            sent_ns: u64::try_from(base.elapsed().as_nanos()).unwrap(),
            price_raw: 64_000_000_000_000,
            size_raw: 1_000_000,
        };
        stream.publish(&tick).await.unwrap();
        let latency = rx.recv().await.unwrap();
        if i >= warmup {
            latencies.push(latency);
        }
    }
    drop(rx);
    reader.abort();
    latencies.sort_unstable();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize] as f64 / 1e3;
    println!(
        "redis_stream publish->consume  n={n}  p50={:.1} us  p90={:.1} us  p99={:.1} us  max={:.1} us",
        pct(0.50),
        pct(0.90),
        pct(0.99),
        pct(1.0)
    );
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: i64 = redis::cmd("DEL")
        .arg(stream.key())
        .query_async(&mut admin)
        .await
        .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / test harness probing
    }
    bench_sqlite().await;
    bench_postgres().await;
    bench_redis().await;
}
