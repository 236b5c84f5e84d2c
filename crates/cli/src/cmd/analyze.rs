//! `tradepulse analyze --data FILE`: the geometric indicators and the market regime.

use std::path::PathBuf;

use anyhow::Context as _;
use tradepulse_indicators::{AnalysisConfig, Candle, analyze};

/// Arguments of `analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bar CSV (columns ts,open,high,low,close,volume).
    #[arg(long)]
    pub data: PathBuf,
    /// Window in bars for R, entropy and curvature (at least 3).
    #[arg(long, default_value_t = 200)]
    pub window: usize,
    /// Print the latest values as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also write the full series, one row per bar, as CSV.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// Computes the geometric family over the file and prints the latest values.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let bars = tradepulse_data::load_bars_csv(&args.data, &tradepulse_data::CsvOptions::default())?;
    let candles: Vec<Candle> = bars.iter().map(Candle::from).collect();
    let config = AnalysisConfig {
        window: args.window,
        ..AnalysisConfig::default()
    };
    let analysis = analyze(&candles, &config)
        .map_err(|e| crate::exit::InputError(format!("--window {}: {e}", args.window)))?;
    let Some(latest) = analysis.latest() else {
        return Err(crate::exit::InputError(format!("{}: no bars", args.data.display())).into());
    };
    if let Some(path) = &args.output {
        let index: Vec<String> = bars.iter().map(|b| b.ts.to_string()).collect();
        std::fs::write(path, analysis.to_csv("ts", &index))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let text = if args.json {
        format!("{}\n", latest.to_json())
    } else {
        latest.to_table()
    };
    crate::output::print(&text)
}
