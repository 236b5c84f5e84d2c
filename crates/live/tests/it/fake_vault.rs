//! A local fake of the parts of HashiCorp Vault's HTTP API that `VaultSecrets` uses, written
//! from Vault's API documentation: token lookup and renewal (`auth/token/lookup-self`,
//! `auth/token/renew-self`), the Kubernetes auth method's login (`auth/<mount>/login`), and
//! reads of a KV version 2 engine (`<mount>/data/<path>`, the latest version, with metadata).
//! Tokens expire after their TTL unless renewed; errors are `{"errors": [...]}` with the
//! status codes Vault documents (403 permission denied, 404 not found, 503 sealed).
//!
//! Shared by the live runtime's tests and the CLI's (`#[path]`), so it has no dependency on
//! either.

#![allow(dead_code, reason = "each test binary uses a part")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

struct Token {
    ttl: Duration,
    renewable: bool,
    expires: Option<Instant>,
}

#[derive(Default)]
struct State {
    tokens: BTreeMap<String, Token>,
    /// Kubernetes roles: (auth mount, role) → (expected JWT, TTL of the tokens issued).
    roles: BTreeMap<(String, String), (String, Duration)>,
    /// KV v2: "mount/path" → versions (index 0 is version 1).
    kv: BTreeMap<String, Vec<Value>>,
    sealed: bool,
    refuse_renewals: bool,
    renewals: u64,
    logins: u64,
    reads: u64,
    issued: u64,
}

/// A running fake Vault on 127.0.0.1.
#[derive(Clone)]
pub struct FakeVault {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl FakeVault {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let app = Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = Arc::clone(&shared);
                async move { handle(&state, &method, &uri, &headers, &body) }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            state,
            task: Arc::new(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A token living `ttl` (zero: never expires).
    pub fn add_token(&self, token: &str, ttl: Duration, renewable: bool) {
        let expires = (!ttl.is_zero()).then(|| Instant::now() + ttl);
        self.state.lock().unwrap().tokens.insert(
            token.into(),
            Token {
                ttl,
                renewable,
                expires,
            },
        );
    }

    /// A Kubernetes auth role at `mount` accepting `jwt`, issuing renewable tokens of `ttl`.
    pub fn add_role(&self, mount: &str, role: &str, jwt: &str, ttl: Duration) {
        self.state
            .lock()
            .unwrap()
            .roles
            .insert((mount.into(), role.into()), (jwt.into(), ttl));
    }

    /// Writes a new version of the KV v2 secret `mount/path`.
    pub fn put(&self, mount: &str, path: &str, data: Value) {
        self.state
            .lock()
            .unwrap()
            .kv
            .entry(format!("{mount}/{path}"))
            .or_default()
            .push(data);
    }

    pub fn seal(&self, sealed: bool) {
        self.state.lock().unwrap().sealed = sealed;
    }

    /// Answer renewals with 403 (as for a token past its max TTL).
    pub fn refuse_renewals(&self, refuse: bool) {
        self.state.lock().unwrap().refuse_renewals = refuse;
    }

    pub fn renewals(&self) -> u64 {
        self.state.lock().unwrap().renewals
    }

    pub fn logins(&self) -> u64 {
        self.state.lock().unwrap().logins
    }

    pub fn reads(&self) -> u64 {
        self.state.lock().unwrap().reads
    }
}

impl Drop for FakeVault {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

fn error(status: StatusCode, errors: &[&str]) -> Response {
    (status, axum::Json(json!({ "errors": errors }))).into_response()
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// The caller's token, if it is known and alive.
fn authorised<'a>(state: &'a mut State, headers: &HeaderMap) -> Option<(String, &'a mut Token)> {
    let token = headers.get("x-vault-token")?.to_str().ok()?.to_owned();
    let entry = state.tokens.get_mut(&token)?;
    if entry.expires.is_some_and(|e| Instant::now() >= e) {
        return None;
    }
    Some((token, entry))
}

fn handle(
    state: &Mutex<State>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let mut state = state.lock().unwrap();
    if state.sealed {
        return error(StatusCode::SERVICE_UNAVAILABLE, &["Vault is sealed"]);
    }
    let Some(path) = uri.path().strip_prefix("/v1/") else {
        return error(StatusCode::NOT_FOUND, &[]);
    };
    let path = path.to_owned();
    match (method.as_str(), path.as_str()) {
        ("GET", "auth/token/lookup-self") => {
            let Some((_, token)) = authorised(&mut state, headers) else {
                return error(StatusCode::FORBIDDEN, &["permission denied"]);
            };
            let ttl = token
                .expires
                .map_or(0, |e| e.saturating_duration_since(Instant::now()).as_secs());
            let renewable = token.renewable;
            ok(
                json!({ "data": { "ttl": ttl, "renewable": renewable, "policies": ["tradepulse"] } }),
            )
        }
        ("POST" | "PUT", "auth/token/renew-self") => {
            if state.refuse_renewals {
                return error(StatusCode::FORBIDDEN, &["permission denied"]);
            }
            let Some((name, token)) = authorised(&mut state, headers) else {
                return error(StatusCode::FORBIDDEN, &["permission denied"]);
            };
            if !token.renewable {
                return error(StatusCode::BAD_REQUEST, &["lease is not renewable"]);
            }
            token.expires = Some(Instant::now() + token.ttl);
            let ttl = token.ttl.as_secs();
            state.renewals += 1;
            ok(
                json!({ "auth": { "client_token": name, "lease_duration": ttl, "renewable": true, "policies": ["tradepulse"] } }),
            )
        }
        ("POST" | "PUT", p) if p.starts_with("auth/") && p.ends_with("/login") => {
            let mount = p["auth/".len()..p.len() - "/login".len()].to_owned();
            let Ok(request) = serde_json::from_slice::<Value>(body) else {
                return error(StatusCode::BAD_REQUEST, &["failed to parse JSON input"]);
            };
            let role = request["role"].as_str().unwrap_or_default().to_owned();
            let jwt = request["jwt"].as_str().unwrap_or_default().to_owned();
            if role.is_empty() {
                return error(StatusCode::BAD_REQUEST, &["missing role"]);
            }
            let Some((expected, ttl)) = state.roles.get(&(mount, role)).cloned() else {
                return error(StatusCode::BAD_REQUEST, &["invalid role name"]);
            };
            if jwt != expected {
                return error(StatusCode::FORBIDDEN, &["permission denied"]);
            }
            state.logins += 1;
            state.issued += 1;
            let token = format!("hvs.fake-k8s-{}", state.issued);
            state.tokens.insert(
                token.clone(),
                Token {
                    ttl,
                    renewable: true,
                    expires: Some(Instant::now() + ttl),
                },
            );
            ok(
                json!({ "auth": { "client_token": token, "lease_duration": ttl.as_secs(), "renewable": true, "policies": ["tradepulse"] } }),
            )
        }
        ("GET", p) if p.contains("/data/") => {
            if authorised(&mut state, headers).is_none() {
                return error(StatusCode::FORBIDDEN, &["permission denied"]);
            }
            let Some((mount, secret)) = p.split_once("/data/") else {
                return error(StatusCode::NOT_FOUND, &[]);
            };
            let key = format!("{mount}/{secret}");
            let Some(versions) = state.kv.get(&key) else {
                return error(StatusCode::NOT_FOUND, &[]);
            };
            let version = versions.len();
            let data = versions[version - 1].clone();
            state.reads += 1;
            ok(json!({
                "request_id": format!("fake-{}", state.reads),
                "lease_id": "",
                "renewable": false,
                "lease_duration": 0,
                "data": {
                    "data": data,
                    "metadata": {
                        "created_time": "2026-12-03T00:00:00.000000Z",
                        "custom_metadata": null,
                        "deletion_time": "",
                        "destroyed": false,
                        "version": version
                    }
                },
                "wrap_info": null,
                "warnings": null,
                "auth": null
            }))
        }
        _ => error(StatusCode::NOT_FOUND, &[]),
    }
}
