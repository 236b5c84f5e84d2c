//! Issue 12, point 4 — the crash test. `tradepulse exec` trades on the fake Binance (in this
//! test process) with its journal in the real PostgreSQL (a fresh schema per run) and is killed
//! with SIGKILL at random points of a stream of order intents, `CRASH_KILLS` times (default 50).
//! After every restart the test checks, against the venue itself:
//!
//! 1. no duplicate venue order: every client order id the test ever sent exists at most once
//!    at the venue, including the intent in flight at the kill, which is re-sent with the same
//!    id after the restart;
//! 2. no lost fill: the trades the venue made for the account are exactly the fills in the
//!    journal (by trade id), none missing, none twice;
//! 3. balances and positions equal the venue's (USDT, BTC; the BTCUSDT position is the BTC
//!    balance).
//!
//! It prints every kill point and the invariants checked. `CRASH_SEED` picks another sequence.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tradepulse_fake_binance::{
    DOCS_API_KEY, DOCS_SECRET_KEY, FakeBinance, FakeConfig, LimitSpec, Side as FakeSide,
};
use tradepulse_store::{DatabaseUrl, Store, StoreOptions};

use crate::exec_process::ExecProcess;

const TOKEN: &str = "crash-test-token";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn pg_url() -> String {
    std::env::var("TRADEPULSE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh schema for this run, dropped at the end; `None` (skip) if PostgreSQL is
/// unreachable outside CI.
async fn fresh_schema() -> Option<(Store, String)> {
    let schema = format!(
        "crash_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    );
    let url = DatabaseUrl::parse(&pg_url()).unwrap();
    let options = StoreOptions {
        pg_schema: Some(schema.clone()),
        ..StoreOptions::default()
    };
    match Store::connect_with(&url, options).await {
        Ok(store) => Some((store, schema)),
        Err(e) if e.is_transient() => {
            let url = url.redacted().to_string();
            crate::skip::service_missing("PostgreSQL", &url, &e, crate::skip::PG_HINT);
            None
        }
        Err(e) => panic!("PostgreSQL for the crash test: {e}"),
    }
}

async fn drop_schema(store: &Store, schema: &str) {
    store.close().await;
    if let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&mut conn)
        .await;
    }
}

fn config(fake: &FakeBinance, schema: &str) -> String {
    format!(
        r#"database_url: {pg}
database_schema: {schema}
id_prefix: crash
venue:
  binance:
    connection:
      environment: custom
      rest_url: {rest}
      ws_api_url: {ws}
      stream_url: {stream}
      recv_window_ms: 1000
      request_timeout_ms: 3000
      ws_timeout_ms: 3000
      reconnect_min_ms: 20
      reconnect_max_ms: 200
    symbols: [BTCUSDT]
    currency: USDT
reconciliation:
  interval_ms: 2000
  retry_ms: 100
  lost_after_ms: 1500
auth:
  tokens:
    - {{ name: crash, role: trader, secret: CRASH_TOKEN }}
http: {{ request_timeout_ms: 3000, submit_wait_ms: 1000 }}
"#,
        pg = pg_url(),
        rest = fake.rest_url(),
        ws = fake.ws_api_url(),
        stream = fake.stream_url(),
    )
}

/// One intent of the stream: marketable buys and sells (immediate fills), resting buys (filled
/// later by external takers, or cancelled).
fn intent(n: u64, rng: &mut Rng) -> Value {
    let id = format!("c-{n}");
    let (side, price) = match rng.below(10) {
        0..=4 => ("buy", "50010"),
        5..=6 => ("sell", "49980"),
        _ => ("buy", "49000"),
    };
    json!({"client_order_id": id, "instrument": "BTCUSDT.BINANCE", "side": side,
           "type": "limit", "price": price, "quantity": "0.001"})
}

fn normalised(text: &str) -> String {
    let t = text.trim();
    if !t.contains('.') {
        return t.to_owned();
    }
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t.is_empty() || t == "-" {
        "0".to_owned()
    } else {
        t.to_owned()
    }
}

/// The checks after a restart; `Err` says which failed.
async fn invariants(
    exec: &ExecProcess,
    fake: &FakeBinance,
    store: &Store,
    sent: &BTreeSet<String>,
) -> Result<String, String> {
    // 1. No duplicate venue order.
    for id in sent {
        let n = fake.orders_with_client_id(id);
        if n > 1 {
            return Err(format!("duplicate venue order: {id} placed {n} times"));
        }
    }
    // 2 and 3 settle within moments (the user-data stream is asynchronous): retry briefly.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let venue_trades: BTreeSet<String> = fake
            .trades("BTCUSDT")
            .iter()
            .map(|(id, ..)| id.to_string())
            .collect();
        let fills = store.all_fills().await.map_err(|e| e.to_string())?;
        let journal: Vec<String> = fills.iter().map(|f| f.fill.trade_id.to_string()).collect();
        let journal_set: BTreeSet<String> = journal.iter().cloned().collect();
        let (_, balances) = exec.get("/v1/balances").await;
        let (_, positions) = exec.get("/v1/positions").await;
        let local = |asset: &str| {
            balances
                .as_array()
                .and_then(|a| a.iter().find(|b| b["asset"] == asset))
                .and_then(|b| b["total"].as_str())
                .map_or_else(|| "0".to_owned(), normalised)
        };
        let venue = |asset: &str| {
            let (free, locked) = fake.balance(asset);
            normalised(&(free + locked).to_string())
        };
        let position = positions
            .as_array()
            .and_then(|a| a.iter().find(|p| p["instrument"] == "BTCUSDT.BINANCE"))
            .and_then(|p| p["quantity"].as_str())
            .map_or_else(|| "0".to_owned(), normalised);
        let problems: Vec<String> = [
            (journal.len() != journal_set.len()).then(|| {
                format!(
                    "a fill stored twice ({} rows, {} trades)",
                    journal.len(),
                    journal_set.len()
                )
            }),
            (journal_set != venue_trades).then(|| {
                format!(
                    "fills differ: missing {:?}, extra {:?}",
                    venue_trades.difference(&journal_set).collect::<Vec<_>>(),
                    journal_set.difference(&venue_trades).collect::<Vec<_>>()
                )
            }),
            (local("USDT") != venue("USDT")).then(|| {
                format!(
                    "USDT {} here, {} at the venue",
                    local("USDT"),
                    venue("USDT")
                )
            }),
            (local("BTC") != venue("BTC"))
                .then(|| format!("BTC {} here, {} at the venue", local("BTC"), venue("BTC"))),
            (position != venue("BTC"))
                .then(|| format!("position {position}, venue BTC {}", venue("BTC"))),
        ]
        .into_iter()
        .flatten()
        .collect();
        if problems.is_empty() {
            return Ok(format!(
                "{} ids unique at the venue; {} venue trades = {} journal fills; USDT {} BTC {} = venue; position {}",
                sent.len(),
                venue_trades.len(),
                journal.len(),
                local("USDT"),
                local("BTC"),
                position
            ));
        }
        if Instant::now() > deadline {
            return Err(problems.join("; "));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_loses_and_duplicates_nothing() {
    let kills: u64 = std::env::var("CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5EED_1234);
    let Some((store, schema)) = fresh_schema().await else {
        return;
    };
    let started = Instant::now();
    let fake = FakeBinance::start(FakeConfig {
        limits: LimitSpec {
            weight_limit: 100_000_000,
            order_limit: 100_000_000,
            ..LimitSpec::default()
        },
        ..FakeConfig::default()
    })
    .await
    .unwrap();
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "1000");
    fake.add_liquidity("BTCUSDT", FakeSide::Buy, "49990", "1000");
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("exec.yaml");
    std::fs::write(&config_path, config(&fake, &schema)).unwrap();
    let env = [
        ("BINANCE_API_KEY", DOCS_API_KEY.to_owned()),
        ("BINANCE_SECRET_KEY", DOCS_SECRET_KEY.to_owned()),
        ("CRASH_TOKEN", TOKEN.to_owned()),
    ];
    let mut rng = Rng(seed | 1);
    let mut sent: BTreeSet<String> = BTreeSet::new();
    let mut in_flight: Vec<Value> = Vec::new();
    let mut next_id = 0u64;
    let mut checked = 0u64;
    println!("crash test: {kills} kills, seed {seed:#x}, schema {schema}");
    for round in 0..=kills {
        let log = dir.path().join(format!("exec-{round}.log"));
        let exec = ExecProcess::spawn(&config_path, &env, &log, TOKEN);
        let ready = exec.wait_ready(Duration::from_secs(20)).await;
        let log_tail = || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.lines().rev().take(30).collect::<Vec<_>>().join("\n")
        };
        assert!(ready.is_ok(), "round {round}: {ready:?}\n{}", log_tail());
        // The intents the kill interrupted, re-sent with the same ids: never a second order.
        for body in in_flight.drain(..) {
            let (status, answer) = exec.post("/v1/orders", &body).await.unwrap();
            assert!(
                [200, 201, 202, 422].contains(&status),
                "round {round}: resubmit of {} answered {status} {answer}",
                body["client_order_id"]
            );
        }
        let checks = invariants(&exec, &fake, &store, &sent).await;
        match &checks {
            Ok(summary) => println!("  restart {round}: ok: {summary}"),
            Err(problem) => panic!("round {round}: invariant broken: {problem}\n{}", log_tail()),
        }
        checked += 1;
        if round == kills {
            break;
        }
        // A stream of intents, cut by SIGKILL after a random delay.
        let kill_after = Duration::from_millis(20 + rng.below(400));
        let mut exec = exec;
        let t0 = Instant::now();
        let mut answered = 0u64;
        while t0.elapsed() < kill_after {
            next_id += 1;
            let body = intent(next_id, &mut rng);
            sent.insert(
                body["client_order_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
            // Sent without waiting, so the kill can land while it is in flight.
            let post = exec.post("/v1/orders", &body);
            match tokio::time::timeout(kill_after.saturating_sub(t0.elapsed()), post).await {
                Ok(Ok((_, _))) => answered += 1,
                _ => in_flight.push(body),
            }
            if rng.below(8) == 0 {
                // An external taker fills resting buys while the engine runs.
                let _ = fake.take("BTCUSDT", FakeSide::Sell, "49000", "0.002");
            }
        }
        exec.kill_9();
        let inflight: Vec<&str> = in_flight
            .iter()
            .filter_map(|b| b["client_order_id"].as_str())
            .collect();
        println!(
            "kill {}: SIGKILL after {} ms, {answered} intents answered, in flight: {inflight:?}",
            round + 1,
            kill_after.as_millis()
        );
        if rng.below(3) == 0 {
            // And while it is down.
            let filled = fake.take("BTCUSDT", FakeSide::Sell, "49000", "0.003");
            println!("  while down: an external taker filled {filled} BTC of resting buys");
        }
    }
    println!(
        "crash test: {kills} kills, {checked} restarts checked, {} intents, {} venue trades, in {:.1} s",
        sent.len(),
        fake.trades("BTCUSDT").len(),
        started.elapsed().as_secs_f64()
    );
    drop_schema(&store, &schema).await;
}
