//! `tradepulse indicators --data FILE --ind SPEC …`: any indicator of the library over a bar
//! file, one CSV column per output.

use std::path::PathBuf;

use anyhow::Context as _;
use tradepulse_indicators::{Candle, IndicatorSpec, catalog_table, compute_table};

/// Arguments of `indicators`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bar CSV (columns ts,open,high,low,close,volume).
    #[arg(long, required_unless_present = "list")]
    pub data: Option<PathBuf>,
    /// Indicator spec NAME[:P1[:P2…]], repeatable, e.g. `rsi:14`, `macd:12:26:9`, `bbands:20:2`.
    /// Columns are named `name_params[_output]`, e.g. `rsi_14`, `macd_12_26_9_signal`.
    #[arg(long = "ind", value_name = "SPEC", required_unless_present = "list")]
    pub specs: Vec<IndicatorSpec>,
    /// Write the CSV here (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// List every indicator with its parameters and outputs, then exit.
    #[arg(long)]
    pub list: bool,
}

/// Computes the requested indicators and writes the CSV (empty cells during warm-up).
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.list {
        return crate::output::print(&catalog_table());
    }
    let Some(data) = &args.data else {
        return Err(crate::exit::InputError("--data is required".to_owned()).into());
    };
    let bars = tradepulse_data::load_bars_csv(data, &tradepulse_data::CsvOptions::default())?;
    let candles: Vec<Candle> = bars.iter().map(Candle::from).collect();
    let table =
        compute_table(&args.specs, &candles).map_err(|e| crate::exit::InputError(e.to_string()))?;
    let index: Vec<String> = bars.iter().map(|b| b.ts.to_string()).collect();
    let csv = table.to_csv("ts", &index);
    match &args.output {
        Some(path) => {
            std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?
        }
        None => crate::output::print(&csv)?,
    }
    Ok(())
}
