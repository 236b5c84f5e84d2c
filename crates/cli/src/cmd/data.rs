//! `tradepulse data …`.

use std::path::PathBuf;

use anyhow::Context as _;
use tradepulse_data::RandomWalk;

/// Market-data subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a deterministic synthetic 1-minute bar file (geometric random walk), e.g. for
    /// benchmarks. Same arguments ⇒ byte-identical file.
    Generate(GenerateArgs),
}

/// Arguments of `data generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Output CSV path.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Number of bars.
    #[arg(long, default_value_t = 1_000_000)]
    pub bars: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Per-bar log-return standard deviation.
    #[arg(long, default_value_t = 0.001)]
    pub sigma: f64,
}

/// Runs a data subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Generate(args) => generate(&args),
    }
}

fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    if !(args.sigma.is_finite() && args.sigma > 0.0 && args.sigma < 0.5) {
        return Err(crate::exit::InputError(format!(
            "--sigma must be in (0, 0.5), got {}",
            args.sigma
        ))
        .into());
    }
    if let Some(parent) = args.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("creating {}", args.output.display()))?;
    let walk = RandomWalk {
        bars: args.bars,
        seed: args.seed,
        sigma: args.sigma,
        ..RandomWalk::default()
    };
    walk.write_csv(file)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!("wrote {} bars to {}", args.bars, args.output.display());
    Ok(())
}
