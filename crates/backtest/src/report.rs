//! Writing a run's files: `summary.json`, `trades.csv`, `fills.csv`, `equity.csv`, and the
//! table printed on stdout. Output depends only on the run, so the same config and data give
//! byte-identical files.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::engine::RunResult;
use crate::metrics::{Summary, drawdown_series};

/// A report file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot write report", path.display())]
pub struct ReportError {
    /// The file or directory.
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

/// Writes every report file into `dir` (created if missing).
///
/// # Errors
/// [`ReportError`] naming the file that could not be written.
pub fn write_report(dir: &Path, summary: &Summary, run: &RunResult) -> Result<(), ReportError> {
    let at = |path: PathBuf| move |source| ReportError { path, source };
    std::fs::create_dir_all(dir).map_err(at(dir.to_owned()))?;

    let path = dir.join("summary.json");
    let mut json = serde_json::to_string_pretty(summary).map_err(|e| ReportError {
        path: path.clone(),
        source: io::Error::other(e),
    })?;
    json.push('\n');
    std::fs::write(&path, json).map_err(at(path.clone()))?;

    let path = dir.join("trades.csv");
    write_with(&path, |w| write_trades(w, run)).map_err(at(path.clone()))?;
    let path = dir.join("fills.csv");
    write_with(&path, |w| write_fills(w, run)).map_err(at(path.clone()))?;
    let path = dir.join("equity.csv");
    write_with(&path, |w| write_equity(w, run)).map_err(at(path.clone()))?;
    Ok(())
}

fn write_with(path: &Path, body: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    body(&mut w)?;
    w.flush()
}

fn write_trades(w: &mut dyn Write, run: &RunResult) -> io::Result<()> {
    writeln!(
        w,
        "instrument,entry_ts,exit_ts,direction,quantity,entry_price,exit_price,gross_pnl,fees,net_pnl,return,bars_held"
    )?;
    for t in &run.round_trips {
        let direction = match t.direction {
            tradepulse_model::Side::Buy => "long",
            tradepulse_model::Side::Sell => "short",
        };
        writeln!(
            w,
            "{},{},{},{direction},{},{},{},{},{},{},{},{}",
            t.instrument,
            t.entry_ts,
            t.exit_ts,
            t.quantity,
            t.entry_price(),
            t.exit_price(),
            t.gross_pnl,
            t.fees,
            t.net_pnl(),
            t.return_fraction(),
            t.bars_held
        )?;
    }
    Ok(())
}

fn write_fills(w: &mut dyn Write, run: &RunResult) -> io::Result<()> {
    writeln!(
        w,
        "ts,instrument,client_order_id,side,quantity,price,fee,liquidity,realized_pnl,position_after"
    )?;
    for r in &run.fills {
        let f = &r.fill;
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{}",
            f.ts,
            r.instrument,
            f.client_order_id,
            f.side,
            f.quantity,
            f.price,
            f.fee,
            f.liquidity.as_str(),
            r.realized_pnl,
            r.position_after
        )?;
    }
    Ok(())
}

fn write_equity(w: &mut dyn Write, run: &RunResult) -> io::Result<()> {
    writeln!(w, "ts,equity,drawdown")?;
    let drawdown = drawdown_series(run.initial_cash.as_f64(), &run.equity);
    // Cents for equity and 1e-6 for drawdown keep the file readable and half the size of
    // shortest-round-trip floats; the exact final equity is in summary.json. Each line is built
    // in a reused buffer from integers: with `{}`/`{:.2}` formatting this file took most of the
    // report's time on a million bars.
    let mut line = Vec::with_capacity(64);
    let mut ts_buf = [0u8; 30];
    for ((ts, equity), dd) in run.timestamps.iter().zip(&run.equity).zip(drawdown) {
        line.clear();
        match ts.write_rfc3339(&mut ts_buf) {
            Some(text) => line.extend_from_slice(text),
            None => line.extend_from_slice(ts.to_string().as_bytes()),
        }
        line.push(b',');
        push_fixed(&mut line, *equity, 2);
        line.push(b',');
        push_fixed(&mut line, dd, 6);
        line.push(b'\n');
        w.write_all(&line)?;
    }
    Ok(())
}

/// Appends `value` with exactly `decimals` decimals (rounded half away from zero), through
/// integers; non-finite or huge values fall back to the float formatter.
fn push_fixed(out: &mut Vec<u8>, value: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let scaled = (value * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 9.0e18 {
        out.extend_from_slice(format!("{value:.*}", decimals as usize).as_bytes());
        return;
    }
    let scaled = scaled as i64;
    if scaled < 0 {
        out.push(b'-');
    }
    let abs = scaled.unsigned_abs();
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(abs / scale).as_bytes());
    out.push(b'.');
    let frac = digits.format(abs % scale).as_bytes();
    out.extend(std::iter::repeat_n(b'0', decimals as usize - frac.len()));
    out.extend_from_slice(frac);
}

/// The summary as an aligned two-column table for the terminal.
#[must_use]
pub fn render_table(summary: &Summary) -> String {
    let pct =
        |x: Option<f64>| x.map_or_else(|| "n/a".to_owned(), |v| format!("{:.2} %", v * 100.0));
    let num = |x: Option<f64>| x.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    let rows: Vec<(&str, String)> = vec![
        ("strategy", summary.strategy.clone()),
        ("instrument", summary.instrument.clone()),
        ("period", format!("{} .. {}", summary.start, summary.end)),
        ("bars", summary.bars_processed.to_string()),
        ("fills", summary.fills.to_string()),
        ("round trips", summary.round_trips.to_string()),
        (
            "orders rejected",
            if summary.rejections.is_empty() {
                summary.orders_rejected.to_string()
            } else {
                let reasons: Vec<String> = summary
                    .rejections
                    .iter()
                    .map(|(code, n)| format!("{code} {n}"))
                    .collect();
                format!("{} ({})", summary.orders_rejected, reasons.join(", "))
            },
        ),
        ("initial cash", format!("{:.2}", summary.initial_cash.0)),
        ("final equity", format!("{:.2}", summary.final_equity.0)),
        ("total return", pct(summary.total_return)),
        ("CAGR", pct(summary.cagr)),
        ("volatility", pct(summary.volatility)),
        ("Sharpe", num(summary.sharpe)),
        ("Sortino", num(summary.sortino)),
        ("max drawdown", pct(summary.max_drawdown)),
        (
            "max DD duration",
            format!(
                "{} bars ({:.1} days)",
                summary.max_drawdown_duration, summary.max_drawdown_duration_days
            ),
        ),
        ("Calmar", num(summary.calmar)),
        ("win rate", pct(summary.win_rate)),
        ("profit factor", num(summary.profit_factor)),
        ("exposure", pct(summary.exposure)),
        ("fees paid", format!("{:.2}", summary.fees_paid.0)),
        ("turnover", num(summary.turnover)),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in rows {
        let _ = writeln!(out, "  {k:<width$}  {v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::push_fixed;

    fn fixed(value: f64, decimals: u32) -> String {
        let mut out = Vec::new();
        push_fixed(&mut out, value, decimals);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn fixed_decimals_round_and_pad() {
        assert_eq!(fixed(1234.567, 2), "1234.57");
        assert_eq!(fixed(-0.004, 2), "0.00");
        assert_eq!(fixed(-1.5, 2), "-1.50");
        assert_eq!(fixed(0.1234565, 6), "0.123457");
        assert_eq!(fixed(0.000001, 6), "0.000001");
        assert_eq!(fixed(f64::NAN, 2), "NaN");
    }
}
