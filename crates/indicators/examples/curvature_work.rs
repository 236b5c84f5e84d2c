//! A fixed, deterministic curvature workload for counting instructions, which on a shared VM
//! compare runs far better than timings do (see docs/PERFORMANCE.md):
//!
//! ```text
//! cargo build --release -p tradepulse-indicators --example curvature_work
//! valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!     target/release/examples/curvature_work ollivier data/spx_1d.csv 200
//! ```
//!
//! Usage: `curvature_work ollivier|temporal|forman FILE|walk WINDOW [STEP SNAPSHOTS]`. `FILE`
//! is a bar CSV whose fifth column is the close (as `data/spx_1d.csv`); `walk` is a 5,000-step
//! log random walk with ≈ 0.58 % moves. Levels are 0.5 % apart; Ollivier–Ricci uses α = 0.5,
//! temporal Ricci α = 0. Prints the sum of the outputs, so that two builds can be checked to
//! compute the same thing.

use std::error::Error;

#[path = "../benches/series.rs"]
mod series;

use tradepulse_indicators::{
    Candle, Indicator, IndicatorSpec, OllivierRicci, TemporalRicci, compute_table,
};

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, source, window, rest @ ..] = args.as_slice() else {
        return Err(
            "usage: curvature_work ollivier|temporal|forman FILE|walk WINDOW [STEP SNAPSHOTS]"
                .into(),
        );
    };
    if !["ollivier", "temporal", "forman"].contains(&kind.as_str()) {
        return Err(format!("unknown workload {kind:?}: ollivier, temporal or forman").into());
    }
    let window: usize = window.parse()?;
    let closes = if source == "walk" {
        series::log_walk(5_000)
    } else {
        closes(source)?
    };
    let sum: f64 = match kind.as_str() {
        "ollivier" => {
            let mut ind = OllivierRicci::new(window, 0.005, 0.5)?;
            closes.iter().filter_map(|&p| ind.update(p)).sum()
        }
        "temporal" => {
            let [step, snapshots] = rest else {
                return Err("temporal needs STEP and SNAPSHOTS".into());
            };
            let mut ind =
                TemporalRicci::new(window, step.parse()?, snapshots.parse()?, 0.005, 0.0)?;
            closes
                .iter()
                .filter_map(|&p| ind.update(p))
                .map(|o| o.curvature + o.edge_stability + o.persistence)
                .sum()
        }
        "forman" => {
            // Through the catalog, as `tradepulse indicators --ind forman_ricci:W` runs it.
            let spec: IndicatorSpec = format!("forman_ricci:{window}:0.005").parse()?;
            let bars: Vec<Candle> = closes
                .iter()
                .map(|&c| Candle::new(c, c, c, c, 1.0))
                .collect();
            let table = compute_table(&[spec], &bars)?;
            table
                .columns
                .iter()
                .flat_map(|(_, cells)| cells.iter().flatten())
                .sum()
        }
        other => return Err(format!("unknown workload {other:?}").into()),
    };
    println!("{sum}");
    Ok(())
}

fn closes(path: &str) -> Result<Vec<f64>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(i, line)| {
            let cell = line
                .split(',')
                .nth(4)
                .ok_or_else(|| format!("{path}:{}: no fifth column", i + 1))?;
            cell.parse()
                .map_err(|e| format!("{path}:{}: close {cell:?}: {e}", i + 1).into())
        })
        .collect()
}
