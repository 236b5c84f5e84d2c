//! `tradepulse sweep CONFIG` and `tradepulse sweep-merge`.

use std::path::PathBuf;
use std::time::Instant;

use tradepulse_research::sweep::{self, Shard, SweepError, SweepPlan};

use super::research;

/// Arguments of `sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A backtest config with a `sweep:` section.
    pub config: PathBuf,
    /// Run only trials with id ≡ INDEX (mod COUNT), e.g. `--shard 2/8`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<Shard>,
    #[command(flatten)]
    pub common: research::CommonArgs,
    /// Rows of the ranking to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Database for the trials (default: `TRADEPULSE_DATABASE_URL`, the file named by
    /// `TRADEPULSE_DATABASE_URL_FILE`, else the SQLite file `tradepulse.db`).
    #[arg(long)]
    pub database_url: Option<String>,
    /// The sweep's id in the database (default: the config file's name without extension);
    /// shards of one sweep must use the same id.
    #[arg(long)]
    pub sweep_id: Option<String>,
    /// PostgreSQL schema for the tables (created if missing; default `public`).
    #[arg(long)]
    pub db_schema: Option<String>,
    /// Do not write the trials to the database.
    #[arg(long)]
    pub no_store: bool,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse::<Shard>().map_err(|e| e.to_string())
}

/// Arguments of `sweep-merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output directories of the shards.
    #[arg(required_unless_present = "from_db")]
    pub shards: Vec<PathBuf>,
    /// Merge the trials every shard wrote to the database under this sweep id instead.
    #[arg(long, conflicts_with = "shards")]
    pub from_db: Option<String>,
    /// Database to read with `--from-db` (default as for `sweep`).
    #[arg(long)]
    pub database_url: Option<String>,
    /// PostgreSQL schema of the tables (default `public`).
    #[arg(long)]
    pub db_schema: Option<String>,
    /// Where to write the merged result.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Runs the sweep (or one shard of it) and writes its files.
pub fn run(args: &Args) -> anyhow::Result<()> {
    research::threads(args.common.threads)?;
    let (config, bars) = research::load(&args.config)?;
    let plan = SweepPlan::new(&config)?;
    let sweep_config = config.sweep.as_ref().ok_or(SweepError::Missing)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let mine = plan.trials.iter().filter(|t| shard.owns(t.id)).count();
    let bar = research::progress(mine, "sweep", args.common.quiet);
    let started = Instant::now();
    let results = sweep::run_trials(&config, &plan, &bars, shard, &|| bar.inc(1));
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let dir = args
        .common
        .output
        .clone()
        .unwrap_or_else(|| config.output.directory.join("sweep"));
    let report = sweep::write_all(&dir, &plan.names, &results, sweep_config)?;
    let stored = if args.no_store {
        None
    } else {
        let sweep_id = args.sweep_id.clone().unwrap_or_else(|| {
            args.config
                .file_stem()
                .map_or_else(|| "sweep".to_owned(), |s| s.to_string_lossy().into_owned())
        });
        let url = store_trials(args, &sweep_id, &plan.names, &results, sweep_config, shard)?;
        Some((sweep_id, url))
    };
    if !args.common.quiet {
        use std::fmt::Write as _;
        let ranked = sweep::rank(&results, sweep_config.objective);
        let mut text = String::new();
        writeln!(
            text,
            "{} trials ({} valid) on {} bars in {:.1} s ({:.1} trials/s), objective {}",
            results.len(),
            ranked.len(),
            bars.len(),
            elapsed,
            results.len() as f64 / elapsed.max(1e-9),
            sweep_config.objective.as_str()
        )?;
        for (i, r) in ranked.iter().take(args.top).enumerate() {
            let params: Vec<String> = plan
                .names
                .iter()
                .zip(&r.trial.values)
                .map(|(n, v)| format!("{n}={v}"))
                .collect();
            let value = r
                .outcome
                .as_ref()
                .ok()
                .and_then(|s| sweep_config.objective.value(s))
                .map_or_else(|| "n/a".to_owned(), |v| format!("{v:.4}"));
            writeln!(
                text,
                "  #{:<3} trial {:<5} {:<40} {value}",
                i + 1,
                r.trial.id,
                params.join(" ")
            )?;
        }
        if shard == Shard::ALL {
            if let Some(d) = &report.deflated_sharpe {
                writeln!(
                    text,
                    "deflated Sharpe ratio of the best trial: {:.3} (PSR {:.3}; threshold {:.4} per period from {} trials)",
                    d.dsr, d.psr, d.expected_max_sharpe, d.trials
                )?;
            }
            match (&report.pbo, &report.pbo_unavailable) {
                (Some(p), _) => writeln!(
                    text,
                    "probability of backtest overfitting (CSCV, {} blocks): {:.3}",
                    p.blocks, p.pbo
                )?,
                (None, Some(why)) => {
                    writeln!(text, "probability of backtest overfitting: n/a ({why})")?
                }
                (None, None) => {}
            }
        } else {
            writeln!(
                text,
                "shard {shard}: merge all shards with `tradepulse sweep-merge` for the diagnostics"
            )?;
        }
        writeln!(text, "results written to {}", dir.display())?;
        if let Some((id, url)) = &stored {
            writeln!(
                text,
                "{} trials stored as sweep '{id}' in {url}",
                results.len()
            )?;
        }
        crate::output::print(&text)?;
    }
    Ok(())
}

/// Writes every trial to the store, in one pass after the sweep (the trials' CSV row and return
/// slices go along, so a merge from the database reproduces the files exactly). Returns the
/// database URL, redacted.
fn store_trials(
    args: &Args,
    sweep_id: &str,
    names: &[String],
    results: &[sweep::TrialResult],
    config: &sweep::SweepConfig,
    shard: Shard,
) -> anyhow::Result<String> {
    let url = tradepulse_store::DatabaseUrl::resolve(args.database_url.as_deref())?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let header = sweep::header(names);
    let trials: Vec<tradepulse_store::SweepTrial> = results
        .iter()
        .map(|r| {
            let params: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(&r.trial.values)
                .map(|(n, v)| (n.clone(), serde_json::json!(v)))
                .collect();
            let mut metrics = match &r.outcome {
                Ok(summary) => serde_json::to_value(summary).unwrap_or_default(),
                Err(reason) => serde_json::json!({ "invalid": reason }),
            };
            if let Some(map) = metrics.as_object_mut() {
                map.insert("csv_header".into(), header.clone().into());
                map.insert("csv_row".into(), sweep::row(r, config.objective).into());
                map.insert("period_returns".into(), serde_json::json!(r.period_returns));
                map.insert("objective_name".into(), config.objective.as_str().into());
                map.insert("pbo_blocks".into(), config.pbo_blocks.into());
            }
            tradepulse_store::SweepTrial {
                sweep_id: sweep_id.to_owned(),
                trial: i64::try_from(r.trial.id).unwrap_or(i64::MAX),
                shard: shard.to_string(),
                params: serde_json::Value::Object(params),
                metrics,
                objective: r
                    .outcome
                    .as_ref()
                    .ok()
                    .and_then(|s| config.objective.value(s)),
                created_at: tradepulse_model::UnixNanos::new(now),
            }
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let options = tradepulse_store::StoreOptions {
            pg_schema: args.db_schema.clone(),
            ..tradepulse_store::StoreOptions::default()
        };
        let store = tradepulse_store::Store::connect_with(&url, options).await?;
        store.migrate().await?;
        for trial in &trials {
            store.save_sweep_trial(trial).await?;
        }
        store.close().await;
        Ok::<_, tradepulse_store::Error>(())
    })?;
    Ok(url.redacted().to_string())
}

/// Reads a sweep's trials back from the store into a directory `merge_shards` understands.
fn shard_from_db(args: &MergeArgs, sweep_id: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let url = tradepulse_store::DatabaseUrl::resolve(args.database_url.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let trials = runtime.block_on(async {
        let options = tradepulse_store::StoreOptions {
            pg_schema: args.db_schema.clone(),
            ..tradepulse_store::StoreOptions::default()
        };
        let store = tradepulse_store::Store::connect_with(&url, options).await?;
        let trials = store.sweep_trials(sweep_id).await?;
        store.close().await;
        Ok::<_, tradepulse_store::Error>(trials)
    })?;
    let Some(first) = trials.first() else {
        return Err(crate::exit::InputError(format!(
            "no trials of sweep '{sweep_id}' in {}",
            url.redacted()
        ))
        .into());
    };
    let text = |t: &tradepulse_store::SweepTrial, key: &str| {
        t.metrics
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let header = text(first, "csv_header").unwrap_or_default();
    let objective: sweep::Objective = first
        .metrics
        .get("objective_name")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let blocks = first
        .metrics
        .get("pbo_blocks")
        .and_then(serde_json::Value::as_u64)
        .map_or(16, |b| usize::try_from(b).unwrap_or(16));
    let rows: Vec<(usize, String, Vec<f64>)> = trials
        .iter()
        .map(|t| {
            let returns = t
                .metrics
                .get("period_returns")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            (
                usize::try_from(t.trial).unwrap_or(0),
                text(t, "csv_row").unwrap_or_default(),
                returns,
            )
        })
        .collect();
    sweep::write_shard_files(dir, &header, &rows, objective, blocks)?;
    Ok(())
}

/// Merges shard outputs.
pub fn merge(args: &MergeArgs) -> anyhow::Result<()> {
    if let Some(sweep_id) = &args.from_db {
        let scratch = std::env::temp_dir().join(format!(
            "tradepulse-merge-{}-{}",
            std::process::id(),
            sweep_id.replace(['/', '\\'], "_")
        ));
        shard_from_db(args, sweep_id, &scratch)?;
        let merged = sweep::merge_shards(std::slice::from_ref(&scratch), &args.output);
        let _ = std::fs::remove_dir_all(&scratch);
        merged?;
        return crate::output::print(&format!(
            "merged sweep '{sweep_id}' from the database into {}\n",
            args.output.display()
        ));
    }
    sweep::merge_shards(&args.shards, &args.output)?;
    crate::output::print(&format!(
        "merged {} shards into {}\n",
        args.shards.len(),
        args.output.display()
    ))
}
