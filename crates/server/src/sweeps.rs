//! Parameter sweeps over the core API: the sweeps in the store (`GET /v1/sweeps`, `GET
//! /v1/sweeps/{id}`, written by `tradepulse sweep --database-url` — sharded or not — or by a
//! launch) and launches (`POST /v1/sweeps`) of the configs in `backtests.sweep_directory`.
//!
//! A sweep's detail is its trials and, once every shard is stored, the report `tradepulse
//! sweep` prints: the best trial, the Deflated Sharpe Ratio of that trial against every valid
//! one, and the Probability of Backtest Overfitting by CSCV. They are computed from the stored
//! trials by the same code (`SweepReport::of` of the merged shards), so the API and the CLI
//! cannot disagree. A launch is a job, like a backtest's, whose progress counts the trials run;
//! it shares `backtests.max_concurrent` with the backtests and runs on
//! `backtests.sweep_threads` threads of its own.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tradepulse_backtest::{BacktestConfig, ReturnPeriod};
use tradepulse_execution::{Clock, WallClock};
use tradepulse_research::sweep::{self, Shard, ShardSet, SweepPlan, SweepReport, TrialResult};
use tradepulse_store::{Store, StoredSweep};
use utoipa::ToSchema;

use crate::api::{ApiJson, AppState, Trader, Viewer};
use crate::backtests::{
    JobStatus, Kept, Launcher, config_in, configs_in, default_name, launcher, store_error,
};
use crate::error::{ApiError, ErrorBody};

/// Trials a sweep's detail holds at most: the best-ranked ones (a million-trial random search
/// is not sent whole; its heatmap shows the region that matters).
pub(crate) const TRIALS_SHOWN: usize = 20_000;

/// Sweep details kept in memory: computing one reads every trial's returns and runs the PBO's
/// cross-validation, seconds of work for a large sweep, so a page reload does not redo it.
const DETAILS_KEPT: usize = 4;

/// The sweep details computed last, keyed by the sweep's id, when its last shard was stored
/// (ns) and its trials stored, so a shard stored since is computed again.
pub(crate) type SweepDetails = Kept<(String, i64, usize), SweepDetailDto, DETAILS_KEPT>;

/// A stored sweep.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SweepDto {
    /// Sweep id.
    pub id: String,
    /// Parameter names, in the order of every trial's `values`.
    pub parameters: Vec<String>,
    /// What the ranking maximises (`sharpe`, `total_return`, …).
    pub objective: String,
    /// The period of the return series the overfitting statistics use.
    pub returns: ReturnsDto,
    /// Blocks of the PBO's cross-validation.
    pub pbo_blocks: usize,
    /// Trials in the whole sweep.
    pub total_trials: usize,
    /// Trials of the shards stored.
    pub trials_stored: usize,
    /// Shards the sweep was cut into.
    pub shard_count: usize,
    /// Indices of the shards stored.
    pub shards_stored: Vec<usize>,
    /// Every shard is stored (the report is computed once they are).
    pub complete: bool,
    /// When the last shard was stored, UTC ns.
    pub updated_at_ns: i64,
}

impl SweepDto {
    fn of(s: &StoredSweep) -> Self {
        Self {
            id: s.id.clone(),
            parameters: s.meta.parameters.clone(),
            objective: s.meta.objective.as_str().to_owned(),
            returns: ReturnsDto::of(s.meta.returns),
            pbo_blocks: s.meta.pbo_blocks,
            total_trials: s.meta.total_trials,
            trials_stored: s.trials_stored,
            shard_count: s.meta.shard.count(),
            shards_stored: s.shards.iter().map(|s| s.index()).collect(),
            complete: s.is_complete(),
            updated_at_ns: s.updated_at.as_nanos(),
        }
    }
}

/// What one return of a trial's series is (`sweep.returns`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReturnsDto {
    /// `trading_day`, `bar`, or `bars` (blocks of `bars` bars).
    pub period: String,
    /// Bars per block, for `bars`.
    pub bars: Option<usize>,
}

impl ReturnsDto {
    fn of(period: ReturnPeriod) -> Self {
        let (name, bars) = match period {
            ReturnPeriod::TradingDay => ("trading_day", None),
            ReturnPeriod::Bar => ("bar", None),
            ReturnPeriod::Bars(n) => ("bars", Some(n)),
        };
        Self {
            period: name.to_owned(),
            bars,
        }
    }
}

/// One trial of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SweepTrialDto {
    /// Trial id.
    pub id: usize,
    /// Its parameter values, in the order of the sweep's `parameters`.
    pub values: Vec<f64>,
    /// Its objective value (none: it did not run, or the objective is undefined, e.g. a Sharpe
    /// ratio without trades).
    pub objective: Option<f64>,
    /// Per-year Sharpe ratio.
    pub sharpe: Option<f64>,
    /// Total return (0.1 is +10 %).
    pub total_return: Option<f64>,
    /// Deepest drawdown (0.2 is −20 %).
    pub max_drawdown: Option<f64>,
    /// Round trips.
    pub round_trips: Option<usize>,
    /// Why it did not run (a bad parameter combination, e.g. fast ≥ slow).
    pub invalid: Option<String>,
}

impl SweepTrialDto {
    fn of(r: &TrialResult, objective: tradepulse_backtest::Objective) -> Self {
        let m = r.outcome.as_ref().ok();
        Self {
            id: r.trial.id,
            values: r.trial.values.clone(),
            objective: r.objective(objective),
            sharpe: m.and_then(|m| m.sharpe),
            total_return: m.and_then(|m| m.total_return),
            max_drawdown: m.and_then(|m| m.max_drawdown),
            round_trips: m.map(|m| m.round_trips),
            invalid: r.outcome.as_ref().err().cloned(),
        }
    }
}

/// The Deflated Sharpe Ratio of the best trial.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeflatedSharpeDto {
    /// Probability that the best trial's true Sharpe ratio beats what the search would find by
    /// luck (above 0.95 is Bailey and López de Prado's bar).
    pub dsr: f64,
    /// Probability of a positive true Sharpe ratio, ignoring the selection.
    pub psr: f64,
    /// The best trial's per-period Sharpe ratio.
    pub sharpe: f64,
    /// The threshold: the expected largest per-period Sharpe ratio of as many unskilled trials.
    pub expected_max_sharpe: f64,
    /// Trials it was selected from.
    pub trials: usize,
    /// Returns of its series (T).
    pub periods: usize,
}

/// The Probability of Backtest Overfitting.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PboDto {
    /// Fraction of the cross-validation's splits whose in-sample best trial ranks below the
    /// median out of sample.
    pub pbo: f64,
    /// Blocks S of periods.
    pub blocks: usize,
    /// Splits C(S, S/2).
    pub splits: usize,
    /// Fraction of splits whose in-sample best trial lost out of sample.
    pub prob_oos_loss: f64,
    /// Slope of out-of-sample on in-sample performance across splits (negative: what looks
    /// better in sample does worse out of it).
    pub degradation_slope: Option<f64>,
    /// Median logit of the in-sample best trial's out-of-sample rank.
    pub median_logit: f64,
}

/// What a whole sweep found, and how far to trust it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SweepReportDto {
    /// Trials that ran.
    pub valid_trials: usize,
    /// The best trial's id.
    pub best_trial: Option<usize>,
    /// The Deflated Sharpe Ratio of the best trial (none: undefined, e.g. fewer than two
    /// valid trials or no variance).
    pub deflated_sharpe: Option<DeflatedSharpeDto>,
    /// The PBO (none: see `pbo_unavailable`).
    pub pbo: Option<PboDto>,
    /// Why the PBO could not be computed.
    pub pbo_unavailable: Option<String>,
}

impl SweepReportDto {
    fn of(r: &SweepReport) -> Self {
        Self {
            valid_trials: r.valid_trials,
            best_trial: r.best.as_ref().map(|b| b.id),
            deflated_sharpe: r.deflated_sharpe.as_ref().map(|d| DeflatedSharpeDto {
                dsr: d.dsr,
                psr: d.psr,
                sharpe: d.stats.sharpe,
                expected_max_sharpe: d.expected_max_sharpe,
                trials: d.trials,
                periods: d.stats.observations,
            }),
            pbo: r.pbo.as_ref().map(|p| PboDto {
                pbo: p.pbo,
                blocks: p.blocks,
                splits: p.splits,
                prob_oos_loss: p.prob_oos_loss,
                degradation_slope: p.degradation_slope,
                median_logit: p.logits.median,
            }),
            pbo_unavailable: r.pbo_unavailable.clone(),
        }
    }
}

/// A stored sweep with its trials and its report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SweepDetailDto {
    /// The sweep.
    pub sweep: SweepDto,
    /// Its stored trials, by id: all of them, or the [`TRIALS_SHOWN`] best-ranked when there
    /// are more (`trials_truncated`).
    pub trials: Vec<SweepTrialDto>,
    /// More trials are stored than `trials` holds.
    pub trials_truncated: bool,
    /// The report, once every shard is stored and they make one sweep.
    pub report: Option<SweepReportDto>,
    /// Why there is no report (a shard missing, or shards of different sweeps under one id).
    pub report_unavailable: Option<String>,
}

/// A launched sweep.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SweepJobDto {
    /// Job id (this process's).
    pub id: u64,
    /// The config file launched.
    pub config: String,
    /// The sweep id its trials are stored under.
    pub sweep_id: String,
    /// Where it stands (`succeeded`: stored as `sweep_id`).
    pub status: JobStatus,
    /// Trials run so far.
    pub trials_done: usize,
    /// Trials of the sweep.
    pub trials_total: usize,
    /// Why it failed.
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

impl crate::backtests::Job for SweepJobDto {
    fn set_id(&mut self, id: u64) {
        self.id = id;
    }

    fn is_finished(&self) -> bool {
        self.status.is_finished()
    }
}

/// `POST /v1/sweeps`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LaunchSweep {
    /// A config file of `backtests.sweep_directory` with a `sweep:` section, e.g.
    /// `sma_spx.yaml`.
    pub config: String,
    /// The id to store it under (default: the file stem): letters, digits, `.`, `_`, `-`, at
    /// most 128. An id already holding another sweep is refused when the job has run.
    #[serde(default)]
    pub sweep_id: Option<String>,
}

fn sweep_launcher(state: &AppState) -> Result<(&Arc<Launcher>, &FsPath), ApiError> {
    let launcher = launcher(state)?;
    let directory = launcher.sweep_directory.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "SWEEPS_NOT_CONFIGURED",
            "this service launches no sweeps: its config has no `backtests.sweep_directory`",
        )
    })?;
    Ok((launcher, directory))
}

/// Letters, digits, `.`, `_`, `-`; not starting with `.`, and not a name of the routes beside
/// `/v1/sweeps/{id}` (`jobs`, `configs`), so every stored id can be opened.
fn valid_sweep_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && !matches!(id, "jobs" | "configs")
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "SWEEP_NOT_FOUND",
        format!("no sweep {id}"),
    )
}

/// Stored sweeps, the most recently stored first.
#[utoipa::path(
    get, path = "/v1/sweeps", tag = "sweeps", security(("bearer" = [])),
    responses((status = 200, body = Vec<SweepDto>))
)]
async fn list_sweeps(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<SweepDto>>, ApiError> {
    let sweeps = state
        .engine()
        .store()
        .sweeps()
        .await
        .map_err(|e| store_error(&e))?;
    Ok(Json(sweeps.iter().map(SweepDto::of).collect()))
}

/// One stored sweep: its trials (for the parameter heatmap) and, once every shard is stored,
/// the best trial, its Deflated Sharpe Ratio and the PBO.
#[utoipa::path(
    get, path = "/v1/sweeps/{id}", tag = "sweeps", security(("bearer" = [])),
    params(("id" = String, Path, description = "The sweep id")),
    responses((status = 200, body = SweepDetailDto), (status = 404, body = ErrorBody))
)]
async fn get_sweep(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
) -> Result<Json<SweepDetailDto>, ApiError> {
    if !valid_sweep_id(&id) {
        return Err(not_found(&id));
    }
    let store = state.engine().store();
    let sweeps = store.sweeps().await.map_err(|e| store_error(&e))?;
    let stored = sweeps
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| not_found(&id))?;
    let key = (
        stored.id.clone(),
        stored.updated_at.as_nanos(),
        stored.trials_stored,
    );
    let kept = crate::core_api::info(&state)?
        .sweep_details
        .get_or_compute(key, async || {
            let set = store
                .sweep_shard_set(&id)
                .await
                .map_err(|e| store_error(&e))?;
            tokio::task::spawn_blocking(move || detail(&stored, set))
                .await
                .map_err(|e| ApiError::internal(&e))
        })
        .await?;
    Ok(Json((*kept).clone()))
}

/// The detail of `stored` from its shards: the trials shown, and the report of their merge.
fn detail(stored: &StoredSweep, set: ShardSet) -> SweepDetailDto {
    let objective = stored.meta.objective;
    let mut all: Vec<&TrialResult> = set.shards().flat_map(|s| s.results.iter()).collect();
    let truncated = all.len() > TRIALS_SHOWN;
    if truncated {
        // The best-ranked trials, then (if there is room) some that did not run.
        let mut kept = sweep::rank(all.iter().copied(), objective);
        kept.truncate(TRIALS_SHOWN);
        let room = TRIALS_SHOWN - kept.len();
        kept.extend(
            all.iter()
                .copied()
                .filter(|r| r.outcome.is_err())
                .take(room),
        );
        all = kept;
    }
    all.sort_by_key(|r| r.trial.id);
    let trials = all
        .iter()
        .map(|r| SweepTrialDto::of(r, objective))
        .collect();
    drop(all);
    let (report, report_unavailable) = match set.merge() {
        Ok(merged) => (Some(SweepReportDto::of(&SweepReport::of(&merged))), None),
        Err(e) => (None, Some(e.to_string())),
    };
    SweepDetailDto {
        sweep: SweepDto::of(stored),
        trials,
        trials_truncated: truncated,
        report,
        report_unavailable,
    }
}

/// The sweep configs a launch may name.
#[utoipa::path(
    get, path = "/v1/sweeps/configs", tag = "sweeps", security(("bearer" = [])),
    responses((status = 200, body = Vec<String>), (status = 409, body = ErrorBody))
)]
async fn list_sweep_configs(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<String>>, ApiError> {
    let (_, directory) = sweep_launcher(&state)?;
    let directory = directory.to_owned();
    let names = tokio::task::spawn_blocking(move || configs_in(&directory))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(names))
}

/// Launch a sweep of a config of `backtests.sweep_directory` (trader). The config and its
/// `sweep:` section are checked first (422 naming the file, line and key); the trials then run
/// as a job, stored under `sweep_id` when they all have. Audited.
#[utoipa::path(
    post, path = "/v1/sweeps", tag = "sweeps", request_body = LaunchSweep,
    security(("bearer" = [])),
    responses(
        (status = 202, body = SweepJobDto), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
    )
)]
async fn launch_sweep(
    State(state): State<AppState>,
    Trader(caller): Trader,
    ApiJson(body): ApiJson<LaunchSweep>,
) -> Result<(StatusCode, Json<SweepJobDto>), ApiError> {
    let (launcher, directory) = sweep_launcher(&state)?;
    let launcher = Arc::clone(launcher);
    let path = config_in(
        directory,
        &body.config,
        "/v1/sweeps/configs",
        "SWEEP_CONFIG_NOT_FOUND",
    )?;
    let sweep_id = match body.sweep_id.map(|n| n.trim().to_owned()) {
        Some(id) => id,
        None => default_name(&body.config),
    };
    if !valid_sweep_id(&sweep_id) {
        return Err(ApiError::invalid(
            "sweep_id",
            "1 to 128 letters, digits, '.', '_' or '-', not starting with '.', and not `jobs` \
             or `configs`",
        ));
    }
    let taken = |why: String| ApiError::new(StatusCode::CONFLICT, "SWEEP_EXISTS", why);
    let stored = state
        .engine()
        .store()
        .sweeps()
        .await
        .map_err(|e| store_error(&e))?;
    if stored.iter().any(|s| s.id == sweep_id) {
        return Err(taken(format!(
            "a sweep '{sweep_id}' is already stored; launch this one under another sweep_id"
        )));
    }
    let checked = tokio::task::spawn_blocking(move || {
        let config = BacktestConfig::load(&path).map_err(|e| e.to_string())?;
        let plan = SweepPlan::new(&config).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok::<_, String>((config, plan))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    let (config, plan) = checked
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "INVALID_SWEEP_CONFIG", e))?;
    let job = SweepJobDto {
        id: 0,
        config: body.config,
        sweep_id: sweep_id.clone(),
        status: JobStatus::Queued,
        trials_done: 0,
        trials_total: plan.trials.len(),
        error: None,
        launched_by: caller.name,
        submitted_at_ns: WallClock.now().as_nanos(),
        started_at_ns: None,
        finished_at_ns: None,
    };
    // Two launches under one id would write into each other's rows.
    let job = launcher
        .sweep_jobs
        .insert_unless(job, |j| j.sweep_id == sweep_id && !j.status.is_finished())
        .ok_or_else(|| {
            taken(format!(
                "a launched sweep '{sweep_id}' is queued or running; wait for it or use another \
                 sweep_id"
            ))
        })?;
    let store = state.engine().store().clone();
    tokio::spawn(run_job(launcher, job.id, sweep_id, config, plan, store));
    Ok((StatusCode::ACCEPTED, Json(job)))
}

async fn run_job(
    launcher: Arc<Launcher>,
    id: u64,
    sweep_id: String,
    config: BacktestConfig,
    plan: SweepPlan,
    store: Store,
) {
    let Ok(_permit) = Arc::clone(&launcher.permits).acquire_owned().await else {
        return;
    };
    launcher.sweep_jobs.update(id, |j| {
        j.status = JobStatus::Running;
        j.started_at_ns = Some(WallClock.now().as_nanos());
    });
    let progress = Arc::clone(&launcher);
    let threads = launcher.sweep_threads;
    let ran = tokio::task::spawn_blocking(move || {
        let bars = config
            .data
            .load(&config.instrument)
            .map_err(|e| tradepulse_backtest::BacktestError::from(e).to_string())?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("sweep-{i}"))
            .build()
            .map_err(|e| format!("cannot start the sweep's threads: {e}"))?;
        pool.install(|| {
            plan.run(&config, &bars, Shard::ALL, &|| {
                progress.sweep_jobs.update(id, |j| j.trials_done += 1);
            })
        })
        .map_err(|e| e.to_string())
    })
    .await;
    let outcome = match ran {
        Ok(Ok(results)) => store_results(&store, &sweep_id, &results).await,
        Ok(Err(e)) => Err(e),
        Err(e) => Err(format!("the sweep thread failed: {e}")),
    };
    if let Err(error) = &outcome {
        tracing::warn!(job = id, %error, "a launched sweep failed");
    }
    let finished = WallClock.now().as_nanos();
    launcher.sweep_jobs.update(id, |j| {
        j.finished_at_ns = Some(finished);
        match outcome {
            Ok(()) => j.status = JobStatus::Succeeded,
            Err(error) => {
                j.status = JobStatus::Failed;
                j.error = Some(error);
            }
        }
    });
}

/// Stores a whole sweep's results under `sweep_id`, unless that id was taken while it ran (by
/// `tradepulse sweep --database-url`, say) by another sweep (other settings or data, or shards
/// of a sharded run), which would be overwritten in part.
async fn store_results(
    store: &Store,
    sweep_id: &str,
    results: &sweep::SweepResults,
) -> Result<(), String> {
    let stored = store
        .sweeps()
        .await
        .map_err(|e| format!("reading the stored sweeps: {e}"))?;
    if let Some(other) = stored.iter().find(|s| s.id == sweep_id)
        && (other.meta.config_hash != results.meta.config_hash || other.meta.shard.count() != 1)
    {
        return Err(format!(
            "sweep id '{sweep_id}' already holds another sweep (config hash {}, {} shard(s); \
             this one is {}): launch it under another sweep id",
            other.meta.config_hash,
            other.meta.shard.count(),
            results.meta.config_hash
        ));
    }
    store
        .save_sweep_results(sweep_id, results)
        .await
        .map_err(|e| format!("storing the trials: {e}"))
}

/// The launched sweeps, newest first.
#[utoipa::path(
    get, path = "/v1/sweeps/jobs", tag = "sweeps", security(("bearer" = [])),
    responses((status = 200, body = Vec<SweepJobDto>), (status = 409, body = ErrorBody))
)]
async fn list_sweep_jobs(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
) -> Result<Json<Vec<SweepJobDto>>, ApiError> {
    Ok(Json(launcher(&state)?.sweep_jobs.list()))
}

/// One launched sweep, with its progress.
#[utoipa::path(
    get, path = "/v1/sweeps/jobs/{id}", tag = "sweeps", security(("bearer" = [])),
    params(("id" = u64, Path, description = "The job id")),
    responses((status = 200, body = SweepJobDto), (status = 404, body = ErrorBody))
)]
async fn get_sweep_job(
    State(state): State<AppState>,
    Viewer(_caller): Viewer,
    Path(id): Path<String>,
) -> Result<Json<SweepJobDto>, ApiError> {
    launcher(&state)?.sweep_jobs.find(&id, "sweep").map(Json)
}

pub(crate) fn routes(
    router: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    router
        .routes(routes!(list_sweeps, launch_sweep))
        .routes(routes!(list_sweep_configs))
        .routes(routes!(list_sweep_jobs))
        .routes(routes!(get_sweep_job))
        .routes(routes!(get_sweep))
}
