//! `tradepulse sweep CONFIG` and `tradepulse sweep-merge`.

use std::path::PathBuf;
use std::time::Instant;

use tradepulse_backtest::sweep::{self, Shard, SweepError, SweepPlan};

use super::research;

/// Arguments of `sweep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A backtest config with a `sweep:` section.
    pub config: PathBuf,
    /// Run only trials with id ≡ INDEX (mod COUNT), e.g. `--shard 2/8`.
    #[arg(long, value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory (default: the config's `output.directory` + `/sweep`).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// No progress bar or table.
    #[arg(long, short)]
    pub quiet: bool,
    /// Rows of the ranking to print.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

fn parse_shard(s: &str) -> Result<Shard, String> {
    s.parse::<Shard>().map_err(|e| e.to_string())
}

/// Arguments of `sweep-merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output directories of the shards.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Where to write the merged result.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// Runs the sweep (or one shard of it) and writes its files.
pub fn run(args: &Args) -> anyhow::Result<()> {
    research::threads(args.threads)?;
    let (config, bars) = research::load(&args.config)?;
    let plan = SweepPlan::new(&config)?;
    let sweep_config = config.sweep.as_ref().ok_or(SweepError::Missing)?;
    let shard = args.shard.unwrap_or(Shard::ALL);
    let mine = plan.trials.iter().filter(|t| shard.owns(t.id)).count();
    let bar = research::progress(mine, "sweep", args.quiet);
    let started = Instant::now();
    let results = sweep::run_trials(&config, &plan, &bars, shard, &|| bar.inc(1));
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    let dir = args
        .output
        .clone()
        .unwrap_or_else(|| config.output.directory.join("sweep"));
    let report = sweep::write_all(&dir, &plan.names, &results, sweep_config)?;
    if !args.quiet {
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
        crate::output::print(&text)?;
    }
    Ok(())
}

/// Merges shard outputs.
pub fn merge(args: &MergeArgs) -> anyhow::Result<()> {
    sweep::merge_shards(&args.shards, &args.output)?;
    crate::output::print(&format!(
        "merged {} shards into {}\n",
        args.shards.len(),
        args.output.display()
    ))
}
