//! `tradepulse serve` and `tradepulse token` as processes: the README's paper command from the
//! repository root, tokens created, listed and revoked, a graceful SIGTERM; production refused
//! without its second switch (with the banner); a bad config is exit 2 naming file and key; the
//! dashboard served with `--web`, and refused at start when it was not built.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tradepulse(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_serves_the_live_path_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("paper.db").display());
    let log = dir.path().join("serve.log");
    // `--web DIR`: the README's way to see the dashboard beside the paper run.
    let dashboard = dir.path().join("dist");
    std::fs::create_dir(&dashboard).unwrap();
    std::fs::write(
        dashboard.join("index.html"),
        "<!doctype html><title>dashboard</title>",
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(["serve", "--config", "configs/environments/paper.yaml"])
        .args(["--listen", "127.0.0.1:0", "--database-url", &db])
        .arg("--web")
        .arg(&dashboard)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(base) = line.trim().strip_prefix("tradepulse serve listening on ") else {
        let _ = child.kill();
        panic!(
            "serve did not start: {line:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };

    let created = tradepulse(&[
        "token",
        "create",
        "--name",
        "dash",
        "--role",
        "viewer",
        "--database-url",
        &db,
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("tp_") && token.len() == 67, "{token}");
    let again = tradepulse(&[
        "token",
        "create",
        "--name",
        "dash",
        "--role",
        "admin",
        "--database-url",
        &db,
    ]);
    assert_eq!(again.status.code(), Some(2));
    let bad_role = tradepulse(&[
        "token",
        "create",
        "--name",
        "x",
        "--role",
        "root",
        "--database-url",
        &db,
    ]);
    assert_eq!(bad_role.status.code(), Some(2));

    let http = reqwest::Client::new();
    let page = http.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<title>dashboard</title>")
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let strategies = loop {
        let r = http
            .get(format!("{base}/v1/strategies"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        if body[0]["bars"].as_i64().unwrap_or(0) > 60 || Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(strategies[0]["name"], "sma-spx");
    assert!(strategies[0]["bars"].as_i64().unwrap() > 60, "{strategies}");
    let r = http
        .post(format!("{base}/v1/strategies/sma-spx/stop"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a viewer cannot stop a strategy");

    let list = tradepulse(&["token", "list", "--database-url", &db]);
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("dash") && l.contains("viewer") && l.contains("active")),
        "{listed}"
    );
    assert!(!listed.contains(&token), "the list never shows a token");
    let revoke = tradepulse(&["token", "revoke", "dash", "--database-url", &db]);
    assert!(revoke.status.success());
    let listed =
        String::from_utf8(tradepulse(&["token", "list", "--database-url", &db]).stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("dash") && l.contains("revoked")),
        "{listed}"
    );

    let verified = tradepulse(&[
        "verify",
        "--core",
        base,
        "--slo-p99-ms",
        "60000",
        "--window-secs",
        "0.3",
    ]);
    let report = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(
        verified.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(
        report.contains("ok   core  /readyz") && report.contains("checks passed"),
        "{report}"
    );
    let down = tradepulse(&[
        "verify",
        "--exec",
        "http://127.0.0.1:9",
        "--window-secs",
        "0.1",
    ]);
    assert_eq!(down.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&down.stdout).contains("FAIL exec  /healthz"));

    let started = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no exit within the grace period"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("stopped"), "{logged}");
    assert!(!logged.contains(&token), "a token never reaches the log");
}

#[test]
fn production_is_refused_without_the_second_switch() {
    let out = Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args([
            "serve",
            "--config",
            "configs/environments/production.yaml",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(root())
        .env_remove("TRADEPULSE_LIVE_TRADING")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("PRODUCTION — LIVE TRADING WITH REAL MONEY"),
        "{stderr}"
    );
    assert!(stderr.contains("TRADEPULSE_LIVE_TRADING=yes"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_a_reachable_store() {
    // Both switches on, nothing listening at the store's address: no order may be taken that
    // cannot be journaled, so the service stops before it trades, naming the store.
    let out = Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args([
            "serve",
            "--config",
            "configs/environments/production.yaml",
            "--listen",
            "127.0.0.1:0",
        ])
        .current_dir(root())
        .env("TRADEPULSE_LIVE_TRADING", "yes")
        .env(
            "TRADEPULSE_DATABASE_URL",
            "postgres://tradepulse@127.0.0.1:1/tradepulse",
        )
        .env_remove("TRADEPULSE_DATABASE_URL_FILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("PRODUCTION — LIVE TRADING WITH REAL MONEY"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "cannot connect to PostgreSQL at postgres://tradepulse@127.0.0.1:1/tradepulse"
        ),
        "{stderr}"
    );
}

#[test]
fn a_bad_environment_config_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("configs/environments/paper.yaml"))
        .unwrap()
        .replace("checkpoints: true", "checkpionts: true");
    let path = dir.path().join("paper.yaml");
    std::fs::write(&path, text).unwrap();
    let out = tradepulse(&["serve", "--config", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("paper.yaml:") && stderr.contains("unknown field `checkpionts`"),
        "{stderr}"
    );
}

#[test]
fn a_dashboard_directory_without_index_html_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("paper.db").display());
    let empty = dir.path().join("not-built");
    std::fs::create_dir(&empty).unwrap();
    let out = tradepulse(&[
        "serve",
        "--config",
        "configs/environments/paper.yaml",
        "--listen",
        "127.0.0.1:0",
        "--database-url",
        &db,
        "--web",
        empty.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("web.directory")
            && stderr.contains("not-built has no index.html")
            && stderr.contains("npm run build"),
        "{stderr}"
    );
}

/// Issue 13 point 5: with deliberately failing credentials, nothing the process writes (stdout,
/// stderr with JSON logs at trace level for our crates) contains a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_credentials_never_leak_a_secret() {
    use tradepulse_fake_binance::{FakeBinance, FakeConfig, Side as FakeSide};
    let fake = FakeBinance::start(FakeConfig::default()).await.unwrap();
    fake.add_liquidity("BTCUSDT", FakeSide::Sell, "50000", "10");
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("btc.csv");
    std::fs::write(
        &csv,
        "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,50000,50000,50000,50000,1\n",
    )
    .unwrap();
    let config = format!(
        r#"
environment: staging
database_url: sqlite://{db}
execution:
  in_process:
    venue:
      binance:
        connection:
          environment: custom
          rest_url: {rest}
          ws_api_url: {ws}
          stream_url: {stream}
          request_timeout_ms: 2000
          ws_timeout_ms: 2000
        symbols: [BTCUSDT]
        currency: USDT
market_data:
  replay:
    - {{ instrument: BTCUSDT.BINANCE, path: "{csv}", speed: max }}
strategies:
  - name: sma-btc
    instrument: BTCUSDT.BINANCE
    strategy: {{ kind: sma_cross, params: {{ fast: 2, slow: 5, size: {{ units: 0.001 }} }} }}
auth:
  tokens:
    - {{ name: ops, role: admin, secret: TRADEPULSE_CORE_ADMIN_TOKEN }}
"#,
        db = dir.path().join("core.db").display(),
        rest = fake.rest_url(),
        ws = fake.ws_api_url(),
        stream = fake.stream_url(),
        csv = csv.display(),
    );
    let path = dir.path().join("staging.yaml");
    std::fs::write(&path, config).unwrap();
    const API_KEY: &str = "leakcheckApiKey7Qv9zT3xW8pL2mN5bR1cY6";
    const SECRET_KEY: &str = "leakcheckSecretKey4Hs8dJ2kF6gA9qW3eR7tY1uI5oP0";
    const ADMIN_TOKEN: &str = "leakcheck-admin-token-Zx81Kp";
    let stdout_path = dir.path().join("stdout");
    let stderr_path = dir.path().join("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(["serve", "--config"])
        .arg(&path)
        .args(["--listen", "127.0.0.1:0", "--json-logs"])
        .env("BINANCE_API_KEY", API_KEY)
        .env("BINANCE_SECRET_KEY", SECRET_KEY)
        .env("TRADEPULSE_CORE_ADMIN_TOKEN", ADMIN_TOKEN)
        .env(
            "TRADEPULSE_LOG",
            "info,tradepulse_live=trace,tradepulse_server=trace,tradepulse_venue_binance=trace,tradepulse_store=trace",
        )
        .stdout(Stdio::from(std::fs::File::create(&stdout_path).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&stderr_path).unwrap()))
        .spawn()
        .unwrap();
    // The venue refuses the keys: reconciliation fails again and again, the service is never
    // ready (no order may leave), and answers the API meanwhile.
    let deadline = Instant::now() + Duration::from_secs(20);
    let base = loop {
        let text = std::fs::read_to_string(&stdout_path).unwrap_or_default();
        if let Some(base) = text
            .lines()
            .find_map(|l| l.strip_prefix("tradepulse serve listening on "))
        {
            break base.to_owned();
        }
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let http = reqwest::Client::new();
    let mut answers = String::new();
    for path in [
        "/readyz",
        "/metrics",
        "/v1/status",
        "/v1/strategies",
        "/v1/openapi.json",
    ] {
        let r = http
            .get(format!("{base}{path}"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        if path == "/readyz" {
            assert_eq!(r.status(), 503);
        }
        answers.push_str(&r.text().await.unwrap());
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exited = (0..500).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        child.try_wait().ok().flatten().is_some()
    });
    if !exited {
        let _ = child.kill();
    }
    let _ = child.wait();
    let everything = format!(
        "{}{}{answers}",
        std::fs::read_to_string(&stdout_path).unwrap(),
        std::fs::read_to_string(&stderr_path).unwrap(),
    );
    assert!(
        everything.contains("Invalid API-key"),
        "the credentials were tried: {everything}"
    );
    for secret in [API_KEY, SECRET_KEY, ADMIN_TOKEN] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked:\n{everything}"
        );
        // Nor a recognisable piece of it.
        assert!(
            !everything.contains(&secret[..16]),
            "part of a secret leaked:\n{everything}"
        );
    }
}

/// Issue 13 point 8: one correlation id — the client order id — follows an order in the JSON
/// logs from the strategy's decision through risk and the journal to the venue's reports and
/// the fill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_correlation_id_follows_an_order_from_decision_to_fill() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("paper.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
environment: paper
database_url: sqlite://{db}
execution:
  in_process:
    venue:
      sim:
        currency: USD
        opening_cash: "1000000"
        instruments:
          - {{ symbol: SPX, venue: SIM, quote_currency: USD, tick_size: "0.000001", lot_size: "1", min_notional: "0" }}
        execution: {{ fill_model: close }}
market_data:
  replay:
    - {{ instrument: SPX.SIM, path: "{csv}", timestamp: auto, speed: max }}
strategies:
  - name: sma-spx
    instrument: SPX.SIM
    strategy: {{ kind: sma_cross, params: {{ fast: 10, slow: 50, size: {{ units: 1 }} }} }}
"#,
            db = dir.path().join("core.db").display(),
            csv = root().join("data/spx_1d.csv").display(),
        ),
    )
    .unwrap();
    let log = dir.path().join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", "127.0.0.1:0", "--json-logs"])
        .env("TRADEPULSE_LOG", "info,tradepulse_live=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines: Vec<Value> = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let fills = lines
            .iter()
            .filter(|l| l["fields"]["message"] == "fill booked")
            .count();
        if fills >= 3 || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let fill = lines
        .iter()
        .find(|l| l["fields"]["message"] == "fill booked")
        .expect("a fill in the logs");
    let id = fill["fields"]["correlation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let trail: Vec<&str> = lines
        .iter()
        .filter(|l| l["fields"]["correlation_id"] == id.as_str())
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect();
    assert_eq!(
        trail.first().copied(),
        Some("risk checks passed, journaled, sent to the venue"),
        "{id}: {trail:?}"
    );
    assert!(trail.contains(&"venue report"), "{id}: {trail:?}");
    assert!(trail.contains(&"fill booked"), "{id}: {trail:?}");
    let sent = lines
        .iter()
        .find(|l| {
            l["fields"]["correlation_id"] == id.as_str()
                && l["fields"]["message"] == "risk checks passed, journaled, sent to the venue"
        })
        .unwrap();
    assert_eq!(
        sent["fields"]["strategy"], "sma-spx",
        "the decision names its strategy"
    );
}

/// Issue 13 point 8: with the `otel` feature, spans reach an OTLP/HTTP collector (a local
/// receiver of `POST /v1/traces`, protobuf, as the OTLP specification defines it).
#[cfg(feature = "otel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_are_exported_over_otlp_http() {
    use std::sync::{Arc, Mutex};
    /// Each export: its content type and body.
    type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Received = Arc::default();
    let sink = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = Arc::clone(&sink);
                async move {
                    let kind = headers
                        .get("content-type")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    sink.lock().unwrap().push((kind, body.to_vec()));
                    axum::http::StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("otel.db").display());
    let stdout = dir.path().join("stdout");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(["serve", "--config", "configs/environments/paper.yaml"])
        .args(["--listen", "127.0.0.1:0", "--database-url", &db])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{collector}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "200")
        .current_dir(root())
        .stdout(Stdio::from(std::fs::File::create(&stdout).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let base = loop {
        let text = std::fs::read_to_string(&stdout).unwrap_or_default();
        if let Some(b) = text
            .lines()
            .find_map(|l| l.strip_prefix("tradepulse serve listening on "))
        {
            break b.to_owned();
        }
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let r = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let got = received.lock().unwrap().clone();
    assert!(!got.is_empty(), "no OTLP export reached the collector");
    assert!(
        got.iter().all(|(kind, _)| kind == "application/x-protobuf"),
        "{:?}",
        got.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    let all: Vec<u8> = got.into_iter().flat_map(|(_, b)| b).collect();
    let has = |needle: &[u8]| all.windows(needle.len()).any(|w| w == needle);
    assert!(
        has(b"tradepulse-core"),
        "the service name is in the resource"
    );
    assert!(has(b"http.request"), "the request spans are exported");
    assert!(has(b"/healthz"), "with their route");
}
