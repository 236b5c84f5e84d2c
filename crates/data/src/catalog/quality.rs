//! [`validate_bars`]: a data-quality report over a bar series — duplicates and disorder, gaps,
//! OHLC consistency and return outliers.

use std::fmt;

use tradepulse_model::{Bar, BarError, UnixNanos};

use super::BarInterval;

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub enum QualityIssue {
    /// Two bars share a timestamp (error).
    Duplicate {
        /// The timestamp.
        ts: UnixNanos,
    },
    /// A bar is earlier than the one before it (error).
    OutOfOrder {
        /// This bar's time.
        ts: UnixNanos,
        /// The previous bar's time.
        previous: UnixNanos,
    },
    /// A bar breaks an OHLC rule (error).
    Ohlc {
        /// The bar's time.
        ts: UnixNanos,
        /// The rule.
        error: BarError,
    },
    /// Bars are missing between two timestamps (warning: may be a market closure).
    Gap {
        /// Last bar before the gap.
        after: UnixNanos,
        /// First bar after the gap.
        before: UnixNanos,
        /// Number of missing bars.
        missing: i64,
    },
    /// A close-to-close return far outside the series' robust spread (warning).
    Outlier {
        /// The bar's time.
        ts: UnixNanos,
        /// The log return.
        log_return: f64,
        /// How many robust standard deviations from the median it is.
        sigmas: f64,
    },
}

impl QualityIssue {
    /// `true` for errors (the data is wrong), `false` for warnings (the data is suspicious).
    #[must_use]
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Self::Duplicate { .. } | Self::OutOfOrder { .. } | Self::Ohlc { .. }
        )
    }
}

impl fmt::Display for QualityIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Duplicate { ts } => write!(f, "error: duplicate bar at {ts}"),
            Self::OutOfOrder { ts, previous } => {
                write!(
                    f,
                    "error: bar at {ts} comes after the later bar at {previous}"
                )
            }
            Self::Ohlc { ts, error } => write!(f, "error: bar at {ts}: {error}"),
            Self::Gap {
                after,
                before,
                missing,
            } => write!(
                f,
                "warning: {missing} bar(s) missing between {after} and {before}"
            ),
            Self::Outlier {
                ts,
                log_return,
                sigmas,
            } => write!(
                f,
                "warning: outlier at {ts}: log return {log_return:.6} is {sigmas:.1} robust sigmas from the median"
            ),
        }
    }
}

/// The result of [`validate_bars`].
#[derive(Debug, Clone, PartialEq)]
pub struct QualityReport {
    /// Bars checked.
    pub bars: usize,
    /// The bar interval used for gap detection (given, or the most common spacing).
    pub interval: Option<BarInterval>,
    /// Findings in time order of discovery.
    pub issues: Vec<QualityIssue>,
}

impl QualityReport {
    /// Number of errors.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.issues.iter().filter(|i| i.is_error()).count()
    }

    /// Number of warnings.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.issues.len() - self.errors()
    }

    /// `true` when nothing was found.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
    }
}

impl fmt::Display for QualityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for issue in &self.issues {
            writeln!(f, "{issue}")?;
        }
        let interval = self
            .interval
            .map_or_else(|| "unknown".to_owned(), |i| i.to_string());
        write!(
            f,
            "{} bars, interval {interval}: {} error(s), {} warning(s)",
            self.bars,
            self.errors(),
            self.warnings()
        )
    }
}

/// The most common positive spacing between consecutive bars.
fn infer_interval(bars: &[Bar]) -> Option<BarInterval> {
    let mut diffs: Vec<i64> = bars
        .windows(2)
        .map(|w| w[1].ts.as_nanos() - w[0].ts.as_nanos())
        .filter(|d| *d > 0)
        .collect();
    diffs.sort_unstable();
    let mut best: Option<(i64, usize)> = None;
    let mut i = 0;
    while i < diffs.len() {
        let j = diffs[i..].partition_point(|d| *d == diffs[i]) + i;
        if best.is_none_or(|(_, n)| j - i > n) {
            best = Some((diffs[i], j - i));
        }
        i = j;
    }
    best.and_then(|(d, _)| BarInterval::from_nanos(d).ok())
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// Checks `bars` (in stored order): duplicates and out-of-order timestamps, OHLC rules
/// ([`Bar::validate`]), gaps longer than `interval` (inferred as the most common spacing when
/// `None`), and close-to-close log returns more than `outlier_sigmas` robust standard
/// deviations (1.4826 × MAD) from the median.
#[must_use]
pub fn validate_bars(
    bars: &[Bar],
    interval: Option<BarInterval>,
    outlier_sigmas: f64,
) -> QualityReport {
    let interval = interval.or_else(|| infer_interval(bars));
    let mut issues = Vec::new();
    for bar in bars {
        if let Err(error) = bar.validate() {
            issues.push(QualityIssue::Ohlc { ts: bar.ts, error });
        }
    }
    for w in bars.windows(2) {
        let (prev, next) = (w[0].ts, w[1].ts);
        if next == prev {
            issues.push(QualityIssue::Duplicate { ts: next });
        } else if next < prev {
            issues.push(QualityIssue::OutOfOrder {
                ts: next,
                previous: prev,
            });
        } else if let Some(step) = interval {
            let diff = next.as_nanos() - prev.as_nanos();
            if diff > step.as_nanos() {
                issues.push(QualityIssue::Gap {
                    after: prev,
                    before: next,
                    missing: diff / step.as_nanos() - 1,
                });
            }
        }
    }
    let returns: Vec<(UnixNanos, f64)> = bars
        .windows(2)
        .filter(|w| w[0].close.is_positive() && w[1].close.is_positive())
        .map(|w| (w[1].ts, (w[1].close.as_f64() / w[0].close.as_f64()).ln()))
        .filter(|(_, r)| r.is_finite())
        .collect();
    if returns.len() >= 10 {
        let mut sorted: Vec<f64> = returns.iter().map(|(_, r)| *r).collect();
        sorted.sort_by(f64::total_cmp);
        let med = median(&sorted);
        let mut deviations: Vec<f64> = sorted.iter().map(|r| (r - med).abs()).collect();
        deviations.sort_by(f64::total_cmp);
        let sigma = 1.4826 * median(&deviations);
        if sigma > 0.0 {
            for (ts, r) in returns {
                let sigmas = (r - med).abs() / sigma;
                if sigmas > outlier_sigmas {
                    issues.push(QualityIssue::Outlier {
                        ts,
                        log_return: r,
                        sigmas,
                    });
                }
            }
        }
    }
    QualityReport {
        bars: bars.len(),
        interval,
        issues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(minute: i64, close: f64) -> Bar {
        let p = tradepulse_model::Price::try_from_f64(close).unwrap();
        Bar {
            ts: UnixNanos::new(minute * 60_000_000_000),
            open: p,
            high: p,
            low: p,
            close: p,
            volume: 1.0,
        }
    }

    /// A random walk with uniform returns in ±0.1 % (a small LCG, deterministic).
    fn clean(n: i64) -> Vec<Bar> {
        let mut state: u64 = 42;
        let mut price = 100.0_f64;
        (0..n)
            .map(|i| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let u = (state >> 11) as f64 / (1_u64 << 53) as f64;
                price *= 1.0 + (u - 0.5) * 0.002;
                bar(i, (price * 1e6).round() / 1e6)
            })
            .collect()
    }

    #[test]
    fn clean_series_has_no_issues() {
        let report = validate_bars(&clean(100), None, 10.0);
        assert!(report.is_clean(), "{report}");
        assert_eq!(
            report.interval.map(|i| i.to_string()),
            Some("1m".to_owned())
        );
    }

    #[test]
    fn finds_every_kind_of_issue() {
        let mut bars = clean(100);
        bars.remove(50); // a gap of one bar
        bars[10].ts = bars[9].ts; // a duplicate
        bars[20].low = bars[20]
            .high
            .checked_add(tradepulse_model::Price::from_raw(1))
            .unwrap();
        let spike = bars[70].close.as_f64() * 1.5;
        bars[70] = bar(bars[70].ts.as_nanos() / 60_000_000_000, spike);
        let report = validate_bars(&bars, None, 10.0);
        let kinds: Vec<&str> = report
            .issues
            .iter()
            .map(|i| match i {
                QualityIssue::Duplicate { .. } => "dup",
                QualityIssue::OutOfOrder { .. } => "order",
                QualityIssue::Ohlc { .. } => "ohlc",
                QualityIssue::Gap { .. } => "gap",
                QualityIssue::Outlier { .. } => "outlier",
            })
            .collect();
        assert!(kinds.contains(&"dup"), "{report}");
        assert!(kinds.contains(&"ohlc"), "{report}");
        assert!(kinds.contains(&"gap"), "{report}");
        assert!(kinds.contains(&"outlier"), "{report}");
        assert_eq!(report.errors(), 2, "{report}");
        assert!(report.to_string().ends_with("error(s), 4 warning(s)") || report.warnings() >= 2);
    }
}
