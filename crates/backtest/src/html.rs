//! Self-contained HTML reports: one `report.html` per backtest and a heatmap page per sweep.
//!
//! A backtest report opens offline in any browser and is one file: the styles, the chart module
//! (`web/src/charts`, built into `assets/tradepulse-charts.js` and embedded here with
//! `include_str!`, so cargo alone builds it) and the run's data (one JSON payload, see
//! [`payload`]) are all inline; nothing is fetched. The charts are interactive (zoom, pan,
//! crosshair with values, keyboard control); the metrics table is plain HTML, readable without
//! scripts. With the `charts` feature every chart is also written as a PNG beside the page, for
//! slides, chat and other image-only readers.
//!
//! The report has, in order: the metrics table (the same rows as the terminal table), equity and
//! drawdown, candlesticks with fill markers (and the strategy's indicators when given), monthly
//! returns by year, and round-trip net P&L. Output depends only on the inputs (no current time),
//! so the same run gives byte-identical files.
//!
//! The sweep heatmap page is still a static inline SVG.

mod canvas;
mod charts;
mod payload;
#[cfg(feature = "charts")]
mod png;

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use tradepulse_model::Bar;

use self::canvas::{SvgCanvas, escape};
#[cfg(feature = "charts")]
use self::charts::{CandleChart, EquityChart, MonthlyReturns, PnlHistogram};
use self::charts::{Chart, SweepHeatmap, format_parameter, format_value};
use self::payload::Payload;
pub use self::payload::{ChartWindow, IndicatorPane, IndicatorSeries};
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
footer{color:#999;font-size:12px;text-align:center}footer a{color:#777}
@media (max-width:640px){main{padding:10px 8px 32px}.metrics{gap:0 24px}}
";

/// The chart module, built from `web/` by `npm run build:charts` (CI checks that a rebuild gives
/// these bytes). It contains no `</script`, `<script` or `<!--`, so it can be inlined as is.
const CHARTS_JS: &str = include_str!("../assets/tradepulse-charts.js");

/// The TradingView attribution its licence asks for, with the link it asks for.
const ATTRIBUTION: &str =
    "charts by <a href=\"https://www.tradingview.com/\">TradingView Lightweight Charts™</a>";

fn svg(chart: &dyn Chart) -> String {
    let (w, h) = chart.size();
    let mut canvas = SvgCanvas::new(w, h);
    chart.draw(&mut canvas);
    canvas.finish()
}

/// A whole page; `scripts` go at the end of `<body>`, `footer` after the version.
fn page(title: &str, body: &str, footer: &str, scripts: &str) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail, and every piece is UTF-8.
    let _ = write_page(&mut out, title, body, footer, |w| {
        w.write_all(scripts.as_bytes())
    });
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the page to `w`, with what `scripts` writes between `</main>` and `</body>`.
fn write_page(
    w: &mut dyn io::Write,
    title: &str,
    body: &str,
    footer: &str,
    scripts: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<()> {
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\
         <footer>TradePulse {}{footer}</footer>\n</main>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )?;
    scripts(w)?;
    w.write_all(b"</body>\n</html>\n")
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
/// `run.timestamps`. Same as [`write_html_report_with_indicators`] with no indicators.
///
/// # Errors
/// [`ReportError`] naming the file that could not be written.
pub fn write_html_report(
    dir: &Path,
    summary: &Summary,
    run: &RunResult,
    bars: &[Bar],
) -> Result<(), ReportError> {
    write_html_report_with_indicators(dir, summary, run, bars, &[])
}

/// [`write_html_report`], with the strategy's own indicator series drawn on the candlesticks
/// (each aligned with `bars`: one value per bar).
///
/// # Errors
/// [`ReportError`] naming the file that could not be written.
pub fn write_html_report_with_indicators(
    dir: &Path,
    summary: &Summary,
    run: &RunResult,
    bars: &[Bar],
    indicators: &[IndicatorSeries],
) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir.to_owned()))?;
    let title = format!("Backtest: {} on {}", summary.strategy, summary.instrument);
    let payload = Payload::new(&title, run, bars, indicators);

    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p class=\"sub\">{} to {} · {} bars · {} fills · {} round trips</p>\n",
        escape(&title),
        summary.start,
        summary.end,
        summary.bars_processed,
        summary.fills,
        summary.round_trips
    );
    body.push_str(&metrics_section(summary));
    let pngs = if cfg!(feature = "charts") {
        " The same charts are beside this file as PNG images: equity.png, candlesticks.png, \
         monthly_returns.png and trade_pnl.png."
    } else {
        ""
    };
    let _ = writeln!(
        body,
        "<div id=\"charts\"><noscript><section><p class=\"note\">The interactive charts need \
         JavaScript.{pngs}</p></section></noscript></div>"
    );
    let path = dir.join("report.html");
    // Streamed to the file: the payload is megabytes on a million bars, and as strings (the
    // JSON, its escaped copy, the page) it was held several times over at the report's peak.
    let written = std::fs::File::create(&path).and_then(|file| {
        let mut w = io::BufWriter::with_capacity(1 << 16, file);
        write_page(&mut w, &title, &body, &format!(" · {ATTRIBUTION}"), |w| {
            w.write_all(b"<script type=\"application/json\" id=\"tradepulse-report\">")?;
            payload.write_script_json(w)?;
            write!(
                w,
                "</script>\n<script>\n{}\n</script>\n\
                 <script>TradePulseCharts.renderEmbedded(\"charts\", \"tradepulse-report\");</script>\n",
                CHARTS_JS.trim_end()
            )
        })?;
        io::Write::flush(&mut w)
    });
    written.map_err(io_at(path.clone()))?;

    #[cfg(feature = "charts")]
    write_pngs(dir, run, bars)?;
    Ok(())
}

/// The chart payload of `report.html` (schema 1, read by `web/src/charts`) for `window` of
/// the run: what the dashboard draws with the same chart module.
#[must_use]
pub fn chart_payload_json(
    title: &str,
    run: &RunResult,
    bars: &[Bar],
    indicators: &[IndicatorSeries],
    window: &ChartWindow,
) -> String {
    Payload::windowed(title, run, bars, indicators, window).to_json()
}

/// The static versions of the charts, for readers that take only images.
#[cfg(feature = "charts")]
fn write_pngs(dir: &Path, run: &RunResult, bars: &[Bar]) -> Result<(), ReportError> {
    let times: &[tradepulse_model::UnixNanos] = &run.timestamps;
    let n = times.len().min(run.equity.len());
    let initial = run.initial_cash.as_f64();
    let equity = EquityChart {
        times: &times[..n],
        equity: &run.equity[..n],
        initial,
    };
    let first = run.positions.first().map(|p| &p.instrument);
    // The first instrument's fills, borrowed (a clone of 27,699 fills was megabytes more at the
    // report's peak).
    let fills = run.fills.iter().filter(|f| Some(&f.instrument) == first);
    let candles = CandleChart::new(bars, fills);
    let monthly = MonthlyReturns::new(&times[..n], &run.equity[..n], initial);
    let pnl: Vec<f64> = run
        .round_trips
        .iter()
        .map(|t| t.net_pnl().as_f64())
        .collect();
    let histogram = PnlHistogram::new(pnl);
    let charts: [(&str, &(dyn Chart + Sync)); 4] = [
        ("equity.png", &equity),
        ("candlesticks.png", &candles),
        ("monthly_returns.png", &monthly),
        ("trade_pnl.png", &histogram),
    ];
    // Rasterising and compressing a chart is independent of the others: all four at once on
    // rayon's pool; the first error in this order is the one reported, as in a sequential loop.
    use rayon::prelude::*;
    let written: Vec<Result<(), ReportError>> = charts
        .par_iter()
        .map(|&(name, chart)| {
            let path = dir.join(name);
            png::write_png(&path, chart).map_err(io_at(path.clone()))
        })
        .collect();
    written.into_iter().collect()
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
    std::fs::write(path, page(&title, &body, "", "")).map_err(io_at(path.to_owned()))?;

    #[cfg(feature = "charts")]
    {
        let png_path = path.with_extension("png");
        png::write_png(&png_path, &heatmap).map_err(io_at(png_path.clone()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::CHARTS_JS;

    #[test]
    fn chart_bundle_can_be_inlined_in_a_script_element() {
        let lower = CHARTS_JS.to_ascii_lowercase();
        for bad in ["</script", "<script", "<!--"] {
            assert!(!lower.contains(bad), "the chart bundle contains {bad}");
        }
        assert!(CHARTS_JS.contains("var TradePulseCharts="));
        assert!(CHARTS_JS.contains("TradingView Lightweight Charts"));
    }
}
