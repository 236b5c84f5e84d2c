//! Middleware of the `/v1/…` API beyond deadlines: a token-bucket rate limit per bearer token
//! (`429 RATE_LIMITED`) and the audit log of every mutating call (who, what, when, outcome),
//! written in batches by [`AuditLog`]'s task.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use foldhash::{HashMap, HashMapExt};
use tokio::sync::{Notify, mpsc};
use tradepulse_execution::{Clock, WallClock};
use tradepulse_live::Registry;
use tradepulse_live::metrics::Counter;
use tradepulse_store::{AuditEntry, Store};

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
    state.audit().record(entry);
    response
}

/// Entries waiting for the audit task before new ones are counted as dropped (a store down for
/// longer than its retries).
const AUDIT_QUEUE: usize = 65_536;

/// Entries written per transaction at most.
const AUDIT_BATCH: usize = 1_024;

/// How long the first entry of a batch waits for others.
const AUDIT_LINGER: std::time::Duration = std::time::Duration::from_millis(20);

/// The audit log of the API's mutating calls, written off the requests' path: the middleware
/// queues an entry once the answer is known and a task writes whatever is queued in one
/// transaction ([`Store::append_audit_batch`]), so a busy API costs a commit per batch, not per
/// call, and no answer waits for a commit of its own. (An order's durable record is the
/// engine's journal, written before the venue hears of it; this log says who called what.)
/// [`AuditLog::close`] writes what is queued before the store closes; a killed process loses
/// at most the entries of the last few milliseconds.
#[derive(Clone)]
pub(crate) struct AuditLog {
    queue: mpsc::Sender<AuditEntry>,
    closing: Arc<Notify>,
    writer: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
    dropped: Arc<Counter>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Starts the writing task on the current runtime.
    pub(crate) fn start(store: Store, registry: &Registry) -> Self {
        let dropped = registry.counter(
            "tradepulse_audit_entries_dropped_total",
            "Audit entries of API calls not written (queue full, or the store failing past its retries).",
            &[],
        );
        let (queue, entries) = mpsc::channel(AUDIT_QUEUE);
        let closing = Arc::new(Notify::new());
        let writer = tokio::spawn(write_audit(
            store,
            entries,
            Arc::clone(&closing),
            Arc::clone(&dropped),
        ));
        Self {
            queue,
            closing,
            writer: Arc::new(Mutex::new(Some(writer))),
            dropped,
        }
    }

    fn record(&self, entry: AuditEntry) {
        if let Err(e) = self.queue.try_send(entry) {
            self.dropped.inc(&[]);
            let action = match &e {
                mpsc::error::TrySendError::Full(entry)
                | mpsc::error::TrySendError::Closed(entry) => entry.action.clone(),
            };
            tracing::warn!(%action, "audit entry not queued: the audit writer is behind or stopped");
        }
    }

    /// Writes every queued entry and stops the task (the service is stopping; later entries are
    /// counted as dropped).
    pub(crate) async fn close(&self) {
        self.closing.notify_one();
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
    }
}

async fn write_audit(
    store: Store,
    mut entries: mpsc::Receiver<AuditEntry>,
    closing: Arc<Notify>,
    dropped: Arc<Counter>,
) {
    let mut batch = Vec::with_capacity(AUDIT_BATCH);
    loop {
        let last = tokio::select! {
            n = entries.recv_many(&mut batch, AUDIT_BATCH) => {
                if n == 0 {
                    return; // every sender is gone and nothing is queued
                }
                false
            }
            () = closing.notified() => {
                entries.close();
                true
            }
        };
        // A busy API's entries gather for a moment: a commit per AUDIT_LINGER, not one per
        // few calls, each a round trip to the pool contending with the journal's writes.
        let last = last
            || tokio::select! {
                () = tokio::time::sleep(AUDIT_LINGER) => false,
                () = closing.notified() => {
                    entries.close();
                    true
                }
            };
        while batch.len() < AUDIT_BATCH {
            match entries.try_recv() {
                Ok(entry) => batch.push(entry),
                Err(_) => break,
            }
        }
        write_batch(&store, &mut batch, &dropped).await;
        if last {
            while entries.recv_many(&mut batch, AUDIT_BATCH).await > 0 {
                write_batch(&store, &mut batch, &dropped).await;
            }
            return;
        }
    }
}

async fn write_batch(store: &Store, batch: &mut Vec<AuditEntry>, dropped: &Counter) {
    if let Err(e) = store.append_audit_batch(batch).await {
        dropped.add(&[], batch.len() as u64);
        tracing::warn!(error = %e, entries = batch.len(), "audit entries not written");
    }
    batch.clear();
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
