//! The static charts, each drawn once against [`Canvas`]: the PNG versions of the report's
//! charts (equity and drawdown, candlesticks with fills, the monthly-returns table, the trade
//! P&L histogram; `report.html` itself draws interactive ones from its payload) and the sweep
//! heatmap (inline SVG and PNG). [`MonthlyReturns`] also computes the report payload's table.
//!
//! Large inputs are reduced before drawing so that a million-bar run gives an image of the same
//! size as a thousand-bar one: the equity line keeps each pixel column's first, lowest, highest
//! and last point (what a full-resolution line would show), and candles are merged into at most
//! [`MAX_CANDLES`] OHLC candles of equal bar count, so the whole run fits the page width with
//! every candle at least [`MIN_CANDLE_SLOT`] pixels wide (a static page cannot zoom, and a wide
//! scrolling chart would show a few years squeezed into the whole run's price range).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Timelike};
use tradepulse_model::{Bar, Side, UnixNanos};

use super::canvas::{Align, Canvas, Font, Rgb};
use crate::engine::FillRecord;

/// Width of every chart except large sweep heatmaps.
const WIDTH: f64 = 1_200.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 24.0;
/// Narrowest candle slot (body plus gap), in pixels.
const MIN_CANDLE_SLOT: f64 = 3.0;
/// Most candles drawn (364); longer series are aggregated.
pub(crate) const MAX_CANDLES: usize = ((WIDTH - LEFT - RIGHT) / MIN_CANDLE_SLOT) as usize;

const INK: Rgb = Rgb(0x33, 0x33, 0x33);
const MUTED: Rgb = Rgb(0x77, 0x77, 0x77);
const GRID: Rgb = Rgb(0xe6, 0xe6, 0xe6);
const BLUE: Rgb = Rgb(0x1f, 0x5f, 0xbf);
const RED: Rgb = Rgb(0xd6, 0x3b, 0x3b);
const PALE_RED: Rgb = Rgb(0xf4, 0xc7, 0xc7);
const GREEN: Rgb = Rgb(0x1e, 0x9e, 0x6a);
const ORANGE: Rgb = Rgb(0xf0, 0x8c, 0x00);
const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);
const MISSING: Rgb = Rgb(0xf2, 0xf2, 0xf2);

/// Something that can be drawn on a [`Canvas`] of a known size.
pub(crate) trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (f64, f64);
    /// Draws the chart.
    fn draw(&self, c: &mut dyn Canvas);
}

fn font(size: f64, color: Rgb, align: Align) -> Font {
    Font { size, color, align }
}

/// A linear map from data values to pixels.
#[derive(Debug, Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    px_lo: f64,
    px_hi: f64,
}

impl Scale {
    fn new(lo: f64, hi: f64, px_lo: f64, px_hi: f64) -> Self {
        // A flat series still needs a non-empty range.
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.01 };
            (lo - pad, hi + pad)
        };
        Self {
            lo,
            hi,
            px_lo,
            px_hi,
        }
    }

    fn map(&self, v: f64) -> f64 {
        self.px_lo + (v - self.lo) / (self.hi - self.lo) * (self.px_hi - self.px_lo)
    }
}

/// Round tick values (1, 2, 2.5 or 5 × 10^k apart) covering `lo..=hi`, about `target` of them.
fn nice_ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let range = hi - lo;
    if !range.is_finite() || range <= 0.0 {
        return (vec![lo], 1.0);
    }
    let raw = range / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let ticks = (first..=last).map(|i| i as f64 * step).collect();
    (ticks, step)
}

/// Decimals needed to write `step` (and so its multiples) exactly: 0.25 → 2, 2.5 → 1, 50 → 0.
fn decimals(step: f64) -> usize {
    (0..10)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() <= 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(10)
}

/// A tick label: compact (`1.2M`, `950k`) for large values.
fn tick_label(v: f64, step: f64) -> String {
    if v.abs() < step * 1e-9 {
        return "0".to_owned();
    }
    let (div, suffix) = if step >= 1e6 || (v.abs() >= 1e6 && step >= 1e4) {
        (1e6, "M")
    } else if step >= 1e3 || (v.abs() >= 1e4 && step >= 10.0) {
        (1e3, "k")
    } else {
        (1.0, "")
    };
    format!("{:.*}{suffix}", decimals(step / div), v / div)
}

/// A value with at most four significant digits and no trailing zeros (`0.9`, `-0.7996`,
/// `1235`), for heatmap cells and notes.
pub(crate) fn format_value(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (3 - v.abs().log10().floor() as i64).clamp(0, 8) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// A parameter value as written in a config: the shortest text that reads back as `v`
/// (`20`, `0.5`).
pub(crate) fn format_parameter(v: f64) -> String {
    format!("{v}")
}

/// `v` with `places` decimals, without the sign of a value that rounds to zero ("-0.0" reads as
/// a sign error).
fn fixed(v: f64, places: usize) -> String {
    let text = format!("{v:.places$}");
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| matches!(c, '0' | '.')) => rest.to_owned(),
        _ => text,
    }
}

fn percent(v: f64, places: usize) -> String {
    format!("{}%", fixed(v * 100.0, places))
}

/// Calendar units for time-axis ticks, coarsest first.
#[derive(Debug, Clone, Copy)]
enum TimeStep {
    Years(i64),
    Months(i64),
    Days(i64),
    Hours(i64),
    Minutes(i64),
}

const TIME_STEPS: [TimeStep; 19] = [
    TimeStep::Years(50),
    TimeStep::Years(20),
    TimeStep::Years(10),
    TimeStep::Years(5),
    TimeStep::Years(2),
    TimeStep::Years(1),
    TimeStep::Months(6),
    TimeStep::Months(3),
    TimeStep::Months(1),
    TimeStep::Days(7),
    TimeStep::Days(1),
    TimeStep::Hours(12),
    TimeStep::Hours(6),
    TimeStep::Hours(1),
    TimeStep::Minutes(30),
    TimeStep::Minutes(15),
    TimeStep::Minutes(5),
    TimeStep::Minutes(1),
    TimeStep::Minutes(0),
];

fn bucket(ts: UnixNanos, step: TimeStep) -> i64 {
    let ns = ts.as_nanos();
    let minutes = ns.div_euclid(60 * UnixNanos::NANOS_PER_SECOND);
    let dt = DateTime::from_timestamp_nanos(ns);
    match step {
        TimeStep::Years(k) => i64::from(dt.year()).div_euclid(k),
        TimeStep::Months(k) => (i64::from(dt.year()) * 12 + i64::from(dt.month0())).div_euclid(k),
        TimeStep::Days(k) => ns.div_euclid(UnixNanos::NANOS_PER_DAY).div_euclid(k),
        TimeStep::Hours(k) => minutes.div_euclid(60 * k),
        TimeStep::Minutes(k) => minutes.div_euclid(k.max(1)),
    }
}

fn time_label(ts: UnixNanos, step: TimeStep) -> String {
    let dt = DateTime::from_timestamp_nanos(ts.as_nanos());
    match step {
        TimeStep::Years(_) => format!("{}", dt.year()),
        TimeStep::Months(_) => format!("{}-{:02}", dt.year(), dt.month()),
        TimeStep::Days(_) => format!("{}-{:02}-{:02}", dt.year(), dt.month(), dt.day()),
        TimeStep::Hours(_) | TimeStep::Minutes(_) => format!(
            "{:02}-{:02} {:02}:{:02}",
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute()
        ),
    }
}

/// Ticks at calendar boundaries of `times` (positions are indices into `times`): the finest
/// calendar step that gives at most `max` ticks.
fn time_ticks(times: &[UnixNanos], max: usize) -> Vec<(usize, String)> {
    let boundaries = |step| {
        let mut out = Vec::new();
        let mut previous = None;
        for (i, &t) in times.iter().enumerate() {
            let b = bucket(t, step);
            if previous.is_some_and(|p| p != b) {
                out.push(i);
            }
            previous = Some(b);
        }
        out
    };
    let mut chosen: Option<(TimeStep, Vec<usize>)> = None;
    for step in TIME_STEPS {
        let ticks = boundaries(step);
        if ticks.len() > max {
            break;
        }
        chosen = Some((step, ticks));
    }
    chosen.map_or_else(Vec::new, |(step, ticks)| {
        ticks
            .into_iter()
            .map(|i| (i, time_label(times[i], step)))
            .collect()
    })
}

/// Every `stride`-th timestamp, so time ticks of long series are computed on a few thousand.
fn sampled(times: impl Iterator<Item = UnixNanos>, stride: usize) -> Vec<UnixNanos> {
    times.step_by(stride.max(1)).collect()
}

/// Horizontal grid lines with value labels on the left of the plot area.
fn y_grid(c: &mut dyn Canvas, scale: &Scale, x0: f64, x1: f64, label: impl Fn(f64, f64) -> String) {
    let (ticks, step) = nice_ticks(scale.lo, scale.hi, 5);
    for v in ticks {
        let y = scale.map(v);
        c.line(&[(x0, y), (x1, y)], GRID, 1.0);
        c.text(x0 - 8.0, y, &label(v, step), font(12.0, MUTED, Align::End));
    }
}

/// Vertical grid lines with time labels under the plot area.
fn x_time_grid(c: &mut dyn Canvas, ticks: &[(f64, String)], y0: f64, y1: f64, label_y: f64) {
    for (x, label) in ticks {
        c.line(&[(*x, y0), (*x, y1)], GRID, 1.0);
        c.text(*x, label_y, label, font(12.0, MUTED, Align::Middle));
    }
}

fn title(c: &mut dyn Canvas, x: f64, text: &str) {
    c.text(x, 16.0, text, font(16.0, INK, Align::Start));
}

/// Reduces the `n` points `(index, value)` of `values` to at most four per pixel column (first,
/// min, max, last in index order), which draws the same line as the full series. One pass over
/// an iterator, so a derived series (the drawdown) is never held whole: with a million bars that
/// is 8 MB less at the report's peak.
fn decimate(values: impl IntoIterator<Item = f64>, n: usize, columns: usize) -> Vec<(usize, f64)> {
    let mut points = values.into_iter().take(n).enumerate();
    if n <= 4 * columns.max(1) {
        return points.collect();
    }
    let mut out = Vec::with_capacity(4 * columns);
    for col in 0..columns {
        // With more than four points per column the columns are contiguous, so the next
        // `end - start` points are this column's.
        let start = col * n / columns;
        let end = ((col + 1) * n / columns).max(start + 1);
        let Some(first) = points.next() else {
            break;
        };
        let (mut lo, mut hi, mut last) = (first, first, first);
        for _ in start + 1..end {
            let Some(p) = points.next() else {
                break;
            };
            if p.1 < lo.1 {
                lo = p;
            }
            if p.1 > hi.1 {
                hi = p;
            }
            last = p;
        }
        let mut picks = [first, lo, hi, last];
        picks.sort_unstable_by_key(|p| p.0);
        let mut previous = None;
        for p in picks {
            if previous != Some(p.0) {
                out.push(p);
                previous = Some(p.0);
            }
        }
    }
    out
}

/// Equity curve over its drawdown.
pub(crate) struct EquityChart<'a> {
    pub times: &'a [UnixNanos],
    pub equity: &'a [f64],
    pub initial: f64,
}

impl Chart for EquityChart<'_> {
    fn size(&self) -> (f64, f64) {
        (WIDTH, 540.0)
    }

    fn draw(&self, c: &mut dyn Canvas) {
        let (x0, x1) = (LEFT, WIDTH - RIGHT);
        let (eq_top, eq_bottom) = (40.0, 330.0);
        let (dd_top, dd_bottom) = (386.0, 506.0);
        title(c, x0, "Equity");
        c.text(x0, dd_top - 18.0, "Drawdown", font(14.0, INK, Align::Start));
        let n = self.equity.len();
        if n == 0 {
            c.text(
                WIDTH / 2.0,
                200.0,
                "no bars",
                font(14.0, MUTED, Align::Middle),
            );
            return;
        }
        let xs = Scale::new(0.0, (n.max(2) - 1) as f64, x0, x1);
        let lo = self.equity.iter().copied().fold(self.initial, f64::min);
        let hi = self.equity.iter().copied().fold(self.initial, f64::max);
        let pad = (hi - lo) * 0.04;
        let ys = Scale::new(lo - pad, hi + pad, eq_bottom, eq_top);
        y_grid(c, &ys, x0, x1, tick_label);

        // Computed twice (its minimum, then its columns) rather than held: a million-bar run's
        // drawdown would be 8 MB more at the report's peak.
        let drawdown = || {
            let mut peak = self.initial;
            self.equity.iter().map(move |&e| {
                peak = peak.max(e);
                if peak > 0.0 { e / peak - 1.0 } else { 0.0 }
            })
        };
        let worst = drawdown().fold(0.0, f64::min);
        let ds = Scale::new(worst * 1.08, 0.0, dd_bottom, dd_top);
        y_grid(c, &ds, x0, x1, |v, step| percent(v, decimals(step * 100.0)));

        let stride = n.div_ceil(3_000);
        let times = sampled(self.times.iter().copied(), stride);
        let ticks: Vec<(f64, String)> = time_ticks(&times, 12)
            .into_iter()
            .map(|(i, l)| (xs.map((i * stride) as f64), l))
            .collect();
        x_time_grid(c, &ticks, eq_top, eq_bottom, eq_bottom + 14.0);
        x_time_grid(c, &ticks, dd_top, dd_bottom, dd_bottom + 14.0);

        let columns = (x1 - x0) as usize;
        let initial_y = ys.map(self.initial);
        c.line(&[(x0, initial_y), (x1, initial_y)], MUTED, 0.8);
        let line: Vec<(f64, f64)> = decimate(self.equity.iter().copied(), n, columns)
            .into_iter()
            .map(|(i, v)| (xs.map(i as f64), ys.map(v)))
            .collect();
        c.line(&line, BLUE, 1.5);

        let mut area: Vec<(f64, f64)> = decimate(drawdown(), n, columns)
            .into_iter()
            .map(|(i, v)| (xs.map(i as f64), ds.map(v)))
            .collect();
        let zero = ds.map(0.0);
        let edge = area.clone();
        area.push((xs.map((n - 1) as f64), zero));
        area.insert(0, (x0, zero));
        c.polygon(&area, PALE_RED);
        c.line(&edge, RED, 1.0);
        c.line(&[(x0, zero), (x1, zero)], MUTED, 0.8);
        c.text(
            x1,
            dd_top - 18.0,
            &format!("max drawdown {}", percent(worst, 2)),
            font(12.0, RED, Align::End),
        );
    }
}

/// An OHLC candle made of one or more bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candle {
    ts: UnixNanos,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
}

/// Index of the bar a fill happened in: the last bar stamped at or before it.
pub(crate) fn bar_of_fill(bars: &[Bar], r: &FillRecord) -> Option<usize> {
    bars.partition_point(|b| b.ts <= r.fill.ts).checked_sub(1)
}

/// Whether a fill opened or added to a position (rather than reduced or closed it).
pub(crate) fn opens_position(r: &FillRecord) -> bool {
    let after = r.position_after.raw();
    let quantity = r.fill.quantity.raw();
    let before = after
        - if r.fill.side == Side::Buy {
            quantity
        } else {
            -quantity
        };
    after.abs() > before.abs()
}

/// The fills of one candle with the same side and role, drawn as one marker.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Marker {
    candle: usize,
    side: Side,
    entry: bool,
    /// Mean fill price.
    price: f64,
}

/// Candlesticks with entry and exit markers.
pub(crate) struct CandleChart {
    candles: Vec<Candle>,
    markers: Vec<Marker>,
}

impl CandleChart {
    /// Aggregates `bars` into at most [`MAX_CANDLES`] candles and places every fill on the candle
    /// holding the bar it happened in (the last bar stamped at or before the fill).
    pub(crate) fn new<'f>(bars: &[Bar], fills: impl IntoIterator<Item = &'f FillRecord>) -> Self {
        let per = bars.len().div_ceil(MAX_CANDLES).max(1);
        let candles: Vec<Candle> = bars
            .chunks(per)
            .map(|chunk| {
                let first = chunk[0];
                let mut candle = Candle {
                    ts: first.ts,
                    open: first.open.as_f64(),
                    high: first.high.as_f64(),
                    low: first.low.as_f64(),
                    close: chunk[chunk.len() - 1].close.as_f64(),
                };
                for b in &chunk[1..] {
                    candle.high = candle.high.max(b.high.as_f64());
                    candle.low = candle.low.min(b.low.as_f64());
                }
                candle
            })
            .collect();
        // Thousands of fills on a few hundred candles would draw the same marker many times over;
        // one per (candle, side, role) says the same and keeps the page small.
        let mut groups: BTreeMap<(usize, bool, bool), (f64, usize)> = BTreeMap::new();
        for r in fills {
            let Some(bar) = bar_of_fill(bars, r) else {
                continue;
            };
            let buy = r.fill.side == Side::Buy;
            let group = groups
                .entry((bar / per, buy, opens_position(r)))
                .or_insert((0.0, 0));
            group.0 += r.fill.price.as_f64();
            group.1 += 1;
        }
        let markers = groups
            .into_iter()
            .map(|((candle, buy, entry), (sum, count))| Marker {
                candle,
                side: if buy { Side::Buy } else { Side::Sell },
                entry,
                price: sum / count as f64,
            })
            .collect();
        Self { candles, markers }
    }

    fn slot(&self) -> f64 {
        ((WIDTH - LEFT - RIGHT) / self.candles.len().max(1) as f64).max(MIN_CANDLE_SLOT)
    }
}

impl Chart for CandleChart {
    fn size(&self) -> (f64, f64) {
        let plot = self.slot() * self.candles.len() as f64;
        ((LEFT + plot + RIGHT).max(WIDTH), 500.0)
    }

    fn draw(&self, c: &mut dyn Canvas) {
        let (width, _) = self.size();
        let (x0, x1) = (LEFT, width - RIGHT);
        let (top, bottom) = (40.0, 460.0);
        title(c, x0, "Price");
        let n = self.candles.len();
        if n == 0 {
            c.text(
                WIDTH / 2.0,
                200.0,
                "no bars",
                font(14.0, MUTED, Align::Middle),
            );
            return;
        }
        let legend = [
            (GREEN, "up"),
            (RED, "down"),
            (BLUE, "entry"),
            (ORANGE, "exit"),
        ];
        for (i, (color, label)) in legend.iter().enumerate() {
            let x = x0 + 120.0 + i as f64 * 90.0;
            c.rect(x, 11.0, 10.0, 10.0, *color);
            c.text(x + 15.0, 16.0, label, font(12.0, MUTED, Align::Start));
        }
        c.text(
            x0 + 490.0,
            16.0,
            "▲ buy  ▼ sell",
            font(12.0, MUTED, Align::Start),
        );
        let lo = self
            .candles
            .iter()
            .map(|k| k.low)
            .fold(f64::INFINITY, f64::min);
        let hi = self
            .candles
            .iter()
            .map(|k| k.high)
            .fold(f64::NEG_INFINITY, f64::max);
        let pad = (hi - lo) * 0.06;
        let ys = Scale::new(lo - pad, hi + pad, bottom, top);
        let slot = self.slot();
        let center = |i: usize| x0 + (i as f64 + 0.5) * slot;
        y_grid(c, &ys, x0, x1, |v, step| {
            format!("{:.*}", decimals(step), v)
        });
        let max_ticks = ((x1 - x0) / 110.0) as usize;
        let times: Vec<UnixNanos> = self.candles.iter().map(|k| k.ts).collect();
        let ticks: Vec<(f64, String)> = time_ticks(&times, max_ticks.max(2))
            .into_iter()
            .map(|(i, l)| (center(i), l))
            .collect();
        x_time_grid(c, &ticks, top, bottom, bottom + 16.0);

        let body = (slot * 0.7).max(1.0);
        for (i, k) in self.candles.iter().enumerate() {
            let color = if k.close >= k.open { GREEN } else { RED };
            let x = center(i);
            c.line(&[(x, ys.map(k.high)), (x, ys.map(k.low))], color, 1.0);
            let (a, b) = (ys.map(k.open), ys.map(k.close));
            let (y, h) = (a.min(b), (a - b).abs().max(1.0));
            c.rect(x - body / 2.0, y, body, h, color);
        }
        let size = slot.clamp(5.0, 8.0);
        for m in &self.markers {
            let Some(k) = self.candles.get(m.candle) else {
                continue;
            };
            let x = center(m.candle);
            let color = if m.entry { BLUE } else { ORANGE };
            // Buys point up from under the candle, sells down from above it, so a marker never
            // hides the candle; the mean fill price gets a tick mark.
            let shape = if m.side == Side::Buy {
                let y = ys.map(k.low) + 4.0;
                [
                    (x, y),
                    (x - size / 2.0, y + size * 1.2),
                    (x + size / 2.0, y + size * 1.2),
                ]
            } else {
                let y = ys.map(k.high) - 4.0;
                [
                    (x, y),
                    (x - size / 2.0, y - size * 1.2),
                    (x + size / 2.0, y - size * 1.2),
                ]
            };
            c.polygon(&shape, color);
            let py = ys.map(m.price);
            c.line(&[(x - body, py), (x + body, py)], color, 1.0);
        }
    }
}

/// A year, its twelve monthly returns (`None`: no bar that month) and the year's return.
pub(crate) type YearRow = (i32, [Option<f64>; 12], f64);

/// Records the month `(year, month)` that ended at equity `end`.
fn close_month(
    rows: &mut Vec<YearRow>,
    (year, month): (i32, u32),
    end: f64,
    previous_end: &mut f64,
    year_start: &mut f64,
) {
    if rows.last().is_none_or(|r| r.0 != year) {
        *year_start = *previous_end;
        rows.push((year, [None; 12], 0.0));
    }
    if let Some(row) = rows.last_mut() {
        row.1[month as usize - 1] = Some(end / *previous_end - 1.0);
        row.2 = end / *year_start - 1.0;
    }
    *previous_end = end;
}

/// Month-by-month returns of the equity curve (month-end equity over the previous month-end,
/// the first month against the initial cash), one row per year with the year's return.
pub(crate) struct MonthlyReturns {
    rows: Vec<YearRow>,
}

impl MonthlyReturns {
    /// Computes the table; months with no bar are `None`.
    pub(crate) fn new(times: &[UnixNanos], equity: &[f64], initial: f64) -> Self {
        let mut rows: Vec<YearRow> = Vec::new();
        let mut previous_month_end = initial;
        let mut year_start = initial;
        let mut current: Option<(i32, u32)> = None;
        let mut last_equity = initial;
        let mut last_day = i64::MIN;
        let mut key = (0, 0);
        for (&t, &e) in times.iter().zip(equity) {
            // Calendar conversion only when the day changes: cheap for intraday bars.
            let day = t.as_nanos().div_euclid(UnixNanos::NANOS_PER_DAY);
            if day != last_day {
                let dt = DateTime::from_timestamp_nanos(t.as_nanos());
                key = (dt.year(), dt.month());
                last_day = day;
            }
            if let Some(open) = current.filter(|c| *c != key) {
                close_month(
                    &mut rows,
                    open,
                    last_equity,
                    &mut previous_month_end,
                    &mut year_start,
                );
            }
            current = Some(key);
            last_equity = e;
        }
        if let Some(open) = current {
            close_month(
                &mut rows,
                open,
                last_equity,
                &mut previous_month_end,
                &mut year_start,
            );
        }
        Self { rows }
    }

    /// One row per year, oldest first.
    pub(crate) fn rows(&self) -> &[YearRow] {
        &self.rows
    }
}

/// Red for losses, green for gains, white at zero; `scale` is the magnitude of full colour.
fn diverging(v: f64, scale: f64) -> Rgb {
    let t = (v.abs() / scale).min(1.0).sqrt();
    if v < 0.0 {
        WHITE.mix(Rgb(0xd7, 0x30, 0x27), t)
    } else {
        WHITE.mix(Rgb(0x1a, 0x98, 0x50), t)
    }
}

impl Chart for MonthlyReturns {
    fn size(&self) -> (f64, f64) {
        (WIDTH, 70.0 + 26.0 * self.rows.len().max(1) as f64 + 10.0)
    }

    fn draw(&self, c: &mut dyn Canvas) {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (cell_w, cell_h, x0, y0) = (78.0, 26.0, LEFT, 62.0);
        title(c, x0, "Monthly returns");
        if self.rows.is_empty() {
            c.text(
                WIDTH / 2.0,
                y0 + 10.0,
                "no bars",
                font(14.0, MUTED, Align::Middle),
            );
            return;
        }
        for (m, name) in MONTHS.iter().enumerate() {
            let x = x0 + (m as f64 + 0.5) * cell_w;
            c.text(x, y0 - 12.0, name, font(12.0, MUTED, Align::Middle));
        }
        let year_x = x0 + 12.0 * cell_w + 16.0;
        c.text(
            year_x + cell_w / 2.0,
            y0 - 12.0,
            "Year",
            font(12.0, INK, Align::Middle),
        );
        let scale_of =
            |values: &mut dyn Iterator<Item = f64>| values.map(f64::abs).fold(0.01, f64::max);
        let month_scale =
            scale_of(&mut self.rows.iter().flat_map(|r| r.1.iter().flatten().copied()));
        let year_scale = scale_of(&mut self.rows.iter().map(|r| r.2));
        let cell = |c: &mut dyn Canvas, x: f64, y: f64, value: Option<f64>, scale: f64| {
            let fill = value.map_or(MISSING, |v| diverging(v, scale));
            c.rect(x + 1.0, y + 1.0, cell_w - 2.0, cell_h - 2.0, fill);
            if let Some(v) = value {
                let ink = if fill.luma() < 0.55 { WHITE } else { INK };
                c.text(
                    x + cell_w / 2.0,
                    y + cell_h / 2.0,
                    &percent(v, 1),
                    font(12.0, ink, Align::Middle),
                );
            }
        };
        for (r, (year, months, total)) in self.rows.iter().enumerate() {
            let y = y0 + r as f64 * cell_h;
            c.text(
                x0 - 10.0,
                y + cell_h / 2.0,
                &year.to_string(),
                font(12.0, INK, Align::End),
            );
            for (m, value) in months.iter().enumerate() {
                cell(c, x0 + m as f64 * cell_w, y, *value, month_scale);
            }
            cell(c, year_x, y, Some(*total), year_scale);
        }
    }
}

/// Histogram of round-trip net P&L.
pub(crate) struct PnlHistogram {
    pnl: Vec<f64>,
}

impl PnlHistogram {
    /// From each round trip's net P&L.
    pub(crate) fn new(pnl: Vec<f64>) -> Self {
        Self { pnl }
    }

    /// Bin edges (round numbers, one edge at 0 when the data straddle it) and counts.
    fn bins(&self) -> (Vec<f64>, Vec<usize>) {
        let lo = self.pnl.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = self.pnl.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let target = ((2.0 * (self.pnl.len() as f64).sqrt()).ceil() as usize).clamp(8, 50);
        let (_, step) = nice_ticks(lo.min(0.0), hi.max(0.0), target);
        let start = (lo / step).floor() * step;
        let count = (((hi - start) / step).floor() as usize + 1).max(1);
        let edges: Vec<f64> = (0..=count).map(|i| start + i as f64 * step).collect();
        let mut counts = vec![0usize; count];
        for p in &self.pnl {
            let i = (((p - start) / step).floor() as usize).min(count - 1);
            counts[i] += 1;
        }
        (edges, counts)
    }
}

impl Chart for PnlHistogram {
    fn size(&self) -> (f64, f64) {
        (WIDTH, 380.0)
    }

    fn draw(&self, c: &mut dyn Canvas) {
        let (x0, x1, top, bottom) = (LEFT, WIDTH - RIGHT, 40.0, 340.0);
        title(c, x0, "Round-trip net P&L");
        if self.pnl.is_empty() {
            c.text(
                WIDTH / 2.0,
                190.0,
                "no closed round trips",
                font(14.0, MUTED, Align::Middle),
            );
            return;
        }
        let (edges, counts) = self.bins();
        let max_count = counts.iter().copied().max().unwrap_or(1);
        let xs = Scale::new(edges[0], edges[edges.len() - 1], x0, x1);
        let ys = Scale::new(0.0, max_count as f64 * 1.08, bottom, top);
        y_grid(c, &ys, x0, x1, |v, _| {
            if v.fract() == 0.0 {
                format!("{v:.0}")
            } else {
                String::new()
            }
        });
        let (ticks, step) = nice_ticks(edges[0], edges[edges.len() - 1], 10);
        for v in ticks {
            c.text(
                xs.map(v),
                bottom + 16.0,
                &tick_label(v, step),
                font(12.0, MUTED, Align::Middle),
            );
        }
        for (i, &n) in counts.iter().enumerate() {
            if n == 0 {
                continue;
            }
            let (a, b) = (xs.map(edges[i]), xs.map(edges[i + 1]));
            let mid = (edges[i] + edges[i + 1]) / 2.0;
            let color = if mid < 0.0 { RED } else { GREEN };
            let y = ys.map(n as f64);
            c.rect(a + 1.0, y, (b - a - 2.0).max(1.0), bottom - y, color);
        }
        let zero = xs.map(0.0);
        c.line(&[(zero, top), (zero, bottom)], INK, 1.0);
        c.line(&[(x0, bottom), (x1, bottom)], MUTED, 1.0);
        let wins = self.pnl.iter().filter(|p| **p > 0.0).count();
        c.text(
            x1,
            top - 14.0,
            &format!("{} round trips, {wins} winners", self.pnl.len()),
            font(12.0, MUTED, Align::End),
        );
    }
}

/// Viridis colour map (matplotlib's), sampled at 9 points and interpolated.
fn viridis(t: f64) -> Rgb {
    const STOPS: [Rgb; 9] = [
        Rgb(68, 1, 84),
        Rgb(71, 45, 123),
        Rgb(59, 82, 139),
        Rgb(44, 114, 142),
        Rgb(33, 145, 140),
        Rgb(39, 173, 129),
        Rgb(92, 200, 99),
        Rgb(170, 220, 50),
        Rgb(253, 231, 37),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (t.floor() as usize).min(STOPS.len() - 2);
    STOPS[i].mix(STOPS[i + 1], t - i as f64)
}

/// An objective over a grid of two parameters.
pub(crate) struct SweepHeatmap<'a> {
    pub x_name: &'a str,
    pub y_name: &'a str,
    pub xs: &'a [f64],
    pub ys: &'a [f64],
    /// Row-major: `values[iy * xs.len() + ix]`.
    pub values: &'a [Option<f64>],
    pub objective: &'a str,
}

impl SweepHeatmap<'_> {
    fn cell(&self) -> (f64, f64) {
        let w = (900.0 / self.xs.len().max(1) as f64).clamp(6.0, 80.0);
        let h = (560.0 / self.ys.len().max(1) as f64).clamp(6.0, 36.0);
        (w, h)
    }

    fn range(&self) -> Option<(f64, f64)> {
        let finite = self.values.iter().flatten().filter(|v| v.is_finite());
        let lo = finite.clone().copied().fold(f64::INFINITY, f64::min);
        let hi = finite.copied().fold(f64::NEG_INFINITY, f64::max);
        (lo <= hi).then_some((lo, hi))
    }

    /// Index of the highest finite value (the first one on a tie).
    pub(crate) fn best(&self) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, v) in self.values.iter().enumerate() {
            if let Some(v) = v.filter(|v| v.is_finite())
                && best.is_none_or(|(_, b)| v > b)
            {
                best = Some((i, v));
            }
        }
        best.map(|(i, _)| i)
    }
}

impl Chart for SweepHeatmap<'_> {
    fn size(&self) -> (f64, f64) {
        let (w, h) = self.cell();
        let width = (LEFT + 40.0 + w * self.xs.len() as f64 + 150.0).max(600.0);
        (width, 70.0 + h * self.ys.len() as f64 + 60.0)
    }

    fn draw(&self, c: &mut dyn Canvas) {
        let (cw, ch) = self.cell();
        let (x0, y0) = (LEFT + 40.0, 50.0);
        let (nx, ny) = (self.xs.len(), self.ys.len());
        title(
            c,
            12.0,
            &format!("{} by {} and {}", self.objective, self.x_name, self.y_name),
        );
        let Some((lo, hi)) = self.range() else {
            c.text(
                300.0,
                90.0,
                "no finite values",
                font(14.0, MUTED, Align::Middle),
            );
            return;
        };
        let span = if hi > lo { hi - lo } else { 1.0 };
        let labels = cw >= 40.0 && ch >= 14.0;
        let label_size = if cw >= 56.0 { 11.0 } else { 10.0 };
        // One number of decimals for the whole grid (three significant digits of the largest
        // magnitude), so labels line up and tiny values do not run into the next cell.
        let magnitude = lo.abs().max(hi.abs());
        let places = if magnitude > 0.0 {
            (2 - magnitude.log10().floor() as i64).clamp(0, 6) as usize
        } else {
            2
        };
        // The first y value is drawn at the bottom, as on a plot's y axis.
        let top_of = |iy: usize| y0 + (ny - 1 - iy) as f64 * ch;
        for iy in 0..ny {
            for ix in 0..nx {
                let (x, y) = (x0 + ix as f64 * cw, top_of(iy));
                let value = self.values[iy * nx + ix].filter(|v| v.is_finite());
                let fill = value.map_or(MISSING, |v| viridis((v - lo) / span));
                c.rect(x, y, cw, ch, fill);
                if labels {
                    let text = value.map_or_else(|| "–".to_owned(), |v| fixed(v, places));
                    let ink = if fill.luma() < 0.5 { WHITE } else { INK };
                    c.text(
                        x + cw / 2.0,
                        y + ch / 2.0,
                        &text,
                        font(label_size, ink, Align::Middle),
                    );
                }
            }
        }
        if let Some(best) = self.best() {
            let (ix, iy) = (best % nx, best / nx);
            let (x, y) = (x0 + ix as f64 * cw, top_of(iy));
            let outline = [(x, y), (x + cw, y), (x + cw, y + ch), (x, y + ch), (x, y)];
            c.line(&outline, RED, 2.5);
        }
        let label_every = |cell: f64, size: f64| (size / cell).ceil().max(1.0) as usize;
        let grid_bottom = y0 + ny as f64 * ch;
        let every_x = label_every(cw, 48.0);
        for (ix, x) in self.xs.iter().enumerate().step_by(every_x) {
            let px = x0 + (ix as f64 + 0.5) * cw;
            c.text(
                px,
                grid_bottom + 14.0,
                &format_parameter(*x),
                font(12.0, MUTED, Align::Middle),
            );
        }
        c.text(
            x0 + nx as f64 * cw / 2.0,
            grid_bottom + 38.0,
            self.x_name,
            font(13.0, INK, Align::Middle),
        );
        let every_y = label_every(ch, 16.0);
        for (iy, y) in self.ys.iter().enumerate().step_by(every_y) {
            let py = top_of(iy) + ch / 2.0;
            c.text(
                x0 - 8.0,
                py,
                &format_parameter(*y),
                font(12.0, MUTED, Align::End),
            );
        }
        c.text(x0, y0 - 14.0, self.y_name, font(13.0, INK, Align::End));

        let bar_x = x0 + nx as f64 * cw + 24.0;
        let bar_h = (ny as f64 * ch).max(120.0);
        let steps = 64;
        for i in 0..steps {
            let t = i as f64 / (steps - 1) as f64;
            let y = y0 + bar_h - (i + 1) as f64 * bar_h / steps as f64;
            c.rect(bar_x, y, 16.0, bar_h / steps as f64 + 0.5, viridis(t));
        }
        c.text(
            bar_x + 22.0,
            y0 + 6.0,
            &format_value(hi),
            font(12.0, MUTED, Align::Start),
        );
        c.text(
            bar_x + 22.0,
            y0 + bar_h - 6.0,
            &format_value(lo),
            font(12.0, MUTED, Align::Start),
        );
        let key = [
            (bar_x, y0 - 20.0),
            (bar_x + 16.0, y0 - 20.0),
            (bar_x + 16.0, y0 - 8.0),
            (bar_x, y0 - 8.0),
            (bar_x, y0 - 20.0),
        ];
        c.line(&key, RED, 2.5);
        c.text(
            bar_x + 22.0,
            y0 - 14.0,
            "best",
            font(12.0, RED, Align::Start),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_are_round() {
        let (ticks, step) = nice_ticks(0.13, 0.91, 5);
        assert_eq!(step, 0.2);
        assert_eq!(ticks.len(), 4);
        assert!((ticks[0] - 0.2).abs() < 1e-12);
        assert_eq!(tick_label(1_500_000.0, 250_000.0), "1.50M");
        assert_eq!(tick_label(950_000.0, 50_000.0), "950k");
        assert_eq!(tick_label(0.25, 0.05), "0.25");
    }

    #[test]
    fn rounded_zero_has_no_sign() {
        assert_eq!(percent(-0.00004, 1), "0.0%");
        assert_eq!(percent(-0.0004, 2), "-0.04%");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(format_value(0.9), "0.9");
        assert_eq!(format_value(-0.79961), "-0.7996");
        assert_eq!(format_parameter(20.0), "20");
    }

    #[test]
    fn decimation_keeps_extremes() {
        let values: Vec<f64> = (0..10_000)
            .map(|i| if i == 5_003 { 9.0 } else { 0.0 })
            .collect();
        let kept = decimate(values.iter().copied(), values.len(), 100);
        assert!(kept.len() <= 400);
        assert!(kept.contains(&(5_003, 9.0)));
        assert_eq!(kept.last(), Some(&(9_999, 0.0)));
    }

    #[test]
    fn time_ticks_pick_calendar_boundaries() {
        let day = UnixNanos::NANOS_PER_DAY;
        // 2000-01-01 plus 800 days: yearly ticks at 2001 and 2002.
        let start = 946_684_800 * UnixNanos::NANOS_PER_SECOND;
        let times: Vec<UnixNanos> = (0..800).map(|d| UnixNanos::new(start + d * day)).collect();
        let ticks = time_ticks(&times, 3);
        assert_eq!(
            ticks,
            vec![(366, "2001".to_owned()), (731, "2002".to_owned())]
        );
    }

    #[test]
    fn monthly_returns_chain_month_ends() {
        let day = UnixNanos::NANOS_PER_DAY;
        let jan1 = 946_684_800 * UnixNanos::NANOS_PER_SECOND;
        // Jan 1, Jan 31, Feb 1, Mar 1 (2000 is a leap year: Feb has 29 days).
        let times = [0, 30, 31, 60].map(|d| UnixNanos::new(jan1 + d * day));
        let table = MonthlyReturns::new(&times, &[100.0, 110.0, 99.0, 108.9], 100.0);
        let (year, months, total) = table.rows[0];
        assert_eq!(year, 2000);
        assert!((months[0].unwrap() - 0.10).abs() < 1e-12);
        assert!((months[1].unwrap() + 0.10).abs() < 1e-12);
        assert!((months[2].unwrap() - 0.10).abs() < 1e-12);
        assert_eq!(months[3], None);
        assert!((total - 0.089).abs() < 1e-12);
    }

    #[test]
    fn histogram_bins_cover_every_trade() {
        let h = PnlHistogram::new(vec![-120.0, -5.0, 0.0, 3.0, 40.0, 250.0]);
        let (edges, counts) = h.bins();
        assert_eq!(counts.iter().sum::<usize>(), 6);
        assert!(edges[0] <= -120.0 && *edges.last().unwrap() >= 250.0);
        assert!(edges.contains(&0.0));
    }
}
