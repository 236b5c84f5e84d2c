//! `VaultSecrets` against the local fake Vault (`fake_vault.rs`): both auth methods, KV v2
//! versions, lease renewal, rotation, and errors that name the cause but never the token.

use std::time::Duration;

use serde_json::json;
use tradepulse_live::{
    EnvSecrets, LayeredSecrets, SecretError, SecretSource, StaticSecrets, VaultAuth, VaultConfig,
    VaultSecrets,
};

use crate::fake_vault::FakeVault;

const TOKEN: &str = "hvs.CAESIJ-test-token-never-printed";

fn config(vault: &FakeVault, auth: VaultAuth) -> VaultConfig {
    VaultConfig {
        address: vault.url(),
        mount: "secret".into(),
        path: "tradepulse/staging".into(),
        namespace: None,
        auth,
        ca_cert_file: None,
        refresh_ms: 1_000,
        timeout_ms: 2_000,
    }
}

fn token_auth() -> VaultAuth {
    VaultAuth::Token {
        secret: "VAULT_TOKEN".into(),
    }
}

fn bootstrap() -> StaticSecrets {
    StaticSecrets::default().with("VAULT_TOKEN", TOKEN)
}

fn value(source: &dyn SecretSource, name: &str) -> Option<String> {
    source.get(name).unwrap().map(|s| s.expose().to_owned())
}

async fn connect_err(config: &VaultConfig, bootstrap: &dyn SecretSource) -> String {
    match VaultSecrets::connect(config, bootstrap).await {
        Ok(_) => panic!("connect should fail"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn token_auth_reads_the_latest_version_of_a_kv_v2_secret() {
    let vault = FakeVault::start().await;
    vault.add_token(TOKEN, Duration::ZERO, false);
    vault.put(
        "secret",
        "tradepulse/staging",
        json!({ "BINANCE_API_KEY": "old" }),
    );
    vault.put(
        "secret",
        "tradepulse/staging",
        json!({ "BINANCE_API_KEY": "key-v2", "BINANCE_API_SECRET": "secret-v2" }),
    );
    let secrets = VaultSecrets::connect(&config(&vault, token_auth()), &bootstrap())
        .await
        .unwrap();
    assert_eq!(secrets.version(), 2);
    assert_eq!(
        value(&secrets, "BINANCE_API_KEY").as_deref(),
        Some("key-v2")
    );
    assert_eq!(
        value(&secrets, "BINANCE_API_SECRET").as_deref(),
        Some("secret-v2")
    );
    assert_eq!(value(&secrets, "NOT_THERE"), None);
    let debug = format!("{secrets:?}");
    assert!(
        debug.contains("BINANCE_API_KEY") && !debug.contains("key-v2"),
        "{debug}"
    );
}

#[tokio::test]
async fn kubernetes_auth_logs_in_with_the_service_account_jwt_and_logs_in_again_at_expiry() {
    let vault = FakeVault::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jwt_file = dir.path().join("token");
    std::fs::write(&jwt_file, "eyJhbGciOi.fake-service-account-jwt\n").unwrap();
    // Two-second leases, renewed at half-life.
    vault.add_role(
        "kubernetes",
        "tradepulse-core",
        "eyJhbGciOi.fake-service-account-jwt",
        Duration::from_secs(2),
    );
    vault.put(
        "secret",
        "tradepulse/staging",
        json!({ "TRADEPULSE_CORE_TOKEN": "t1" }),
    );
    let auth = VaultAuth::Kubernetes {
        role: "tradepulse-core".into(),
        mount: "kubernetes".into(),
        jwt_file: jwt_file.clone(),
    };
    let secrets = VaultSecrets::connect(&config(&vault, auth), &StaticSecrets::default())
        .await
        .unwrap();
    assert_eq!(
        value(&secrets, "TRADEPULSE_CORE_TOKEN").as_deref(),
        Some("t1")
    );
    assert_eq!(vault.logins(), 1);

    // Leases are renewed before they end, and a rotated value is picked up by the refresh:
    // the fake expires a token at its TTL, so a read after 2 s only works if renewal did.
    vault.put(
        "secret",
        "tradepulse/staging",
        json!({ "TRADEPULSE_CORE_TOKEN": "t2" }),
    );
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    assert!(vault.renewals() >= 2, "renewals: {}", vault.renewals());
    assert_eq!(
        value(&secrets, "TRADEPULSE_CORE_TOKEN").as_deref(),
        Some("t2")
    );
    assert_eq!(secrets.version(), 2);
    assert_eq!(vault.logins(), 1, "renewal worked, so no new login");

    // Renewal refused (a lease past its max TTL): a new login with the JWT keeps it going.
    vault.refuse_renewals(true);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(vault.logins() >= 2, "logins: {}", vault.logins());
    vault.put(
        "secret",
        "tradepulse/staging",
        json!({ "TRADEPULSE_CORE_TOKEN": "t3" }),
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        value(&secrets, "TRADEPULSE_CORE_TOKEN").as_deref(),
        Some("t3")
    );

    // A wrong JWT: the error names the role and the status, never the JWT.
    std::fs::write(&jwt_file, "eyJ.wrong-jwt-value").unwrap();
    let bad = VaultAuth::Kubernetes {
        role: "tradepulse-core".into(),
        mount: "kubernetes".into(),
        jwt_file,
    };
    let e = connect_err(&config(&vault, bad), &StaticSecrets::default()).await;
    assert!(
        e.contains("HTTP 403") && e.contains("tradepulse-core"),
        "{e}"
    );
    assert!(!e.contains("wrong-jwt-value"), "{e}");
}

#[tokio::test]
async fn a_token_that_is_not_renewed_would_expire_so_a_renewable_one_is_kept_alive() {
    let vault = FakeVault::start().await;
    vault.add_token(TOKEN, Duration::from_secs(2), true);
    vault.put("secret", "tradepulse/staging", json!({ "K": "v1" }));
    let secrets = VaultSecrets::connect(&config(&vault, token_auth()), &bootstrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(4_200)).await;
    // Renewed at each half-life (1 s of a 2 s lease): the token outlived its first lease, so
    // the refreshes kept reading.
    assert!(vault.renewals() >= 3, "renewals: {}", vault.renewals());
    assert!(vault.reads() >= 4, "reads: {}", vault.reads());
    vault.put("secret", "tradepulse/staging", json!({ "K": "v2" }));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(value(&secrets, "K").as_deref(), Some("v2"));
}

#[tokio::test]
async fn failures_name_the_cause_and_never_the_token() {
    let vault = FakeVault::start().await;
    vault.put("secret", "tradepulse/staging", json!({ "K": "v" }));

    // An unknown token.
    let e = connect_err(&config(&vault, token_auth()), &bootstrap()).await;
    assert!(
        e.contains("HTTP 403") && e.contains("permission denied"),
        "{e}"
    );
    assert!(e.contains("lookup-self"), "{e}");
    assert!(!e.contains(TOKEN), "{e}");

    // No token configured at all: the bootstrap source's own error names the variable.
    let e = connect_err(&config(&vault, token_auth()), &StaticSecrets::default()).await;
    assert!(e.contains("VAULT_TOKEN is not set"), "{e}");

    vault.add_token(TOKEN, Duration::ZERO, false);
    // A path with nothing at it.
    let mut missing = config(&vault, token_auth());
    missing.path = "tradepulse/nowhere".into();
    let e = connect_err(&missing, &bootstrap()).await;
    assert!(
        e.contains("secret/data/tradepulse/nowhere") && e.contains("HTTP 404"),
        "{e}"
    );

    // A value that is not a string.
    vault.put("secret", "tradepulse/numbers", json!({ "PORT": 8200 }));
    let mut numbers = config(&vault, token_auth());
    numbers.path = "tradepulse/numbers".into();
    let e = connect_err(&numbers, &bootstrap()).await;
    assert!(e.contains("\"PORT\" holds a number, not a string"), "{e}");

    // Sealed.
    vault.seal(true);
    let e = connect_err(&config(&vault, token_auth()), &bootstrap()).await;
    assert!(e.contains("HTTP 503") && e.contains("sealed"), "{e}");
    vault.seal(false);

    // Unreachable: the address is named.
    let mut gone = config(&vault, token_auth());
    gone.address = "http://127.0.0.1:9".into();
    let e = connect_err(&gone, &bootstrap()).await;
    assert!(e.contains("127.0.0.1:9"), "{e}");
    assert!(!e.contains(TOKEN), "{e}");

    // Config values serde cannot check.
    let mut bad = config(&vault, token_auth());
    bad.address = "vault:8200".into();
    let e = connect_err(&bad, &bootstrap()).await;
    assert!(e.contains("secrets.vault.address"), "{e}");
    let mut bad = config(&vault, token_auth());
    bad.path = "/tradepulse/".into();
    let e = connect_err(&bad, &bootstrap()).await;
    assert!(e.contains("secrets.vault.path"), "{e}");
}

#[tokio::test]
async fn a_name_in_vault_and_in_the_environment_is_an_error_not_a_guess() {
    let vault = FakeVault::start().await;
    vault.add_token(TOKEN, Duration::ZERO, false);
    vault.put(
        "secret",
        "tradepulse/staging",
        json!({ "PATH": "from-vault", "ONLY_VAULT": "x" }),
    );
    let secrets = VaultSecrets::connect(&config(&vault, token_auth()), &bootstrap())
        .await
        .unwrap();
    let layered = LayeredSecrets::new(
        ("vault", Box::new(secrets)),
        ("the environment", Box::new(EnvSecrets)),
    );
    // PATH is set in every test process's environment.
    assert!(matches!(
        layered.get("PATH"),
        Err(SecretError::Conflict { .. })
    ));
    assert_eq!(value(&layered, "ONLY_VAULT").as_deref(), Some("x"));
    assert_eq!(value(&layered, "TRADEPULSE_SURELY_UNSET_NAME"), None);
}
