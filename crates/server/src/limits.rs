//! Middleware of the `/v1/…` API beyond deadlines: a token-bucket rate limit per bearer token
//! (`429 RATE_LIMITED`) and the audit log of every mutating call (who, what, when, outcome).

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use foldhash::{HashMap, HashMapExt};
use tradepulse_execution::{Clock, WallClock};
use tradepulse_store::AuditEntry;

use crate::api::AppState;
use crate::auth::{Role, hash_token};
use crate::error::ApiError;

/// Token buckets by key (a token's hash, or `anonymous`).
#[derive(Debug)]
pub(crate) struct Buckets {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl Buckets {
    pub(crate) fn new(rate: f64, burst: u32) -> Self {
        Self {
            rate,
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `key`'s bucket; `Err(seconds)` until the next one is allowed.
    fn take(&self, key: &str, now: Instant) -> Result<(), f64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Keys are token hashes: this many means someone is trying random tokens.
            buckets.clear();
        }
        let (tokens, at) = buckets.entry(key.to_owned()).or_insert((self.burst, now));
        let refill = now.saturating_duration_since(*at).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err((1.0 - *tokens) / self.rate)
        }
    }
}

fn bearer(request: &Request) -> Option<&str> {
    crate::auth::bearer_token(request.headers())
}

/// `429 RATE_LIMITED` (with `Retry-After`) once a token's bucket is empty.
pub(crate) async fn rate_limit(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(buckets) = state.buckets() else {
        return next.run(request).await;
    };
    if !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let key = bearer(&request).map_or_else(
        || "anonymous".to_owned(),
        |h| hash_token(h).as_str().to_owned(),
    );
    match buckets.take(&key, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("too many requests; retry in {wait:.2} s"),
            )
            .into_response();
            if let Ok(v) = header::HeaderValue::from_str(&format!("{}", wait.ceil().max(1.0))) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

/// Writes an audit entry for every mutating `/v1/…` call that passed authentication: actor (the
/// token's name), `http.METHOD`, the route, and the path and status in the detail.
pub(crate) async fn audit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mutating = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !mutating || !request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |p| p.as_str().to_owned());
    let header = bearer(&request).map(str::to_owned);
    let response = next.run(request).await;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return response;
    }
    // The token was accepted by the handler's extractor (or was refused for its role, which is
    // worth auditing too): its name comes from the authenticator's cache.
    let actor = match state.auth().check(header.as_deref(), Role::Viewer).await {
        Ok(caller) => caller.name,
        Err(_) => "unknown".to_owned(),
    };
    let entry = AuditEntry {
        id: 0,
        ts: WallClock.now(),
        actor,
        action: format!("http.{method}"),
        target: route,
        detail: serde_json::json!({ "path": path, "status": status.as_u16() }),
    };
    if let Err(e) = state.engine().store().append_audit(&entry).await {
        tracing::warn!(error = %e, action = %entry.action, "audit entry not written");
    }
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn buckets_allow_the_burst_then_the_rate() {
        let b = Buckets::new(10.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(b.take("a", t0).is_ok());
        }
        let wait = b.take("a", t0).unwrap_err();
        assert!((wait - 0.1).abs() < 1e-9, "{wait}");
        assert!(b.take("b", t0).is_ok(), "keys have their own buckets");
        assert!(b.take("a", t0 + Duration::from_millis(100)).is_ok());
        assert!(b.take("a", t0 + Duration::from_millis(100)).is_err());
    }
}
