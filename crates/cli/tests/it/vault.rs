//! Issue 13 point 5: `tradepulse serve` reading its secrets from HashiCorp Vault (KV v2, the
//! local fake of `crates/live/tests/it/fake_vault.rs`): the admin token and the database URL
//! come from Vault; with a refused Vault token the process exits naming Vault and the status,
//! and nothing it writes contains a secret.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::fake_vault::FakeVault;

const VAULT_TOKEN: &str = "hvs.vaultleakcheck-Q7w3E9r1T5y";
const ADMIN_TOKEN: &str = "vault-admin-token-leakcheck-P4s8";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(dir: &Path, vault: &FakeVault) -> PathBuf {
    let csv = root().join("data/spx_1d.csv");
    let text = format!(
        r#"
environment: paper
id_prefix: vault
execution:
  in_process:
    venue:
      sim:
        currency: USD
        opening_cash: "1000000"
        instruments:
          - {{ symbol: SPX, venue: SIM, quote_currency: USD, tick_size: "0.000001", lot_size: "1", min_notional: "0" }}
market_data:
  replay:
    - {{ instrument: SPX.SIM, path: "{csv}", timestamp: auto, speed: max }}
strategies:
  - name: sma-spx
    instrument: SPX.SIM
    strategy: {{ kind: sma_cross, params: {{ fast: 10, slow: 50, size: {{ units: 1 }} }} }}
auth:
  tokens:
    - {{ name: ops, role: admin, secret: TRADEPULSE_CORE_ADMIN_TOKEN }}
secrets:
  vault:
    address: {url}
    mount: secret
    path: tradepulse/paper
    auth: {{ token: {{ secret: VAULT_TOKEN }} }}
"#,
        csv = csv.display(),
        url = vault.url(),
    );
    let path = dir.join("vault.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn serve(config: &Path, dir: &Path, vault_token: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0", "--json-logs"])
        .env("VAULT_TOKEN", vault_token)
        .env_remove("TRADEPULSE_DATABASE_URL")
        .env_remove("TRADEPULSE_CORE_ADMIN_TOKEN")
        .env(
            "TRADEPULSE_LOG",
            "info,tradepulse_live=trace,tradepulse_server=trace,tradepulse_store=debug",
        )
        .current_dir(dir)
        .stdout(Stdio::from(
            std::fs::File::create(dir.join("stdout")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("stderr")).unwrap(),
        ))
        .spawn()
        .unwrap()
}

fn output(dir: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    format!("{}{}", read("stdout"), read("stderr"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reads_its_token_and_database_url_from_vault() {
    let vault = FakeVault::start().await;
    vault.add_token(VAULT_TOKEN, Duration::from_secs(60), true);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from-vault.db");
    vault.put(
        "secret",
        "tradepulse/paper",
        json!({
            "TRADEPULSE_CORE_ADMIN_TOKEN": ADMIN_TOKEN,
            "TRADEPULSE_DATABASE_URL": format!("sqlite://{}", db.display()),
        }),
    );
    let config = config(dir.path(), &vault);
    let mut child = serve(&config, dir.path(), VAULT_TOKEN);
    let deadline = Instant::now() + Duration::from_secs(30);
    let base = loop {
        if let Some(base) = output(dir.path())
            .lines()
            .find_map(|l| l.strip_prefix("tradepulse serve listening on "))
        {
            break base.to_owned();
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve exited {status}: {}", output(dir.path()));
        }
        assert!(Instant::now() < deadline, "serve did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let http = reqwest::Client::new();
    let status = http
        .get(format!("{base}/v1/status"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .status();
    let wrong = http
        .get(format!("{base}/v1/status"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap()
        .status();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let exit = child.wait().unwrap();
    assert_eq!(status, 200, "the admin token from Vault is accepted");
    assert_eq!(wrong, 401);
    assert!(exit.success(), "{exit}: {}", output(dir.path()));
    assert!(db.exists(), "the store is the database URL Vault holds");
    assert!(!dir.path().join("tradepulse.db").exists());
    let all = output(dir.path());
    for secret in [VAULT_TOKEN, ADMIN_TOKEN] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    assert!(all.contains("secrets read from Vault"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_vault_token_stops_the_start_and_is_never_printed() {
    let vault = FakeVault::start().await;
    vault.put(
        "secret",
        "tradepulse/paper",
        json!({ "TRADEPULSE_CORE_ADMIN_TOKEN": ADMIN_TOKEN }),
    );
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), &vault);
    let mut child = serve(&config, dir.path(), VAULT_TOKEN);
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve kept running with a refused Vault token");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let all = output(dir.path());
    assert!(!exit.success(), "{all}");
    assert!(all.contains("vault") && all.contains("HTTP 403"), "{all}");
    for secret in [VAULT_TOKEN, ADMIN_TOKEN] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    assert!(
        !dir.path().join("tradepulse.db").exists(),
        "nothing was started"
    );
}
