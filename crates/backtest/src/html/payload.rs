//! The data of `report.html`: one JSON object (schema 1) that the inlined chart module
//! (`web/src/charts`, see `web/src/charts/payload.ts` for the reader's side) draws.
//!
//! The payload is a list of panels tagged by `kind`; the viewer draws the kinds it knows and
//! shows a notice for others, so a new panel is one new [`Panel`] variant here and one renderer
//! there. Times are UTC seconds; series are columnar (one array per field).
//!
//! Long runs are reduced so a million-bar report stays a few megabytes and opens in about a
//! second: the equity series keeps, per bucket of consecutive points, its lowest and highest
//! equity, its deepest drawdown and its last point (so the line's extremes and the maximum
//! drawdown are exactly those of the full series); candles merge equal runs of bars (OHLC of the
//! run, volume summed); every fill still gets a marker (fills on one candle with the same side
//! and role share one marker that carries their count); every round trip is kept.

use std::collections::BTreeMap;

use serde::Serialize;
use tradepulse_model::{Bar, Side, UnixNanos};

use super::charts::{MonthlyReturns, bar_of_fill, opens_position};
use crate::engine::{FillRecord, RunResult};
use crate::metrics::drawdowns;

/// The payload version the chart module reads.
const SCHEMA: u32 = 1;
/// Most equity points kept (four per bucket).
pub(crate) const MAX_EQUITY_POINTS: usize = 8_000;
/// Most candles; longer runs merge bars into candles of equal bar count.
pub(crate) const MAX_CANDLES: usize = 6_000;

/// The part of a run a chart payload covers and how finely: the dashboard asks for the visible
/// range at its width in pixels, so a million-bar run is never sent whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartWindow {
    /// First time shown (inclusive); `None`: the run's start.
    pub from: Option<UnixNanos>,
    /// Last time shown (inclusive); `None`: the run's end.
    pub to: Option<UnixNanos>,
    /// Most candles; the equity series keeps at most four points per candle's worth of bars
    /// (its lowest and highest equity, deepest drawdown and last point per bucket).
    pub points: usize,
    /// Only the panels of the range (equity and candles), without the whole run's monthly
    /// returns and round trips: what a chart asks for again as it is zoomed or panned.
    pub range_only: bool,
}

impl ChartWindow {
    /// The whole run, as `report.html` draws it.
    pub const WHOLE_RUN: Self = Self {
        from: None,
        to: None,
        points: MAX_CANDLES,
        range_only: false,
    };

    /// Indices `lo..hi` of the sorted `times` inside the window.
    fn range(&self, times: impl Fn(usize) -> UnixNanos, len: usize) -> std::ops::Range<usize> {
        let first = |pred: &dyn Fn(UnixNanos) -> bool| {
            // Binary search over indices 0..len for the first index where pred holds.
            let (mut lo, mut hi) = (0, len);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if pred(times(mid)) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            lo
        };
        let lo = self.from.map_or(0, |f| first(&|t| t >= f));
        let hi = self.to.map_or(len, |t0| first(&|t| t > t0));
        lo..hi.max(lo)
    }

    fn equity_points(&self) -> usize {
        if *self == Self::WHOLE_RUN {
            MAX_EQUITY_POINTS
        } else {
            self.points.saturating_mul(4)
        }
    }
}

/// Where an indicator series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorPane {
    /// Over the candles, on the price scale (moving averages, bands).
    Price,
    /// In a pane of its own under the candles (oscillators, entropy, curvature).
    Own,
}

/// One series a strategy computed, one value per bar of the report's bars (`None` while it
/// warms up). The report draws these values as given; it never recomputes an indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSeries {
    /// Legend name, e.g. `sma(10)`.
    pub name: String,
    /// Where it is drawn.
    pub pane: IndicatorPane,
    /// Value at each bar.
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Payload<'a> {
    schema: u32,
    title: &'a str,
    panels: Vec<Panel>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Panel {
    Equity(EquityPanel),
    Candles(Box<CandlesPanel>),
    MonthlyReturns(MonthlyPanel),
    TradePnl(TradePanel),
}

#[derive(Debug, Serialize)]
struct EquityPanel {
    id: &'static str,
    title: &'static str,
    note: String,
    initial: f64,
    time: Vec<i64>,
    equity: Vec<f64>,
    drawdown: Vec<f64>,
    source_points: usize,
}

#[derive(Debug, Default, Serialize)]
struct Markers {
    time: Vec<i64>,
    side: Vec<&'static str>,
    role: Vec<&'static str>,
    count: Vec<usize>,
    quantity: Vec<f64>,
    price: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Indicator {
    name: String,
    pane: IndicatorPane,
    time: Vec<i64>,
    value: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
struct CandlesPanel {
    id: &'static str,
    title: &'static str,
    note: String,
    instrument: String,
    time: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    bars_per_candle: usize,
    source_bars: usize,
    markers: Markers,
    indicators: Vec<Indicator>,
}

#[derive(Debug, Serialize)]
struct YearRow {
    year: i32,
    months: [Option<f64>; 12],
    total: Option<f64>,
}

#[derive(Debug, Serialize)]
struct MonthlyPanel {
    id: &'static str,
    title: &'static str,
    note: &'static str,
    years: Vec<YearRow>,
}

#[derive(Debug, Serialize)]
struct TradePanel {
    id: &'static str,
    title: &'static str,
    note: &'static str,
    entry_time: Vec<i64>,
    exit_time: Vec<i64>,
    direction: Vec<&'static str>,
    pnl: Vec<f64>,
    #[serde(rename = "return")]
    ret: Vec<f64>,
}

/// Seconds since the epoch (floor), as the chart module's times.
fn secs(ts: UnixNanos) -> i64 {
    ts.as_nanos().div_euclid(UnixNanos::NANOS_PER_SECOND)
}

/// `v` rounded to `decimals` decimals, so the JSON carries no float noise (`0.1 + 0.2`).
fn round(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    let r = (v * scale).round() / scale;
    // -0.0 would print as "-0.0".
    if r == 0.0 { 0.0 } else { r }
}

/// Indices of `equity` kept for the chart, each with its drawdown (`drawdown` yields one value
/// per point of `equity`): all of them when there are few, else per bucket the lowest and
/// highest equity, the deepest drawdown (lowest, drawdowns being ≤ 0) and the last point, in time
/// order. One pass over the drawdowns, so they are never held whole (8 MB for a million bars).
pub(crate) fn equity_picks(
    equity: &[f64],
    drawdown: impl IntoIterator<Item = f64>,
    max_points: usize,
) -> Vec<(usize, f64)> {
    let n = equity.len();
    let mut points = equity.iter().zip(drawdown).enumerate();
    if n <= max_points {
        return points.map(|(i, (_, d))| (i, d)).collect();
    }
    let buckets = (max_points / 4).max(1);
    let mut out = Vec::with_capacity(max_points);
    for b in 0..buckets {
        // More points than buckets: the buckets are contiguous, so the next `end - start`
        // points are this bucket's.
        let start = b * n / buckets;
        let end = ((b + 1) * n / buckets).max(start + 1).min(n);
        let Some((i, (&e, d))) = points.next() else {
            break;
        };
        let first = (i, e, d);
        let (mut lo, mut hi, mut deep, mut last) = (first, first, first, first);
        for _ in start + 1..end {
            let Some((i, (&e, d))) = points.next() else {
                break;
            };
            let p = (i, e, d);
            if e < lo.1 {
                lo = p;
            }
            if e > hi.1 {
                hi = p;
            }
            if d < deep.2 {
                deep = p;
            }
            last = p;
        }
        let mut picks = [lo, hi, deep, last];
        picks.sort_unstable_by_key(|p| p.0);
        let mut previous = None;
        for p in picks {
            if previous != Some(p.0) {
                out.push((p.0, p.2));
                previous = Some(p.0);
            }
        }
    }
    out
}

fn equity_panel(run: &RunResult, window: &ChartWindow) -> EquityPanel {
    let all = run.timestamps.len().min(run.equity.len());
    let initial = run.initial_cash.as_f64();
    // Negative fractions, so the chart draws drawdown below its zero line. The drawdown is
    // from the running peak of the whole run, whatever part of it is shown.
    let shown = window.range(|i| run.timestamps[i], all);
    let offset = shown.start;
    let mut drawdown = drawdowns(initial, &run.equity[..all]).map(|d| -d);
    // The points before the window only move the running peak.
    for _ in 0..offset {
        drawdown.next();
    }
    let equity = &run.equity[shown];
    let n = equity.len();
    let max_points = window.equity_points();
    let picks: Vec<(usize, f64)> = equity_picks(equity, drawdown, max_points)
        .into_iter()
        .map(|(i, d)| (i + offset, d))
        .collect();
    let mut note = String::from(
        "Equity at each bar's close; the dashed line is the initial cash. Drawdown is the fall \
         from the running peak.",
    );
    if picks.len() < n {
        note.push_str(&format!(
            " {n} points reduced to {}: every bucket of {} points keeps its lowest and highest \
             equity, its deepest drawdown and its last point.",
            picks.len(),
            n.div_ceil((max_points / 4).max(1))
        ));
    }
    EquityPanel {
        id: "equity",
        title: "Equity and drawdown",
        note,
        initial: round(initial, 2),
        time: picks
            .iter()
            .map(|&(i, _)| secs(run.timestamps[i]))
            .collect(),
        equity: picks
            .iter()
            .map(|&(i, _)| round(run.equity[i], 2))
            .collect(),
        drawdown: picks.iter().map(|&(_, d)| round(d, 6)).collect(),
        source_points: n,
    }
}

/// Groups the fills into one marker per (candle, side, role), in time order.
fn markers(
    bars: &[Bar],
    shown: &std::ops::Range<usize>,
    per: usize,
    candle_time: &[i64],
    fills: &[&FillRecord],
) -> Markers {
    // (candle, buy, entry) → (count, quantity, price × quantity)
    let mut groups: BTreeMap<(usize, bool, bool), (usize, f64, f64)> = BTreeMap::new();
    for r in fills {
        let Some(bar) = bar_of_fill(bars, r).filter(|b| shown.contains(b)) else {
            continue;
        };
        let bar = bar - shown.start;
        let buy = r.fill.side == Side::Buy;
        let entry = opens_position(r);
        let q = r.fill.quantity.as_f64();
        let group = groups
            .entry((bar / per, buy, entry))
            .or_insert((0, 0.0, 0.0));
        group.0 += 1;
        group.1 += q;
        group.2 += q * r.fill.price.as_f64();
    }
    let mut out = Markers::default();
    for ((candle, buy, entry), (count, quantity, notional)) in groups {
        let Some(&time) = candle_time.get(candle) else {
            continue;
        };
        out.time.push(time);
        out.side.push(if buy { "buy" } else { "sell" });
        out.role.push(if entry { "entry" } else { "exit" });
        out.count.push(count);
        out.quantity.push(round(quantity, 8));
        out.price.push(if quantity > 0.0 {
            round(notional / quantity, 8)
        } else {
            0.0
        });
    }
    out
}

fn candles_panel(
    all_bars: &[Bar],
    window: &ChartWindow,
    instrument: String,
    fills: &[&FillRecord],
    indicators: &[IndicatorSeries],
) -> CandlesPanel {
    let shown = window.range(|i| all_bars[i].ts, all_bars.len());
    let bars = &all_bars[shown.clone()];
    let per = bars.len().div_ceil(window.points.max(1)).max(1);
    let mut panel = CandlesPanel {
        id: "candles",
        title: "Price and trades",
        note: String::new(),
        instrument,
        time: Vec::new(),
        open: Vec::new(),
        high: Vec::new(),
        low: Vec::new(),
        close: Vec::new(),
        volume: Vec::new(),
        bars_per_candle: per,
        source_bars: bars.len(),
        markers: Markers::default(),
        indicators: Vec::new(),
    };
    for chunk in bars.chunks(per) {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            continue;
        };
        let (mut high, mut low, mut volume) = (first.high.as_f64(), first.low.as_f64(), 0.0);
        for b in chunk {
            high = high.max(b.high.as_f64());
            low = low.min(b.low.as_f64());
            volume += b.volume;
        }
        panel.time.push(secs(first.ts));
        panel.open.push(first.open.as_f64());
        panel.high.push(high);
        panel.low.push(low);
        panel.close.push(last.close.as_f64());
        panel.volume.push(round(volume, 6));
    }
    panel.markers = markers(all_bars, &shown, per, &panel.time, fills);
    // An indicator's value for a merged candle is the one it had at the candle's last bar: what
    // the strategy saw when that candle closed.
    for series in indicators {
        let mut indicator = Indicator {
            name: series.name.clone(),
            pane: series.pane,
            time: Vec::with_capacity(panel.time.len()),
            value: Vec::with_capacity(panel.time.len()),
        };
        for (c, &time) in panel.time.iter().enumerate() {
            let last = shown.start + ((c + 1) * per).min(bars.len()) - 1;
            let value = series.values.get(last).copied().flatten();
            indicator.time.push(time);
            indicator.value.push(value.filter(|v| v.is_finite()));
        }
        panel.indicators.push(indicator);
    }
    const MARKERS: &str = "Markers: ▲ buy below the candle, ▼ sell above it; blue opens or adds \
        to a position, orange reduces or closes it; a number counts the fills it stands for.";
    panel.note = if per > 1 {
        format!(
            "{} bars merged into {} candles of {per} bars each; zoom in for detail. {MARKERS}",
            bars.len(),
            panel.time.len()
        )
    } else {
        MARKERS.to_owned()
    };
    panel
}

fn monthly_panel(run: &RunResult) -> MonthlyPanel {
    let n = run.timestamps.len().min(run.equity.len());
    let table = MonthlyReturns::new(
        &run.timestamps[..n],
        &run.equity[..n],
        run.initial_cash.as_f64(),
    );
    MonthlyPanel {
        id: "monthly-returns",
        title: "Monthly returns",
        note: "Month-end equity over the previous month-end (the first month against the \
               initial cash); the last column is the year.",
        years: table
            .rows()
            .iter()
            .map(|(year, months, total)| YearRow {
                year: *year,
                months: months.map(|m| m.map(|v| round(v, 6))),
                total: Some(round(*total, 6)),
            })
            .collect(),
    }
}

fn trade_panel(run: &RunResult) -> TradePanel {
    let trips = &run.round_trips;
    TradePanel {
        id: "trade-pnl",
        title: "Round-trip P&L",
        note: "Net P&L (after fees) of each closed round trip, in the quote currency, at its \
               exit; below, the running total and the distribution.",
        entry_time: trips.iter().map(|t| secs(t.entry_ts)).collect(),
        exit_time: trips.iter().map(|t| secs(t.exit_ts)).collect(),
        direction: trips
            .iter()
            .map(|t| match t.direction {
                Side::Buy => "long",
                Side::Sell => "short",
            })
            .collect(),
        pnl: trips
            .iter()
            .map(|t| round(t.net_pnl().as_f64(), 2))
            .collect(),
        ret: trips
            .iter()
            .map(|t| {
                let r = t.return_fraction();
                if r.is_finite() { round(r, 6) } else { 0.0 }
            })
            .collect(),
    }
}

impl<'a> Payload<'a> {
    /// The report's panels: equity, candles of `bars` with the first instrument's fills and the
    /// given indicators, monthly returns, round trips.
    pub(crate) fn new(
        title: &'a str,
        run: &RunResult,
        bars: &[Bar],
        indicators: &[IndicatorSeries],
    ) -> Self {
        Self::windowed(title, run, bars, indicators, &ChartWindow::WHOLE_RUN)
    }

    /// As [`Payload::new`], the equity and candles reduced to `window` (monthly returns and
    /// round trips stay whole: they are small).
    pub(crate) fn windowed(
        title: &'a str,
        run: &RunResult,
        bars: &[Bar],
        indicators: &[IndicatorSeries],
        window: &ChartWindow,
    ) -> Self {
        // The candles are the first instrument's bars: show only its fills on them.
        let first = run.positions.first().map(|p| &p.instrument);
        let fills: Vec<&FillRecord> = run
            .fills
            .iter()
            .filter(|f| Some(&f.instrument) == first)
            .collect();
        let instrument = first.map_or_else(String::new, ToString::to_string);
        Self {
            schema: SCHEMA,
            title,
            panels: if window.range_only {
                vec![
                    Panel::Equity(equity_panel(run, window)),
                    Panel::Candles(Box::new(candles_panel(
                        bars, window, instrument, &fills, indicators,
                    ))),
                ]
            } else {
                vec![
                    Panel::Equity(equity_panel(run, window)),
                    Panel::Candles(Box::new(candles_panel(
                        bars, window, instrument, &fills, indicators,
                    ))),
                    Panel::MonthlyReturns(monthly_panel(run)),
                    Panel::TradePnl(trade_panel(run)),
                ]
            },
        }
    }

    /// The payload as JSON.
    pub(crate) fn to_json(&self) -> String {
        // Serialising plain structs, strings and finite or null numbers cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("null"))
    }

    /// The payload as JSON that is safe inside `<script type="application/json">`: every `<`
    /// is written `\u003c` (it only occurs inside strings), so no `</script>` can end it.
    #[cfg(test)]
    pub(crate) fn to_script_json(&self) -> String {
        let mut out = Vec::new();
        // Writing to memory cannot fail, and JSON is UTF-8.
        let _ = self.write_script_json(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// [`Payload::to_script_json`] written straight to `w`: a million-bar report's payload is
    /// megabytes, and building it as a string, escaped and then placed in the page held it three
    /// times over.
    pub(crate) fn write_script_json(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(EscapeLt(w), self).map_err(std::io::Error::other)
    }
}

/// Writes through to its writer with every `<` written `\u003c`.
struct EscapeLt<'a>(&'a mut dyn std::io::Write);

impl std::io::Write for EscapeLt<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, mut buf: &[u8]) -> std::io::Result<()> {
        while let Some(i) = buf.iter().position(|&b| b == b'<') {
            self.0.write_all(&buf[..i])?;
            self.0.write_all(b"\\u003c")?;
            buf = &buf[i + 1..];
        }
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::drawdown_series;

    #[test]
    fn equity_picks_keep_extremes_and_the_last_point() {
        let mut equity: Vec<f64> = (0..100_000).map(|i| 1000.0 + (i % 7) as f64).collect();
        equity[40_001] = 5000.0;
        equity[70_003] = 10.0;
        let drawdown: Vec<f64> = drawdown_series(1000.0, &equity)
            .iter()
            .map(|d| -d)
            .collect();
        let picks: Vec<usize> = equity_picks(&equity, drawdown.iter().copied(), 8_000)
            .into_iter()
            .map(|(i, d)| {
                assert_eq!(
                    d.to_bits(),
                    drawdown[i].to_bits(),
                    "the drawdown of point {i}"
                );
                i
            })
            .collect();
        assert!(picks.len() <= 8_000);
        assert!(picks.windows(2).all(|w| w[0] < w[1]), "in time order");
        assert!(picks.contains(&40_001) && picks.contains(&70_003));
        assert_eq!(picks.last(), Some(&99_999));
        let deepest = picks.iter().map(|&i| drawdown[i]).fold(0.0, f64::min);
        assert_eq!(deepest, drawdown.iter().copied().fold(0.0, f64::min));
        // Few points: all kept.
        assert_eq!(
            equity_picks(&equity[..10], drawdown[..10].iter().copied(), 8_000).len(),
            10
        );
    }

    #[test]
    fn rounding_drops_noise_and_negative_zero() {
        assert_eq!(round(0.1 + 0.2, 2), 0.3);
        assert_eq!(round(-0.0000001, 6).to_string(), "0");
        assert_eq!(round(1234.5678, 2), 1234.57);
    }

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let payload = Payload {
            schema: SCHEMA,
            title: "</script><script>alert(1)</script>",
            panels: Vec::new(),
        };
        let json = payload.to_script_json();
        assert!(!json.contains('<'));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["title"], "</script><script>alert(1)</script>");
    }
}
