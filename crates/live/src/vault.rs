//! [`VaultSecrets`]: secrets from one HashiCorp Vault KV version 2 secret, behind
//! [`SecretSource`] so the services read them exactly as they read the environment.
//!
//! Only the documented HTTP API is used (`/v1/...` with the `X-Vault-Token` header):
//!
//! - authentication: a token (itself a secret from the environment or a `*_FILE` mount,
//!   looked up with `GET auth/token/lookup-self` for its TTL), or the Kubernetes auth method
//!   (`POST auth/<mount>/login` with the role and the pod's service-account JWT);
//! - `GET <mount>/data/<path>`: the latest version of the secret, whose `data.data` map holds
//!   one string per secret name (`BINANCE_API_KEY: …`);
//! - lease renewal: a renewable token is renewed (`POST auth/token/renew-self`) when half its
//!   TTL has passed; a Kubernetes login that can no longer be renewed logs in again (the JWT
//!   file is re-read, as projected tokens rotate). The secret is re-read every `refresh_ms`,
//!   so a rotated value reaches the next caller that asks for it.
//!
//! Everything is read once before [`VaultSecrets::connect`] returns: a service that cannot
//! read its secrets fails at start with the reason, never later in the middle of trading.
//! After that a failed renewal or refresh keeps the last values and logs a warning (the token
//! and the values never appear in a log line or an error).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::secrets::{EnvSecrets, Secret, SecretError, SecretSource};

const BACKEND: &str = "vault";

/// `secrets:` in a service config: where secrets come from besides the environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsConfig {
    /// A Vault KV v2 secret, consulted before the environment (a name in both is an error).
    #[serde(default)]
    pub vault: Option<VaultConfig>,
}

impl SecretsConfig {
    /// Checks the values serde cannot.
    ///
    /// # Errors
    /// `(dotted key, reason)` for the first bad value.
    pub fn validate(&self) -> Result<(), (String, String)> {
        match &self.vault {
            Some(v) => v
                .validate()
                .map_err(|(key, reason)| (format!("secrets.vault.{key}"), reason)),
            None => Ok(()),
        }
    }

    /// The source the service reads its secrets from: the environment ([`EnvSecrets`]), with
    /// the Vault secret in front when one is configured. Vault is read before this returns.
    ///
    /// # Errors
    /// As [`VaultSecrets::connect`].
    pub async fn source(&self) -> Result<Box<dyn SecretSource>, SecretError> {
        match &self.vault {
            None => Ok(Box::new(EnvSecrets)),
            Some(vault) => {
                let from_vault = VaultSecrets::connect(vault, &EnvSecrets).await?;
                Ok(Box::new(LayeredSecrets::new(
                    ("vault", Box::new(from_vault)),
                    ("the environment", Box::new(EnvSecrets)),
                )))
            }
        }
    }
}

/// `secrets.vault:` in a service config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// Base URL of the Vault server, e.g. `https://vault.vault.svc:8200`.
    pub address: String,
    /// Where the KV version 2 engine is mounted.
    #[serde(default = "default_kv_mount")]
    pub mount: String,
    /// The secret's path inside the mount (`tradepulse/production`).
    pub path: String,
    /// Vault Enterprise namespace (`X-Vault-Namespace`), if any.
    #[serde(default)]
    pub namespace: Option<String>,
    /// How to log in.
    pub auth: VaultAuth,
    /// PEM file with the CA that signed Vault's certificate (else the system roots).
    #[serde(default)]
    pub ca_cert_file: Option<PathBuf>,
    /// How often the secret is read again.
    #[serde(default = "default_refresh_ms")]
    pub refresh_ms: u64,
    /// Deadline of each request to Vault.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

/// `secrets.vault.auth:`: exactly one method.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum VaultAuth {
    /// A Vault token read from the environment (`NAME`, or a `NAME_FILE` mount).
    Token {
        /// The name of the variable holding the token.
        #[serde(default = "default_token_secret")]
        secret: String,
    },
    /// The Kubernetes auth method: the pod's service-account JWT for a Vault role.
    Kubernetes {
        /// The Vault role bound to the service account.
        role: String,
        /// Where the auth method is mounted.
        #[serde(default = "default_kubernetes_mount")]
        mount: String,
        /// The service-account token file.
        #[serde(default = "default_jwt_file")]
        jwt_file: PathBuf,
    },
}

fn default_kv_mount() -> String {
    "secret".into()
}

fn default_refresh_ms() -> u64 {
    300_000
}

fn default_timeout_ms() -> u64 {
    5_000
}

fn default_token_secret() -> String {
    "VAULT_TOKEN".into()
}

fn default_kubernetes_mount() -> String {
    "kubernetes".into()
}

fn default_jwt_file() -> PathBuf {
    PathBuf::from("/var/run/secrets/kubernetes.io/serviceaccount/token")
}

impl VaultConfig {
    /// Checks the values serde cannot.
    ///
    /// # Errors
    /// `(key under secrets.vault, reason)` for the first bad value.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let url = url::Url::parse(&self.address)
            .map_err(|e| ("address", format!("{:?} is not a URL: {e}", self.address)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err((
                "address",
                format!("{:?} must be an http:// or https:// URL", self.address),
            ));
        }
        let segment = |key: &'static str, value: &str| {
            if value.is_empty() || value.starts_with('/') || value.ends_with('/') {
                Err((
                    key,
                    format!("{value:?} must be a non-empty path without leading or trailing '/'"),
                ))
            } else {
                Ok(())
            }
        };
        segment("mount", &self.mount)?;
        segment("path", &self.path)?;
        if let VaultAuth::Kubernetes { role, mount, .. } = &self.auth {
            if role.is_empty() {
                return Err(("auth.kubernetes.role", "must not be empty".into()));
            }
            segment("auth.kubernetes.mount", mount)?;
        }
        if self.refresh_ms < 1_000 {
            return Err(("refresh_ms", "must be at least 1000".into()));
        }
        if self.timeout_ms == 0 {
            return Err(("timeout_ms", "must be positive".into()));
        }
        Ok(())
    }

    fn secret_path(&self) -> String {
        format!("{}/data/{}", self.mount, self.path)
    }
}

/// A token and how long it lives.
struct Lease {
    token: Secret,
    /// `None`: the token does not expire (TTL 0, e.g. a root token).
    ttl: Option<Duration>,
    renewable: bool,
}

/// What was last read.
struct Snapshot {
    values: BTreeMap<String, Secret>,
    version: u64,
}

/// Secrets from one Vault KV v2 secret (see the module docs). Dropping it stops the renewal.
pub struct VaultSecrets {
    snapshot: Arc<RwLock<Snapshot>>,
    path: String,
    renewal: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for VaultSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .snapshot
            .read()
            .map(|s| s.values.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("VaultSecrets")
            .field("path", &self.path)
            .field("names", &names)
            .finish_non_exhaustive()
    }
}

impl Drop for VaultSecrets {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

impl VaultSecrets {
    /// Logs in, reads the secret, and starts renewing the token and refreshing the values in
    /// the background (on the current tokio runtime). `bootstrap` holds what Vault itself
    /// needs (the token of `auth.token`).
    ///
    /// # Errors
    /// [`SecretError::Backend`] naming what failed (address, path, role, HTTP status and
    /// Vault's own error text), or the bootstrap source's error for a missing token.
    pub async fn connect(
        config: &VaultConfig,
        bootstrap: &dyn SecretSource,
    ) -> Result<Self, SecretError> {
        config
            .validate()
            .map_err(|(key, reason)| backend(format!("secrets.vault.{key}: {reason}")))?;
        let client = Client::new(config)?;
        let lease = client.login(&config.auth, bootstrap).await?;
        let snapshot = client.read(&lease.token).await?;
        tracing::info!(
            address = %config.address,
            path = %config.secret_path(),
            version = snapshot.version,
            names = snapshot.values.len(),
            "secrets read from Vault"
        );
        let shared = Arc::new(RwLock::new(snapshot));
        let renewal = tokio::spawn(renew_and_refresh(
            client,
            config.auth.clone(),
            lease,
            Duration::from_millis(config.refresh_ms),
            Arc::clone(&shared),
        ));
        Ok(Self {
            snapshot: shared,
            path: config.secret_path(),
            renewal,
        })
    }

    /// The version of the secret last read.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.snapshot.read().map_or(0, |s| s.version)
    }
}

impl SecretSource for VaultSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let snapshot = self
            .snapshot
            .read()
            .map_err(|_| backend(format!("{}: the secret cache is poisoned", self.path)))?;
        Ok(snapshot.values.get(name).cloned())
    }
}

/// Two sources where a name must be in at most one: `Vault` first, then the environment.
/// A name found in both is an error rather than a silent choice, as with `NAME`/`NAME_FILE`.
pub struct LayeredSecrets {
    first: (&'static str, Box<dyn SecretSource>),
    second: (&'static str, Box<dyn SecretSource>),
}

impl fmt::Debug for LayeredSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayeredSecrets")
            .field("first", &self.first.0)
            .field("second", &self.second.0)
            .finish()
    }
}

impl LayeredSecrets {
    /// `first` (named, for errors) in front of `second`.
    #[must_use]
    pub fn new(
        first: (&'static str, Box<dyn SecretSource>),
        second: (&'static str, Box<dyn SecretSource>),
    ) -> Self {
        Self { first, second }
    }
}

impl SecretSource for LayeredSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let a = self.first.1.get(name)?;
        let b = self.second.1.get(name)?;
        match (a, b) {
            (Some(_), Some(_)) => Err(SecretError::Conflict {
                name: name.to_owned(),
                first: self.first.0,
                second: self.second.0,
            }),
            (a, b) => Ok(a.or(b)),
        }
    }
}

fn backend(reason: String) -> SecretError {
    SecretError::Backend {
        backend: BACKEND,
        reason,
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    namespace: Option<String>,
    secret_path: String,
}

#[derive(Deserialize)]
struct AuthBody {
    auth: Option<AuthInfo>,
}

#[derive(Deserialize)]
struct AuthInfo {
    client_token: String,
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct LookupBody {
    data: LookupData,
}

#[derive(Deserialize)]
struct LookupData {
    #[serde(default)]
    ttl: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct ReadBody {
    data: ReadData,
}

#[derive(Deserialize)]
struct ReadData {
    data: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    version: u64,
    #[serde(default)]
    deletion_time: String,
    #[serde(default)]
    destroyed: bool,
}

impl Client {
    fn new(config: &VaultConfig) -> Result<Self, SecretError> {
        let mut builder =
            reqwest::Client::builder().timeout(Duration::from_millis(config.timeout_ms));
        if let Some(file) = &config.ca_cert_file {
            let pem = std::fs::read(file).map_err(|e| {
                backend(format!(
                    "secrets.vault.ca_cert_file: cannot read {}: {e}",
                    file.display()
                ))
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                backend(format!(
                    "secrets.vault.ca_cert_file: {} is not a PEM certificate: {e}",
                    file.display()
                ))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| backend(format!("HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: config.address.trim_end_matches('/').to_owned(),
            namespace: config.namespace.clone(),
            secret_path: config.secret_path(),
        })
    }

    /// Sends a request to `/v1/{path}` and returns the body of a 2xx answer; anything else is
    /// an error with the status and Vault's `errors` list (which never holds the token).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&Secret>,
        body: Option<Value>,
    ) -> Result<Vec<u8>, SecretError> {
        let url = format!("{}/v1/{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token.expose());
        }
        if let Some(namespace) = &self.namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| backend(format!("{method} {url}: {}", describe(e))))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| backend(format!("{method} {url}: reading the answer: {e}")))?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        let errors: Vec<String> = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("errors").cloned())
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let hint = match status.as_u16() {
            403 => " (the token is invalid or expired, or its policy does not allow this path)",
            404 => {
                " (nothing at this path: check `mount` and `path`, and that the engine is KV version 2)"
            }
            429 => " (rate limited by Vault)",
            503 => " (Vault is sealed or not ready)",
            _ => "",
        };
        let detail = if errors.is_empty() {
            String::new()
        } else {
            format!(": {}", errors.join("; "))
        };
        Err(backend(format!(
            "{method} {url}: HTTP {}{detail}{hint}",
            status.as_u16()
        )))
    }

    async fn login(
        &self,
        auth: &VaultAuth,
        bootstrap: &dyn SecretSource,
    ) -> Result<Lease, SecretError> {
        match auth {
            VaultAuth::Token { secret } => {
                let token = bootstrap.require(secret)?;
                let body = self
                    .call(
                        reqwest::Method::GET,
                        "auth/token/lookup-self",
                        Some(&token),
                        None,
                    )
                    .await?;
                let lookup: LookupBody = serde_json::from_slice(&body).map_err(|e| {
                    backend(format!("auth/token/lookup-self: unexpected answer: {e}"))
                })?;
                Ok(Lease {
                    token,
                    ttl: (lookup.data.ttl > 0).then(|| Duration::from_secs(lookup.data.ttl)),
                    renewable: lookup.data.renewable,
                })
            }
            VaultAuth::Kubernetes {
                role,
                mount,
                jwt_file,
            } => {
                let jwt = std::fs::read_to_string(jwt_file).map_err(|e| {
                    backend(format!(
                        "cannot read the service-account token {}: {e}",
                        jwt_file.display()
                    ))
                })?;
                let path = format!("auth/{mount}/login");
                let body = self
                    .call(
                        reqwest::Method::POST,
                        &path,
                        None,
                        Some(serde_json::json!({ "role": role, "jwt": jwt.trim() })),
                    )
                    .await
                    .map_err(|e| backend(format!("{e} (role {role:?})")))?;
                lease_from(&path, &body)
            }
        }
    }

    async fn renew(&self, token: &Secret) -> Result<Lease, SecretError> {
        let path = "auth/token/renew-self";
        let body = self
            .call(
                reqwest::Method::POST,
                path,
                Some(token),
                Some(serde_json::json!({})),
            )
            .await?;
        lease_from(path, &body)
    }

    async fn read(&self, token: &Secret) -> Result<Snapshot, SecretError> {
        let body = self
            .call(reqwest::Method::GET, &self.secret_path, Some(token), None)
            .await?;
        let path = &self.secret_path;
        let read: ReadBody = serde_json::from_slice(&body)
            .map_err(|e| backend(format!("{path}: not a KV version 2 answer: {e}")))?;
        let metadata = read.data.metadata;
        if let Some(m) = &metadata
            && (m.destroyed || !m.deletion_time.is_empty())
        {
            return Err(backend(format!(
                "{path}: version {} is deleted or destroyed",
                m.version
            )));
        }
        let data = read
            .data
            .data
            .ok_or_else(|| backend(format!("{path}: the secret has no data")))?;
        let mut values = BTreeMap::new();
        for (name, value) in data {
            match value {
                Value::String(s) if !s.is_empty() => {
                    values.insert(name, Secret::new(s));
                }
                Value::String(_) => {
                    return Err(backend(format!("{path}: key {name:?} is empty")));
                }
                other => {
                    return Err(backend(format!(
                        "{path}: key {name:?} holds a {}, not a string",
                        json_type(&other)
                    )));
                }
            }
        }
        Ok(Snapshot {
            values,
            version: metadata.map_or(0, |m| m.version),
        })
    }
}

fn lease_from(path: &str, body: &[u8]) -> Result<Lease, SecretError> {
    let parsed: AuthBody = serde_json::from_slice(body)
        .map_err(|e| backend(format!("{path}: unexpected answer: {e}")))?;
    let auth = parsed
        .auth
        .ok_or_else(|| backend(format!("{path}: the answer has no `auth`")))?;
    if auth.client_token.is_empty() {
        return Err(backend(format!(
            "{path}: the answer has an empty client_token"
        )));
    }
    Ok(Lease {
        token: Secret::new(auth.client_token),
        ttl: (auth.lease_duration > 0).then(|| Duration::from_secs(auth.lease_duration)),
        renewable: auth.renewable,
    })
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

/// reqwest's error and its causes, without the URL (the caller prints it once).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Keeps the token alive and the values fresh until the task is aborted.
async fn renew_and_refresh(
    client: Client,
    auth: VaultAuth,
    mut lease: Lease,
    refresh: Duration,
    shared: Arc<RwLock<Snapshot>>,
) {
    use tokio::time::Instant;
    let mut renew_at = lease.ttl.map(|ttl| Instant::now() + ttl / 2);
    let mut next_read = Instant::now() + refresh;
    loop {
        tokio::time::sleep_until(renew_at.map_or(next_read, |r| r.min(next_read))).await;
        if renew_at.is_some_and(|r| Instant::now() >= r) {
            let renewed = if lease.renewable {
                client.renew(&lease.token).await
            } else {
                Err(backend("the token is not renewable".into()))
            };
            let renewed = match (renewed, &auth) {
                (Ok(l), _) => Ok(l),
                // A Kubernetes login can always be done again with the (rotated) JWT.
                (Err(_), VaultAuth::Kubernetes { .. }) => client.login(&auth, &NoSecrets).await,
                (Err(e), VaultAuth::Token { .. }) => Err(e),
            };
            match renewed {
                Ok(l) => {
                    lease = l;
                    renew_at = lease.ttl.map(|ttl| Instant::now() + ttl / 2);
                    tracing::debug!(
                        ttl_s = lease.ttl.map(|t| t.as_secs()),
                        "Vault token renewed"
                    );
                }
                Err(e) => {
                    // Soon again, not at the half-life of a lease that is about to end.
                    tracing::warn!(error = %e, "Vault token renewal failed; retrying in 5 s");
                    renew_at = Some(Instant::now() + Duration::from_secs(5));
                }
            }
        }
        if Instant::now() >= next_read {
            next_read = Instant::now() + refresh;
            match client.read(&lease.token).await {
                Ok(snapshot) => {
                    if let Ok(mut s) = shared.write() {
                        if s.version != snapshot.version {
                            tracing::info!(
                                version = snapshot.version,
                                "Vault secret changed; new values in use"
                            );
                        }
                        *s = snapshot;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the Vault secret failed; keeping the last values");
                }
            }
        }
    }
}

/// No secrets: a Kubernetes re-login needs none from the bootstrap source.
#[derive(Debug)]
struct NoSecrets;

impl SecretSource for NoSecrets {
    fn get(&self, _: &str) -> Result<Option<Secret>, SecretError> {
        Ok(None)
    }
}
