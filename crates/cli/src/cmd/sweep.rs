//! `tradepulse sweep CONFIG` and `tradepulse sweep-merge`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use tradepulse_research::sweep::{self, Shard, SweepPlan};
use tradepulse_store::{DatabaseUrl, Store, StoreOptions};

use super::research;
use crate::exit::InputError;

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

/// Runs the sweep (or one shard of it), writes its files and stores its trials.
pub fn run(args: &Args) -> anyhow::Result<()> {
    research::threads(args.common.threads)?;
    let (config, bars) = research::load(&args.config)?;
    let plan = SweepPlan::new(&config)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let mine = plan.trials.iter().filter(|t| shard.owns(t.id)).count();
    let bar = research::progress(mine, "sweep", args.common.quiet);
    let started = Instant::now();
    let results = plan.run(&config, &bars, shard, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let dir = args
        .common
        .output
        .clone()
        .unwrap_or_else(|| config.output.directory.join("sweep"));
    let report = results.write(&dir)?;
    let stored = if args.no_store {
        None
    } else {
        let sweep_id = args.sweep_id.clone().unwrap_or_else(|| {
            args.config
                .file_stem()
                .map_or_else(|| "sweep".to_owned(), |s| s.to_string_lossy().into_owned())
        });
        let ((), url) = with_store(&args.database_url, &args.db_schema, async |store| {
            store.save_sweep_results(&sweep_id, &results).await
        })?;
        Some((sweep_id, url))
    };
    if args.common.quiet {
        return Ok(());
    }
    let objective = plan.objective;
    let ranked = sweep::rank(&results.results, objective);
    let mut text = String::new();
    writeln!(
        text,
        "{} trials ({} valid) on {} bars in {:.1} s ({:.1} trials/s), objective {}",
        results.results.len(),
        ranked.len(),
        bars.len(),
        elapsed,
        results.results.len() as f64 / elapsed.max(1e-9),
        objective.as_str()
    )?;
    for (i, r) in ranked.iter().take(args.top).enumerate() {
        let params: Vec<String> = plan
            .names
            .iter()
            .zip(&r.trial.values)
            .map(|(n, v)| format!("{n}={v}"))
            .collect();
        let value = r
            .objective(objective)
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
            results.results.len()
        )?;
    }
    crate::output::print(&text)
}

/// Merges shard outputs, from directories or from the database.
pub fn merge(args: &MergeArgs) -> anyhow::Result<()> {
    if let Some(sweep_id) = &args.from_db {
        let (shards, url) = with_store(&args.database_url, &args.db_schema, async |store| {
            store.sweep_shard_set(sweep_id).await
        })?;
        if shards.is_empty() {
            return Err(InputError(format!("no shards of sweep '{sweep_id}' in {url}")).into());
        }
        shards.merge()?.write(&args.output)?;
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

/// Connects to the database (`--database-url`, else the environment, else the SQLite default;
/// migrations applied), runs `work` on it and returns its value and the redacted URL.
fn with_store<T>(
    database_url: &Option<String>,
    schema: &Option<String>,
    work: impl AsyncFnOnce(&Store) -> tradepulse_store::Result<T>,
) -> anyhow::Result<(T, String)> {
    let url = DatabaseUrl::resolve(database_url.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let value = runtime.block_on(async {
        let options = StoreOptions {
            pg_schema: schema.clone(),
            ..StoreOptions::default()
        };
        let store = Store::connect_with(&url, options).await?;
        let value = work(&store).await;
        store.close().await;
        value
    })?;
    Ok((value, url.redacted().to_string()))
}
