//! The core service's API: the exec routes (orders, positions, balances, kill switch, status,
//! stream) over the in-process engine, plus strategies (list, status, parameters, start,
//! stop), fills and the equity series.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tradepulse_live::{KillSwitchChange, StrategyView};
use tradepulse_risk::KillScope;
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::{AppState, Trader, Viewer, api_routes};
use crate::dto::FillDto;
use crate::error::{ApiError, ErrorBody};

/// What the core adds to the API's state.
#[derive(Debug, Clone)]
pub(crate) struct CoreInfo {
    /// Each configured strategy: name, kind and parameters as configured.
    pub strategies: Vec<(String, serde_json::Value)>,
    /// The newest fills and equity points.
    pub recent: Arc<crate::recent::Recent>,
    /// Backtest launches (`backtests:`), if configured.
    pub backtests: Option<Arc<crate::backtests::Launcher>>,
    /// Runs kept in memory for their charts.
    pub charts: Arc<crate::backtests::Charts>,
    /// Sweep details computed last, and one computation at a time.
    pub sweep_details: Arc<crate::sweeps::SweepDetails>,
}

/// A strategy the core runs.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StrategyDto {
    /// Its configured name.
    pub name: String,
    /// `sma_cross`, `buy_and_hold`, …
    pub kind: String,
    /// `SYMBOL.VENUE`.
    pub instrument: String,
    /// `running`, or `stopped` (its kill switch is engaged: intents are refused).
    pub status: String,
    /// The parameters as configured (`{kind, params}`).
    #[schema(value_type = Object)]
    pub parameters: serde_json::Value,
    /// Bars seen, counting those before a restart.
    pub bars: i64,
    /// Time of the last bar seen (UTC ns).
    pub last_bar_ns: Option<i64>,
    /// Its state is checkpointed after every bar.
    pub checkpointed: bool,
    /// This session started from its checkpoint.
    pub restored: bool,
    /// Position of its instrument.
    pub position: String,
}

/// `POST /v1/strategies/{name}/stop` and `…/start`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StrategyControl {
    /// Why (audited); default `api`.
    #[serde(default)]
    pub reason: Option<String>,
    /// On stop: also cancel the strategy's open orders (default true).
    #[serde(default)]
    pub cancel_open: Option<bool>,
}

/// One point of the equity series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EquityPointDto {
    /// UTC ns.
    pub ts_ns: i64,
    /// Cash plus positions at their marks.
    pub equity: String,
    /// Cash.
    pub cash: String,
}

/// `?limit=N` (1..=10000, default 1000).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// How many, newest first.
    pub limit: Option<i64>,
}

impl LimitQuery {
    pub(crate) fn get(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(1_000),
            Some(n) if (1..=10_000).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::invalid("limit", "must be 1..=10000")),
        }
    }
}

/// The core's part of the state, or a 404 (the exec service has none).
pub(crate) fn info(state: &AppState) -> Result<&CoreInfo, ApiError> {
    state
        .core
        .as_deref()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such route"))
}

fn dto(view: &StrategyView, info: &CoreInfo) -> StrategyDto {
    StrategyDto {
        name: view.name.clone(),
        kind: view.kind.clone(),
        instrument: view.instrument.to_string(),
        status: if view.stopped { "stopped" } else { "running" }.into(),
        parameters: info
            .strategies
            .iter()
            .find(|(n, _)| *n == view.name)
            .map_or(serde_json::Value::Null, |(_, p)| p.clone()),
        bars: view.bars,
        last_bar_ns: view.last_bar.map(|t| t.as_nanos()),
        checkpointed: view.checkpointed,
        restored: view.restored,
        position: view.position.to_string(),
    }
}

async fn find(state: &AppState, name: &str) -> Result<StrategyView, ApiError> {
    state
        .engine()
        .strategies()
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "STRATEGY_NOT_FOUND",
                format!("no strategy {name}"),
            )
        })
}

/// The strategies this service runs.
#[utoipa::path(
    get, path = "/v1/strategies", tag = "strategies", security(("bearer" = [])),
    responses((status = 200, body = Vec<StrategyDto>))
)]
async fn list_strategies(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<StrategyDto>>, ApiError> {
    let info = info(&state)?;
    let views = state.engine().strategies().await?;
    Ok(Json(views.iter().map(|v| dto(v, info)).collect()))
}

/// One strategy's status and parameters.
#[utoipa::path(
    get, path = "/v1/strategies/{name}", tag = "strategies", security(("bearer" = [])),
    params(("name" = String, Path, description = "The strategy's configured name")),
    responses((status = 200, body = StrategyDto), (status = 404, body = ErrorBody))
)]
async fn get_strategy(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(name): Path<String>,
) -> Result<Json<StrategyDto>, ApiError> {
    let view = find(&state, &name).await?;
    Ok(Json(dto(&view, info(&state)?)))
}

/// The optional JSON body of start/stop (empty: defaults).
fn control_body(bytes: &[u8]) -> Result<StrategyControl, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(StrategyControl::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BODY",
            e.to_string(),
        )
    })
}

async fn control(
    state: &AppState,
    actor: String,
    name: &str,
    engaged: bool,
    body: StrategyControl,
) -> Result<Json<StrategyDto>, ApiError> {
    find(state, name).await?;
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "api".to_owned());
    if reason.chars().count() > 256 || reason.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "reason",
            "at most 256 characters without control characters",
        ));
    }
    state
        .engine()
        .set_kill_switch(KillSwitchChange {
            scope: KillScope::Strategy(name.to_owned()),
            engaged,
            reason,
            actor,
            cancel_open: engaged && body.cancel_open.unwrap_or(true),
        })
        .await?;
    let view = find(state, name).await?;
    Ok(Json(dto(&view, info(state)?)))
}

/// Stop a strategy: its intents are refused from the next one on (it keeps seeing market data,
/// so its indicators stay current), its open orders are cancelled. Persisted and audited.
#[utoipa::path(
    post, path = "/v1/strategies/{name}/stop", tag = "strategies", security(("bearer" = [])),
    params(("name" = String, Path, description = "The strategy's configured name")),
    request_body = StrategyControl,
    responses((status = 200, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn stop_strategy(
    State(state): State<AppState>,
    Trader(caller): Trader,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StrategyDto>, ApiError> {
    let body = control_body(&body)?;
    control(&state, caller.name, &name, true, body).await
}

/// Start (resume) a stopped strategy. Persisted and audited.
#[utoipa::path(
    post, path = "/v1/strategies/{name}/start", tag = "strategies", security(("bearer" = [])),
    params(("name" = String, Path, description = "The strategy's configured name")),
    request_body = StrategyControl,
    responses((status = 200, body = StrategyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn start_strategy(
    State(state): State<AppState>,
    Trader(caller): Trader,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<StrategyDto>, ApiError> {
    let body = control_body(&body)?;
    control(&state, caller.name, &name, false, body).await
}

/// The newest fills of every strategy, newest first (the stream's `fill` messages' shape).
#[utoipa::path(
    get, path = "/v1/fills", tag = "portfolio", params(LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<FillDto>), (status = 400, body = ErrorBody))
)]
async fn fills(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    query: Result<Query<LimitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<FillDto>>, ApiError> {
    let Query(q) = query?;
    let limit = usize::try_from(q.get()?).unwrap_or(1_000);
    Ok(Json(
        info(&state)?
            .recent
            .fills(limit)
            .iter()
            .map(|r| FillDto::new(&r.fill, &r.instrument, &r.strategy))
            .collect(),
    ))
}

/// The account's equity series (recorded every `equity_interval_ms`), oldest first.
#[utoipa::path(
    get, path = "/v1/equity", tag = "portfolio", params(LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<EquityPointDto>), (status = 400, body = ErrorBody))
)]
async fn equity(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    query: Result<Query<LimitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<EquityPointDto>>, ApiError> {
    let Query(q) = query?;
    let limit = usize::try_from(q.get()?).unwrap_or(1_000);
    Ok(Json(
        info(&state)?
            .recent
            .equity(limit)
            .iter()
            .map(|p| EquityPointDto {
                ts_ns: p.ts.as_nanos(),
                equity: p.equity.to_string(),
                cash: p.cash.to_string(),
            })
            .collect(),
    ))
}

#[derive(OpenApi)]
#[openapi(info(
    title = "TradePulse core service",
    description = "Strategies (list, status, parameters, start, stop), backtest runs (list, get, chart, launch), parameter sweeps (list, get with DSR and PBO, launch), orders, positions, balances, fills, equity, kill switch and the live stream of `tradepulse serve`. Bearer tokens with roles viewer < trader < admin. Errors are `{code, message}`.",
))]
struct CoreDoc;

pub(crate) fn core_routes() -> OpenApiRouter<AppState> {
    let mut exec = api_routes();
    exec.get_openapi_mut().info = CoreDoc::openapi().info;
    let core = exec
        .routes(routes!(list_strategies))
        .routes(routes!(get_strategy))
        .routes(routes!(stop_strategy))
        .routes(routes!(start_strategy))
        .routes(routes!(fills))
        .routes(routes!(equity));
    crate::sweeps::routes(crate::backtests::routes(core))
}

/// The core API's OpenAPI document, generated from the handlers' types.
#[must_use]
pub fn openapi() -> utoipa::openapi::OpenApi {
    core_routes().split_for_parts().1
}

/// The whole core app over `state`, with CORS for `cors_origins` (none: no CORS headers).
pub(crate) fn router(
    mut state: AppState,
    info: CoreInfo,
    cors_origins: &[String],
    web: Option<&crate::core_config::WebConfig>,
) -> axum::Router {
    state.core = Some(Arc::new(info));
    let cors = (!cors_origins.is_empty()).then(|| {
        use tower_http::cors::{AllowOrigin, CorsLayer};
        let origins = if cors_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(
                cors_origins
                    .iter()
                    .filter_map(|o| axum::http::HeaderValue::from_str(o).ok()),
            )
        };
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                axum::http::Method::GET,
                axum::http::Method::POST,
                axum::http::Method::DELETE,
            ])
            .allow_headers([
                axum::http::header::AUTHORIZATION,
                axum::http::header::CONTENT_TYPE,
            ])
    });
    let web = web.map(|w| crate::api::StaticFiles {
        path: &w.path,
        directory: &w.directory,
    });
    crate::api::finish(core_routes(), state, cors, web)
}
