//! Backtests over the core API: the runs in the store (`GET /v1/backtests`, `GET
//! /v1/backtests/{id}`, written by `tradepulse backtest --database-url` or by a launch) and
//! launches (`POST /v1/backtests`) of the configs in `backtests.directory`.
//!
//! A launch names a config file of that directory — never a path, so the API reads nothing
//! else. The config is checked before the launch is accepted (a bad one is a 422 naming the
//! file, line and key); the run itself happens on a blocking thread, at most
//! `backtests.max_concurrent` at once, and is stored in one transaction like the CLI's. A
//! launch is a job (`GET /v1/backtests/jobs/{id}`) until its run is stored; jobs live in
//! memory (a restart forgets them, not the runs they stored).

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tradepulse_backtest::{Backtest, BacktestConfig};
use tradepulse_execution::{Clock, WallClock};
use tradepulse_store::{BacktestRun, NewBacktestRun, RunId, Store};
use utoipa::ToSchema;

use crate::api::{ApiJson, AppState, Trader, Viewer};
use crate::core_api::LimitQuery;
use crate::core_config::BacktestsConfig;
use crate::error::{ApiError, ErrorBody};

/// Jobs kept for `GET /v1/backtests/jobs` (the oldest finished ones are forgotten first).
const JOBS_KEPT: usize = 1_000;

/// What `POST /v1/backtests` may run, and the jobs it started.
pub(crate) struct Launcher {
    directory: PathBuf,
    permits: Arc<Semaphore>,
    jobs: Mutex<Jobs>,
}

#[derive(Default)]
struct Jobs {
    next: u64,
    by_id: BTreeMap<u64, BacktestJobDto>,
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("directory", &self.directory)
            .finish_non_exhaustive()
    }
}

impl Launcher {
    pub(crate) fn new(config: &BacktestsConfig) -> Self {
        if !config.directory.is_dir() {
            tracing::warn!(
                directory = %config.directory.display(),
                "backtests.directory is not a directory (relative to the working directory): \
                 no backtest can be launched"
            );
        }
        Self {
            directory: config.directory.clone(),
            permits: Arc::new(Semaphore::new(config.max_concurrent)),
            jobs: Mutex::new(Jobs::default()),
        }
    }

    fn update(&self, id: u64, change: impl FnOnce(&mut BacktestJobDto)) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(job) = jobs.by_id.get_mut(&id) {
            change(job);
        }
    }

    fn job(&self, id: u64) -> Option<BacktestJobDto> {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.by_id.get(&id).cloned()
    }

    fn insert(&self, mut job: BacktestJobDto) -> BacktestJobDto {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.next += 1;
        job.id = jobs.next;
        if jobs.by_id.len() >= JOBS_KEPT
            && let Some(old) = jobs
                .by_id
                .iter()
                .find(|(_, j)| j.status.is_finished())
                .map(|(id, _)| *id)
        {
            jobs.by_id.remove(&old);
        }
        jobs.by_id.insert(job.id, job.clone());
        job
    }

    /// The config `name` of the directory: a plain file name ending in `.yaml` or `.yml`.
    fn config_path(&self, name: &str) -> Result<PathBuf, ApiError> {
        let plain = !name.is_empty()
            && name.len() <= 128
            && !name.starts_with('.')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            && (name.ends_with(".yaml") || name.ends_with(".yml"));
        if !plain {
            return Err(ApiError::invalid(
                "config",
                "a file name of the backtests directory (letters, digits, '.', '_', '-'; \
                 ending in .yaml or .yml), not a path",
            ));
        }
        let path = self.directory.join(name);
        if !path.is_file() {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "BACKTEST_CONFIG_NOT_FOUND",
                format!("no backtest config {name} (see GET /v1/backtests/configs)"),
            ));
        }
        Ok(path)
    }

    /// The launchable config files, sorted.
    fn configs(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.directory)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| self.config_path(n).is_ok())
            .collect();
        names.sort();
        names
    }
}

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a free slot (`backtests.max_concurrent`).
    Queued,
    /// Loading data and running.
    Running,
    /// Stored as `run_id`.
    Succeeded,
    /// See `error`.
    Failed,
}

impl JobStatus {
    fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed)
    }
}

/// A launched backtest.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestJobDto {
    /// Job id (this process's; runs have their own ids).
    pub id: u64,
    /// The config file launched.
    pub config: String,
    /// The run's name (default: the config's file stem).
    pub name: String,
    /// Where it stands.
    pub status: JobStatus,
    /// The stored run, once `succeeded`.
    pub run_id: Option<i64>,
    /// Why it failed (names the file, line and field for bad data).
    pub error: Option<String>,
    /// Who launched it.
    pub launched_by: String,
    /// UTC ns.
    pub submitted_at_ns: i64,
    /// UTC ns.
    pub started_at_ns: Option<i64>,
    /// UTC ns.
    pub finished_at_ns: Option<i64>,
}

/// `POST /v1/backtests`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaunchBacktest {
    /// A config file of `backtests.directory`, e.g. `sample.yaml`.
    pub config: String,
    /// The stored run's name (default: the file stem), at most 128 characters.
    #[serde(default)]
    pub name: Option<String>,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestRunDto {
    /// Run id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Strategy kind.
    pub strategy: String,
    /// UTC ns.
    pub started_at_ns: i64,
    /// UTC ns.
    pub finished_at_ns: i64,
    /// Every numeric metric of its summary (`total_return`, `sharpe`, `max_drawdown`, …).
    pub metrics: BTreeMap<String, f64>,
}

/// One round trip of a stored run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RunTradeDto {
    /// `SYMBOL.VENUE`.
    pub instrument: String,
    /// `buy` (long) or `sell` (short).
    pub side: String,
    /// Quantity.
    pub quantity: String,
    /// UTC ns.
    pub entry_ts_ns: i64,
    /// Volume-weighted entry price.
    pub entry_price: String,
    /// UTC ns.
    pub exit_ts_ns: i64,
    /// Volume-weighted exit price.
    pub exit_price: String,
    /// Realised PnL before fees.
    pub pnl: String,
    /// Fees.
    pub fees: String,
}

/// A stored run with its config and round trips.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BacktestRunDetailDto {
    /// The run.
    pub run: BacktestRunDto,
    /// The config document it ran.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// Its round trips, in order.
    pub trades: Vec<RunTradeDto>,
}

fn store_error(e: &tradepulse_store::Error) -> ApiError {
    ApiError::from(tradepulse_live::EngineError::Store(e.to_string()))
}

fn launcher(state: &AppState) -> Result<&Arc<Launcher>, ApiError> {
    state
        .core
        .as_deref()
        .and_then(|c| c.backtests.as_ref())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "BACKTESTS_NOT_CONFIGURED",
                "this service launches no backtests: its config has no `backtests:` section",
            )
        })
}

async fn run_dto(store: &Store, run: &BacktestRun) -> Result<BacktestRunDto, ApiError> {
    let metrics = store
        .run_metrics(run.id)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(BacktestRunDto {
        id: run.id.0,
        name: run.name.clone(),
        strategy: run.strategy.clone(),
        started_at_ns: run.started_at.as_nanos(),
        finished_at_ns: run.finished_at.as_nanos(),
        metrics,
    })
}

fn run_id(text: &str) -> Result<RunId, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(RunId)
        .ok_or_else(|| ApiError::invalid("id", "a run id (a positive integer)"))
}

/// Stored backtest runs, newest first, with their metrics.
#[utoipa::path(
    get, path = "/v1/backtests", tag = "backtests", params(LimitQuery), security(("bearer" = [])),
    responses((status = 200, body = Vec<BacktestRunDto>), (status = 400, body = ErrorBody))
)]
async fn list_runs(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    query: Result<Query<LimitQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<BacktestRunDto>>, ApiError> {
    let Query(q) = query?;
    let limit = usize::try_from(q.get()?).unwrap_or(1_000);
    let store = state.engine().store();
    let runs = store.runs().await.map_err(|e| store_error(&e))?;
    let mut out = Vec::with_capacity(runs.len().min(limit));
    for run in runs.iter().take(limit) {
        out.push(run_dto(store, run).await?);
    }
    Ok(Json(out))
}

/// One stored run: metrics, the config it ran, its round trips.
#[utoipa::path(
    get, path = "/v1/backtests/{id}", tag = "backtests", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The run id")),
    responses((status = 200, body = BacktestRunDetailDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn get_run(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
) -> Result<Json<BacktestRunDetailDto>, ApiError> {
    let id = run_id(&id)?;
    let store = state.engine().store();
    let run = store
        .run(id)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "RUN_NOT_FOUND",
                format!("no backtest run {id}"),
            )
        })?;
    let trades = store.run_trades(id).await.map_err(|e| store_error(&e))?;
    Ok(Json(BacktestRunDetailDto {
        run: run_dto(store, &run).await?,
        config: run.config.clone(),
        trades: trades
            .iter()
            .map(|t| RunTradeDto {
                instrument: t.instrument.to_string(),
                side: t.side.as_str().to_owned(),
                quantity: t.quantity.to_string(),
                entry_ts_ns: t.entry_ts.as_nanos(),
                entry_price: t.entry_price.to_string(),
                exit_ts_ns: t.exit_ts.as_nanos(),
                exit_price: t.exit_price.to_string(),
                pnl: t.pnl.to_string(),
                fees: t.fees.to_string(),
            })
            .collect(),
    }))
}

/// The config files a launch may name.
#[utoipa::path(
    get, path = "/v1/backtests/configs", tag = "backtests", security(("bearer" = [])),
    responses((status = 200, body = Vec<String>), (status = 409, body = ErrorBody))
)]
async fn list_configs(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<String>>, ApiError> {
    let launcher = Arc::clone(launcher(&state)?);
    let names = tokio::task::spawn_blocking(move || launcher.configs())
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(names))
}

/// Launch a backtest of a config of `backtests.directory` (trader). The config is checked
/// first (422 naming the file, line and key); the run is then a job whose run is stored when
/// it finishes. Audited.
#[utoipa::path(
    post, path = "/v1/backtests", tag = "backtests", request_body = LaunchBacktest,
    security(("bearer" = [])),
    responses(
        (status = 202, body = BacktestJobDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)
    )
)]
async fn launch(
    State(state): State<AppState>,
    Trader(caller): Trader,
    ApiJson(body): ApiJson<LaunchBacktest>,
) -> Result<(StatusCode, Json<BacktestJobDto>), ApiError> {
    let launcher = Arc::clone(launcher(&state)?);
    let path = launcher.config_path(&body.config)?;
    let name = match body.name.map(|n| n.trim().to_owned()) {
        Some(n) if n.is_empty() || n.chars().count() > 128 || n.chars().any(char::is_control) => {
            return Err(ApiError::invalid(
                "name",
                "1 to 128 characters without control characters",
            ));
        }
        Some(n) => n,
        None => FsPath::new(&body.config)
            .file_stem()
            .map_or_else(|| body.config.clone(), |s| s.to_string_lossy().into_owned()),
    };
    let checked = {
        let path = path.clone();
        tokio::task::spawn_blocking(move || BacktestConfig::load_with_document(&path))
            .await
            .map_err(|e| ApiError::internal(&e))?
    };
    let (config, document) = checked.map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_BACKTEST_CONFIG",
            e.to_string(),
        )
    })?;
    let job = launcher.insert(BacktestJobDto {
        id: 0,
        config: body.config,
        name: name.clone(),
        status: JobStatus::Queued,
        run_id: None,
        error: None,
        launched_by: caller.name,
        submitted_at_ns: WallClock.now().as_nanos(),
        started_at_ns: None,
        finished_at_ns: None,
    });
    let store = state.engine().store().clone();
    tokio::spawn(run_job(launcher, job.id, name, config, document, store));
    Ok((StatusCode::ACCEPTED, Json(job)))
}

async fn run_job(
    launcher: Arc<Launcher>,
    id: u64,
    name: String,
    config: BacktestConfig,
    document: serde_json::Value,
    store: Store,
) {
    let Ok(_permit) = Arc::clone(&launcher.permits).acquire_owned().await else {
        return;
    };
    let started_at = WallClock.now();
    launcher.update(id, |j| {
        j.status = JobStatus::Running;
        j.started_at_ns = Some(started_at.as_nanos());
    });
    let ran = tokio::task::spawn_blocking(move || {
        Backtest::run(&config).map(|b| {
            NewBacktestRun::from_backtest(&name, document, &b, started_at, WallClock.now())
        })
    })
    .await;
    let outcome = match ran {
        Ok(Ok(record)) => store
            .save_run(&record)
            .await
            .map_err(|e| format!("storing the run: {e}")),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("the backtest thread failed: {e}")),
    };
    if let Err(error) = &outcome {
        tracing::warn!(job = id, %error, "a launched backtest failed");
    }
    let finished = WallClock.now().as_nanos();
    launcher.update(id, |j| {
        j.finished_at_ns = Some(finished);
        match outcome {
            Ok(run) => {
                j.status = JobStatus::Succeeded;
                j.run_id = Some(run.0);
            }
            Err(error) => {
                j.status = JobStatus::Failed;
                j.error = Some(error);
            }
        }
    });
}

/// The launched backtests, newest first.
#[utoipa::path(
    get, path = "/v1/backtests/jobs", tag = "backtests", security(("bearer" = [])),
    responses((status = 200, body = Vec<BacktestJobDto>), (status = 409, body = ErrorBody))
)]
async fn list_jobs(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<BacktestJobDto>>, ApiError> {
    let launcher = launcher(&state)?;
    let jobs = launcher.jobs.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Json(jobs.by_id.values().rev().cloned().collect()))
}

/// One launched backtest.
#[utoipa::path(
    get, path = "/v1/backtests/jobs/{id}", tag = "backtests", security(("bearer" = [])),
    params(("id" = u64, Path, description = "The job id")),
    responses((status = 200, body = BacktestJobDto), (status = 404, body = ErrorBody))
)]
async fn get_job(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
) -> Result<Json<BacktestJobDto>, ApiError> {
    let launcher = launcher(&state)?;
    id.parse::<u64>()
        .ok()
        .and_then(|id| launcher.job(id))
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "JOB_NOT_FOUND",
                format!("no backtest job {id}"),
            )
        })
}

pub(crate) fn routes(
    router: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    router
        .routes(routes!(list_runs, launch))
        .routes(routes!(get_run))
        .routes(routes!(list_configs))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
}
