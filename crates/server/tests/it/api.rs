//! One service per test: submit (idempotent), validation errors, roles, kill switch, lists,
//! the stream, OpenAPI, metrics, readiness, shutdown.

use std::path::Path;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tradepulse_live::StaticSecrets;
use tradepulse_server::{ExecConfig, RunningExec};

const ADMIN: &str = "admin-token-1";
const TRADER: &str = "trader-token-1";
const VIEWER: &str = "viewer-token-1";

fn config(dir: &Path) -> ExecConfig {
    let text = format!(
        r#"
listen: 127.0.0.1:0
database_url: sqlite://{}/exec.db
venue:
  sim:
    currency: USD
    opening_cash: "100000"
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
    market: {{ interval_ms: 50, start_prices: {{ BTCUSD.SIM: "50000" }}, volatility_bps: "0" }}
risk:
  max_position: "10"
auth:
  tokens:
    - {{ name: ops, role: admin, secret: ADMIN_TOKEN }}
    - {{ name: core, role: trader, secret: TRADER_TOKEN }}
    - {{ name: dash, role: viewer, secret: VIEWER_TOKEN }}
http: {{ request_timeout_ms: 2000, submit_wait_ms: 1000 }}
shutdown: {{ grace_ms: 3000, cancel_open_orders: true }}
"#,
        dir.display()
    );
    ExecConfig::parse(&text, Path::new("test.yaml")).unwrap()
}

struct Service {
    running: RunningExec,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn service() -> Service {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let secrets = StaticSecrets::default()
        .with("ADMIN_TOKEN", ADMIN)
        .with("TRADER_TOKEN", TRADER)
        .with("VIEWER_TOKEN", VIEWER);
    let running = RunningExec::start_with(&config, listener, &secrets)
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A bar first, so market orders have a price.
    tokio::time::sleep(Duration::from_millis(120)).await;
    Service {
        running,
        base,
        http,
        _dir: dir,
    }
}

impl Service {
    async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

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

    async fn delete(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .delete(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

fn market(id: &str, side: &str, qty: &str) -> Value {
    json!({"client_order_id": id, "instrument": "BTCUSD.SIM", "side": side, "type": "market", "quantity": qty})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_is_idempotent_and_answers_with_clear_codes() {
    let s = service().await;
    let (status, order) = s
        .post("/v1/orders", TRADER, &market("o-1", "buy", "0.5"))
        .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "filled");
    assert_eq!(order["filled_quantity"], "0.5");
    let (status, again) = s
        .post("/v1/orders", TRADER, &market("o-1", "buy", "0.5"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["client_order_id"], "o-1");
    let (status, err) = s
        .post("/v1/orders", TRADER, &market("o-1", "sell", "0.5"))
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("DUPLICATE_CLIENT_ORDER_ID"))
    );

    // Risk: beyond max_position.
    let (status, refused) = s
        .post("/v1/orders", TRADER, &market("o-2", "buy", "20"))
        .await;
    assert_eq!(status, 422);
    assert_eq!(refused["code"], "MAX_POSITION");
    assert!(
        refused["message"].as_str().unwrap().contains("limit=10"),
        "{refused}"
    );
    assert_eq!(refused["order"]["status"], "refused");

    for (body, field) in [
        (
            json!({"instrument": "BTCUSD.SIM", "side": "buy", "type": "limit", "quantity": "1"}),
            "price",
        ),
        (
            json!({"instrument": "BTCUSD.SIM", "side": "buy", "type": "market", "quantity": "-1"}),
            "quantity",
        ),
        (
            json!({"instrument": "BTCUSD.SIM", "side": "buy", "type": "market", "quantity": "abc"}),
            "quantity",
        ),
        (
            json!({"instrument": "nodot", "side": "buy", "type": "market", "quantity": "1"}),
            "instrument",
        ),
        (
            json!({"client_order_id": "bad id", "instrument": "BTCUSD.SIM", "side": "buy", "type": "market", "quantity": "1"}),
            "client_order_id",
        ),
    ] {
        let (status, err) = s.post("/v1/orders", TRADER, &body).await;
        assert_eq!(status, 422, "{body} -> {err}");
        assert_eq!(err["code"], "INVALID_FIELD");
        assert!(err["message"].as_str().unwrap().starts_with(field), "{err}");
    }
    let (status, err) = s
        .post(
            "/v1/orders",
            TRADER,
            &json!({"instrument": "BTCUSD.SIM", "side": "up", "type": "market", "quantity": "1"}),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (422, Some("INVALID_BODY")));
    let raw = s
        .http
        .post(format!("{}/v1/orders", s.base))
        .bearer_auth(TRADER)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let err: Value = raw.json().await.unwrap();
    assert_eq!(err["code"], "MALFORMED_JSON");
    let (status, err) = s
        .post(
            "/v1/orders",
            TRADER,
            &json!({"instrument": "ETHUSD.SIM", "side": "buy", "type": "market", "quantity": "1"}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (422, Some("UNKNOWN_INSTRUMENT"))
    );

    // Resting, listed, cancelled.
    let (status, resting) = s
        .post("/v1/orders", TRADER, &json!({"client_order_id": "r-1", "instrument": "BTCUSD.SIM", "side": "buy", "type": "limit", "price": "40000", "quantity": "0.1"}))
        .await;
    assert_eq!(
        (status, resting["status"].as_str()),
        (201, Some("accepted"))
    );
    let (_, open) = s.get("/v1/orders?status=open", VIEWER).await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (status, err) = s.get("/v1/orders?status=bogus", VIEWER).await;
    assert_eq!((status, err["code"].as_str()), (422, Some("INVALID_FIELD")));
    let (status, err) = s.get("/v1/orders?limit=x", VIEWER).await;
    assert_eq!((status, err["code"].as_str()), (400, Some("INVALID_QUERY")));
    let (status, cancelled) = s.delete("/v1/orders/r-1", TRADER).await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (200, Some("canceled"))
    );
    let (status, err) = s.delete("/v1/orders/r-1", TRADER).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (409, Some("NOT_CANCELABLE"))
    );
    let (status, err) = s.get("/v1/orders/none-1", VIEWER).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (404, Some("ORDER_NOT_FOUND"))
    );
    let (_, all) = s.get("/v1/orders?strategy=api&limit=2", VIEWER).await;
    assert_eq!(all.as_array().unwrap().len(), 2);

    let (_, positions) = s.get("/v1/positions", VIEWER).await;
    assert_eq!(positions[0]["quantity"], "0.5");
    let (_, balances) = s.get("/v1/balances", VIEWER).await;
    assert_eq!(balances[1]["asset"], "BTC");
    s.running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_guard_routes_and_the_kill_switch_is_admin_only() {
    let s = service().await;
    let r = s
        .http
        .get(format!("{}/v1/orders", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, err) = s
        .post("/v1/orders", VIEWER, &market("v-1", "buy", "0.1"))
        .await;
    assert_eq!((status, err["code"].as_str()), (403, Some("FORBIDDEN")));
    let (status, _) = s.get("/v1/orders", "wrong-token").await;
    assert_eq!(status, 401);
    let engage =
        json!({"scope": "global", "engaged": true, "reason": "drill", "cancel_open": true});
    let (status, _) = s.post("/v1/kill-switch", TRADER, &engage).await;
    assert_eq!(status, 403);
    let (status, ks) = s.post("/v1/kill-switch", ADMIN, &engage).await;
    assert_eq!(status, 200, "{ks}");
    assert_eq!(ks["engaged"], json!(["global"]));
    let (status, refused) = s
        .post("/v1/orders", TRADER, &market("k-1", "buy", "0.1"))
        .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (422, Some("KILL_SWITCH"))
    );
    let (status, err) = s
        .post(
            "/v1/kill-switch",
            ADMIN,
            &json!({"scope": "nowhere", "engaged": true, "reason": "drill"}),
        )
        .await;
    assert_eq!((status, err["code"].as_str()), (422, Some("INVALID_FIELD")));
    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("tradepulse_kill_switch_active{scope=\"global\"} 1\n"));
    let audit = s.running.engine.store().audit_log(10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "kill_switch.engage" && a.actor == "ops")
    );
    s.running.stop().await.unwrap();
}

/// The audit log is written in batches off the answers' path; a graceful stop writes every
/// entry still queued before the store closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mutating_call_is_audited_by_the_time_the_service_has_stopped() {
    let s = service().await;
    let calls = 40;
    for i in 0..calls {
        let side = if i % 2 == 0 { "buy" } else { "sell" };
        let (status, body) = s
            .post(
                "/v1/orders",
                TRADER,
                &market(&format!("a-{i}"), side, "0.01"),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let url = s.running.engine.store().url().clone();
    s.running.stop().await.unwrap();
    let store = tradepulse_store::Store::connect(&url).await.unwrap();
    let audit = store.audit_log(1_000).await.unwrap();
    let submits = audit
        .iter()
        .filter(|a| a.action == "http.POST" && a.target == "/v1/orders")
        .filter(|a| a.actor == "core" && a.detail["status"] == 201)
        .count();
    assert_eq!(submits, calls, "{audit:#?}");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_metrics_health_and_the_report_stream() {
    let s = service().await;
    let (status, doc) = s.get("/v1/openapi.json", "").await;
    assert_eq!(status, 200);
    for path in [
        "/v1/orders",
        "/v1/orders/{client_order_id}",
        "/v1/positions",
        "/v1/balances",
        "/v1/kill-switch",
        "/v1/stream",
        "/v1/status",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    for schema in [
        "SubmitOrder",
        "OrderDto",
        "ErrorBody",
        "RefusedDto",
        "KillSwitchRequest",
        "StreamMessage",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let (status, health) = s.get("/healthz", "").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = s.get("/readyz", "").await;
    assert_eq!((status, ready["ready"].as_bool()), (200, Some(true)));

    let ws_url = format!("ws://{}/v1/stream", s.running.addr);
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
            ws_url.as_str(),
        )
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {VIEWER}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let (status, _) = s
        .post("/v1/orders", TRADER, &market("w-1", "buy", "0.1"))
        .await;
    assert_eq!(status, 201);
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let msg = tokio::time::timeout(Duration::from_secs(2), ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(msg.to_text().unwrap()).unwrap();
        kinds.push(v["type"].as_str().unwrap().to_owned());
    }
    assert!(kinds.contains(&"fill".to_owned()), "{kinds:?}");

    let metrics = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        metrics.headers()["content-type"],
        "text/plain; version=0.0.4"
    );
    let text = metrics.text().await.unwrap();
    let documented = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/metrics.md"
    ))
    .unwrap();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split_whitespace().nth(2).unwrap();
        assert!(
            documented.contains(&format!("`{name}`")),
            "{name} is not in docs/metrics.md"
        );
    }
    for name in [
        "tradepulse_order_decision_to_ack_seconds_bucket",
        "tradepulse_orders_submitted_total",
        "tradepulse_reconciliation_ok 1",
        "tradepulse_http_requests_total{route=\"/v1/orders\",method=\"POST\",status=\"201\"}",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
    let report = s.running.stop().await.unwrap();
    assert!(report.requests_drained);
    // The stream was closed by the shutdown.
    let end = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(m)) = ws.next().await {
            if m.is_close() {
                return true;
            }
        }
        true
    })
    .await;
    assert_eq!(end, Ok(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_cancels_open_orders_within_the_grace_period() {
    let s = service().await;
    let (status, _) = s
        .post("/v1/orders", TRADER, &json!({"client_order_id": "g-1", "instrument": "BTCUSD.SIM", "side": "buy", "type": "limit", "price": "40000", "quantity": "0.1"}))
        .await;
    assert_eq!(status, 201);
    let engine = s.running.engine.clone();
    let report = s.running.stop().await.unwrap();
    assert_eq!(report.engine.cancels_requested, 1);
    assert_eq!(report.engine.still_open, 0);
    assert!(report.took < Duration::from_secs(3), "{:?}", report.took);
    assert!(engine.status().await.is_err(), "the engine thread ended");
}

#[test]
fn config_errors_name_the_file_line_and_key() {
    let err = ExecConfig::parse(
        "listen: 127.0.0.1:1\nvenue:\n  sim:\n    currency: USD\n    openin_cash: 1\n",
        Path::new("exec.yaml"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("exec.yaml:5:5: venue.sim"), "{err}");
    assert!(err.contains("unknown field `openin_cash`"), "{err}");
    let err = ExecConfig::parse("venue: {}\n", Path::new("exec.yaml"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "exec.yaml: venue: set exactly one of `venue.sim` and `venue.binance`"
    );
    let prod = "venue:\n  binance:\n    connection: { environment: production }\n    symbols: [BTCUSDT]\n    currency: USDT\n";
    let err = ExecConfig::parse(prod, Path::new("exec.yaml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("allow_production"), "{err}");
    for shipped in ["sim.yaml", "binance-testnet.yaml"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../configs/exec")
            .join(shipped);
        ExecConfig::load(&path).unwrap_or_else(|e| panic!("{shipped}: {e}"));
    }
}

/// `tradepulse verify` against a real exec: passes after some orders, fails with the kill
/// switch engaged, and reports an unreachable service as a failed check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_passes_on_a_healthy_exec_and_fails_on_the_kill_switch() {
    use tradepulse_server::verify::{Outcome, VerifyOptions, verify};
    let s = service().await;
    for n in 0..5 {
        let side = if n % 2 == 0 { "buy" } else { "sell" };
        let (status, _) = s
            .post(
                "/v1/orders",
                TRADER,
                &market(&format!("vf-{n}"), side, "0.01"),
            )
            .await;
        assert_eq!(status, 201);
    }
    let options = VerifyOptions {
        services: vec![("exec".into(), s.base.clone())],
        window: Duration::from_millis(200),
        slo_p99: Duration::from_millis(500),
        ..VerifyOptions::default()
    };
    let report = verify(&options).await.unwrap();
    assert!(report.passed(), "{report}");
    let outcome = |r: &tradepulse_server::verify::Report, what: &str| {
        r.checks.iter().find(|c| c.what == what).map(|c| c.outcome)
    };
    for what in [
        "/healthz",
        "/readyz",
        "/metrics",
        "order latency p99",
        "kill switch",
        "reconciliation",
        "errors",
    ] {
        assert_eq!(
            outcome(&report, what),
            Some(Outcome::Pass),
            "{what}: {report}"
        );
    }

    let engage = json!({"scope": "global", "engaged": true, "reason": "drill"});
    let (status, _) = s.post("/v1/kill-switch", ADMIN, &engage).await;
    assert_eq!(status, 200);
    let report = verify(&options).await.unwrap();
    assert!(!report.passed());
    assert_eq!(
        outcome(&report, "kill switch"),
        Some(Outcome::Fail),
        "{report}"
    );

    let gone = VerifyOptions {
        services: vec![("core".into(), "http://127.0.0.1:9".into())],
        window: Duration::from_millis(10),
        ..VerifyOptions::default()
    };
    let report = verify(&gone).await.unwrap();
    assert_eq!(outcome(&report, "/healthz"), Some(Outcome::Fail));
    assert!(report.to_string().contains("unreachable"), "{report}");
    assert!(
        verify(&VerifyOptions {
            services: vec![("exec".into(), "localhost:8081".into())],
            ..VerifyOptions::default()
        })
        .await
        .is_err()
    );
}

/// Order lists are served from a cache of serialised pages: every change an answer showed is
/// in the next list (read your writes), for the same filter and for others, while repeated
/// reads of an unchanged book get the same page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_order_pages_show_every_change_at_once() {
    let s = service().await;
    let ids = |list: &Value| -> Vec<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|o| {
                (
                    o["client_order_id"].as_str().unwrap().to_owned(),
                    o["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (status, empty) = s.get("/v1/orders", VIEWER).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&empty), []);
    for i in 0..15 {
        let id = format!("page-{i}");
        // A resting buy far below the market, then its cancel: each answer, then the lists.
        let (status, order) = s
            .post(
                "/v1/orders",
                TRADER,
                &json!({"client_order_id": id, "instrument": "BTCUSD.SIM", "side": "buy",
                        "type": "limit", "price": "1000", "quantity": "0.001"}),
            )
            .await;
        assert!(status == 201 || status == 202, "{status} {order}");
        let answered = order["status"].as_str().unwrap().to_owned();
        for path in ["/v1/orders", "/v1/orders?status=open", "/v1/orders?limit=5"] {
            let (_, list) = s.get(path, VIEWER).await;
            let listed = ids(&list);
            assert_eq!(
                listed.first(),
                Some(&(id.clone(), answered.clone())),
                "{path} after submit {i}"
            );
        }
        let (status, cancelled) = s.delete(&format!("/v1/orders/{id}"), TRADER).await;
        assert_eq!(status, 200, "{cancelled}");
        // The cancel's own answer may still be pending; the list shows what the engine knows.
        let (_, one) = s.get(&format!("/v1/orders/{id}"), VIEWER).await;
        let now = one["status"].as_str().unwrap().to_owned();
        let (_, list) = s.get("/v1/orders", VIEWER).await;
        assert_eq!(
            ids(&list).first(),
            Some(&(id.clone(), now.clone())),
            "after cancel {i}"
        );
        let (_, open) = s.get("/v1/orders?status=open", VIEWER).await;
        assert_eq!(
            ids(&open).iter().any(|(o, _)| *o == id),
            now != "canceled",
            "open list after cancel {i}: {now}"
        );
    }
    // Nothing changes: the same page twice.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, a) = s.get("/v1/orders", VIEWER).await;
    let (_, b) = s.get("/v1/orders", VIEWER).await;
    assert_eq!(a, b);
    assert_eq!(ids(&a).len(), 15);
    assert!(ids(&a).iter().all(|(_, st)| st == "canceled"), "{a}");
}
