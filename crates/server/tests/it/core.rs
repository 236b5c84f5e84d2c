//! The core service (`tradepulse serve`) over real HTTP on loopback: the shipped S&P 500 bars
//! replayed through `sma_cross` into the in-process engine (sim venue, SQLite); strategies,
//! fills, equity, roles, the audit log, JSON errors, rate limiting, CORS, OpenAPI; a restart
//! mid-stream that makes the decisions of an uninterrupted run.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tradepulse_live::{OrderFilter, StaticSecrets};
use tradepulse_server::{CoreConfig, RunningCore};

const ADMIN: &str = "core-admin-token";
const TRADER: &str = "core-trader-token";
const VIEWER: &str = "core-viewer-token";
const SPX_BARS: i64 = 5031;

fn data(file: &str) -> String {
    format!("{}/../../data/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn config(db: &Path, speed: &str, api: &str) -> CoreConfig {
    config_with(
        db,
        &format!(
            "  replay:\n    - {{ instrument: SPX.SIM, path: \"{}\", timestamp: auto, speed: {speed} }}",
            data("spx_1d.csv")
        ),
        api,
    )
}

fn config_with(db: &Path, feed: &str, api: &str) -> CoreConfig {
    let text = format!(
        r#"
environment: paper
listen: 127.0.0.1:0
database_url: sqlite://{db}
execution:
  in_process:
    venue:
      sim:
        currency: USD
        opening_cash: "1000000"
        instruments:
          - {{ symbol: SPX, venue: SIM, quote_currency: USD, tick_size: "0.000001", lot_size: "1", min_notional: "0" }}
        execution: {{ fill_model: close, taker_fee_bps: "10" }}
market_data:
{feed}
strategies:
  - name: sma-spx
    instrument: SPX.SIM
    strategy:
      kind: sma_cross
      params: {{ fast: 10, slow: 50, size: {{ equity_fraction: 0.95 }} }}
risk: {{ max_position: 100000 }}
auth:
  tokens:
    - {{ name: ops, role: admin, secret: ADMIN_TOKEN }}
    - {{ name: desk, role: trader, secret: TRADER_TOKEN }}
    - {{ name: dash, role: viewer, secret: VIEWER_TOKEN }}
{api}
equity_interval_ms: 50
shutdown: {{ grace_ms: 3000 }}
"#,
        db = db.display(),
    );
    CoreConfig::parse(&text, Path::new("core-test.yaml")).unwrap()
}

struct Core {
    running: RunningCore,
    base: String,
    http: reqwest::Client,
}

async fn start(config: &CoreConfig) -> Core {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let secrets = StaticSecrets::default()
        .with("ADMIN_TOKEN", ADMIN)
        .with("TRADER_TOKEN", TRADER)
        .with("VIEWER_TOKEN", VIEWER);
    let running = RunningCore::start_with(config, listener, &secrets)
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    Core {
        running,
        base,
        http: reqwest::Client::new(),
    }
}

impl Core {
    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, token: &str, body: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn bars(&self) -> i64 {
        self.running.engine.strategies().await.unwrap()[0].bars
    }

    async fn wait_bars(&self, at_least: i64) {
        for _ in 0..6000 {
            if self.bars().await >= at_least {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!(
            "the strategy saw {} bars, not {at_least}",
            self.bars().await
        );
    }

    /// The strategy's orders, oldest first: side, quantity, fill price.
    async fn decisions(&self) -> Vec<(String, String, Option<String>)> {
        let mut orders = self
            .running
            .engine
            .orders(OrderFilter {
                strategy: Some("sma-spx".into()),
                limit: Some(OrderFilter::MAX_LIMIT),
                ..OrderFilter::default()
            })
            .await
            .unwrap();
        orders.sort_by_key(|o| (o.created_at, o.request.client_order_id));
        orders
            .iter()
            .map(|o| {
                (
                    o.request.side.as_str().to_owned(),
                    o.request.quantity.to_string(),
                    o.avg_fill_price.map(|p| p.to_string()),
                )
            })
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_replays_the_shipped_bars_through_sma_cross() {
    let dir = tempfile::tempdir().unwrap();
    let core = start(&config(&dir.path().join("core.db"), "max", "")).await;
    core.wait_bars(SPX_BARS).await;
    assert!(core.running.feeds_done());

    let (status, strategies) = core.get("/v1/strategies", VIEWER).await;
    assert_eq!(status, 200, "{strategies}");
    let s = &strategies[0];
    assert_eq!(s["name"], "sma-spx");
    assert_eq!(s["kind"], "sma_cross");
    assert_eq!(s["status"], "running");
    assert_eq!(s["bars"], SPX_BARS);
    assert_eq!(s["checkpointed"], true);
    assert_eq!(s["parameters"]["params"]["slow"], 50);

    let (status, fills) = core.get("/v1/fills?limit=10000", VIEWER).await;
    assert_eq!(status, 200);
    let fills = fills.as_array().unwrap();
    let decisions = core.decisions().await;
    assert!(decisions.len() > 20, "{} orders", decisions.len());
    assert_eq!(
        fills.len(),
        decisions.len(),
        "every market order filled once"
    );
    assert!(
        fills
            .iter()
            .all(|f| f["strategy"] == "sma-spx" && f["instrument"] == "SPX.SIM")
    );
    // Long-only crossover: buys and sells alternate, starting with a buy.
    for (i, (side, _, price)) in decisions.iter().enumerate() {
        assert_eq!(side, if i % 2 == 0 { "buy" } else { "sell" });
        assert!(price.is_some());
    }

    tokio::time::sleep(Duration::from_millis(150)).await;
    let (status, equity) = core.get("/v1/equity?limit=5", VIEWER).await;
    assert_eq!(status, 200);
    assert!(!equity.as_array().unwrap().is_empty(), "{equity}");
    let (_, positions) = core.get("/v1/positions", VIEWER).await;
    assert_eq!(positions[0]["instrument"], "SPX.SIM");

    let metrics = core
        .http
        .get(format!("{}/metrics", core.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "tradepulse_equity{account=\"core\"}",
        "tradepulse_exposure{account=\"core\"}",
        "tradepulse_strategy_pnl{strategy=\"sma-spx\"}",
        "tradepulse_strategy_position{strategy=\"sma-spx\"}",
        "tradepulse_market_data_lag_seconds{source=\"replay\",instrument=\"SPX.SIM\"}",
        "tradepulse_strategy_exposure{strategy=\"sma-spx\",instrument=\"SPX.SIM\"}",
        "tradepulse_event_loop_lag_seconds",
        "tradepulse_orders_by_state{state=\"filled\"}",
        "tradepulse_strategy_checkpoints_total{outcome=\"ok\"}",
        "tradepulse_build_info{version=",
        "tradepulse_strategy_equity{strategy=\"sma-spx\"}",
        "tradepulse_strategy_drawdown_ratio{strategy=\"sma-spx\"}",
        "tradepulse_risk_checks_total{outcome=\"accepted\"}",
    ] {
        assert!(metrics.contains(series), "missing {series}");
    }
    // One strategy: all of the account's equity is attributed to it.
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let account = value("tradepulse_equity{account=\"core\"}");
    let attributed = value("tradepulse_strategy_equity{strategy=\"sma-spx\"}");
    assert!(
        (account - attributed).abs() < 1e-6 * account.abs(),
        "{account} vs {attributed}"
    );
    let drawdown = value("tradepulse_strategy_drawdown_ratio{strategy=\"sma-spx\"}");
    assert!((0.0..=1.0).contains(&drawdown), "{drawdown}");
    let ready = core
        .http
        .get(format!("{}/readyz", core.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    core.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strategy_control_needs_a_role_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let core = start(&config(
        &dir.path().join("core.db"),
        "{ bars_per_second: 50 }",
        "",
    ))
    .await;

    let anonymous = core
        .http
        .post(format!("{}/v1/strategies/sma-spx/stop", core.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHENTICATED");

    let (status, body) = core.post("/v1/strategies/sma-spx/stop", VIEWER, "").await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "FORBIDDEN");

    let (status, body) = core.post("/v1/strategies/nope/stop", TRADER, "").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "STRATEGY_NOT_FOUND");

    let (status, body) = core
        .post(
            "/v1/strategies/sma-spx/stop",
            TRADER,
            r#"{"reason": "drill", "extra": 1}"#,
        )
        .await;
    assert_eq!(status, 422, "unknown fields are refused: {body}");
    assert_eq!(body["code"], "INVALID_BODY");

    let (status, body) = core
        .post(
            "/v1/strategies/sma-spx/stop",
            TRADER,
            r#"{"reason": "drill"}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "stopped");
    let (_, kill) = core.get("/v1/kill-switch", VIEWER).await;
    assert_eq!(kill["engaged"][0], "strategy:sma-spx");

    let (status, body) = core.post("/v1/strategies/sma-spx/start", TRADER, "").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "running");

    let audit = crate::audit_when(core.running.engine.store(), 50, |a| {
        a.iter().filter(|a| a.action.starts_with("http.")).count() >= 5
    })
    .await;
    let http: Vec<(&str, &str, &str, i64)> = audit
        .iter()
        .filter(|a| a.action.starts_with("http."))
        .map(|a| {
            (
                a.actor.as_str(),
                a.action.as_str(),
                a.target.as_str(),
                a.detail["status"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    // Newest first: start, stop, the refused body, the unknown strategy, the viewer's attempt.
    assert_eq!(
        http,
        [
            ("desk", "http.POST", "/v1/strategies/{name}/start", 200),
            ("desk", "http.POST", "/v1/strategies/{name}/stop", 200),
            ("desk", "http.POST", "/v1/strategies/{name}/stop", 422),
            ("desk", "http.POST", "/v1/strategies/{name}/stop", 404),
            ("dash", "http.POST", "/v1/strategies/{name}/stop", 403),
        ]
    );
    let engaged = audit
        .iter()
        .find(|a| a.action == "kill_switch.engage")
        .unwrap();
    assert_eq!(
        (engaged.actor.as_str(), engaged.target.as_str()),
        ("desk", "strategy:sma-spx")
    );
    assert_eq!(engaged.detail["reason"], "drill");

    // Errors are JSON with a code, also for routes and queries that do not exist.
    let (status, body) = core.get("/v1/nothing", VIEWER).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, body) = core.get("/v1/fills?limit=0", VIEWER).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_FIELD"))
    );
    core.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_cors_and_openapi() {
    let dir = tempfile::tempdir().unwrap();
    let api =
        "api:\n  cors_origins: [http://localhost:5173]\n  rate_limit: { per_second: 1, burst: 3 }";
    let core = start(&config(
        &dir.path().join("core.db"),
        "{ bars_per_second: 50 }",
        api,
    ))
    .await;
    for _ in 0..3 {
        assert_eq!(core.get("/v1/strategies", VIEWER).await.0, 200);
    }
    let limited = core
        .http
        .get(format!("{}/v1/strategies", core.base))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    // Another token has its own bucket; health and metrics are not limited.
    assert_eq!(core.get("/v1/strategies", ADMIN).await.0, 200);
    for _ in 0..5 {
        let r = core
            .http
            .get(format!("{}/healthz", core.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }

    let preflight = |origin: &'static str| {
        core.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/positions", core.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight("http://localhost:5173").await.unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("http://localhost:5173")
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());

    let doc: Value = core
        .http
        .get(format!("{}/v1/openapi.json", core.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/v1/strategies",
        "/v1/strategies/{name}",
        "/v1/strategies/{name}/stop",
        "/v1/strategies/{name}/start",
        "/v1/fills",
        "/v1/equity",
        "/v1/orders",
        "/v1/positions",
        "/v1/kill-switch",
        "/v1/stream",
        "/v1/sweeps",
        "/v1/sweeps/{id}",
        "/v1/sweeps/jobs/{id}",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    // Operation ids are unique (the dashboard's type generator refuses a document without).
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(
                ids.insert(id.to_owned()),
                "{method} {path}: operationId `{id}` twice"
            );
        }
    }
    // A path parameter is one of the path's placeholders (a query struct declared `in: path`
    // would type the dashboard's `?limit=` as a path segment).
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                assert!(
                    param["in"] != "path" || path.contains(&format!("{{{name}}}")),
                    "{method} {path}: `{name}` is declared in the path"
                );
            }
        }
    }
    assert_eq!(doc["info"]["title"], "TradePulse core service");
    assert!(doc["components"]["securitySchemes"].get("bearer").is_some());
    core.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_service_resumes_mid_stream_with_the_same_decisions() {
    let whole_dir = tempfile::tempdir().unwrap();
    let whole = start(&config(&whole_dir.path().join("core.db"), "max", "")).await;
    whole.wait_bars(SPX_BARS).await;
    let expected = whole.decisions().await;
    whole.running.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("core.db");
    let first = start(&config(&db, "{ bars_per_second: 300 }", "")).await;
    first.wait_bars(600).await;
    first.running.stop().await.unwrap();

    let store = tradepulse_store::Store::connect(&tradepulse_store::DatabaseUrl::sqlite_file(&db))
        .await
        .unwrap();
    let checkpoint = &store.strategy_checkpoints().await.unwrap()[0];
    assert!(
        (600..SPX_BARS).contains(&checkpoint.bars),
        "stopped mid-stream: {}",
        checkpoint.bars
    );
    store.close().await;

    let second = start(&config(&db, "max", "")).await;
    assert!(second.running.engine.strategies().await.unwrap()[0].restored);
    second.wait_bars(SPX_BARS).await;
    // Every bar was seen exactly once across the two processes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(second.bars().await, SPX_BARS);
    assert_eq!(second.decisions().await, expected);
    // `/v1/fills` is served from memory: the first session's fills (loaded from the store at
    // start) and the second's (from the engine), each once, newest first — as the store has them.
    let (status, fills) = second.get("/v1/fills?limit=10000", VIEWER).await;
    assert_eq!(status, 200);
    let served: Vec<(String, String)> = fills
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["client_order_id"].as_str().unwrap().to_owned(),
                f["trade_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // The engine writes fills in batches: the last may land a moment later.
    let mut stored: Vec<(String, String)> = Vec::new();
    for _ in 0..100 {
        stored = second
            .running
            .engine
            .store()
            .recent_fills(10_000)
            .await
            .unwrap()
            .iter()
            .map(|(_, _, f)| {
                (
                    f.fill.client_order_id.to_string(),
                    f.fill.trade_id.to_string(),
                )
            })
            .collect();
        if stored.len() >= served.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(served.len(), expected.len(), "one fill per decision");
    let mut a = served.clone();
    let mut b = stored.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    second.running.stop().await.unwrap();
}

/// The first `n` shipped S&P 500 bars as a CSV in `dir`, and the decisions a replay of them
/// makes (the reference a live feed of the same bars must match).
async fn replay_head(
    dir: &tempfile::TempDir,
    n: usize,
) -> (std::path::PathBuf, Vec<(String, String, Option<String>)>) {
    let text = std::fs::read_to_string(data("spx_1d.csv")).unwrap();
    let head: Vec<&str> = text.lines().take(n + 1).collect();
    let csv = dir.path().join("head.csv");
    std::fs::write(&csv, head.join("\n") + "\n").unwrap();
    let replay = start(&config_with(
        &dir.path().join("replay.db"),
        &format!(
            "  replay:\n    - {{ instrument: SPX.SIM, path: \"{}\", speed: max }}",
            csv.display()
        ),
        "",
    ))
    .await;
    replay.wait_bars(n as i64).await;
    let expected = replay.decisions().await;
    replay.running.stop().await.unwrap();
    assert!(expected.len() > 2, "the fixture should trade: {expected:?}");
    (csv, expected)
}

/// Issue 13 point 1, catalog replay: the same bars from the Parquet market-data catalog (under
/// another instrument id there) make the decisions of the CSV replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_replay_makes_the_decisions_of_a_csv_replay() {
    const N: usize = 400;
    let dir = tempfile::tempdir().unwrap();
    let (csv, expected) = replay_head(&dir, N).await;
    let bars =
        tradepulse_data::load_bars_csv(&csv, &tradepulse_data::CsvOptions::default()).unwrap();
    let root = dir.path().join("catalog");
    let stored: tradepulse_model::InstrumentId = "SPX.CBOE".parse().unwrap();
    tradepulse_data::Catalog::new(&root)
        .import(&stored, &bars)
        .unwrap();
    let feed = format!(
        "  replay:\n    - {{ instrument: SPX.SIM, path: \"{}\", format: catalog, catalog_instrument: SPX.CBOE, speed: max }}",
        root.display()
    );
    let core = start(&config_with(&dir.path().join("catalog.db"), &feed, "")).await;
    core.wait_bars(N as i64).await;
    assert_eq!(core.decisions().await, expected);
    core.running.stop().await.unwrap();

    // A catalog without the instrument is an error at start that names it.
    let missing = feed.replace("SPX.CBOE", "NDX.CBOE");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = RunningCore::start_with(
        &config_with(&dir.path().join("missing.db"), &missing, ""),
        listener,
        &StaticSecrets::default()
            .with("ADMIN_TOKEN", ADMIN)
            .with("TRADER_TOKEN", TRADER)
            .with("VIEWER_TOKEN", VIEWER),
    )
    .await
    .expect_err("no bars of NDX.CBOE")
    .to_string();
    assert!(
        err.contains("NDX.CBOE") && err.contains("market_data.replay"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_stream_feeds_the_same_decisions_as_a_replay() {
    use tradepulse_live::BarMessage;
    use tradepulse_store::{MarketStream, RedisConfig};
    const N: usize = 400;
    let url = std::env::var("TRADEPULSE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let prefix = format!("core_it_{}_{}", std::process::id(), line!());
    let redis = RedisConfig::new(&url).with_prefix(&prefix);
    let stream = match MarketStream::connect(&redis, "bars", 100_000).await {
        Ok(stream) => stream,
        Err(e) => {
            crate::skip::service_missing("Redis", &url, &e, crate::skip::REDIS_HINT);
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let (csv, expected) = replay_head(&dir, N).await;

    // The same bars on the stream, with an undecodable entry and another instrument's bar in
    // between: both are acknowledged and skipped.
    let bars =
        tradepulse_data::load_bars_csv(&csv, &tradepulse_data::CsvOptions::default()).unwrap();
    let spx: tradepulse_model::InstrumentId = "SPX.SIM".parse().unwrap();
    for (i, bar) in bars.iter().enumerate() {
        if i == 100 {
            stream
                .publish(&serde_json::json!({"not": "a bar"}))
                .await
                .unwrap();
            let other: tradepulse_model::InstrumentId = "ES.SIM".parse().unwrap();
            stream.publish(&BarMessage::new(&other, bar)).await.unwrap();
        }
        stream.publish(&BarMessage::new(&spx, bar)).await.unwrap();
    }
    let feed = format!(
        "  redis: {{ url: \"{url}\", key_prefix: {prefix}, stream: bars, group: core, consumer: it }}"
    );
    let live = start(&config_with(&dir.path().join("live.db"), &feed, "")).await;
    live.wait_bars(N as i64).await;
    assert_eq!(live.decisions().await, expected);
    live.running.stop().await.unwrap();

    // The group's entries are all acknowledged: a restarted runner has nothing pending and
    // its checkpoint covers every bar, so it hands over nothing again.
    let again = start(&config_with(&dir.path().join("live.db"), &feed, "")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(again.bars().await, N as i64);
    assert_eq!(again.decisions().await, expected);
    again.running.stop().await.unwrap();
    let mut admin = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("DEL")
        .arg(format!("{prefix}:stream:bars"))
        .query_async(&mut admin)
        .await
        .unwrap();
}

/// Issue 13 points 1 and 9: market data from Binance's public WebSocket (the fake Binance):
/// closed klines drive the strategy as a replay of the same bars does; a disconnect pauses
/// it, the gap is backfilled over REST and counted in `/metrics`, and the decisions stay those
/// of the uninterrupted replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binance_market_data_drives_the_strategy_and_survives_a_disconnect() {
    use rust_decimal::Decimal;
    use tradepulse_fake_binance::{FakeBinance, FakeConfig, KlineSpec};
    const N: usize = 400;
    const MINUTE: i64 = 60_000;
    let dir = tempfile::tempdir().unwrap();
    let (csv, expected) = replay_head(&dir, N).await;

    let fake = FakeBinance::start(FakeConfig::default()).await.unwrap();
    let bars =
        tradepulse_data::load_bars_csv(&csv, &tradepulse_data::CsvOptions::default()).unwrap();
    let base = (fake.now_ms() / MINUTE - 10 * N as i64) * MINUTE;
    let decimal = |p: tradepulse_model::Price| p.to_string().parse::<Decimal>().unwrap();
    let klines: Vec<KlineSpec> = bars
        .iter()
        .enumerate()
        .map(|(i, b)| KlineSpec {
            open_time: base + i as i64 * MINUTE,
            close_time: base + (i as i64 + 1) * MINUTE - 1,
            open: decimal(b.open),
            high: decimal(b.high),
            low: decimal(b.low),
            close: decimal(b.close),
            volume: format!("{}", b.volume).parse().unwrap(),
            trades: 1,
            closed: true,
        })
        .collect();
    let feed = format!(
        "  binance:\n    connection: {{ environment: custom, rest_url: \"{}\", ws_api_url: \"{}\", \
         stream_url: \"{}\", reconnect_min_ms: 20, reconnect_max_ms: 200 }}\n    klines:\n      \
         - {{ instrument: SPX.SIM, symbol: BTCUSDT, interval: 1m }}",
        fake.rest_url(),
        fake.ws_api_url(),
        fake.stream_url()
    );
    let live = start(&config_with(&dir.path().join("live.db"), &feed, "")).await;
    for _ in 0..500 {
        if fake.market_sessions() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        fake.market_sessions(),
        1,
        "serve subscribes to the market stream"
    );
    for k in &klines[..240] {
        fake.push_kline("BTCUSDT", "1m", k.clone());
    }
    live.wait_bars(240).await;
    let gaps = "tradepulse_market_data_gaps_total{source=\"binance\",instrument=\"SPX.SIM\"}";
    let metrics = metrics_text(&live).await;
    assert!(metrics.contains(&format!("{gaps} 0")), "{metrics}");
    assert!(
        metrics.contains(
            "tradepulse_market_data_lag_seconds{source=\"binance\",instrument=\"SPX.SIM\"}"
        ),
        "{metrics}"
    );

    fake.refuse_websockets(true);
    fake.drop_connections();
    for k in &klines[240..300] {
        fake.store_kline("BTCUSDT", "1m", k.clone());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        live.bars().await,
        240,
        "the strategy pauses while disconnected"
    );
    fake.refuse_websockets(false);
    live.wait_bars(300).await;
    for k in &klines[300..] {
        fake.push_kline("BTCUSDT", "1m", k.clone());
    }
    live.wait_bars(N as i64).await;
    assert_eq!(live.decisions().await, expected);
    let metrics = metrics_text(&live).await;
    assert!(metrics.contains(&format!("{gaps} 1")), "{metrics}");
    live.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_mode_sends_orders_to_a_tradepulse_exec_and_books_its_fills() {
    use tradepulse_server::{ExecConfig, RunningExec};
    let dir = tempfile::tempdir().unwrap();
    let exec_config = ExecConfig::parse(
        &format!(
            r#"
listen: 127.0.0.1:0
database_url: sqlite://{}/exec.db
venue:
  sim:
    currency: USD
    opening_cash: "1000000"
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
    market: {{ interval_ms: 20, start_prices: {{ BTCUSD.SIM: "50000" }}, volatility_bps: "0" }}
auth:
  tokens:
    - {{ name: core, role: trader, secret: EXEC_TRADER }}
"#,
            dir.path().display()
        ),
        Path::new("exec.yaml"),
    )
    .unwrap();
    let secrets = StaticSecrets::default()
        .with("EXEC_TRADER", "exec-trader-token")
        .with("ADMIN_TOKEN", ADMIN)
        .with("TRADER_TOKEN", TRADER)
        .with("VIEWER_TOKEN", VIEWER);
    let exec_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let exec = RunningExec::start_with(&exec_config, exec_listener, &secrets)
        .await
        .unwrap();
    for _ in 0..500 {
        if exec.engine.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // a market bar, so market orders fill

    let csv = dir.path().join("btc.csv");
    let rows: String = (0..5)
        .map(|i| format!("2024-01-01T00:0{i}:00Z,50000,50000,50000,50000,1\n"))
        .collect();
    std::fs::write(&csv, format!("ts,open,high,low,close,volume\n{rows}")).unwrap();
    let text = format!(
        r#"
environment: paper
database_url: sqlite://{db}
execution:
  remote:
    url: http://{addr}
    token: EXEC_TRADER
    currency: USD
    opening_cash: "100000"
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
market_data:
  replay:
    - {{ instrument: BTCUSD.SIM, path: "{csv}", speed: {{ bars_per_second: 50 }} }}
strategies:
  - name: hold-btc
    instrument: BTCUSD.SIM
    strategy: {{ kind: buy_and_hold, params: {{ size: {{ units: 0.5 }} }} }}
"#,
        db = dir.path().join("core.db").display(),
        addr = exec.addr,
        csv = csv.display(),
    );
    let config = CoreConfig::parse(&text, Path::new("remote.yaml")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let core = RunningCore::start_with(&config, listener, &secrets)
        .await
        .unwrap();
    let mut position = String::new();
    for _ in 0..400 {
        position = core.engine.strategies().await.unwrap()[0]
            .position
            .to_string();
        if position == "0.5" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        position, "0.5",
        "the exec's fill reached the core's portfolio"
    );
    let at_exec = exec.engine.orders(OrderFilter::default()).await.unwrap();
    assert_eq!(at_exec.len(), 1, "one order, sent once");
    assert_eq!(at_exec[0].strategy, "core");
    assert_eq!(at_exec[0].status(), "filled");
    let local = core.engine.orders(OrderFilter::default()).await.unwrap();
    assert_eq!(local.len(), 1);
    assert_eq!(
        local[0].request.client_order_id,
        at_exec[0].request.client_order_id
    );
    assert_eq!(local[0].status(), "filled");
    assert_eq!(local[0].avg_fill_price, at_exec[0].avg_fill_price);
    let exec_positions = exec.engine.positions().await.unwrap();
    assert_eq!(exec_positions[0].quantity.to_string(), "0.5");
    core.stop().await.unwrap();
    let exec_addr = exec.addr.to_string();
    exec.stop().await.unwrap();

    // An exec that cannot be reached: the core does not start, and says where it tried.
    let unreachable = text.replace(&exec_addr, "127.0.0.1:9");
    let config = CoreConfig::parse(&unreachable, Path::new("remote.yaml")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = RunningCore::start_with(&config, listener, &secrets)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("http://127.0.0.1:9/v1/stream"), "{err}");
    assert!(!err.contains("exec-trader-token"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_a_healthy_core_and_names_what_fails() {
    use tradepulse_server::verify::{Outcome, Report, VerifyOptions, verify};
    let dir = tempfile::tempdir().unwrap();
    let core = start(&config(&dir.path().join("core.db"), "max", "")).await;
    core.wait_bars(SPX_BARS).await;
    let healthy = VerifyOptions {
        services: vec![("core".into(), core.base.clone())],
        slo_p99: Duration::from_secs(10),
        window: Duration::from_millis(200),
        ..VerifyOptions::default()
    };
    let report = verify(&healthy).await.unwrap();
    let outcome =
        |r: &Report, what: &str| r.checks.iter().find(|c| c.what == what).map(|c| c.outcome);
    for what in [
        "/healthz",
        "/readyz",
        "/metrics",
        "order latency p99",
        "kill switch",
        "reconciliation",
    ] {
        assert_eq!(
            outcome(&report, what),
            Some(Outcome::Pass),
            "{what}: {report}"
        );
    }
    assert!(report.passed(), "{report}");

    // A latency SLO the engine cannot meet, and an engaged kill switch.
    let (status, _) = core.post("/v1/strategies/sma-spx/stop", TRADER, "").await;
    assert_eq!(status, 200);
    let strict = VerifyOptions {
        slo_p99: Duration::from_nanos(1),
        ..healthy.clone()
    };
    let report = verify(&strict).await.unwrap();
    let failed: Vec<&str> = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .map(|c| c.what.as_str())
        .collect();
    assert_eq!(failed, ["order latency p99", "kill switch"], "{report}");
    core.running.stop().await.unwrap();

    let gone = verify(&healthy).await.unwrap();
    assert!(!gone.passed());
    assert!(
        gone.checks
            .iter()
            .all(|c| c.outcome == Outcome::Fail && c.detail.contains("unreachable")),
        "{gone}"
    );
}

/// A paper config whose one strategy is a canary, with `risk` as given and a minimum notional
/// of 2,500 on SPX (so the venue's minimum is one to four lots over the history).
fn canary_config(db: &Path, risk: &str) -> CoreConfig {
    let text = format!(
        r#"
environment: paper
listen: 127.0.0.1:0
database_url: sqlite://{db}
execution:
  in_process:
    venue:
      sim:
        currency: USD
        opening_cash: "1000000"
        instruments:
          - {{ symbol: SPX, venue: SIM, quote_currency: USD, tick_size: "0.000001", lot_size: "1", min_notional: "2500" }}
        execution: {{ fill_model: close, taker_fee_bps: "10" }}
market_data:
  replay:
    - {{ instrument: SPX.SIM, path: "{data}", timestamp: auto, speed: max }}
strategies:
  - name: sma-spx
    instrument: SPX.SIM
    canary: true
    strategy:
      kind: sma_cross
      params: {{ fast: 10, slow: 50, size: {{ equity_fraction: 0.95 }} }}
risk: {risk}
auth:
  tokens:
    - {{ name: dash, role: viewer, secret: VIEWER_TOKEN }}
shutdown: {{ grace_ms: 3000 }}
"#,
        db = db.display(),
        data = data("spx_1d.csv"),
    );
    CoreConfig::parse(&text, Path::new("canary-test.yaml")).unwrap()
}

async fn metrics_text(core: &Core) -> String {
    core.http
        .get(format!("{}/metrics", core.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Issue 13 point 6: a canary trades the venue's minimum size, whatever its `size` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_trades_the_venues_minimum_size() {
    let dir = tempfile::tempdir().unwrap();
    let core = start(&canary_config(
        &dir.path().join("core.db"),
        "{ max_position: 100 }",
    ))
    .await;
    core.wait_bars(SPX_BARS).await;
    let decisions = core.decisions().await;
    assert!(decisions.len() > 20, "{} orders", decisions.len());
    let min_notional: tradepulse_model::Money = "2500".parse().unwrap();
    let lot: tradepulse_model::Quantity = "1".parse().unwrap();
    let mut held = tradepulse_model::Quantity::ZERO;
    for (side, quantity, price) in &decisions {
        let q: tradepulse_model::Quantity = quantity.parse().unwrap();
        let p: tradepulse_model::Price = price.as_deref().unwrap().parse().unwrap();
        if side == "sell" {
            // Long only: a sell closes what the last buy opened.
            assert_eq!(q, held, "sell {q} at {p}");
            held = tradepulse_model::Quantity::ZERO;
            continue;
        }
        // Sized at the signal bar's close, which is the fill price of this fill model: the
        // fewest whole lots reaching the minimum notional.
        assert!(p.notional(q) >= min_notional, "buy {q} at {p}");
        let one_less = tradepulse_model::Quantity::from_raw(q.raw() - lot.raw());
        assert!(
            q == lot || p.notional(one_less) < min_notional,
            "buy {q} at {p} is more than the minimum"
        );
        held = q;
    }
    let (_, strategies) = core.get("/v1/strategies", VIEWER).await;
    assert_eq!(
        strategies[0]["parameters"]["params"]["size"], "venue_minimum",
        "{strategies}"
    );
    let metrics = metrics_text(&core).await;
    assert!(
        metrics.contains("tradepulse_canary_limit_breaches_total{strategy=\"sma-spx\"} 0"),
        "the series exists from the start, at zero"
    );
    let (_, kill) = core.get("/v1/kill-switch", VIEWER).await;
    assert_eq!(
        kill["engaged"],
        serde_json::json!([]),
        "no breach, no kill switch"
    );
    core.running.stop().await.unwrap();
}

/// Issue 13 point 6: the canary's first risk-limit refusal engages its kill switch (persisted
/// and audited, actor `canary`) and counts once in the alerting metric.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_breaching_a_limit_trips_its_kill_switch_and_the_alert_metric() {
    let dir = tempfile::tempdir().unwrap();
    // Every minimum-size SPX order is worth at least 2,500: a 1,000 notional cap refuses the
    // canary's first order.
    let core = start(&canary_config(
        &dir.path().join("core.db"),
        "{ max_position: 100, max_order_notional: \"1000\" }",
    ))
    .await;
    core.wait_bars(SPX_BARS).await;
    let (_, kill) = core.get("/v1/kill-switch", VIEWER).await;
    assert_eq!(kill["engaged"][0], "strategy:sma-spx", "{kill}");
    let (_, strategies) = core.get("/v1/strategies", VIEWER).await;
    assert_eq!(strategies[0]["status"], "stopped", "{strategies}");
    let metrics = metrics_text(&core).await;
    assert!(
        metrics.contains("tradepulse_canary_limit_breaches_total{strategy=\"sma-spx\"} 1"),
        "one breach (later intents meet the kill switch, which is not a limit breach)"
    );
    assert!(metrics.contains("tradepulse_kill_switch_active{scope=\"strategy:sma-spx\"} 1"));
    // Refused before the venue: nothing was sent; the first refusal was the limit, the later
    // intents met the kill switch.
    assert!(core.decisions().await.is_empty(), "no order left");
    assert!(
        metrics.contains(
            "tradepulse_order_rejects_total{venue=\"sim\",reason=\"MAX_ORDER_NOTIONAL\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("reason=\"KILL_SWITCH\"}"), "{metrics}");

    // Persisted (a restart keeps the canary halted) and audited.
    let store = core.running.engine.store().clone();
    let mut engaged = None;
    for _ in 0..200 {
        engaged = store
            .kill_switches()
            .await
            .unwrap()
            .into_iter()
            .find(|k| k.scope == "strategy:sma-spx" && k.engaged);
        if engaged.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let engaged = engaged.expect("the canary's kill switch is persisted");
    assert_eq!(engaged.actor, "canary");
    assert!(
        engaged.reason.contains("MAX_ORDER_NOTIONAL"),
        "{}",
        engaged.reason
    );
    let audit = store.audit_log(50).await.unwrap();
    assert!(
        audit.iter().any(|a| a.action == "kill_switch.engage"
            && a.actor == "canary"
            && a.target == "strategy:sma-spx"),
        "audited"
    );
    core.running.stop().await.unwrap();
}

/// Issue 13 point 9, exec unreachable: the core trades through a remote exec that goes away
/// mid-stream and comes back on the same address. While it is away `/readyz` says why and
/// the strategy's orders wait (same client order id, until `submit_deadline_ms`); afterwards
/// every order the core sent exists once at the exec, and both books agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_that_goes_away_and_comes_back_loses_and_duplicates_no_order() {
    use tradepulse_server::{ExecConfig, RunningExec};
    let dir = tempfile::tempdir().unwrap();
    let exec_config = ExecConfig::parse(
        &format!(
            r#"
listen: 127.0.0.1:0
database_url: sqlite://{}/exec.db
venue:
  sim:
    currency: USD
    opening_cash: "1000000"
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
    market: {{ interval_ms: 20, start_prices: {{ BTCUSD.SIM: "50000" }}, volatility_bps: "0" }}
auth:
  tokens:
    - {{ name: core, role: trader, secret: EXEC_TRADER }}
shutdown: {{ grace_ms: 2000 }}
"#,
            dir.path().display()
        ),
        Path::new("exec.yaml"),
    )
    .unwrap();
    let secrets = StaticSecrets::default()
        .with("EXEC_TRADER", "exec-trader-token")
        .with("VIEWER_TOKEN", VIEWER);
    let start_exec = |listener: tokio::net::TcpListener| {
        let (config, secrets) = (exec_config.clone(), secrets.clone());
        async move {
            let exec = RunningExec::start_with(&config, listener, &secrets)
                .await
                .unwrap();
            for _ in 0..500 {
                if exec.engine.is_ready() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await; // a market bar
            exec
        }
    };
    let exec = start_exec(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).await;
    let exec_addr = exec.addr;

    // Closes that alternate: a 1/2-bar crossover trades on every bar (buy, sell, buy, …).
    let csv = dir.path().join("btc.csv");
    let rows: String = (0..40)
        .map(|i| {
            let close = if i % 2 == 0 { 50_000 } else { 50_100 };
            format!(
                "2024-01-01T{:02}:{:02}:00Z,{close},{close},{close},{close},1\n",
                i / 60,
                i % 60
            )
        })
        .collect();
    std::fs::write(&csv, format!("ts,open,high,low,close,volume\n{rows}")).unwrap();
    let text = format!(
        r#"
environment: paper
database_url: sqlite://{db}
id_prefix: corefault
execution:
  remote:
    url: http://{exec_addr}
    token: EXEC_TRADER
    currency: USD
    opening_cash: "1000000"
    submit_deadline_ms: 8000
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
market_data:
  replay:
    - {{ instrument: BTCUSD.SIM, path: "{csv}", speed: {{ bars_per_second: 10 }} }}
strategies:
  - name: flip-btc
    instrument: BTCUSD.SIM
    strategy: {{ kind: sma_cross, params: {{ fast: 1, slow: 2, size: {{ units: 0.01 }} }} }}
reconciliation: {{ interval_ms: 300, retry_ms: 200 }}
auth:
  tokens:
    - {{ name: dash, role: viewer, secret: VIEWER_TOKEN }}
shutdown: {{ grace_ms: 2000 }}
"#,
        db = dir.path().join("core.db").display(),
        csv = csv.display(),
    );
    let config = CoreConfig::parse(&text, Path::new("remote.yaml")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let core = RunningCore::start_with(&config, listener, &secrets)
        .await
        .unwrap();
    let base = format!("http://{}", core.addr);
    let http = reqwest::Client::new();
    let readyz = || async {
        let r = http.get(format!("{base}/readyz")).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let bars = || async { core.engine.strategies().await.unwrap()[0].bars };
    while bars().await < 8 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(readyz().await.0, 200);

    // The exec goes away for ~1.5 s (about 15 bars, so orders are decided meanwhile).
    let wall = || {
        tradepulse_model::UnixNanos::new(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as i64,
        )
    };
    exec.stop().await.unwrap();
    let away_from = wall();
    let mut reason = String::new();
    for _ in 0..200 {
        let (status, body) = readyz().await;
        if status == 503 {
            reason = body["reason"].as_str().unwrap_or_default().to_owned();
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        reason.contains(&exec_addr.to_string()),
        "/readyz names the exec that is away: {reason:?}"
    );
    let during = bars().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert!(bars().await > during + 5, "the strategy kept deciding");
    let away_to = wall();
    let exec = start_exec(tokio::net::TcpListener::bind(exec_addr).await.unwrap()).await;

    // The replay ends, the queued orders land, reconciliation books what the stream missed.
    while !core.feeds_done() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut local = Vec::new();
    for _ in 0..500 {
        local = core
            .engine
            .orders(OrderFilter {
                limit: Some(OrderFilter::MAX_LIMIT),
                ..OrderFilter::default()
            })
            .await
            .unwrap();
        if readyz().await.0 == 200 && local.iter().all(|o| o.status() == "filled") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(readyz().await.0, 200, "ready again once the exec is back");
    let statuses: Vec<&str> = local.iter().map(|o| o.status()).collect();
    assert!(local.len() >= 6, "{} orders", local.len());
    assert!(
        local
            .iter()
            .any(|o| o.created_at > away_from && o.created_at < away_to),
        "an order was decided while the exec was away"
    );
    assert!(
        statuses.iter().all(|s| *s == "filled"),
        "every order filled, none lost or given up: {statuses:?}"
    );
    let at_exec = exec
        .engine
        .orders(OrderFilter {
            limit: Some(OrderFilter::MAX_LIMIT),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    let mut local_ids: Vec<String> = local
        .iter()
        .map(|o| o.request.client_order_id.to_string())
        .collect();
    let mut exec_ids: Vec<String> = at_exec
        .iter()
        .map(|o| o.request.client_order_id.to_string())
        .collect();
    local_ids.sort();
    exec_ids.sort();
    let before = exec_ids.len();
    exec_ids.dedup();
    assert_eq!(before, exec_ids.len(), "no order twice at the exec");
    assert_eq!(local_ids, exec_ids, "the same orders on both sides");
    let core_position = core.engine.strategies().await.unwrap()[0].position;
    let exec_position = exec
        .engine
        .positions()
        .await
        .unwrap()
        .first()
        .map(|p| p.quantity)
        .unwrap_or_default();
    assert_eq!(
        core_position, exec_position,
        "both books hold the same position"
    );

    // What reconciliation reads: an order's executions at the exec, as the stream sends them.
    let id = &local_ids[0];
    let fills: Value = http
        .get(format!("http://{exec_addr}/v1/orders/{id}/fills"))
        .bearer_auth("exec-trader-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fills = fills.as_array().unwrap();
    assert_eq!(fills.len(), 1, "{fills:?}");
    assert_eq!(fills[0]["client_order_id"], id.as_str());
    assert_eq!(fills[0]["strategy"], "corefault");
    assert!(fills[0]["trade_id"].as_str().is_some_and(|t| !t.is_empty()));
    let missing = http
        .get(format!("http://{exec_addr}/v1/orders/nope-1/fills"))
        .bearer_auth("exec-trader-token")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    core.stop().await.unwrap();
    exec.stop().await.unwrap();
}

/// Issue 13 point 4: backtest runs over the API — a trader launches a config of
/// `backtests.directory`, the job runs it and stores the run, whose metrics and round trips are
/// those of the same backtest run directly; bad names, bad configs and bad data get clear
/// errors; a viewer may not launch; the launch is audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtests_are_launched_stored_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let configs = dir.path().join("backtests");
    std::fs::create_dir(&configs).unwrap();
    let sample = std::fs::read_to_string(format!(
        "{}/../../configs/backtests/sample.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace(
        "path: data/spx_1d.csv",
        &format!("path: \"{}\"", data("spx_1d.csv")),
    );
    assert!(
        sample.contains(&data("spx_1d.csv")),
        "the sample names its data"
    );
    std::fs::write(configs.join("sample.yaml"), &sample).unwrap();
    std::fs::write(
        configs.join("broken.yaml"),
        sample.replace("fast: 10", "fast: ten"),
    )
    .unwrap();
    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(
        &bad_csv,
        "ts,open,high,low,close,volume\n2020-01-02,1,1,1,1,10\n2020-01-03,1,x,1,1,10\n",
    )
    .unwrap();
    std::fs::write(
        configs.join("bad-data.yaml"),
        sample.replace(&data("spx_1d.csv"), &bad_csv.display().to_string()),
    )
    .unwrap();
    let core = start(&config(
        &dir.path().join("core.db"),
        "{ bars_per_second: 50 }",
        &format!("backtests: {{ directory: \"{}\" }}", configs.display()),
    ))
    .await;

    let (status, names) = core.get("/v1/backtests/configs", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(
        names,
        serde_json::json!(["bad-data.yaml", "broken.yaml", "sample.yaml"])
    );
    let launch = |name: &str| format!(r#"{{"config": "{name}"}}"#);
    let (status, _) = core
        .post("/v1/backtests", VIEWER, &launch("sample.yaml"))
        .await;
    assert_eq!(status, 403, "a viewer may not launch");
    let (status, body) = core
        .post("/v1/backtests", TRADER, &launch("../sample.yaml"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_FIELD"))
    );
    let (status, body) = core
        .post("/v1/backtests", TRADER, &launch("nope.yaml"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("BACKTEST_CONFIG_NOT_FOUND"))
    );
    let (status, body) = core
        .post("/v1/backtests", TRADER, &launch("broken.yaml"))
        .await;
    assert_eq!(status, 422, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("broken.yaml") && message.contains("strategy.params.fast"),
        "{message}"
    );

    let (status, job) = core
        .post("/v1/backtests", TRADER, &launch("sample.yaml"))
        .await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(
        (job["name"].as_str(), job["launched_by"].as_str()),
        (Some("sample"), Some("desk"))
    );
    let job = wait_job(&core, job["id"].as_u64().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    let run_id = job["run_id"].as_i64().unwrap();

    let expected = tradepulse_backtest::Backtest::run(
        &tradepulse_backtest::BacktestConfig::load(&configs.join("sample.yaml")).unwrap(),
    )
    .unwrap();
    let (status, runs) = core.get("/v1/backtests", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["id"].as_i64(), Some(run_id));
    assert_eq!(runs[0]["strategy"], "sma_cross");
    assert_eq!(
        runs[0]["metrics"]["total_return"].as_f64(),
        expected.summary.total_return
    );
    assert_eq!(
        runs[0]["metrics"]["round_trips"].as_f64(),
        Some(expected.summary.round_trips as f64)
    );
    let (status, detail) = core.get(&format!("/v1/backtests/{run_id}"), VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(detail["config"]["strategy"]["params"]["slow"], 50);
    let trades = detail["trades"].as_array().unwrap();
    assert_eq!(trades.len(), expected.run.round_trips.len());
    assert!(!trades.is_empty());
    for (got, want) in trades.iter().zip(&expected.run.round_trips) {
        assert_eq!(got["entry_ts_ns"].as_i64(), Some(want.entry_ts.as_nanos()));
        assert_eq!(
            got["pnl"].as_str(),
            Some(want.gross_pnl.to_string().as_str())
        );
        let entry: f64 = got["entry_price"].as_str().unwrap().parse().unwrap();
        assert!((entry - want.entry_price()).abs() < 1e-6, "{got}");
    }
    let (status, _) = core.get("/v1/backtests/999", VIEWER).await;
    assert_eq!(status, 404);
    let (status, _) = core.get("/v1/backtests/abc", VIEWER).await;
    assert_eq!(status, 422);

    let (_, job) = core
        .post("/v1/backtests", TRADER, &launch("bad-data.yaml"))
        .await;
    let job = wait_job(&core, job["id"].as_u64().unwrap()).await;
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("bad.csv") && error.contains('3'), "{error}");
    let (_, runs) = core.get("/v1/backtests", VIEWER).await;
    assert_eq!(
        runs.as_array().unwrap().len(),
        1,
        "a failed run stores nothing"
    );
    let (_, jobs) = core.get("/v1/backtests/jobs", VIEWER).await;
    assert_eq!(jobs.as_array().unwrap().len(), 2);

    let audit = crate::audit_when(core.running.engine.store(), 50, |a| {
        a.iter().filter(|a| a.target == "/v1/backtests").count() >= 6
    })
    .await;
    let launches: Vec<(&str, i64)> = audit
        .iter()
        .filter(|a| a.target == "/v1/backtests")
        .map(|a| (a.actor.as_str(), a.detail["status"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(
        launches,
        [
            ("desk", 202),
            ("desk", 202),
            ("desk", 422),
            ("desk", 404),
            ("desk", 422),
            ("dash", 403)
        ]
    );
    core.running.stop().await.unwrap();
}

/// Polls a backtest job until it finished.
async fn wait_job(core: &Core, id: u64) -> Value {
    for _ in 0..1200 {
        let (status, job) = core.get(&format!("/v1/backtests/jobs/{id}"), VIEWER).await;
        assert_eq!(status, 200, "{job}");
        if job["status"] == "succeeded" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("backtest job {id} did not finish within 60 s");
}

/// Issue 15 point 3, the API side: a run's chart is the report payload of the asked range at
/// the asked resolution; after a restart it comes from a re-run of the stored config and is
/// identical; a run whose data changed since is refused, not drawn wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backtest_charts_serve_the_visible_range_and_refuse_changed_data() {
    let dir = tempfile::tempdir().unwrap();
    let configs = dir.path().join("backtests");
    std::fs::create_dir(&configs).unwrap();
    let bars = dir.path().join("spx.csv");
    std::fs::copy(data("spx_1d.csv"), &bars).unwrap();
    let sample = std::fs::read_to_string(format!(
        "{}/../../configs/backtests/sample.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .replace(
        "path: data/spx_1d.csv",
        &format!("path: \"{}\"", bars.display()),
    );
    std::fs::write(configs.join("sample.yaml"), &sample).unwrap();
    let core_config = config(
        &dir.path().join("core.db"),
        "{ bars_per_second: 50 }",
        &format!("backtests: {{ directory: \"{}\" }}", configs.display()),
    );
    let core = start(&core_config).await;
    let (status, job) = core
        .post("/v1/backtests", TRADER, r#"{"config": "sample.yaml"}"#)
        .await;
    assert_eq!(status, 202, "{job}");
    let run = wait_job(&core, job["id"].as_u64().unwrap()).await["run_id"]
        .as_i64()
        .unwrap();
    let panel = |payload: &Value, kind: &str| {
        payload["panels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["kind"] == kind)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} panel in {payload}"))
    };

    let (status, whole) = core
        .get(&format!("/v1/backtests/{run}/chart?points=100"), VIEWER)
        .await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["schema"], 1);
    let candles = panel(&whole, "candles");
    assert_eq!(candles["source_bars"], SPX_BARS);
    assert!(candles["time"].as_array().unwrap().len() <= 100);
    assert!(panel(&whole, "equity")["time"].as_array().unwrap().len() <= 400);
    // The visible range: a year of the twenty, at 300 points.
    let times = candles["time"].as_array().unwrap();
    let (from, to) = (times[40].as_i64().unwrap(), times[45].as_i64().unwrap());
    let path = format!("/v1/backtests/{run}/chart?from={from}&to={to}&points=300");
    let (status, part) = core.get(&path, VIEWER).await;
    assert_eq!(status, 200, "{part}");
    let zoomed = panel(&part, "candles");
    let shown = zoomed["source_bars"].as_i64().unwrap();
    assert!(shown > 200 && shown < 400, "{shown} bars in about a year");
    assert_eq!(
        zoomed["bars_per_candle"], 1,
        "a year at 300 points is bar by bar"
    );
    assert!(
        zoomed["time"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| (from..=to).contains(&t.as_i64().unwrap()))
    );
    let (status, ranged) = core.get(&format!("{path}&panels=range"), VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(ranged["panels"].as_array().unwrap().len(), 2);
    assert_eq!(panel(&ranged, "candles"), zoomed);
    for bad in [
        "points=0",
        "points=20001",
        "from=10&to=5",
        "span=3",
        "panels=some",
    ] {
        let (status, body) = core
            .get(&format!("/v1/backtests/{run}/chart?{bad}"), VIEWER)
            .await;
        assert!(status == 400 || status == 422, "{bad}: {status} {body}");
        assert!(body["code"].is_string(), "{body}");
    }
    let (status, _) = core.get("/v1/backtests/999/chart", VIEWER).await;
    assert_eq!(status, 404);
    core.running.stop().await.unwrap();

    // A fresh process: the chart comes from a re-run of the stored config, identical.
    let core = start(&core_config).await;
    let (status, again) = core.get(&path, VIEWER).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, part);
    core.running.stop().await.unwrap();

    // The data file changed since the run: refused with the reason.
    let text = std::fs::read_to_string(&bars).unwrap();
    let kept: Vec<&str> = text.lines().take(3000).collect();
    std::fs::write(&bars, kept.join("\n") + "\n").unwrap();
    let core = start(&core_config).await;
    let (status, body) = core.get(&path, VIEWER).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("RUN_NOT_REPRODUCIBLE")),
        "{body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("data changed"),
        "{body}"
    );
    core.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_beside_the_api_and_knows_its_caller() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("dist");
    std::fs::create_dir_all(web.join("assets")).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>tp-dashboard</title>",
    )
    .unwrap();
    std::fs::write(web.join("assets/app.js"), "console.log('tp')").unwrap();
    let core = start(&config(
        &dir.path().join("core.db"),
        "{ bars_per_second: 200 }",
        &format!("web: {{ directory: \"{}\" }}", web.display()),
    ))
    .await;
    let page = core
        .http
        .get(format!("{}/", core.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("tp-dashboard"));
    let asset = core
        .http
        .get(format!("{}/assets/app.js", core.base))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    // An unknown API path is still the API's JSON 404, not a page.
    let (status, body) = core.get("/v1/no-such-route", VIEWER).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    assert_eq!(core.get("/v1/openapi.json", "").await.0, 200);

    let (status, me) = core.get("/v1/whoami", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("dash"), Some("viewer"))
    );
    assert_eq!(core.get("/v1/whoami", ADMIN).await.1["role"], "admin");
    assert_eq!(core.get("/v1/whoami", "wrong").await.0, 401);
    let (_, status) = core.get("/v1/status", VIEWER).await;
    assert!(status["rejected_by_reason"].is_object(), "{status}");

    // A browser's WebSocket carries the token as a subprotocol; the server picks tradepulse.v1.
    let ws_url = format!("ws://{}/v1/stream", core.running.addr);
    let mut request = ws_url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("tradepulse.v1, tradepulse.bearer.{VIEWER}")
            .parse()
            .unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "tradepulse.v1"
    );
    let first = tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let message: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert!(message["type"].is_string(), "{message}");
    let mut refused = ws_url.as_str().into_client_request().unwrap();
    refused.headers_mut().insert(
        "sec-websocket-protocol",
        "tradepulse.v1, tradepulse.bearer.wrong".parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(refused).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("a wrong token must be refused: {other:?}"),
    }
    core.running.stop().await.unwrap();
}

async fn wait_sweep_job(core: &Core, id: u64) -> Value {
    for _ in 0..2400 {
        let (status, job) = core.get(&format!("/v1/sweeps/jobs/{id}"), VIEWER).await;
        assert_eq!(status, 200, "{job}");
        if job["status"] == "succeeded" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("sweep job {id} did not finish within 120 s");
}

fn close(got: &Value, want: f64) -> bool {
    got.as_f64()
        .is_some_and(|g| (g - want).abs() <= 1e-12 * want.abs().max(1.0))
}

/// Issue 15 point 2, the API side of sweeps: a trader launches a sweep config, the job counts
/// its trials and stores them; the sweep's detail holds every trial and the report `tradepulse
/// sweep` computes (best trial, DSR, PBO) for the same config; a sharded sweep with a shard
/// missing lists its trials and says why it has no report; a stored id is not launched into
/// again; bad launches get clear errors and a viewer may not launch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweeps_are_launched_stored_and_reported() {
    use tradepulse_research::sweep::{Shard, SweepPlan, SweepReport};

    let dir = tempfile::tempdir().unwrap();
    let backtests = dir.path().join("backtests");
    let sweeps = dir.path().join("sweeps");
    std::fs::create_dir(&backtests).unwrap();
    std::fs::create_dir(&sweeps).unwrap();
    let shipped = std::fs::read_to_string(format!(
        "{}/../../configs/sweeps/sma_spx.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // Nine trials, one of them invalid (fast = slow), so the test stays quick in a debug build.
    let small = shipped
        .replace(
            "path: data/spx_1d.csv",
            &format!("path: \"{}\"", data("spx_1d.csv")),
        )
        .replace("fast: {from: 5, to: 50, step: 5}", "fast: [5, 10, 20]")
        .replace("slow: {from: 20, to: 250, step: 10}", "slow: [20, 50, 100]");
    assert!(small.contains("fast: [5, 10, 20]") && small.contains(&data("spx_1d.csv")));
    std::fs::write(sweeps.join("small.yaml"), &small).unwrap();
    std::fs::write(
        sweeps.join("unknown-param.yaml"),
        small.replace("fast: [5, 10, 20]", "nope: [1, 2]"),
    )
    .unwrap();
    let no_sweep: String = small.split("sweep:\n").next().unwrap().to_owned();
    std::fs::write(sweeps.join("no-sweep.yaml"), &no_sweep).unwrap();
    std::fs::write(
        sweeps.join("other.yaml"),
        small.replace("slow: [20, 50, 100]", "slow: [30, 60]"),
    )
    .unwrap();
    let core = start(&config(
        &dir.path().join("core.db"),
        "{ bars_per_second: 50 }",
        &format!(
            "backtests: {{ directory: \"{}\", sweep_directory: \"{}\", sweep_threads: 2 }}",
            backtests.display(),
            sweeps.display()
        ),
    ))
    .await;

    let (status, names) = core.get("/v1/sweeps/configs", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(
        names,
        serde_json::json!([
            "no-sweep.yaml",
            "other.yaml",
            "small.yaml",
            "unknown-param.yaml"
        ])
    );
    let (status, list) = core.get("/v1/sweeps", VIEWER).await;
    assert_eq!((status, list), (200, serde_json::json!([])));
    let launch = |name: &str, id: &str| format!(r#"{{"config": "{name}", "sweep_id": "{id}"}}"#);
    let (status, _) = core
        .post("/v1/sweeps", VIEWER, &launch("small.yaml", "s"))
        .await;
    assert_eq!(status, 403, "a viewer may not launch");
    let (status, body) = core
        .post("/v1/sweeps", TRADER, &launch("nope.yaml", "s"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("SWEEP_CONFIG_NOT_FOUND"))
    );
    let (status, body) = core
        .post("/v1/sweeps", TRADER, &launch("small.yaml", "a/b"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_FIELD"))
    );
    let (status, body) = core
        .post("/v1/sweeps", TRADER, &launch("small.yaml", "jobs"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("INVALID_FIELD")),
        "an id that is a route's name could never be opened"
    );
    for (name, says) in [
        ("unknown-param.yaml", "sweep.parameters.nope"),
        ("no-sweep.yaml", "sweep"),
    ] {
        let (status, body) = core.post("/v1/sweeps", TRADER, &launch(name, "s")).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["code"], "INVALID_SWEEP_CONFIG");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(name) && message.contains(says),
            "{message}"
        );
    }

    let (status, job) = core
        .post("/v1/sweeps", TRADER, r#"{"config": "small.yaml"}"#)
        .await;
    assert_eq!(status, 202, "{job}");
    assert_eq!(
        (job["sweep_id"].as_str(), job["trials_total"].as_u64()),
        (Some("small"), Some(9))
    );
    let job = wait_sweep_job(&core, job["id"].as_u64().unwrap()).await;
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["trials_done"], 9, "{job}");

    // What `tradepulse sweep` computes for the same config.
    let config = tradepulse_backtest::BacktestConfig::load(&sweeps.join("small.yaml")).unwrap();
    let bars = config.data.load(&config.instrument).unwrap();
    let plan = SweepPlan::new(&config).unwrap();
    let expected = plan.run(&config, &bars, Shard::ALL, &|| {}).unwrap();
    let report = SweepReport::of(&expected);

    let (status, list) = core.get("/v1/sweeps", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], "small");
    assert_eq!(list[0]["parameters"], serde_json::json!(["fast", "slow"]));
    assert_eq!(list[0]["objective"], "sharpe");
    assert_eq!(
        list[0]["returns"],
        serde_json::json!({"period": "trading_day", "bars": null})
    );
    assert_eq!(
        (&list[0]["complete"], &list[0]["trials_stored"]),
        (&Value::Bool(true), &Value::from(9))
    );
    let (status, detail) = core.get("/v1/sweeps/small", VIEWER).await;
    assert_eq!(status, 200, "{detail}");
    let trials = detail["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 9);
    assert_eq!(detail["trials_truncated"], false);
    for (got, want) in trials.iter().zip(&expected.results) {
        assert_eq!(got["id"].as_u64(), Some(want.trial.id as u64));
        assert_eq!(got["values"], serde_json::json!(want.trial.values));
        match (&want.outcome, want.objective(plan.objective)) {
            (Ok(m), Some(objective)) => {
                assert!(close(&got["objective"], objective), "{got}");
                assert_eq!(got["round_trips"].as_u64(), Some(m.round_trips as u64));
                assert!(got["invalid"].is_null());
            }
            (Ok(_), None) => assert!(got["objective"].is_null(), "{got}"),
            (Err(reason), _) => {
                assert_eq!(got["invalid"].as_str(), Some(reason.as_str()));
                assert!(got["objective"].is_null());
            }
        }
    }
    assert!(
        trials
            .iter()
            .any(|t| t["values"] == serde_json::json!([20.0, 20.0])
                && t["invalid"].as_str().is_some()),
        "fast = slow is an invalid trial"
    );
    let got = &detail["report"];
    assert!(detail["report_unavailable"].is_null(), "{detail}");
    assert_eq!(
        got["valid_trials"].as_u64(),
        Some(report.valid_trials as u64)
    );
    assert_eq!(
        got["best_trial"].as_u64(),
        report.best.as_ref().map(|b| b.id as u64)
    );
    let dsr = report
        .deflated_sharpe
        .as_ref()
        .expect("the sweep has a DSR");
    assert!(close(&got["deflated_sharpe"]["dsr"], dsr.dsr), "{got}");
    assert!(close(&got["deflated_sharpe"]["psr"], dsr.psr), "{got}");
    assert!(
        close(
            &got["deflated_sharpe"]["expected_max_sharpe"],
            dsr.expected_max_sharpe
        ),
        "{got}"
    );
    assert_eq!(
        got["deflated_sharpe"]["trials"].as_u64(),
        Some(dsr.trials as u64)
    );
    let pbo = report.pbo.as_ref().expect("the sweep has a PBO");
    assert!(close(&got["pbo"]["pbo"], pbo.pbo), "{got}");
    assert_eq!(got["pbo"]["splits"].as_u64(), Some(pbo.splits as u64));
    assert!(
        close(&got["pbo"]["prob_oos_loss"], pbo.prob_oos_loss),
        "{got}"
    );

    // Another sweep under a stored id is refused; the stored one stays.
    let (status, body) = core
        .post("/v1/sweeps", TRADER, &launch("other.yaml", "small"))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("SWEEP_EXISTS")),
        "{body}"
    );
    let (_, again) = core.get("/v1/sweeps/small", VIEWER).await;
    assert_eq!(again, detail, "the stored sweep changed");

    // One shard of two, stored as `tradepulse sweep --shard 0/2` does: trials, no report.
    let half = plan
        .run(&config, &bars, Shard::new(0, 2).unwrap(), &|| {})
        .unwrap();
    core.running
        .engine
        .store()
        .save_sweep_results("half", &half)
        .await
        .unwrap();
    let (status, detail) = core.get("/v1/sweeps/half", VIEWER).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(
        detail["trials"].as_array().unwrap().len(),
        half.results.len()
    );
    assert_eq!(detail["sweep"]["complete"], false);
    assert_eq!(detail["sweep"]["shard_count"], 2);
    assert_eq!(detail["sweep"]["shards_stored"], serde_json::json!([0]));
    assert!(detail["report"].is_null());
    let why = detail["report_unavailable"].as_str().unwrap();
    assert!(why.contains("1/2") && why.contains("missing"), "{why}");
    let (_, list) = core.get("/v1/sweeps", VIEWER).await;
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, ["half", "small"], "most recently stored first");

    let (status, body) = core.get("/v1/sweeps/none", VIEWER).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("SWEEP_NOT_FOUND"))
    );
    let (status, _) = core.get("/v1/sweeps/jobs/99", VIEWER).await;
    assert_eq!(status, 404);
    let audit = crate::audit_when(core.running.engine.store(), 50, |a| {
        a.iter().filter(|a| a.target == "/v1/sweeps").count() >= 8
    })
    .await;
    let statuses: Vec<i64> = audit
        .iter()
        .filter(|a| a.target == "/v1/sweeps")
        .map(|a| a.detail["status"].as_i64().unwrap_or(0))
        .collect();
    assert_eq!(statuses, [409, 202, 422, 422, 422, 422, 404, 403]);
    core.running.stop().await.unwrap();
}
