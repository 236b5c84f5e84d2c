//! What `sweep` and `walk-forward` share: loading the config and bars once, the thread pool and
//! the progress bar.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tradepulse_backtest::{BacktestConfig, BacktestError};
use tradepulse_model::Bar;

use crate::exit::InputError;

/// Options shared by `sweep` and `walk-forward`.
#[derive(Debug, clap::Args)]
pub struct CommonArgs {
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory (default: the config's `output.directory` plus `/sweep` or
    /// `/walk-forward`).
    #[arg(long, short)]
    pub output: Option<std::path::PathBuf>,
    /// No progress bar or table.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Loads a config and its bars (once; every trial shares them).
pub fn load(config: &Path) -> anyhow::Result<(BacktestConfig, Vec<Bar>)> {
    let config = BacktestConfig::load(config).map_err(BacktestError::from)?;
    let bars = config
        .data
        .load(&config.instrument)
        .map_err(BacktestError::from)?;
    Ok((config, bars))
}

/// Sizes rayon's global pool (`None`: one thread per core).
pub fn threads(threads: Option<usize>) -> anyhow::Result<()> {
    if let Some(n) = threads {
        if n == 0 {
            return Err(InputError("--threads must be at least 1".into()).into());
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot size the thread pool: {e}"))?;
    }
    Ok(())
}

/// A progress bar with rate and ETA on stderr (hidden when stderr is not a terminal or `quiet`).
pub fn progress(total: usize, what: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    let style = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, ETA {eta})",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
