//! Writing a run's files: `summary.json`, `trades.csv`, `fills.csv`, `equity.csv`, and the
//! table printed on stdout. Output depends only on the run, so the same config and data give
//! byte-identical files.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tradepulse_model::UnixNanos;

use crate::engine::RunResult;
use crate::metrics::{Summary, drawdowns};

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
    /// Rows are built in a block of about this many bytes, written in one call.
    const BLOCK: usize = 1 << 20;
    writeln!(w, "ts,equity,drawdown")?;
    let drawdown = drawdowns(run.initial_cash.as_f64(), &run.equity);
    // Cents for equity and 1e-6 for drawdown keep the file readable and half the size of
    // shortest-round-trip floats; the exact final equity is in summary.json. Rows are built from
    // integers into a block that is written when full: with `{}`/`{:.2}` formatting, or one
    // write per row, this file took most of the report's time on a million bars.
    let mut block = Vec::with_capacity(BLOCK + 128);
    let mut time = TimeText::default();
    for ((ts, equity), dd) in run.timestamps.iter().zip(&run.equity).zip(drawdown) {
        time.push(&mut block, *ts);
        block.push(b',');
        push_fixed(&mut block, *equity, 2);
        block.push(b',');
        push_fixed(&mut block, dd, 6);
        block.push(b'\n');
        if block.len() >= BLOCK {
            w.write_all(&block)?;
            block.clear();
        }
    }
    w.write_all(&block)
}

/// RFC 3339 text of a run's timestamps, as [`UnixNanos::write_rfc3339`] writes it: the date
/// is computed again only when the day changes (bars of a day share it), the time of day from a
/// table of two-digit pairs.
#[derive(Default)]
struct TimeText {
    /// Day (since the epoch) of the text in `buf`, if it is a whole-second time's.
    day: Option<i64>,
    buf: [u8; 30],
}

impl TimeText {
    fn push(&mut self, out: &mut Vec<u8>, ts: UnixNanos) {
        let nanos = ts.as_nanos();
        let secs = nanos.div_euclid(UnixNanos::NANOS_PER_SECOND);
        let day = secs.div_euclid(86_400);
        // Whole seconds (every bar file in practice): `YYYY-MM-DDTHH:MM:SSZ`.
        if nanos.rem_euclid(UnixNanos::NANOS_PER_SECOND) == 0 {
            if self.day == Some(day) {
                let sod = secs.rem_euclid(86_400) as usize;
                self.buf[11..13].copy_from_slice(&PAIRS[sod / 3_600]);
                self.buf[14..16].copy_from_slice(&PAIRS[sod % 3_600 / 60]);
                self.buf[17..19].copy_from_slice(&PAIRS[sod % 60]);
                out.extend_from_slice(&self.buf[..20]);
                return;
            }
            if let Some(text) = ts.write_rfc3339(&mut self.buf) {
                out.extend_from_slice(text);
                self.day = Some(day);
                return;
            }
        }
        self.day = None;
        match ts.write_rfc3339(&mut self.buf) {
            Some(text) => out.extend_from_slice(text),
            None => out.extend_from_slice(ts.to_string().as_bytes()),
        }
    }
}

/// `PAIRS[n]` is `n` in two digits, for `n < 100`.
const PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// Appends `value` with exactly `decimals` decimals (rounded half away from zero), through
/// integers; non-finite or huge values fall back to the float formatter.
fn push_fixed(out: &mut Vec<u8>, value: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    let x = value * scale as f64;
    if x.is_nan() || x.abs() >= 9.0e18 {
        out.extend_from_slice(format!("{value:.*}", decimals as usize).as_bytes());
        return;
    }
    // `x.round()` without the libm call (the baseline x86-64 target has no rounding
    // instruction): below 2^52 the fraction `x - trunc(x)` is exact, above it `x` is whole.
    let whole = x as i64;
    let fraction = x - whole as f64;
    let scaled = if fraction >= 0.5 {
        whole + 1
    } else if fraction <= -0.5 {
        whole - 1
    } else {
        whole
    };
    if scaled < 0 {
        out.push(b'-');
    }
    let abs = scaled.unsigned_abs();
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(abs / scale).as_bytes());
    out.push(b'.');
    let mut frac = abs % scale;
    let at = out.len();
    out.resize(at + decimals as usize, b'0');
    for slot in out[at..].iter_mut().rev() {
        *slot = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
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
        (
            "periods / year",
            summary.periods_per_year.map_or_else(
                || "n/a".to_owned(),
                |p| format!("{p:.0} ({})", summary.annualization.basis),
            ),
        ),
    ];
    let mut rows = rows;
    if let Some(why) = &summary.cagr_unavailable {
        rows.push(("CAGR, Calmar", format!("n/a: {why}")));
    }
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
    fn time_text_is_rfc3339_text() {
        use tradepulse_model::UnixNanos;
        let mut text = super::TimeText::default();
        let minute = 60 * UnixNanos::NANOS_PER_SECOND;
        let start = UnixNanos::parse_iso8601("2023-12-31T23:58:00Z")
            .unwrap()
            .as_nanos();
        // Across a day and a year, a fraction of a second, and back to whole minutes.
        let times = [0, 1, 2, 3, 4]
            .map(|i| start + i * minute)
            .into_iter()
            .chain([
                start + 5 * minute + 1_500_000,
                start + 6 * minute,
                -1,
                -minute,
            ]);
        for nanos in times {
            let ts = UnixNanos::new(nanos);
            let mut out = Vec::new();
            text.push(&mut out, ts);
            assert_eq!(String::from_utf8(out).unwrap(), ts.to_string());
        }
    }

    #[test]
    fn fixed_matches_float_formatting_rounded_half_away() {
        for v in [
            0.125,
            0.135,
            2.5e-7,
            -2.5e-7,
            1.005,
            1e12 + 0.3,
            4.5e12,
            -123.455,
            0.0,
            -0.0,
            0.499_999_999_999_999_9,
        ] {
            for d in [2, 6] {
                let scale = 10f64.powi(d as i32);
                let r = (v * scale).round() as i64;
                let sign = if r < 0 { "-" } else { "" };
                let a = r.unsigned_abs();
                let s = 10u64.pow(d);
                let expected = format!("{sign}{}.{:0w$}", a / s, a % s, w = d as usize);
                assert_eq!(fixed(v, d), expected, "{v} {d}");
            }
        }
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
