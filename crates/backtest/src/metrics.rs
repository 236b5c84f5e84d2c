//! [`Summary`]: performance metrics of a run, as written to `summary.json`.
//!
//! Definitions (r_t = bar-to-bar return of equity at the close, the first one against the
//! initial cash; P = periods per year from the data's calendar, bars per trading day × trading
//! days per year, or as set in `metrics:` — see [`Annualization`]):
//!
//! | metric | definition |
//! |---|---|
//! | `total_return` | final equity / initial cash − 1 |
//! | `cagr` | (final / initial)^(1/years) − 1, years = (last − first bar time) / 365.25 d; `null` (with `cagr_unavailable` saying why) for samples shorter than `metrics.min_sample_days` (30 by default) |
//! | `volatility` | stdev(r, ddof 1) · √P |
//! | `sharpe` | mean(r) / stdev(r) · √P (risk-free rate 0) |
//! | `sortino` | mean(r) / √(mean(min(r, 0)²)) · √P |
//! | `max_drawdown` | max over t of 1 − equity_t / running peak (a fraction ≥ 0; the peak starts at the initial cash) |
//! | `max_drawdown_duration` | longest run of bars below a previous peak, in bars (`max_drawdown_duration_days` in days) |
//! | `calmar` | cagr / max_drawdown (`null` when `cagr` is) |
//! | `win_rate` | round trips with net PnL > 0 / round trips |
//! | `profit_factor` | Σ winning net PnL / |Σ losing net PnL| |
//! | `exposure` | bars ending with a position / bars |
//! | `turnover` | Σ fill notional / mean equity |
//!
//! A metric that is undefined (no variance, no losing trade, fewer than two bars) is `null`.
//! Money values are exact decimals.

use serde::{Serialize, Serializer};
use tradepulse_model::{Money, UnixNanos};

use crate::calendar::Annualization;
use crate::config::MetricsConfig;
use crate::engine::RunResult;

/// An exact amount written as a JSON number with all its digits (`1012345.678`), not as a
/// rounded float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExactMoney(pub Money);

impl Serialize for ExactMoney {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = serde_json::value::RawValue::from_string(self.0.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Metrics of one run. Field order is the file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Strategy kind.
    pub strategy: String,
    /// Instrument id.
    pub instrument: String,
    /// First bar time.
    pub start: UnixNanos,
    /// Last bar time.
    pub end: UnixNanos,
    /// Bars processed.
    pub bars_processed: usize,
    /// Fills.
    pub fills: usize,
    /// Closed round trips.
    pub round_trips: usize,
    /// Orders sent.
    pub orders_submitted: usize,
    /// Orders refused by the risk engine or rejected by the venue.
    pub orders_rejected: usize,
    /// Refusals and rejections by reason code (`MAX_POSITION`, `INSUFFICIENT_BUYING_POWER`, …;
    /// reasons that did not occur are left out).
    pub rejections: std::collections::BTreeMap<String, u64>,
    /// Starting cash.
    pub initial_cash: ExactMoney,
    /// Cash plus the position marked at the last close (the position is not closed out).
    pub final_equity: ExactMoney,
    /// See the module table.
    pub total_return: Option<f64>,
    /// See the module table.
    pub cagr: Option<f64>,
    /// See the module table.
    pub volatility: Option<f64>,
    /// See the module table.
    pub sharpe: Option<f64>,
    /// See the module table.
    pub sortino: Option<f64>,
    /// See the module table.
    pub max_drawdown: Option<f64>,
    /// See the module table.
    pub max_drawdown_duration: usize,
    /// See the module table.
    pub max_drawdown_duration_days: f64,
    /// See the module table.
    pub calmar: Option<f64>,
    /// Why `cagr` and `calmar` are `null`, if they are.
    pub cagr_unavailable: Option<String>,
    /// See the module table.
    pub win_rate: Option<f64>,
    /// See the module table.
    pub profit_factor: Option<f64>,
    /// See the module table.
    pub exposure: Option<f64>,
    /// Fees paid.
    pub fees_paid: ExactMoney,
    /// Borrow costs of short positions.
    pub borrow_paid: ExactMoney,
    /// Financing costs of borrowed cash (margin accounts).
    pub financing_paid: ExactMoney,
    /// See the module table.
    pub turnover: Option<f64>,
    /// Periods per year used to annualise.
    pub periods_per_year: Option<f64>,
    /// Where [`Summary::periods_per_year`] comes from.
    pub annualization: Annualization,
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

impl Summary {
    /// Computes the metrics of `run`, annualised with `annualization` (usually
    /// [`Annualization::measure`] of the run's timestamps) and `metrics`' minimum sample for
    /// CAGR and Calmar.
    #[must_use]
    pub fn compute(
        strategy: &str,
        instrument: &str,
        run: &RunResult,
        metrics: &MetricsConfig,
        annualization: Annualization,
    ) -> Self {
        let times = &run.timestamps;
        let initial = run.initial_cash.as_f64();
        let final_equity = run.final_equity();
        let (start, end) = match (times.first(), times.last()) {
            (Some(&f), Some(&l)) => (f, l),
            _ => (UnixNanos::EPOCH, UnixNanos::EPOCH),
        };
        let span_secs = (end.as_nanos() - start.as_nanos()) as f64 / 1e9;
        let span_days = span_secs / 86_400.0;
        let years = (span_secs > 0.0).then_some(span_secs / SECONDS_PER_YEAR);
        let ppy = annualization.periods_per_year;
        // A growth rate over a few days raised to the power of a year is noise, not a forecast.
        let cagr_unavailable = if years.is_none() {
            Some("the run has no time span".to_owned())
        } else if span_days < metrics.min_sample_days {
            Some(format!(
                "the sample spans {span_days:.1} days, less than metrics.min_sample_days ({}): \
                 an annual rate would extrapolate it {:.0}-fold",
                metrics.min_sample_days,
                365.25 / span_days
            ))
        } else {
            None
        };
        let years = years.filter(|_| cagr_unavailable.is_none());

        let stats = ReturnStats::of(initial, &run.equity);
        let (mean, std, downside) = (stats.mean, stats.std, stats.downside);
        let annual = ppy.map(f64::sqrt);
        let nonzero = |x: f64| (x > 0.0).then_some(x);

        let total_return = final_equity.as_f64() / initial - 1.0;
        let cagr = years.and_then(|y| {
            let growth = final_equity.as_f64() / initial;
            finite(if growth <= 0.0 {
                -1.0
            } else {
                growth.powf(1.0 / y) - 1.0
            })
        });
        let dd = drawdown(initial, &run.equity, times);
        let max_drawdown = finite(dd.max);

        let wins: Vec<f64> = run
            .round_trips
            .iter()
            .map(|t| t.net_pnl().as_f64())
            .collect();
        let gross_win: f64 = wins.iter().filter(|p| **p > 0.0).sum();
        let gross_loss: f64 = -wins.iter().filter(|p| **p < 0.0).sum::<f64>();
        let traded: f64 = run.fills.iter().map(|f| f.fill.notional().as_f64()).sum();
        let mean_equity = run.equity.iter().sum::<f64>() / run.equity.len() as f64;

        Self {
            strategy: strategy.to_owned(),
            instrument: instrument.to_owned(),
            start,
            end,
            bars_processed: run.bars,
            fills: run.fills.len(),
            round_trips: run.round_trips.len(),
            orders_submitted: run.orders_submitted,
            orders_rejected: run.orders_rejected,
            rejections: run
                .rejections
                .iter()
                .map(|(reason, n)| (reason.code().to_owned(), *n))
                .collect(),
            initial_cash: ExactMoney(run.initial_cash),
            final_equity: ExactMoney(final_equity),
            total_return: finite(total_return),
            cagr,
            volatility: annual.and_then(|a| finite(std * a)),
            sharpe: annual.and_then(|a| nonzero(std).and_then(|s| finite(mean / s * a))),
            sortino: annual.and_then(|a| nonzero(downside).and_then(|d| finite(mean / d * a))),
            max_drawdown,
            max_drawdown_duration: dd.duration_bars,
            max_drawdown_duration_days: dd.duration_days,
            calmar: cagr.and_then(|c| max_drawdown.and_then(nonzero).and_then(|m| finite(c / m))),
            cagr_unavailable,
            win_rate: (!wins.is_empty())
                .then(|| wins.iter().filter(|p| **p > 0.0).count() as f64 / wins.len() as f64),
            profit_factor: nonzero(gross_loss).and_then(|l| finite(gross_win / l)),
            exposure: finite(run.exposed_bars as f64 / run.bars as f64),
            fees_paid: ExactMoney(run.fees_paid),
            borrow_paid: ExactMoney(run.borrow_paid),
            financing_paid: ExactMoney(run.financing_paid),
            turnover: nonzero(mean_equity).and_then(|m| finite(traded / m)),
            periods_per_year: ppy.and_then(finite),
            annualization,
        }
    }
}

/// Mean, sample standard deviation and downside deviation of the bar-to-bar returns of the
/// equity curve (the first return against the initial cash), in one pass without allocating:
/// sweeps compute this for every trial.
struct ReturnStats {
    mean: f64,
    std: f64,
    downside: f64,
}

impl ReturnStats {
    fn of(initial: f64, equity: &[f64]) -> Self {
        // Two passes rather than Welford: Welford's running mean is a division-latency chain
        // through every element, while these loops pipeline.
        let returns = || {
            let mut previous = initial;
            equity.iter().map(move |&e| {
                let r = e / previous - 1.0;
                previous = e;
                r
            })
        };
        let n = equity.len() as f64;
        let mean = returns().sum::<f64>() / n;
        let (mut m2, mut down2) = (0.0f64, 0.0f64);
        for r in returns() {
            m2 += (r - mean) * (r - mean);
            down2 += r.min(0.0) * r.min(0.0);
        }
        Self {
            mean,
            std: (m2 / (n - 1.0)).sqrt(),
            downside: (down2 / n).sqrt(),
        }
    }
}

struct Drawdown {
    max: f64,
    duration_bars: usize,
    duration_days: f64,
}

/// Running drawdown of `equity`, and the series itself for `equity.csv`.
fn drawdown(initial: f64, equity: &[f64], times: &[UnixNanos]) -> Drawdown {
    let mut peak = initial;
    let mut peak_index = 0usize;
    let mut result = Drawdown {
        max: 0.0,
        duration_bars: 0,
        duration_days: 0.0,
    };
    for (i, &e) in equity.iter().enumerate() {
        if e >= peak {
            peak = e;
            peak_index = i;
            continue;
        }
        result.max = result.max.max(1.0 - e / peak);
        let bars_under = i - peak_index;
        if bars_under > result.duration_bars {
            result.duration_bars = bars_under;
            if let (Some(a), Some(b)) = (times.get(peak_index), times.get(i)) {
                result.duration_days =
                    (b.as_nanos() - a.as_nanos()) as f64 / UnixNanos::NANOS_PER_DAY as f64;
            }
        }
    }
    result
}

/// [`drawdowns`] collected, for tests (the writers stream them).
#[cfg(test)]
#[must_use]
pub(crate) fn drawdown_series(initial: f64, equity: &[f64]) -> Vec<f64> {
    drawdowns(initial, equity).collect()
}

/// Drawdown from the running peak at each bar (a fraction ≥ 0), one point at a time: the
/// writers of `equity.csv`, `report.html` and `equity.png` need no million-point buffer.
pub(crate) fn drawdowns(initial: f64, equity: &[f64]) -> impl Iterator<Item = f64> + '_ {
    let mut peak = initial;
    equity.iter().map(move |&e| {
        peak = peak.max(e);
        1.0 - e / peak
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawdown_and_duration() {
        let times: Vec<UnixNanos> = (0..5)
            .map(|i| UnixNanos::new(i * UnixNanos::NANOS_PER_DAY))
            .collect();
        let dd = drawdown(100.0, &[110.0, 99.0, 88.0, 111.0, 100.0], &times);
        assert!((dd.max - 0.2).abs() < 1e-12);
        assert_eq!(dd.duration_bars, 2);
        assert!((dd.duration_days - 2.0).abs() < 1e-12);
        let series = drawdown_series(100.0, &[110.0, 99.0]);
        assert!((series[1] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn returns_start_from_initial_cash() {
        // Returns +10 % and −10 %: mean 0, sample std √0.02, downside √(0.01 / 2).
        let s = ReturnStats::of(100.0, &[110.0, 99.0]);
        assert!(s.mean.abs() < 1e-12);
        assert!((s.std - 0.02f64.sqrt()).abs() < 1e-12);
        assert!((s.downside - 0.005f64.sqrt()).abs() < 1e-12);
    }
}
