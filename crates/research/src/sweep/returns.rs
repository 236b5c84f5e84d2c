//! The per-period return series a sweep keeps of every trial: the input of the Deflated Sharpe
//! Ratio and the PBO.
//!
//! A trial's equity is aggregated into [`ReturnPeriod`]s as it is read, O(1) per bar, so a
//! trial keeps one number per period and never a return per bar (a thousand trials of a million
//! bars would be 8 GB). Every trial of a sweep runs on the same bars, so their series cover the
//! same periods and line up for the cross-validation.

use tradepulse_backtest::ReturnPeriod;
use tradepulse_model::{Bar, UnixNanos};

use super::SweepError;

/// Most return values a whole sweep may keep (trials × periods): 16 M numbers, 128 MB.
const MAX_RETURN_VALUES: usize = 16 << 20;

/// Aggregates equity points into one return per period, in one pass.
#[derive(Debug, Clone)]
pub struct PeriodReturns {
    period: ReturnPeriod,
    /// Equity at the end of the previous period (the initial cash before the first).
    period_start: f64,
    /// Latest equity.
    last: f64,
    /// Key of the period the latest point belongs to.
    current: Option<i64>,
    /// Points seen.
    points: usize,
    returns: Vec<f64>,
}

impl PeriodReturns {
    /// An empty series starting from `initial` equity, with room for `periods` returns.
    #[must_use]
    pub fn new(period: ReturnPeriod, initial: f64, periods: usize) -> Self {
        Self {
            period,
            period_start: initial,
            last: initial,
            current: None,
            points: 0,
            returns: Vec::with_capacity(periods),
        }
    }

    /// Adds the equity point at `ts`.
    pub fn push(&mut self, ts: UnixNanos, equity: f64) {
        let key = period_key(self.period, ts, self.points);
        if self.current.is_some_and(|k| k != key) {
            self.close();
        }
        self.current = Some(key);
        self.last = equity;
        self.points += 1;
    }

    /// The returns, one per period that had a point.
    #[must_use]
    pub fn finish(mut self) -> Vec<f64> {
        if self.current.is_some() {
            self.close();
        }
        self.returns
    }

    fn close(&mut self) {
        self.returns.push(self.last / self.period_start - 1.0);
        self.period_start = self.last;
    }
}

/// Which period the `index`-th point, at `ts`, belongs to.
fn period_key(period: ReturnPeriod, ts: UnixNanos, index: usize) -> i64 {
    match period {
        ReturnPeriod::TradingDay => ts.as_nanos().div_euclid(UnixNanos::NANOS_PER_DAY),
        ReturnPeriod::Bar => index as i64,
        ReturnPeriod::Bars(n) => (index / n.max(1)) as i64,
    }
}

/// The number of periods `bars` make (every trial's T).
#[must_use]
pub fn period_count(period: ReturnPeriod, bars: &[Bar]) -> usize {
    let mut count = 0usize;
    let mut current = None;
    for (i, bar) in bars.iter().enumerate() {
        let key = period_key(period, bar.ts, i);
        if current != Some(key) {
            count += 1;
            current = Some(key);
        }
    }
    count
}

/// Checks `period` and that `trials` series of `periods` returns fit in memory.
///
/// # Errors
/// [`SweepError::Config`] naming `sweep.returns` for blocks of zero bars or a sweep that would
/// keep more than [`MAX_RETURN_VALUES`] numbers.
pub(crate) fn check(period: ReturnPeriod, trials: usize, periods: usize) -> Result<(), SweepError> {
    let bad = |reason: String| SweepError::Config {
        field: "sweep.returns".into(),
        reason,
    };
    if period == ReturnPeriod::Bars(0) {
        return Err(bad("blocks need at least 1 bar, got {bars: 0}".into()));
    }
    let values = trials.saturating_mul(periods);
    if values > MAX_RETURN_VALUES {
        return Err(bad(format!(
            "{trials} trials × {periods} periods is {:.1} GB of returns (limit {} MB): choose \
             fewer, longer periods (`returns: trading_day` or `returns: {{bars: N}}`)",
            values as f64 * 8.0 / 1e9,
            (MAX_RETURN_VALUES * 8) >> 20
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600 * UnixNanos::NANOS_PER_SECOND;

    fn series(period: ReturnPeriod, points: &[(i64, f64)]) -> Vec<f64> {
        let mut r = PeriodReturns::new(period, 100.0, 0);
        for &(ts, equity) in points {
            r.push(UnixNanos::new(ts), equity);
        }
        r.finish()
    }

    #[test]
    fn returns_run_from_period_end_to_period_end() {
        // Two points on day 0, three on day 1, one on day 3.
        let day = UnixNanos::NANOS_PER_DAY;
        let points = [
            (HOUR, 101.0),
            (2 * HOUR, 102.0),
            (day + HOUR, 99.0),
            (day + 2 * HOUR, 100.0),
            (day + 3 * HOUR, 110.16),
            (3 * day, 99.144),
        ];
        let daily = series(ReturnPeriod::TradingDay, &points);
        let expected = [0.02, 0.08, -0.1];
        assert_eq!(daily.len(), 3);
        for (a, b) in daily.iter().zip(expected) {
            assert!((a - b).abs() < 1e-12, "{daily:?}");
        }
        assert_eq!(series(ReturnPeriod::Bar, &points).len(), 6);
        let blocks = series(ReturnPeriod::Bars(4), &points);
        assert_eq!(blocks.len(), 2);
        assert!(
            blocks[0].abs() < 1e-12 && (blocks[1] + 0.00856).abs() < 1e-12,
            "{blocks:?}"
        );
        // The returns compound to the whole change.
        let total: f64 = daily.iter().map(|r| 1.0 + r).product();
        assert!((total - 0.99144).abs() < 1e-12);
        assert!(series(ReturnPeriod::TradingDay, &[]).is_empty());
    }

    #[test]
    fn a_sweep_too_large_for_memory_is_refused() {
        assert!(check(ReturnPeriod::Bar, 1_000, 16_000).is_ok());
        let err = check(ReturnPeriod::Bar, 1_000, 1_000_000)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("sweep.returns: 1000 trials × 1000000 periods is 8.0 GB"),
            "{err}"
        );
        assert!(check(ReturnPeriod::Bars(0), 1, 1).is_err());
    }
}
