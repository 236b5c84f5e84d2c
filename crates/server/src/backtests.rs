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
//!
//! Charts (`GET /v1/backtests/{id}/chart`) are the `report.html` payload of the visible range
//! at the asked resolution, so a million-bar run is never sent whole. The series come from a
//! re-run of the stored config (the engine is deterministic; a re-run whose metrics differ from
//! the stored ones — the data file changed — is refused) or from the launch that stored the
//! run, and the last [`CHART_RUNS_KEPT`] runs charted stay in memory.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use tradepulse_backtest::{Backtest, BacktestConfig, ChartWindow, chart_payload_json};
use tradepulse_execution::{Clock, WallClock};
use tradepulse_store::{BacktestRun, NewBacktestRun, RunId, Store};
use utoipa::ToSchema;

use crate::api::{ApiJson, AppState, Trader, Viewer};
use crate::core_api::{LimitQuery, info};
use crate::core_config::BacktestsConfig;
use crate::error::{ApiError, ErrorBody};
use axum::response::{IntoResponse, Response};

/// Jobs kept for `GET /v1/backtests/jobs` and `GET /v1/sweeps/jobs` each (the oldest finished
/// ones are forgotten first).
const JOBS_KEPT: usize = 1_000;

/// Runs whose bars and results stay in memory for charts (a million-bar run is ~70 MB).
pub(crate) const CHART_RUNS_KEPT: usize = 2;

/// The values computed last (most recent first, at most `N`), by key, and one computation at a
/// time, so two first requests for a key compute it once: the runs charted
/// ([`CHART_RUNS_KEPT`]) and the sweep details (`sweeps`).
pub(crate) struct Kept<K, V, const N: usize> {
    values: Mutex<VecDeque<(K, Arc<V>)>>,
    computing: tokio::sync::Mutex<()>,
}

/// The runs charted last, with their bars and results.
pub(crate) type Charts = Kept<RunId, Backtest, CHART_RUNS_KEPT>;

impl<K, V, const N: usize> Default for Kept<K, V, N> {
    fn default() -> Self {
        Self {
            values: Mutex::new(VecDeque::new()),
            computing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<K, V, const N: usize> std::fmt::Debug for Kept<K, V, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept").finish_non_exhaustive()
    }
}

impl<K: PartialEq, V, const N: usize> Kept<K, V, N> {
    fn get(&self, key: &K) -> Option<Arc<V>> {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        let at = values.iter().position(|(k, _)| k == key)?;
        let entry = values.remove(at)?;
        let value = Arc::clone(&entry.1);
        values.push_front(entry);
        Some(value)
    }

    pub(crate) fn put(&self, key: K, value: Arc<V>) {
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        values.retain(|(k, _)| *k != key);
        values.push_front((key, value));
        values.truncate(N);
    }

    /// The value kept for `key`, or the one `compute` makes (kept, unless it fails).
    pub(crate) async fn get_or_compute<E>(
        &self,
        key: K,
        compute: impl AsyncFnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E> {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let _one = self.computing.lock().await;
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let value = Arc::new(compute().await?);
        self.put(key, Arc::clone(&value));
        Ok(value)
    }
}

/// What `POST /v1/backtests` and `POST /v1/sweeps` may run, and the jobs they started.
pub(crate) struct Launcher {
    directory: PathBuf,
    /// `backtests.sweep_directory`; none: no sweep is launched.
    pub(crate) sweep_directory: Option<PathBuf>,
    /// Threads of one launched sweep.
    pub(crate) sweep_threads: usize,
    /// Backtests and sweeps running at once (`backtests.max_concurrent`).
    pub(crate) permits: Arc<Semaphore>,
    jobs: JobBook<BacktestJobDto>,
    pub(crate) sweep_jobs: JobBook<crate::sweeps::SweepJobDto>,
}

/// A job of a [`JobBook`].
pub(crate) trait Job: Clone {
    fn set_id(&mut self, id: u64);
    fn is_finished(&self) -> bool;
}

/// Jobs in memory, by id, at most [`JOBS_KEPT`] (the oldest finished ones are forgotten first).
pub(crate) struct JobBook<J> {
    inner: Mutex<(u64, BTreeMap<u64, J>)>,
}

impl<J: Job> JobBook<J> {
    fn new() -> Self {
        Self {
            inner: Mutex::new((0, BTreeMap::new())),
        }
    }

    /// Files `job` under a new id, which it returns with.
    pub(crate) fn insert(&self, job: J) -> J {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Self::file(&mut inner, job)
    }

    /// [`JobBook::insert`], unless a job filed already `clashes` (checked under the same lock).
    pub(crate) fn insert_unless(&self, job: J, clashes: impl Fn(&J) -> bool) -> Option<J> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.1.values().any(clashes) {
            return None;
        }
        Some(Self::file(&mut inner, job))
    }

    fn file(inner: &mut (u64, BTreeMap<u64, J>), mut job: J) -> J {
        inner.0 += 1;
        let id = inner.0;
        job.set_id(id);
        let jobs = &mut inner.1;
        if jobs.len() >= JOBS_KEPT
            && let Some(old) = jobs
                .iter()
                .find(|(_, j)| j.is_finished())
                .map(|(id, _)| *id)
        {
            jobs.remove(&old);
        }
        jobs.insert(id, job.clone());
        job
    }

    pub(crate) fn update(&self, id: u64, change: impl FnOnce(&mut J)) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(job) = inner.1.get_mut(&id) {
            change(job);
        }
    }

    fn get(&self, id: u64) -> Option<J> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.1.get(&id).cloned()
    }

    /// Job `id` (the path segment as sent), or a 404 naming `what` it is.
    pub(crate) fn find(&self, id: &str, what: &str) -> Result<J, ApiError> {
        id.parse::<u64>()
            .ok()
            .and_then(|id| self.get(id))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "JOB_NOT_FOUND",
                    format!("no {what} job {id}"),
                )
            })
    }

    /// Every job, newest first.
    pub(crate) fn list(&self) -> Vec<J> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.1.values().rev().cloned().collect()
    }
}

impl Job for BacktestJobDto {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }

    fn is_finished(&self) -> bool {
        self.status.is_finished()
    }
}

impl std::fmt::Debug for Launcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Launcher")
            .field("directory", &self.directory)
            .field("sweep_directory", &self.sweep_directory)
            .finish_non_exhaustive()
    }
}

impl Launcher {
    pub(crate) fn new(config: &BacktestsConfig) -> Self {
        let dirs = std::iter::once(("backtests.directory", &config.directory)).chain(
            config
                .sweep_directory
                .iter()
                .map(|d| ("backtests.sweep_directory", d)),
        );
        for (key, directory) in dirs {
            if !directory.is_dir() {
                tracing::warn!(
                    directory = %directory.display(),
                    "{key} is not a directory (relative to the working directory): nothing \
                     can be launched from it"
                );
            }
        }
        Self {
            directory: config.directory.clone(),
            sweep_directory: config.sweep_directory.clone(),
            sweep_threads: config.sweep_threads,
            permits: Arc::new(Semaphore::new(config.max_concurrent)),
            jobs: JobBook::new(),
            sweep_jobs: JobBook::new(),
        }
    }
}

/// The config `name` of `directory`: a plain file name ending in `.yaml` or `.yml`. `listing`
/// is the route that lists them and `missing` the error code, for when there is no such file.
pub(crate) fn config_in(
    directory: &FsPath,
    name: &str,
    listing: &str,
    missing: &'static str,
) -> Result<PathBuf, ApiError> {
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
            "a file name of the configs directory (letters, digits, '.', '_', '-'; ending in \
             .yaml or .yml), not a path",
        ));
    }
    let path = directory.join(name);
    if !path.is_file() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            missing,
            format!("no config {name} (see GET {listing})"),
        ));
    }
    Ok(path)
}

/// What a launch of config file `config` is called when the request names nothing: its stem.
pub(crate) fn default_name(config: &str) -> String {
    FsPath::new(config)
        .file_stem()
        .map_or_else(|| config.to_owned(), |s| s.to_string_lossy().into_owned())
}

/// The launchable config files of `directory`, sorted.
pub(crate) fn configs_in(directory: &FsPath) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| config_in(directory, n, "", "").is_ok())
        .collect();
    names.sort();
    names
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
    pub(crate) fn is_finished(self) -> bool {
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

pub(crate) fn store_error(e: &tradepulse_store::Error) -> ApiError {
    ApiError::from(tradepulse_live::EngineError::Store(e.to_string()))
}

pub(crate) fn launcher(state: &AppState) -> Result<&Arc<Launcher>, ApiError> {
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

/// Run `id`, or a 404.
async fn stored_run(store: &Store, id: RunId) -> Result<BacktestRun, ApiError> {
    store
        .run(id)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "RUN_NOT_FOUND",
                format!("no backtest run {id}"),
            )
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
    let run = stored_run(store, id).await?;
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

/// `?from=S&to=S&points=N` of a chart.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ChartQuery {
    /// First time shown, UTC seconds (default: the run's start).
    pub from: Option<i64>,
    /// Last time shown, UTC seconds, inclusive (default: the run's end).
    pub to: Option<i64>,
    /// Most candles (the chart's width in pixels, say): 1..=20000, default 2000. The equity
    /// series keeps at most four points per candle.
    pub points: Option<usize>,
    /// `all` (default) or `range`: only the equity and candle panels of the range, without the
    /// whole run's monthly returns and round trips (a zoom or a pan).
    pub panels: Option<String>,
}

impl ChartQuery {
    fn window(&self) -> Result<ChartWindow, ApiError> {
        let time = |v: Option<i64>, field: &str| {
            v.map(|s| {
                s.checked_mul(1_000_000_000)
                    .map(tradepulse_model::UnixNanos::new)
                    .ok_or_else(|| ApiError::invalid(field, "UTC seconds within the year 2262"))
            })
            .transpose()
        };
        let from = time(self.from, "from")?;
        let to = time(self.to, "to")?;
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            return Err(ApiError::invalid("from", "must not be after `to`"));
        }
        let points = self.points.unwrap_or(2_000);
        if !(1..=20_000).contains(&points) {
            return Err(ApiError::invalid("points", "must be 1..=20000"));
        }
        let range_only = match self.panels.as_deref() {
            None | Some("all") => false,
            Some("range") => true,
            Some(_) => return Err(ApiError::invalid("panels", "`all` or `range`")),
        };
        Ok(ChartWindow {
            from,
            to,
            points,
            range_only,
        })
    }
}

/// The chart payload of a run for a time range (schema 1, as in `report.html`: equity and
/// drawdown reduced to at most four points per candle, candles of equal bar counts, a marker
/// per fill group, monthly returns, round trips), drawn by the dashboard with the report's
/// chart module.
#[utoipa::path(
    get, path = "/v1/backtests/{id}/chart", tag = "backtests", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The run id"), ChartQuery),
    responses(
        (status = 200, description = "The chart payload (web/src/charts/payload.ts)", body = serde_json::Value),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    )
)]
async fn chart(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
    query: Result<Query<ChartQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query?;
    let window = q.window()?;
    let id = run_id(&id)?;
    let charts = Arc::clone(&info(&state)?.charts);
    let backtest = charts
        .get_or_compute(id, async || rerun(state.engine().store(), id).await)
        .await?;
    let body = tokio::task::spawn_blocking(move || {
        let title = format!(
            "Backtest: {} on {}",
            backtest.summary.strategy, backtest.summary.instrument
        );
        chart_payload_json(&title, &backtest.run, &backtest.bars, &[], &window)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// Runs a stored run's config again and checks it reproduces the stored metrics.
async fn rerun(store: &Store, id: RunId) -> Result<Backtest, ApiError> {
    let run = stored_run(store, id).await?;
    let stored = store.run_metrics(id).await.map_err(|e| store_error(&e))?;
    let unavailable = |reason: String| {
        ApiError::new(
            StatusCode::CONFLICT,
            "RUN_NOT_REPRODUCIBLE",
            format!("backtest run {id} cannot be charted: {reason}"),
        )
    };
    let document = run.config.clone();
    let ran = tokio::task::spawn_blocking(move || {
        // The stored document is JSON, which the YAML parser reads as it is.
        let text = serde_json::to_string(&document).map_err(|e| e.to_string())?;
        let config = BacktestConfig::parse(&text, FsPath::new(&format!("backtest run {id}")))
            .map_err(|e| e.to_string())?;
        Backtest::run(&config).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(unavailable)?;
    let now = WallClock.now();
    let again = NewBacktestRun::from_backtest(&run.name, serde_json::Value::Null, &ran, now, now);
    let differs = stored.iter().find(|(name, value)| {
        again
            .metrics
            .get(*name)
            .is_none_or(|v| (v - *value).abs() > 1e-9 * value.abs().max(1.0))
    });
    if let Some((name, value)) = differs {
        return Err(unavailable(format!(
            "running its config again gives {name} = {} instead of the stored {value} (its data \
             changed since)",
            again
                .metrics
                .get(name)
                .map_or_else(|| "nothing".to_owned(), ToString::to_string)
        )));
    }
    Ok(ran)
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
    let names = tokio::task::spawn_blocking(move || configs_in(&launcher.directory))
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
    let path = config_in(
        &launcher.directory,
        &body.config,
        "/v1/backtests/configs",
        "BACKTEST_CONFIG_NOT_FOUND",
    )?;
    let name = match body.name.map(|n| n.trim().to_owned()) {
        Some(n) if n.is_empty() || n.chars().count() > 128 || n.chars().any(char::is_control) => {
            return Err(ApiError::invalid(
                "name",
                "1 to 128 characters without control characters",
            ));
        }
        Some(n) => n,
        None => default_name(&body.config),
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
    let job = launcher.jobs.insert(BacktestJobDto {
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
    let charts = info(&state).ok().map(|c| Arc::clone(&c.charts));
    tokio::spawn(run_job(
        launcher, job.id, name, config, document, store, charts,
    ));
    Ok((StatusCode::ACCEPTED, Json(job)))
}

async fn run_job(
    launcher: Arc<Launcher>,
    id: u64,
    name: String,
    config: BacktestConfig,
    document: serde_json::Value,
    store: Store,
    charts: Option<Arc<Charts>>,
) {
    let Ok(_permit) = Arc::clone(&launcher.permits).acquire_owned().await else {
        return;
    };
    let started_at = WallClock.now();
    launcher.jobs.update(id, |j| {
        j.status = JobStatus::Running;
        j.started_at_ns = Some(started_at.as_nanos());
    });
    let ran = tokio::task::spawn_blocking(move || {
        Backtest::run(&config).map(|b| {
            let record =
                NewBacktestRun::from_backtest(&name, document, &b, started_at, WallClock.now());
            (record, b)
        })
    })
    .await;
    let outcome = match ran {
        Ok(Ok((record, backtest))) => {
            let saved = store
                .save_run(&record)
                .await
                .map_err(|e| format!("storing the run: {e}"));
            // Its chart is likely the next thing asked for.
            if let (Ok(run), Some(charts)) = (&saved, &charts) {
                charts.put(*run, Arc::new(backtest));
            }
            saved
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("the backtest thread failed: {e}")),
    };
    if let Err(error) = &outcome {
        tracing::warn!(job = id, %error, "a launched backtest failed");
    }
    let finished = WallClock.now().as_nanos();
    launcher.jobs.update(id, |j| {
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
    Ok(Json(launcher(&state)?.jobs.list()))
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
    launcher(&state)?.jobs.find(&id, "backtest").map(Json)
}

pub(crate) fn routes(
    router: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    router
        .routes(routes!(list_runs, launch))
        .routes(routes!(get_run))
        .routes(routes!(chart))
        .routes(routes!(list_configs))
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
}
