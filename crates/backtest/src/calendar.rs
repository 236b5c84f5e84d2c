//! [`Annualization`]: how many bars make a year, read from the data's own calendar.
//!
//! Periods per year = bars per trading day × trading days per year, because a market that is
//! closed at night and at weekends does not produce bars then: extrapolating the bar rate of
//! the hours it trades to every hour of the year (what "bars ÷ years spanned" does on a sample
//! of a few sessions) inflates volatility, Sharpe and Sortino by the square root of the closed
//! share.
//!
//! - **Trading days per year**: 365 when the data has bars on Saturdays (UTC; no exchange
//!   trades then, so the market trades every day); 252 when the sample spans a Saturday without
//!   bars on it, or stops for a closure (a gap longer than an hour and than four bar intervals);
//!   365 for a short sample that runs without a break.
//! - **Bars per trading day**: the median number of bars on the sample's full days — its UTC
//!   dates other than the first and the last, which are usually partial; with fewer than three
//!   dates, the most bars on any one date.
//! - Bars longer than a day (weekly, monthly) have no intraday closures to skip: for them it is
//!   (bars − 1) ÷ years spanned.
//!
//! Every figure can be set in the config's `metrics:` section instead; the summary says which
//! figures it used and why ([`Annualization::basis`]).

use serde::Serialize;
use tradepulse_model::UnixNanos;

use crate::config::MetricsConfig;

/// Trading days per year of an exchange calendar (weekends and holidays closed).
pub const EXCHANGE_DAYS_PER_YEAR: f64 = 252.0;
/// Trading days per year of a market that never closes.
pub const CALENDAR_DAYS_PER_YEAR: f64 = 365.0;

const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;
const NANOS_PER_HOUR: i64 = 3_600 * UnixNanos::NANOS_PER_SECOND;

/// How a run's returns are annualised, and why: written into `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Annualization {
    /// Periods (equity points) per year; `None` with fewer than two bars. (In `summary.json`
    /// it is the summary's own `periods_per_year`.)
    #[serde(skip)]
    pub periods_per_year: Option<f64>,
    /// Trading days per year used (`None` when not a calendar product).
    pub trading_days_per_year: Option<f64>,
    /// Bars per trading day used (`None` when not a calendar product).
    pub bars_per_trading_day: Option<f64>,
    /// Where the figures come from, in words.
    pub basis: String,
}

impl Annualization {
    /// The annualisation of a run whose equity points are at `times` (in increasing order),
    /// with the overrides of `metrics` applied. One pass, no allocation beyond one counter per
    /// date.
    #[must_use]
    pub fn measure(metrics: &MetricsConfig, times: impl IntoIterator<Item = UnixNanos>) -> Self {
        if let Some(p) = metrics.periods_per_year {
            return Self {
                periods_per_year: Some(p),
                trading_days_per_year: metrics.trading_days_per_year,
                bars_per_trading_day: metrics.bars_per_trading_day,
                basis: "metrics.periods_per_year".into(),
            };
        }
        let calendar = Calendar::of(times);
        let days = match (metrics.trading_days_per_year, &calendar) {
            (Some(days), _) => Some((days, "metrics.trading_days_per_year".to_owned())),
            (None, Some(c)) if c.min_gap <= UnixNanos::NANOS_PER_DAY => Some(c.trading_days()),
            (None, _) => None,
        };
        let bars = match (metrics.bars_per_trading_day, &calendar) {
            (Some(bars), _) => Some((bars, "metrics.bars_per_trading_day".to_owned())),
            (None, Some(c)) if c.min_gap <= UnixNanos::NANOS_PER_DAY => Some(c.bars_per_day()),
            (None, _) => None,
        };
        match (days, bars) {
            (Some((days, why_days)), Some((bars, why_bars))) => Self {
                periods_per_year: Some(days * bars),
                trading_days_per_year: Some(days),
                bars_per_trading_day: Some(bars),
                basis: format!(
                    "trading days per year: {days} ({why_days}); bars per trading day: {bars} \
                     ({why_bars})"
                ),
            },
            _ => match calendar {
                Some(c) => Self {
                    periods_per_year: Some(c.span_rate()),
                    trading_days_per_year: None,
                    bars_per_trading_day: None,
                    basis: "bars longer than a day: (bars − 1) / years spanned".into(),
                },
                None => Self {
                    periods_per_year: None,
                    trading_days_per_year: None,
                    bars_per_trading_day: None,
                    basis: "fewer than two bars".into(),
                },
            },
        }
    }
}

/// What the timestamps say about when the market trades.
struct Calendar {
    bars: usize,
    /// First and last time.
    first: i64,
    last: i64,
    /// Shortest and longest gap between consecutive bars.
    min_gap: i64,
    max_gap: i64,
    /// Bars per UTC date, for the dates that have bars, in order.
    per_date: Vec<u32>,
    saturday_bars: bool,
    /// Days since the epoch of the first and last bar.
    first_date: i64,
    last_date: i64,
}

impl Calendar {
    /// `None` with fewer than two bars.
    fn of(times: impl IntoIterator<Item = UnixNanos>) -> Option<Self> {
        let mut times = times.into_iter().map(UnixNanos::as_nanos);
        let first = times.next()?;
        let mut calendar = Self {
            bars: 1,
            first,
            last: first,
            min_gap: i64::MAX,
            max_gap: 0,
            per_date: vec![1],
            saturday_bars: is_saturday(date(first)),
            first_date: date(first),
            last_date: date(first),
        };
        let mut previous_day = calendar.first_date;
        for ts in times {
            let gap = ts - calendar.last;
            calendar.min_gap = calendar.min_gap.min(gap);
            calendar.max_gap = calendar.max_gap.max(gap);
            let day = date(ts);
            if day == previous_day {
                if let Some(n) = calendar.per_date.last_mut() {
                    *n += 1;
                }
            } else {
                calendar.per_date.push(1);
                calendar.saturday_bars |= is_saturday(day);
                previous_day = day;
            }
            calendar.bars += 1;
            calendar.last = ts;
        }
        calendar.last_date = previous_day;
        (calendar.bars >= 2).then_some(calendar)
    }

    fn trading_days(&self) -> (f64, String) {
        let spans_saturday = self.last_date - self.first_date >= 6
            || (self.first_date..=self.last_date).any(is_saturday);
        let closure = NANOS_PER_HOUR.max(self.min_gap.saturating_mul(4));
        if self.saturday_bars {
            (
                CALENDAR_DAYS_PER_YEAR,
                "bars on Saturdays: trades every day".into(),
            )
        } else if spans_saturday {
            (
                EXCHANGE_DAYS_PER_YEAR,
                "no bars on Saturdays: closed at weekends".into(),
            )
        } else if self.max_gap > closure {
            let hours = self.max_gap as f64 / NANOS_PER_HOUR as f64;
            (
                EXCHANGE_DAYS_PER_YEAR,
                format!("the bars stop for {hours:.1} h: the market closes"),
            )
        } else {
            (
                CALENDAR_DAYS_PER_YEAR,
                "no closure in the data: trades around the clock".into(),
            )
        }
    }

    fn bars_per_day(&self) -> (f64, String) {
        let dates = self.per_date.len();
        if dates >= 3 {
            let mut full: Vec<u32> = self.per_date[1..dates - 1].to_vec();
            full.sort_unstable();
            let mid = full.len() / 2;
            let median = if full.len() % 2 == 1 {
                f64::from(full[mid])
            } else {
                (f64::from(full[mid - 1]) + f64::from(full[mid])) / 2.0
            };
            let n = full.len();
            (
                median,
                format!(
                    "median over {n} full UTC day{}",
                    if n == 1 { "" } else { "s" }
                ),
            )
        } else {
            let most = self.per_date.iter().copied().max().unwrap_or(0);
            (
                f64::from(most),
                "most bars on one UTC day; no full day in the sample".into(),
            )
        }
    }

    /// (bars − 1) / years spanned.
    fn span_rate(&self) -> f64 {
        let years = (self.last - self.first) as f64 / 1e9 / SECONDS_PER_YEAR;
        (self.bars - 1) as f64 / years
    }
}

/// Days since 1970-01-01 (UTC) of `nanos`.
fn date(nanos: i64) -> i64 {
    nanos.div_euclid(UnixNanos::NANOS_PER_DAY)
}

/// 1970-01-01 was a Thursday.
fn is_saturday(date: i64) -> bool {
    (date + 3).rem_euclid(7) == 5
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60 * UnixNanos::NANOS_PER_SECOND;
    const DAY: i64 = UnixNanos::NANOS_PER_DAY;
    /// 2024-01-01, a Monday.
    const MONDAY: i64 = 19_723 * DAY;

    fn measure(times: &[i64]) -> Annualization {
        let times: Vec<UnixNanos> = times.iter().map(|&t| UnixNanos::new(t)).collect();
        Annualization::measure(&MetricsConfig::default(), times)
    }

    #[test]
    fn weekdays_are_right() {
        assert!(is_saturday(date(MONDAY + 5 * DAY)));
        assert!(!is_saturday(date(MONDAY + 6 * DAY)));
        assert!(is_saturday(date(-5 * DAY)), "1969-12-27 was a Saturday");
    }

    #[test]
    fn daily_exchange_bars_make_252_periods() {
        // Three weeks of weekday bars.
        let times: Vec<i64> = (0..21)
            .filter(|d| d % 7 < 5)
            .map(|d| MONDAY + d * DAY)
            .collect();
        let a = measure(&times);
        assert_eq!(a.periods_per_year, Some(252.0));
        assert_eq!(a.bars_per_trading_day, Some(1.0));
        assert!(a.basis.contains("no bars on Saturdays"), "{}", a.basis);
    }

    #[test]
    fn round_the_clock_minutes_make_365_days_of_1440() {
        let times: Vec<i64> = (0..4 * 1440 + 100).map(|m| MONDAY + m * MINUTE).collect();
        let a = measure(&times);
        assert_eq!(a.trading_days_per_year, Some(365.0));
        assert_eq!(a.bars_per_trading_day, Some(1440.0));
        assert_eq!(a.periods_per_year, Some(525_600.0));
    }

    #[test]
    fn a_session_with_a_closure_is_an_exchange_calendar() {
        // Two 6.5-hour sessions of minute bars, Monday and Tuesday, closed overnight.
        let session =
            |day: i64| (0..390).map(move |m| MONDAY + day * DAY + 14 * 60 * MINUTE + m * MINUTE);
        let times: Vec<i64> = session(0).chain(session(1)).collect();
        let a = measure(&times);
        assert_eq!(a.trading_days_per_year, Some(252.0));
        assert_eq!(a.bars_per_trading_day, Some(390.0));
        assert!(a.basis.contains("the market closes"), "{}", a.basis);
    }

    #[test]
    fn weekly_bars_use_the_span() {
        let times: Vec<i64> = (0..105).map(|w| MONDAY + w * 7 * DAY).collect();
        let a = measure(&times);
        let p = a.periods_per_year.unwrap();
        assert!((p - 52.18).abs() < 0.01, "{p}");
        assert_eq!(a.trading_days_per_year, None);
    }

    #[test]
    fn overrides_win() {
        let times: Vec<UnixNanos> = (0..10).map(|d| UnixNanos::new(MONDAY + d * DAY)).collect();
        let metrics = MetricsConfig {
            trading_days_per_year: Some(260.0),
            ..MetricsConfig::default()
        };
        let a = Annualization::measure(&metrics, times.iter().copied());
        assert_eq!(a.periods_per_year, Some(260.0));
        let metrics = MetricsConfig {
            periods_per_year: Some(12.0),
            ..MetricsConfig::default()
        };
        assert_eq!(
            Annualization::measure(&metrics, times).periods_per_year,
            Some(12.0)
        );
        assert_eq!(measure(&[MONDAY]).periods_per_year, None);
    }
}
