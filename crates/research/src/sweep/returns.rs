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
    /// The range (of times for trading days, of point indices for blocks) of the period
    /// `current` names: a point inside it needs no [`period_key`], a 64-bit division per bar.
    range: (i64, i64),
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
            range: (0, 0),
            returns: Vec::with_capacity(periods),
        }
    }

    /// Adds the equity point at `ts`.
    #[inline]
    pub fn push(&mut self, ts: UnixNanos, equity: f64) {
        let at = match self.period {
            ReturnPeriod::TradingDay => ts.as_nanos(),
            ReturnPeriod::Bar | ReturnPeriod::Bars(_) => self.points as i64,
        };
        let (lo, hi) = self.range;
        if !(self.current.is_some() && lo <= at && at < hi) {
            self.new_key(ts);
        }
        self.last = equity;
        self.points += 1;
    }

    /// The point at `ts` (index `points`) is outside the current period's range: finds its
    /// period, closing the current one if it differs.
    fn new_key(&mut self, ts: UnixNanos) {
        let key = period_key(self.period, ts, self.points);
        if self.current.is_some_and(|k| k != key) {
            self.close();
        }
        self.current = Some(key);
        let length = match self.period {
            ReturnPeriod::TradingDay => Some(UnixNanos::NANOS_PER_DAY),
            // Every point is its own period.
            ReturnPeriod::Bar => None,
            ReturnPeriod::Bars(n) => i64::try_from(n.max(1)).ok(),
        };
        // A range that does not fit stays empty: every point then finds its key.
        self.range = length
            .and_then(|n| {
                let lo = key.checked_mul(n)?;
                Some((lo, lo.checked_add(n)?))
            })
            .unwrap_or((0, 0));
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

    /// The period of each point found from the current period's range is the one
    /// [`period_key`] gives, in any order of times (the reference: a key per point).
    #[test]
    fn ranges_find_the_keys_of_period_key() {
        let mut x = 5u64;
        let mut ts = 0i64;
        let mut points = Vec::new();
        for i in 0..20_000 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // Mostly forward by up to 9 hours, sometimes back, a few extreme times.
            ts = match x >> 60 {
                0 => ts.saturating_sub((x >> 20) as i64 % (30 * HOUR)),
                1 if i % 997 == 0 => i64::MIN + (x >> 40) as i64,
                2 if i % 991 == 0 => i64::MAX - (x >> 40) as i64,
                _ => ts.saturating_add((x >> 24) as i64 % (9 * HOUR)),
            };
            points.push((ts, 100.0 + (x >> 54) as f64));
        }
        for period in [
            ReturnPeriod::TradingDay,
            ReturnPeriod::Bar,
            ReturnPeriod::Bars(7),
        ] {
            let mut reference = Vec::new();
            let (mut start, mut last, mut current) = (100.0, 100.0, None);
            for (i, &(ts, equity)) in points.iter().enumerate() {
                let key = period_key(period, UnixNanos::new(ts), i);
                if current.is_some_and(|k| k != key) {
                    reference.push(last / start - 1.0);
                    start = last;
                }
                current = Some(key);
                last = equity;
            }
            reference.push(last / start - 1.0);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(
                bits(&series(period, &points)),
                bits(&reference),
                "{period:?}"
            );
        }
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
