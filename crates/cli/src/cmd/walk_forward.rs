//! `tradepulse walk-forward CONFIG`.

use std::path::PathBuf;

use tradepulse_backtest::render_table;
use tradepulse_research::sweep::{SweepError, SweepPlan};
use tradepulse_research::walk_forward;

use super::research;

/// Arguments of `walk-forward`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A backtest config with `sweep:` and `walk_forward:` sections.
    pub config: PathBuf,
    #[command(flatten)]
    pub common: research::CommonArgs,
}

/// Runs the analysis and writes its files.
pub fn run(args: &Args) -> anyhow::Result<()> {
    research::threads(args.common.threads)?;
    let (config, bars) = research::load(&args.config)?;
    let sweep_config = config.sweep.clone().ok_or(SweepError::Missing)?;
    let wf = walk_forward::section(&config)?;
    let windows = walk_forward::windows(wf, &bars)?;
    let per_window = SweepPlan::new(&config)?.trials.len();
    let bar = research::progress(
        windows.len() * per_window,
        "walk-forward",
        args.common.quiet,
    );
    let result = walk_forward::run(&config, &bars, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let dir = args
        .common
        .output
        .clone()
        .unwrap_or_else(|| config.output.directory.join("walk-forward"));
    walk_forward::write(&dir, &result, &bars, &sweep_config)?;
    if !args.common.quiet {
        crate::output::print(&format!(
            "{} windows; parameters chosen per window in {}\nstitched out-of-sample performance:\n{}",
            result.windows.len(),
            dir.join("windows.csv").display(),
            render_table(&result.summary)
        ))?;
    }
    Ok(())
}
