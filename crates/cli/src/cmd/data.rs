//! `tradepulse data …`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tradepulse_data::{
    BarInterval, Catalog, CsvOptions, RandomWalk, TimestampFormat, load_bars_csv, resample,
    validate_bars,
};
use tradepulse_model::{Bar, InstrumentId};

use crate::exit::InputError;

/// Market-data subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Write a deterministic synthetic 1-minute bar file (geometric random walk), e.g. for
    /// benchmarks. Same arguments ⇒ byte-identical file.
    Generate(GenerateArgs),
    /// Validate a bar CSV and store it in the Parquet catalog (partitioned by instrument and
    /// UTC day; bars with a stored timestamp replace the stored ones).
    Import(ImportArgs),
    /// List the catalog's instruments: days, bars, first and last day.
    Ls(CatalogArgs),
    /// Check bars for duplicates, disorder, broken OHLC rules (errors; exit code 2), gaps and
    /// outliers (warnings), from a CSV file or the catalog.
    Validate(ValidateArgs),
    /// Aggregate bars to a longer interval (e.g. `--to 5m`) and write them as CSV.
    Resample(ResampleArgs),
}

/// Where the catalog is.
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// Catalog root directory.
    #[arg(long, default_value = "catalog")]
    pub catalog: PathBuf,
}

/// Arguments of `data import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The bar CSV (`ts,open,high,low,close,volume`).
    pub file: PathBuf,
    /// Instrument id to store the bars under, `SYMBOL.VENUE`.
    #[arg(long)]
    pub instrument: String,
    /// How the `ts` column is written.
    #[arg(long, value_enum, default_value = "auto")]
    pub timestamp: TimestampArg,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// Bars from a CSV file or from the catalog.
#[derive(Debug, clap::Args)]
pub struct Source {
    /// A bar CSV file.
    #[arg(required_unless_present = "instrument", conflicts_with = "instrument")]
    pub file: Option<PathBuf>,
    /// An instrument in the catalog, `SYMBOL.VENUE`.
    #[arg(long)]
    pub instrument: Option<String>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// Arguments of `data validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub source: Source,
    /// Expected bar interval for gap detection (e.g. `1m`; default: the most common spacing).
    #[arg(long)]
    pub interval: Option<String>,
    /// Flag close-to-close returns this many robust standard deviations from the median.
    #[arg(long, default_value_t = 10.0)]
    pub outlier_sigmas: f64,
    /// Print at most this many findings.
    #[arg(long, default_value_t = 20)]
    pub show: usize,
}

/// Arguments of `data resample`.
#[derive(Debug, clap::Args)]
pub struct ResampleArgs {
    #[command(flatten)]
    pub source: Source,
    /// Target interval, e.g. `5m`, `1h`, `1d`.
    #[arg(long)]
    pub to: String,
    /// Output CSV path.
    #[arg(long, short)]
    pub output: PathBuf,
}

/// `--timestamp` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum TimestampArg {
    /// Detect from the first row.
    Auto,
    /// ISO-8601 / RFC 3339.
    Iso8601,
    /// Unix seconds.
    UnixS,
    /// Unix milliseconds.
    UnixMs,
    /// Unix microseconds.
    UnixUs,
    /// Unix nanoseconds.
    UnixNs,
}

impl From<TimestampArg> for TimestampFormat {
    fn from(t: TimestampArg) -> Self {
        match t {
            TimestampArg::Auto => Self::Auto,
            TimestampArg::Iso8601 => Self::Iso8601,
            TimestampArg::UnixS => Self::UnixS,
            TimestampArg::UnixMs => Self::UnixMs,
            TimestampArg::UnixUs => Self::UnixUs,
            TimestampArg::UnixNs => Self::UnixNs,
        }
    }
}

fn instrument_id(text: &str) -> anyhow::Result<InstrumentId> {
    text.parse()
        .map_err(|e| InputError(format!("--instrument: {e}")).into())
}

fn read_csv(file: &Path, timestamp: TimestampFormat) -> anyhow::Result<Vec<Bar>> {
    let options = CsvOptions {
        timestamp,
        ..CsvOptions::default()
    };
    Ok(load_bars_csv(file, &options)?)
}

impl Source {
    fn bars(&self) -> anyhow::Result<Vec<Bar>> {
        match (&self.file, &self.instrument) {
            (Some(file), _) => read_csv(file, TimestampFormat::Auto),
            (None, Some(id)) => {
                let id = instrument_id(id)?;
                let bars = Catalog::new(&self.catalog.catalog)
                    .load(&id)
                    .map_err(tradepulse_data::DataError::from)?;
                if bars.is_empty() {
                    return Err(InputError(format!(
                        "no bars of {id} in the catalog at {}",
                        self.catalog.catalog.display()
                    ))
                    .into());
                }
                Ok(bars)
            }
            (None, None) => Err(InputError("give a FILE or --instrument".into()).into()),
        }
    }
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
        Command::Import(args) => import(&args),
        Command::Ls(args) => list(&args),
        Command::Validate(args) => validate(&args),
        Command::Resample(args) => resample_to_csv(&args),
    }
}

fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let id = instrument_id(&args.instrument)?;
    let bars = read_csv(&args.file, args.timestamp.into())?;
    let report = Catalog::new(&args.catalog.catalog)
        .import(&id, &bars)
        .map_err(tradepulse_data::DataError::from)?;
    crate::output::print(&format!(
        "imported {} bars of {id} into {} ({} day partitions written, {} stored bars replaced)\n",
        report.bars,
        args.catalog.catalog.display(),
        report.partitions,
        report.replaced
    ))
}

fn list(args: &CatalogArgs) -> anyhow::Result<()> {
    let partitions = Catalog::new(&args.catalog)
        .partitions()
        .map_err(tradepulse_data::DataError::from)?;
    let mut text = String::new();
    if partitions.is_empty() {
        writeln!(text, "no bars in the catalog at {}", args.catalog.display())?;
        return crate::output::print(&text);
    }
    writeln!(
        text,
        "{:<24} {:>6} {:>10}  {:<10}  {:<10}",
        "instrument", "days", "bars", "first", "last"
    )?;
    let mut i = 0;
    while i < partitions.len() {
        let id = &partitions[i].instrument;
        let group: Vec<_> = partitions[i..]
            .iter()
            .take_while(|p| &p.instrument == id)
            .collect();
        let rows: u64 = group.iter().map(|p| p.rows).sum();
        let (first, last) = (&group[0].date, &group[group.len() - 1].date);
        writeln!(
            text,
            "{:<24} {:>6} {:>10}  {first:<10}  {last:<10}",
            id.to_string(),
            group.len(),
            rows
        )?;
        i += group.len();
    }
    crate::output::print(&text)
}

fn validate(args: &ValidateArgs) -> anyhow::Result<()> {
    let interval = args
        .interval
        .as_deref()
        .map(str::parse::<BarInterval>)
        .transpose()
        .map_err(|e| InputError(format!("--interval: {e}")))?;
    if !(args.outlier_sigmas.is_finite() && args.outlier_sigmas > 0.0) {
        return Err(InputError(format!(
            "--outlier-sigmas must be positive, got {}",
            args.outlier_sigmas
        ))
        .into());
    }
    let bars = args.source.bars()?;
    let report = validate_bars(&bars, interval, args.outlier_sigmas);
    let mut text = String::new();
    writeln!(
        text,
        "{} bars, interval {}: {} errors, {} warnings",
        report.bars,
        report
            .interval
            .map_or_else(|| "unknown".to_owned(), |i| i.to_string()),
        report.errors(),
        report.warnings()
    )?;
    for issue in report.issues.iter().take(args.show) {
        writeln!(text, "  {issue}")?;
    }
    if report.issues.len() > args.show {
        writeln!(
            text,
            "  … and {} more (--show N)",
            report.issues.len() - args.show
        )?;
    }
    crate::output::print(&text)?;
    if report.errors() > 0 {
        return Err(InputError(format!("{} data errors", report.errors())).into());
    }
    Ok(())
}

fn resample_to_csv(args: &ResampleArgs) -> anyhow::Result<()> {
    let to: BarInterval = args
        .to
        .parse()
        .map_err(|e| InputError(format!("--to: {e}")))?;
    let bars = args.source.bars()?;
    let out = resample(&bars, to).map_err(tradepulse_data::DataError::from)?;
    let mut csv = String::with_capacity(out.len() * 64);
    csv.push_str("ts,open,high,low,close,volume\n");
    for b in &out {
        writeln!(
            csv,
            "{},{},{},{},{},{}",
            b.ts, b.open, b.high, b.low, b.close, b.volume
        )?;
    }
    std::fs::write(&args.output, csv)
        .with_context(|| format!("writing {}", args.output.display()))?;
    crate::output::print(&format!(
        "{} bars → {} bars of {to} in {}\n",
        bars.len(),
        out.len(),
        args.output.display()
    ))
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
