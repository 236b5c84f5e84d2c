//! Issue 12: `tradepulse exec` as operators run it — SIGTERM shuts down gracefully, bad configs
//! exit 2 naming file, line and key.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::exec_process::ExecProcess;

fn sim_config(dir: &std::path::Path) -> String {
    format!(
        r#"database_url: sqlite://{}/exec.db
venue:
  sim:
    currency: USD
    opening_cash: "100000"
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
    market: {{ interval_ms: 100, start_prices: {{ BTCUSD.SIM: "50000" }} }}
auth:
  tokens:
    - {{ name: ops, role: admin, secret: TP_TEST_TOKEN }}
shutdown: {{ grace_ms: 3000, cancel_open_orders: true }}
"#,
        dir.display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_cancels_open_orders_flushes_and_exits_0_within_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("exec.yaml");
    std::fs::write(&config, sim_config(dir.path())).unwrap();
    let env = [("TP_TEST_TOKEN", "t0ken".to_owned())];
    let log = dir.path().join("exec.log");
    let mut exec = ExecProcess::spawn(&config, &env, &log, "t0ken");
    exec.wait_ready(Duration::from_secs(10)).await.unwrap();
    let limit = json!({"client_order_id": "term-1", "instrument": "BTCUSD.SIM", "side": "buy",
                       "type": "limit", "price": "40000", "quantity": "0.1"});
    let (status, order) = exec.post("/v1/orders", &limit).await.unwrap();
    assert_eq!((status, order["status"].as_str()), (201, Some("accepted")));
    // Requests in flight while the signal arrives still get their answer.
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let http = exec.http.clone();
            let url = format!("{}/v1/orders?limit={}", exec.base, i + 1);
            tokio::spawn(async move { http.get(url).bearer_auth("t0ken").send().await })
        })
        .collect();
    let started = Instant::now();
    let status = tokio::task::block_in_place(|| exec.terminate(Duration::from_secs(5)));
    let took = started.elapsed();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{log_text}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    for r in requests {
        // Each one was either answered or refused at connect (sent after the listener closed).
        if let Ok(Ok(response)) = r.await {
            assert!(response.status().is_success() || response.status() == 503);
        }
    }
    assert!(log_text.contains("stopped"), "{log_text}");
    // The resting order was cancelled before the exit, and that is in the journal.
    let mut again = ExecProcess::spawn(&config, &env, &dir.path().join("exec2.log"), "t0ken");
    again.wait_ready(Duration::from_secs(10)).await.unwrap();
    let (_, order) = again.get("/v1/orders/term-1").await;
    assert_eq!(order["status"], "canceled");
    again.kill_9();
}

#[test]
fn a_bad_config_exits_2_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("exec.yaml");
    std::fs::write(
        &config,
        "venue:\n  sim:\n    currency: USD\n    opening_cash: 1\n    instrumentz: []\n",
    )
    .unwrap();
    let out = crate::harness::run(dir.path(), &["exec", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exec.yaml:5:5: venue.sim"), "{err}");
    assert!(err.contains("unknown field `instrumentz`"), "{err}");
    // A token secret that is not set: bad input too, and the message names the variable.
    std::fs::write(&config, sim_config(dir.path())).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args([
            "exec",
            "--config",
            config.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("TP_TEST_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("secret TP_TEST_TOKEN is not set"), "{err}");
}
