//! Self-contained HTML reports: one `report.html` per backtest and a heatmap page per sweep.
//!
//! A report opens offline in any browser: the charts are inline SVG generated here, the styles
//! are inline, and nothing is fetched (no scripts, stylesheets or fonts from elsewhere, and no
//! script at all). With the `charts` feature every chart is also written as a PNG beside the
//! page, for slides and chat.
//!
//! The report has, in order: the metrics table (the same rows as the terminal table), equity and
//! drawdown, candlesticks with entry and exit markers (at most 364 candles, so the whole run fits
//! the page: longer series are merged into candles of several bars), monthly returns by year, and
//! the histogram of round-trip net P&L. Output depends only on the inputs (no current time), so the same run gives
//! byte-identical files.

mod canvas;
mod charts;
#[cfg(feature = "charts")]
mod png;

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use tradepulse_model::{Bar, UnixNanos};

use self::canvas::{SvgCanvas, escape};
use self::charts::{
    CandleChart, Chart, EquityChart, MonthlyReturns, PnlHistogram, SweepHeatmap, format_parameter,
    format_value,
};
use crate::engine::RunResult;
use crate::metrics::Summary;
use crate::report::{ReportError, render_table};

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;color:#333;background:#f7f7f5;margin:0}
main{max-width:1240px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:0 0 8px}
.sub{color:#777;margin:0 0 16px}
section{background:#fff;border:1px solid #e3e3e0;border-radius:6px;padding:14px 16px;margin:0 0 16px}
svg{display:block;max-width:100%;height:auto}
.scroll{overflow-x:auto}.scroll svg{max-width:none}
.note{color:#777;font-size:13px;margin:6px 0 0}
.metrics{display:flex;flex-wrap:wrap;gap:0 48px}
table{border-collapse:collapse;font-size:14px}
td{padding:3px 10px 3px 0;border-bottom:1px solid #eee}td.v{text-align:right;font-variant-numeric:tabular-nums}
footer{color:#999;font-size:12px;text-align:center}
";

fn svg(chart: &dyn Chart) -> String {
    let (w, h) = chart.size();
    let mut canvas = SvgCanvas::new(w, h);
    chart.draw(&mut canvas);
    canvas.finish()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\
         <footer>TradePulse {}</footer>\n</main>\n</body>\n</html>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )
}

fn io_at(path: PathBuf) -> impl FnOnce(io::Error) -> ReportError {
    move |source| ReportError { path, source }
}

/// The rows of [`render_table`], so the page shows exactly what the terminal shows.
fn metric_rows(summary: &Summary) -> Vec<(String, String)> {
    render_table(summary)
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            // Keys are padded to a common width and followed by two spaces.
            let (key, value) = line.split_once("  ")?;
            Some((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

fn metrics_section(summary: &Summary) -> String {
    let rows = metric_rows(summary);
    let half = rows.len().div_ceil(2);
    let mut out =
        String::from("<section id=\"metrics\">\n<h2>Metrics</h2>\n<div class=\"metrics\">\n");
    for column in rows.chunks(half.max(1)) {
        out.push_str("<table>\n");
        for (k, v) in column {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td class=\"v\">{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        out.push_str("</table>\n");
    }
    out.push_str("</div>\n</section>\n");
    out
}

/// A chart section. The chart draws its own title (so its PNG has one too), so the section has no
/// heading; `scroll` lets a chart wider than the page scroll instead of shrinking.
fn section(id: &str, chart_svg: &str, note: &str, scroll: bool) -> String {
    let (open, close) = if scroll {
        ("<div class=\"scroll\">", "</div>")
    } else {
        ("", "")
    };
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("<p class=\"note\">{}</p>\n", escape(note))
    };
    format!("<section id=\"{id}\">\n{open}{chart_svg}{close}\n{note}</section>\n")
}

/// Writes `report.html` into `dir` (created if missing) and, with the `charts` feature,
/// `equity.png`, `candlesticks.png`, `monthly_returns.png` and `trade_pnl.png`.
///
/// `bars` are the (first) instrument's bars for the candlestick chart; the equity charts use
/// `run.timestamps`.
///
/// # Errors
/// [`ReportError`] naming the file that could not be written.
pub fn write_html_report(
    dir: &Path,
    summary: &Summary,
    run: &RunResult,
    bars: &[Bar],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir.to_owned()))?;
    let times: Vec<UnixNanos> = run.timestamps.clone();
    let n = times.len().min(run.equity.len());
    let initial = run.initial_cash.as_f64();
    let equity = EquityChart {
        times: &times[..n],
        equity: &run.equity[..n],
        initial,
    };
    // The candles are the first instrument's bars: show only its fills on them.
    let first = run.positions.first().map(|p| &p.instrument);
    let fills: Vec<crate::FillRecord> = run
        .fills
        .iter()
        .filter(|f| Some(&f.instrument) == first)
        .cloned()
        .collect();
    let candles = CandleChart::new(bars, &fills);
    let monthly = MonthlyReturns::new(&times[..n], &run.equity[..n], initial);
    let pnl: Vec<f64> = run
        .round_trips
        .iter()
        .map(|t| t.net_pnl().as_f64())
        .collect();
    let histogram = PnlHistogram::new(pnl);

    const MARKERS: &str = "Markers: ▲ buy, ▼ sell; blue opens or adds to a position, orange \
        reduces or closes it; one marker per candle, side and role, its short line at the mean \
        fill price.";
    let candle_note = if candles.bars_per_candle() > 1 {
        format!(
            "{} bars merged into {} candles of {} bars each. {MARKERS}",
            bars.len(),
            candles.candles(),
            candles.bars_per_candle()
        )
    } else {
        MARKERS.to_owned()
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Backtest: {} on {}</h1>\n<p class=\"sub\">{} to {} · {} bars · {} fills · {} round trips</p>\n",
        escape(&summary.strategy),
        escape(&summary.instrument),
        summary.start,
        summary.end,
        summary.bars_processed,
        summary.fills,
        summary.round_trips
    );
    body.push_str(&metrics_section(summary));
    body.push_str(&section(
        "equity",
        &svg(&equity),
        "Equity at each bar's close; the grey line is the initial cash. Drawdown is the fall from the running peak.",
        false,
    ));
    body.push_str(&section(
        "candlesticks",
        &svg(&candles),
        &candle_note,
        false,
    ));
    body.push_str(&section(
        "monthly-returns",
        &svg(&monthly),
        "Month-end equity over the previous month-end (the first month against the initial cash); the last column is the year.",
        false,
    ));
    body.push_str(&section(
        "trade-pnl",
        &svg(&histogram),
        "Net P&L (after fees) of each closed round trip, in the quote currency.",
        false,
    ));
    let title = format!("Backtest: {} on {}", summary.strategy, summary.instrument);
    let path = dir.join("report.html");
    std::fs::write(&path, page(&title, &body)).map_err(io_at(path.clone()))?;

    #[cfg(feature = "charts")]
    {
        let charts: [(&str, &dyn Chart); 4] = [
            ("equity.png", &equity),
            ("candlesticks.png", &candles),
            ("monthly_returns.png", &monthly),
            ("trade_pnl.png", &histogram),
        ];
        for (name, chart) in charts {
            let path = dir.join(name);
            png::write_png(&path, chart).map_err(io_at(path.clone()))?;
        }
    }
    Ok(())
}

/// Writes an HTML page at `path` with a heatmap of `objective` over two swept parameters and,
/// with the `charts` feature, the same heatmap as a PNG beside it (`path` with extension `png`).
///
/// `values` is row-major over `ys` × `xs`: `values[iy * xs.len() + ix]` is the objective at
/// (`xs[ix]`, `ys[iy]`); `None` (or a non-finite value) is a trial with no result, drawn grey.
/// The highest value is outlined, so pass an objective where higher is better (negate one where
/// lower is better). The first `ys` value is at the bottom.
///
/// # Errors
/// [`ReportError`] naming the file that could not be written, or `path` with an
/// [`io::ErrorKind::InvalidInput`] error when `values.len() != xs.len() * ys.len()` or a
/// parameter list is empty.
pub fn write_sweep_heatmap(
    path: &Path,
    x_name: &str,
    y_name: &str,
    xs: &[f64],
    ys: &[f64],
    values: &[Option<f64>],
    objective: &str,
) -> Result<(), ReportError> {
    if xs.is_empty() || ys.is_empty() || values.len() != xs.len() * ys.len() {
        return Err(ReportError {
            path: path.to_owned(),
            source: io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "heatmap needs {} × {} = {} values (row-major, {y_name} by {x_name}), got {}",
                    ys.len(),
                    xs.len(),
                    xs.len() * ys.len(),
                    values.len()
                ),
            ),
        });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io_at(parent.to_owned()))?;
    }
    let heatmap = SweepHeatmap {
        x_name,
        y_name,
        xs,
        ys,
        values,
        objective,
    };
    let finite = values.iter().flatten().filter(|v| v.is_finite()).count();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Sweep: {} over {} and {}</h1>\n<p class=\"sub\">{} × {} grid · {} trials with a result</p>\n",
        escape(objective),
        escape(x_name),
        escape(y_name),
        xs.len(),
        ys.len(),
        finite
    );
    let note = heatmap.best().map_or_else(
        || "No trial produced a value.".to_owned(),
        |i| {
            format!(
                "Best {objective} = {} at {x_name} = {}, {y_name} = {} (outlined). Grey cells have \
                 no result.",
                values[i].map_or_else(String::new, format_value),
                format_parameter(xs[i % xs.len()]),
                format_parameter(ys[i / xs.len()])
            )
        },
    );
    body.push_str(&section("heatmap", &svg(&heatmap), &note, true));
    let title = format!("Sweep: {objective} over {x_name} and {y_name}");
    std::fs::write(path, page(&title, &body)).map_err(io_at(path.to_owned()))?;

    #[cfg(feature = "charts")]
    {
        let png_path = path.with_extension("png");
        png::write_png(&png_path, &heatmap).map_err(io_at(png_path.clone()))?;
    }
    Ok(())
}
