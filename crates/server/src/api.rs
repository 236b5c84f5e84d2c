//! The exec HTTP API: handlers, role checks, deadlines, metrics, the OpenAPI document.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Json, Router};
use tokio::sync::watch;
use tradepulse_live::{
    EngineHandle, KillSwitchChange, OrderFilter, Registry, SubmitOutcome,
    metrics::{Counter, Histogram, LATENCY_BUCKETS},
};
use tradepulse_model::{ClientOrderId, Quantity, RejectReason, UnixNanos};
use tradepulse_risk::KillScope;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthError, Authenticator, Caller, Role};
use crate::dto::{
    BalanceDto, FillDto, KillSwitchDto, KillSwitchRequest, OrderDto, OrderQuery, PositionDto,
    RefusedDto, StatusDto, StreamMessage, SubmitOrder, WhoAmIDto,
};
use crate::error::{ApiError, ErrorBody};

/// HTTP limits of the API.
#[derive(Debug, Clone, Copy)]
pub struct ApiLimits {
    /// Every request's deadline.
    pub request_timeout: Duration,
    /// How long a submit waits for the venue before answering `202`.
    pub submit_wait: Duration,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Requests per second and burst per token (or client address) on `/v1/…`; unlimited if
    /// `None`.
    pub rate_limit: Option<(f64, u32)>,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(5),
            submit_wait: Duration::from_secs(2),
            max_body_bytes: 64 * 1024,
            rate_limit: None,
        }
    }
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    engine: EngineHandle,
    auth: Authenticator,
    registry: Registry,
    limits: ApiLimits,
    http_requests: Arc<Counter>,
    http_latency: Arc<Histogram>,
    /// Flips to `true` when the server starts shutting down (streams close, `/readyz` fails).
    pub(crate) stopping: watch::Receiver<bool>,
    buckets: Option<Arc<crate::limits::Buckets>>,
    /// The core service's additions (strategies' configs, the account), `None` in exec.
    pub(crate) core: Option<Arc<crate::core_api::CoreInfo>>,
    order_pages: Arc<OrderPages>,
    audit: crate::limits::AuditLog,
}

/// Order lists already serialised, each valid while the engine's
/// [`EngineHandle::orders_version`] has not moved: dashboards poll the same few pages, and a
/// 100-order page costs a round trip to the engine thread and ~50 KB of JSON to build.
#[derive(Default)]
struct OrderPages {
    /// Newest first: the filter, the version it was made at, the JSON.
    pages: Mutex<VecDeque<(OrderFilter, u64, axum::body::Bytes)>>,
}

/// Distinct order queries kept (a dashboard's tabs and filters).
const ORDER_PAGES_KEPT: usize = 16;

impl OrderPages {
    fn get(&self, filter: &OrderFilter, version: u64) -> Option<axum::body::Bytes> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages
            .iter()
            .find(|(f, v, _)| *v == version && f == filter)
            .map(|(_, _, body)| body.clone())
    }

    fn put(&self, filter: OrderFilter, version: u64, body: axum::body::Bytes) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages.retain(|(f, v, _)| *f != filter && *v >= version);
        pages.push_front((filter, version, body));
        pages.truncate(ORDER_PAGES_KEPT);
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// State over a running engine; registers the HTTP series in `registry`.
    #[must_use]
    pub fn new(
        engine: EngineHandle,
        auth: Authenticator,
        registry: Registry,
        limits: ApiLimits,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        Self::for_service("exec", engine, auth, registry, limits, stopping)
    }

    /// As [`AppState::new`] for the service named `service` (the `tradepulse_build_info`
    /// label).
    #[must_use]
    pub fn for_service(
        service: &str,
        engine: EngineHandle,
        auth: Authenticator,
        registry: Registry,
        limits: ApiLimits,
        stopping: watch::Receiver<bool>,
    ) -> Self {
        let http_requests = registry.counter(
            "tradepulse_http_requests_total",
            "HTTP requests by route, method and status.",
            &["route", "method", "status"],
        );
        let http_latency = registry.histogram(
            "tradepulse_http_request_duration_seconds",
            "HTTP request duration by route.",
            &["route"],
            LATENCY_BUCKETS,
        );
        let build = registry.gauge(
            "tradepulse_build_info",
            "1, with the version of the running binary.",
            &["version", "service"],
        );
        build.set(&[crate::VERSION, service], 1.0);
        registry.register_process_metrics();
        let audit = crate::limits::AuditLog::start(engine.store().clone(), &registry);
        let buckets = limits
            .rate_limit
            .map(|(rate, burst)| Arc::new(crate::limits::Buckets::new(rate, burst)));
        Self {
            engine,
            auth,
            registry,
            limits,
            http_requests,
            http_latency,
            order_pages: Arc::default(),
            stopping,
            buckets,
            core: None,
            audit,
        }
    }

    /// The engine the API serves.
    #[must_use]
    pub fn engine(&self) -> &EngineHandle {
        &self.engine
    }

    /// The audit log of the API's mutating calls (closed by the service's stop).
    pub(crate) fn audit(&self) -> &crate::limits::AuditLog {
        &self.audit
    }
}

macro_rules! role_extractor {
    ($name:ident, $role:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug)]
        pub struct $name(pub Caller);

        impl FromRequestParts<AppState> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                state
                    .auth
                    .check(crate::auth::bearer_token(&parts.headers), $role)
                    .await
                    .map($name)
                    .map_err(|e| match e {
                        AuthError::Unauthenticated => ApiError::new(
                            StatusCode::UNAUTHORIZED,
                            "UNAUTHENTICATED",
                            "send `Authorization: Bearer <token>` with a valid token",
                        ),
                        AuthError::Forbidden => ApiError::new(
                            StatusCode::FORBIDDEN,
                            "FORBIDDEN",
                            concat!("this needs a token with the role ", stringify!($role)),
                        ),
                        AuthError::Unavailable => ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "STORE_UNAVAILABLE",
                            "tokens cannot be checked right now; retry later",
                        ),
                    })
            }
        }
    };
}

role_extractor!(
    Viewer,
    Role::Viewer,
    "A caller with at least the viewer role."
);
role_extractor!(
    Trader,
    Role::Trader,
    "A caller with at least the trader role."
);
role_extractor!(Admin, Role::Admin, "A caller with the admin role.");

/// `axum::Json` whose rejections are [`ApiError`]s.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|Json(v)| Self(v))
            .map_err(ApiError::from)
    }
}

fn client_id(text: &str) -> Result<ClientOrderId, ApiError> {
    ClientOrderId::new(text).map_err(|e| ApiError::invalid("client_order_id", e))
}

/// Submit an order (idempotent on `client_order_id`).
#[utoipa::path(
    post, path = "/v1/orders", tag = "orders", request_body = SubmitOrder,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the venue's first answer is in `status`", body = OrderDto),
        (status = 200, description = "The id was submitted before: that order", body = OrderDto),
        (status = 202, description = "Sent, no answer from the venue within the wait", body = OrderDto),
        (status = 422, description = "Refused before the venue (risk, kill switch) or an invalid field", body = RefusedDto),
        (status = 409, description = "The id belongs to a different order", body = ErrorBody),
        (status = 503, description = "Not ready (reconciling), shutting down, or the store is unavailable (`STORE_UNAVAILABLE`: not journaled, so not sent)", body = ErrorBody),
    )
)]
async fn submit_order(
    State(state): State<AppState>,
    Trader(_caller): Trader,
    ApiJson(body): ApiJson<SubmitOrder>,
) -> Result<Response, ApiError> {
    let request = body.into_request()?;
    let outcome = state
        .engine
        .submit(request, state.limits.submit_wait)
        .await?;
    Ok(submit_response(&outcome))
}

fn submit_response(outcome: &SubmitOutcome) -> Response {
    let order = OrderDto::from(&outcome.order);
    // Not journaled, so never sent: the store is away. The id stays used (ids never repeat;
    // sending it again answers 200 with this order), so a retry takes a new id.
    if outcome.created && outcome.order.reject_reason == Some(RejectReason::StoreUnavailable) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(RefusedDto {
                code: "STORE_UNAVAILABLE".into(),
                message: outcome.message.clone().unwrap_or_else(|| {
                    "the order could not be journaled, so it was not sent: the store is unavailable; retry later with a new client order id".into()
                }),
                order,
            }),
        )
            .into_response();
    }
    if outcome.order.state.is_none() {
        let code = outcome
            .order
            .reject_reason
            .map_or("REFUSED", |r| r.code())
            .to_owned();
        let message = outcome.message.clone().unwrap_or_else(|| code.clone());
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(RefusedDto {
                code,
                message,
                order,
            }),
        )
            .into_response();
    }
    let status = if !outcome.created {
        StatusCode::OK
    } else if outcome.order.status() == "submitted" {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    (status, Json(order)).into_response()
}

/// List orders, newest first.
#[utoipa::path(
    get, path = "/v1/orders", tag = "orders", params(OrderQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<OrderDto>), (status = 400, body = ErrorBody))
)]
async fn list_orders(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    query: Result<Query<OrderQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    if let Some(s) = &q.status {
        const NAMES: &[&str] = &[
            "open",
            "closed",
            "refused",
            "submitted",
            "accepted",
            "triggered",
            "partially_filled",
            "pending_cancel",
            "filled",
            "canceled",
            "expired",
            "rejected",
        ];
        if !NAMES.contains(&s.as_str()) {
            return Err(ApiError::invalid(
                "status",
                format!("expected one of {}", NAMES.join(", ")),
            ));
        }
    }
    let instrument = q
        .instrument
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| ApiError::invalid("instrument", e))?;
    if q.limit
        .is_some_and(|l| l == 0 || l > OrderFilter::MAX_LIMIT)
    {
        return Err(ApiError::invalid(
            "limit",
            format!("must be 1..={}", OrderFilter::MAX_LIMIT),
        ));
    }
    let filter = OrderFilter {
        status: q.status,
        instrument,
        strategy: q.strategy,
        since: q.since_ns.map(UnixNanos::new),
        limit: q.limit,
    };
    // Read before asking: the answer is at least as new as this version (see orders_version).
    let version = state.engine.orders_version();
    let body = match state.order_pages.get(&filter, version) {
        Some(body) => body,
        None => {
            let orders = state.engine.orders(filter.clone()).await?;
            let dtos: Vec<OrderDto> = orders.iter().map(OrderDto::from).collect();
            let body = axum::body::Bytes::from(
                serde_json::to_vec(&dtos).map_err(|e| ApiError::internal(&e))?,
            );
            state.order_pages.put(filter, version, body.clone());
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One order.
#[utoipa::path(
    get, path = "/v1/orders/{client_order_id}", tag = "orders", security(("bearer" = [])),
    params(("client_order_id" = String, Path, description = "The order's client order id")),
    responses((status = 200, body = OrderDto), (status = 404, body = ErrorBody))
)]
async fn get_order(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
) -> Result<Json<OrderDto>, ApiError> {
    let id = client_id(&id)?;
    let order = state
        .engine
        .order(id)
        .await?
        .ok_or_else(|| ApiError::from(tradepulse_live::EngineError::NotFound(id)))?;
    Ok(Json(OrderDto::from(&order)))
}

/// An order's executions, oldest first (what a client that missed stream messages re-reads).
#[utoipa::path(
    get, path = "/v1/orders/{client_order_id}/fills", tag = "orders", security(("bearer" = [])),
    params(("client_order_id" = String, Path, description = "The order's client order id")),
    responses(
        (status = 200, body = Vec<FillDto>), (status = 404, body = ErrorBody),
        (status = 503, description = "The latest executions are not durable yet; retry", body = ErrorBody),
    )
)]
async fn order_fills(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
) -> Result<Json<Vec<FillDto>>, ApiError> {
    let id = client_id(&id)?;
    // The engine books an execution at once and journals it with the next flush (a few ms):
    // answer once the journal holds as much as the order has filled, so nothing is left out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let order = state
            .engine
            .order(id)
            .await?
            .ok_or_else(|| ApiError::from(tradepulse_live::EngineError::NotFound(id)))?;
        let stored = state.engine.store().fills(id).await.map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "STORE_UNAVAILABLE",
                format!("fills of {id}: {e}"),
            )
        })?;
        let journaled = stored.iter().fold(Quantity::ZERO, |q, f| {
            q.checked_add(f.fill.quantity).unwrap_or(q)
        });
        if journaled >= order.filled {
            let fills = stored
                .iter()
                .map(|f| FillDto::new(&f.fill, &order.request.instrument, &order.strategy))
                .collect();
            return Ok(Json(fills));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "NOT_DURABLE_YET",
                format!("the executions of {id} are not durable yet; retry"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Cancel an order.
#[utoipa::path(
    delete, path = "/v1/orders/{client_order_id}", tag = "orders", security(("bearer" = [])),
    params(("client_order_id" = String, Path, description = "The order's client order id")),
    responses(
        (status = 200, description = "Cancelled, or the cancel is in flight (`pending_cancel`)", body = OrderDto),
        (status = 404, body = ErrorBody), (status = 409, description = "Already ended", body = ErrorBody),
    )
)]
async fn cancel_order(
    State(state): State<AppState>,
    Trader(_caller): Trader,
    Path(id): Path<String>,
) -> Result<Json<OrderDto>, ApiError> {
    let order = state.engine.cancel(client_id(&id)?).await?;
    Ok(Json(OrderDto::from(&order)))
}

/// Positions.
#[utoipa::path(
    get, path = "/v1/positions", tag = "portfolio", security(("bearer" = [])),
    responses((status = 200, body = Vec<PositionDto>))
)]
async fn positions(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<PositionDto>>, ApiError> {
    let positions = state.engine.positions().await?;
    Ok(Json(positions.iter().map(PositionDto::from).collect()))
}

/// Balances.
#[utoipa::path(
    get, path = "/v1/balances", tag = "portfolio", security(("bearer" = [])),
    responses((status = 200, body = Vec<BalanceDto>))
)]
async fn balances(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<BalanceDto>>, ApiError> {
    let balances = state.engine.balances().await?;
    Ok(Json(balances.iter().map(BalanceDto::from).collect()))
}

/// The engaged kill switches.
#[utoipa::path(
    get, path = "/v1/kill-switch", tag = "risk", security(("bearer" = [])),
    responses((status = 200, body = KillSwitchDto))
)]
async fn get_kill_switch(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<KillSwitchDto>, ApiError> {
    let status = state.engine.status().await?;
    Ok(Json(KillSwitchDto {
        engaged: status.kill_switches.iter().map(KillScope::key).collect(),
        cancel_requested: Vec::new(),
    }))
}

/// Engage or release a kill switch (admin; persisted and audited).
#[utoipa::path(
    post, path = "/v1/kill-switch", tag = "risk", request_body = KillSwitchRequest,
    security(("bearer" = [])),
    responses((status = 200, body = KillSwitchDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn set_kill_switch(
    State(state): State<AppState>,
    Admin(caller): Admin,
    ApiJson(body): ApiJson<KillSwitchRequest>,
) -> Result<Json<KillSwitchDto>, ApiError> {
    let scope = KillScope::parse(&body.scope).ok_or_else(|| {
        ApiError::invalid(
            "scope",
            "expected global, strategy:NAME or instrument:SYMBOL.VENUE",
        )
    })?;
    let reason = body.reason.trim();
    if !(3..=256).contains(&reason.chars().count()) || reason.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "reason",
            "3-256 characters without control characters",
        ));
    }
    let cancelled = state
        .engine
        .set_kill_switch(KillSwitchChange {
            scope,
            engaged: body.engaged,
            reason: reason.to_owned(),
            actor: caller.name,
            cancel_open: body.cancel_open,
        })
        .await?;
    let status = state.engine.status().await?;
    Ok(Json(KillSwitchDto {
        engaged: status.kill_switches.iter().map(KillScope::key).collect(),
        cancel_requested: cancelled.iter().map(ToString::to_string).collect(),
    }))
}

fn status_dto(s: &tradepulse_live::EngineStatus) -> StatusDto {
    StatusDto {
        ready: s.ready,
        reason: s.not_ready_reason.clone(),
        session: s.session,
        venue: s.venue.clone(),
        open_orders: s.open_orders,
        kill_switches: s.kill_switches.iter().map(KillScope::key).collect(),
        orders_sent: s.orders_sent,
        fills: s.fills,
        rejected: s.rejected,
        rejected_by_reason: s
            .rejected_by_reason
            .iter()
            .map(|(reason, n)| ((*reason).to_owned(), *n))
            .collect(),
        last_reconciliation_ns: s.last_reconciliation.map(|t| t.as_nanos()),
    }
}

/// Engine status.
#[utoipa::path(
    get, path = "/v1/status", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = StatusDto))
)]
async fn status(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<StatusDto>, ApiError> {
    Ok(Json(status_dto(&state.engine.status().await?)))
}

/// The caller's token name and role, for a client to show only what the role may do.
#[utoipa::path(
    get, path = "/v1/whoami", tag = "service", security(("bearer" = [])),
    responses((status = 200, body = WhoAmIDto), (status = 401, body = ErrorBody))
)]
async fn whoami(Viewer(caller): Viewer) -> Json<WhoAmIDto> {
    Json(WhoAmIDto {
        name: caller.name,
        role: caller.role.into(),
    })
}

/// The execution-report stream (WebSocket; messages are [`StreamMessage`] JSON). A browser, which
/// cannot set headers on a WebSocket, offers the subprotocols `tradepulse.v1` and
/// `tradepulse.bearer.<token>`; the server selects `tradepulse.v1`.
#[utoipa::path(
    get, path = "/v1/stream", tag = "orders", security(("bearer" = [])),
    responses((status = 101, description = "WebSocket of StreamMessage JSON texts", body = StreamMessage))
)]
async fn stream(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    upgrade: WebSocketUpgrade,
) -> Response {
    let events = state.engine.subscribe();
    let stopping = state.stopping.clone();
    upgrade
        .protocols([crate::auth::WS_PROTOCOL])
        .on_upgrade(move |socket| forward(socket, events, stopping))
}

async fn forward(
    mut socket: WebSocket,
    mut events: tokio::sync::broadcast::Receiver<tradepulse_live::EngineEvent>,
    mut stopping: watch::Receiver<bool>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let message = tokio::select! {
            event = events.recv() => match event {
                Ok(e) => StreamMessage::from(&e),
                Err(RecvError::Lagged(missed)) => StreamMessage::Lagged { missed },
                Err(RecvError::Closed) => break,
            },
            _ = stopping.changed() => break,
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => continue,
            },
        };
        let Ok(text) = serde_json::to_string(&message) else {
            continue;
        };
        if socket.send(Message::Text(text.into())).await.is_err() {
            return;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

/// Liveness: the process answers.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// How long `/readyz` waits for the store's ping when the store was last seen unreachable.
const READY_PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Readiness: restored, reconciled, store reachable, the venue connected, not shutting down.
async fn readyz(State(state): State<AppState>) -> Response {
    let stopping = *state.stopping.borrow();
    // The store's readiness flips back only on a success; while the service is not ready no
    // traffic arrives to make one (the restart-postgres drill: unready forever after
    // PostgreSQL came back), so the probe itself asks the store again.
    let store = state.engine.store();
    let store_ok = store.is_ready()
        || tokio::time::timeout(READY_PING_TIMEOUT, store.ping())
            .await
            .is_ok_and(|r| r.is_ok());
    match state.engine.status().await {
        Ok(s) if s.ready && store_ok && !stopping => {
            (StatusCode::OK, Json(status_dto(&s))).into_response()
        }
        Ok(s) => {
            let mut dto = status_dto(&s);
            dto.ready = false;
            if dto.reason.is_none() {
                dto.reason = Some(if stopping {
                    "shutting down".into()
                } else {
                    "the store is unreachable".into()
                });
            }
            (StatusCode::SERVICE_UNAVAILABLE, Json(dto)).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.registry.render(),
    )
        .into_response()
}

async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    // One span per request (an OTLP trace with the `otel` feature; the JSON logs' context).
    let span = tracing::info_span!(
        "http.request",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    let response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    state
        .http_latency
        .observe(&[&route], started.elapsed().as_secs_f64());
    state
        .http_requests
        .inc(&[&route, &method, response.status().as_str()]);
    response
}

async fn deadline_exceeded(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "DEADLINE_EXCEEDED",
            "the request did not finish within its deadline",
        )
    } else {
        ApiError::internal(&error)
    }
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route")
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "TradePulse execution engine",
        description = "Orders, positions, balances, kill switch and the execution-report stream of `tradepulse exec`. Bearer tokens with roles viewer < trader < admin. Errors are `{code, message}`.",
    ),
    modifiers(&BearerScheme),
)]
struct ApiDoc;

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document, generated from the handlers' types.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

pub(crate) fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(submit_order, list_orders))
        .routes(routes!(get_order, cancel_order))
        .routes(routes!(order_fills))
        .routes(routes!(positions))
        .routes(routes!(balances))
        .routes(routes!(get_kill_switch, set_kill_switch))
        .routes(routes!(status))
        .routes(routes!(whoami))
        .routes(routes!(stream))
}

/// The whole exec app: `/v1/…` (auth, deadlines, body limit), `/v1/openapi.json`,
/// `/healthz`, `/readyz`, `/metrics`, with request metrics on every route.
pub fn router(state: AppState) -> Router {
    finish(api_routes(), state, None, None)
}

/// Serves `routes` with the shared parts: the OpenAPI document of exactly these routes,
/// health, readiness and metrics, deadlines, the body limit, the rate limit, the audit of
/// mutating calls, request metrics and (with `cors`) CORS headers.
/// A handler that panics answers a JSON 500 (`INTERNAL`) like any internal error, with the
/// panic logged, instead of a dropped connection; the audit and request metrics still see it.
fn catch_panics()
-> tower_http::catch_panic::CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response> {
    fn answer(panic: Box<dyn std::any::Any + Send>) -> Response {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        ApiError::internal(&format!("a request handler panicked: {message}")).into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(answer as fn(_) -> _)
}

/// The dashboard's static files (`web:` of serve's config) and the path they are served at.
pub(crate) struct StaticFiles<'a> {
    pub(crate) path: &'a str,
    pub(crate) directory: &'a std::path::Path,
}

pub(crate) fn finish(
    routes: OpenApiRouter<AppState>,
    state: AppState,
    cors: Option<tower_http::cors::CorsLayer>,
    web: Option<StaticFiles<'_>>,
) -> Router {
    let limits = state.limits;
    let (api, doc) = routes.split_for_parts();
    let doc = Arc::new(doc);
    let deadline = tower::ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            deadline_exceeded,
        ))
        .timeout(limits.request_timeout);
    let app = api
        .route(
            "/v1/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&doc);
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/healthz", axum::routing::get(healthz))
        .route("/readyz", axum::routing::get(readyz))
        .route("/metrics", axum::routing::get(metrics));
    let app = match web {
        None => app.fallback(not_found),
        Some(web) => {
            let files = tower_http::services::ServeDir::new(web.directory);
            match web.path.trim_end_matches('/') {
                // An unknown API path stays a JSON 404, not a page of the dashboard.
                "" => app
                    .route("/v1/{*rest}", axum::routing::any(not_found))
                    .fallback_service(files),
                prefix => app.nest_service(prefix, files).fallback(not_found),
            }
        }
    };
    let app = app
        .layer(catch_panics())
        .layer(axum::extract::DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(deadline)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::audit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::limits::rate_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), record));
    let app = match cors {
        Some(cors) => app.layer(cors),
        None => app,
    };
    app.with_state(state)
}

impl AppState {
    pub(crate) fn buckets(&self) -> Option<&crate::limits::Buckets> {
        self.buckets.as_deref()
    }

    pub(crate) fn auth(&self) -> &Authenticator {
        &self.auth
    }
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_json_500() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/boom",
                axum::routing::get(|| async {
                    if std::hint::black_box(true) {
                        panic!("kaboom");
                    }
                    "unreachable"
                }),
            )
            .layer(super::catch_panics());
        let response = app
            .oneshot(
                axum::http::Request::get("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "INTERNAL");
        assert!(
            !json["message"].as_str().unwrap().contains("kaboom"),
            "no internals leak"
        );
    }
}
