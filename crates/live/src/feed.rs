//! [`replay_bars`]: market data from recorded bars (a CSV file or the catalog), fed to the engine
//! at a chosen speed — the core service's paper mode without any network.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::watch;
use tradepulse_model::{Bar, InstrumentId, UnixNanos};

use crate::engine::{EngineError, EngineHandle};

/// How fast recorded bars are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ReplaySpeed {
    /// As fast as the engine takes them.
    Max,
    /// A fixed number of bars per second of wall time.
    BarsPerSecond(f64),
    /// The recorded time between bars divided by this factor (`86400`: a daily bar a second).
    Multiplier(f64),
}

impl ReplaySpeed {
    /// Checks the factor.
    ///
    /// # Errors
    /// A message naming the problem when a rate or factor is not a positive finite number.
    pub fn validate(self) -> Result<(), String> {
        match self {
            Self::Max => Ok(()),
            Self::BarsPerSecond(v) | Self::Multiplier(v) if v.is_finite() && v > 0.0 => Ok(()),
            Self::BarsPerSecond(v) | Self::Multiplier(v) => {
                Err(format!("{v} is not a positive finite number"))
            }
        }
    }

    /// The wall-time pause before `bar`, given the previous bar.
    fn pause(self, previous: Option<&Bar>, bar: &Bar) -> Duration {
        match self {
            Self::Max => Duration::ZERO,
            Self::BarsPerSecond(rate) => Duration::from_secs_f64(1.0 / rate),
            Self::Multiplier(factor) => previous.map_or(Duration::ZERO, |p| {
                let gap = bar.ts.as_nanos().saturating_sub(p.ts.as_nanos()).max(0);
                // Capped so a weekend or a data gap does not stall the replay for hours.
                Duration::from_secs_f64((gap as f64 / 1e9 / factor).min(60.0))
            }),
        }
    }
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReplayReport {
    /// Bars handed to the engine.
    pub sent: u64,
    /// Bars skipped because they were at or before the resume point.
    pub skipped: u64,
    /// The replay was stopped before its last bar.
    pub stopped: bool,
}

/// Replays `bars` of `instrument` into `engine` at `speed`, after the engine is ready (no intent
/// may leave before reconciliation), skipping the bars at or before `resume_after` (the last
/// bar a restored strategy checkpoint includes). Ends early when `stop` turns `true`.
///
/// # Errors
/// [`EngineError::Stopped`] if the engine stops while bars remain.
pub async fn replay_bars(
    engine: EngineHandle,
    instrument: InstrumentId,
    bars: Vec<Bar>,
    speed: ReplaySpeed,
    resume_after: Option<UnixNanos>,
    mut stop: watch::Receiver<bool>,
) -> Result<ReplayReport, EngineError> {
    let mut report = ReplayReport::default();
    while !engine.is_ready() {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
            _ = stop.wait_for(|s| *s) => {
                report.stopped = true;
                return Ok(report);
            }
        }
    }
    let start = resume_after.map_or(0, |t| bars.partition_point(|b| b.ts <= t));
    report.skipped = start as u64;
    let mut previous: Option<&Bar> = None;
    let mut due = tokio::time::Instant::now();
    for bar in &bars[start..] {
        if *stop.borrow() {
            report.stopped = true;
            return Ok(report);
        }
        let pause = speed.pause(previous, bar);
        if !pause.is_zero() {
            due += pause;
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                _ = stop.wait_for(|s| *s) => {
                    report.stopped = true;
                    return Ok(report);
                }
            }
        }
        engine.on_bar(instrument.clone(), *bar)?;
        report.sent += 1;
        previous = Some(bar);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(ts_s: i64) -> Bar {
        let p = "1".parse().unwrap_or_else(|_| unreachable!());
        Bar {
            ts: UnixNanos::new(ts_s * 1_000_000_000),
            open: p,
            high: p,
            low: p,
            close: p,
            volume: 1.0,
        }
    }

    #[test]
    fn pauses_follow_the_speed() {
        let (a, b) = (bar(0), bar(86_400));
        assert_eq!(ReplaySpeed::Max.pause(Some(&a), &b), Duration::ZERO);
        assert_eq!(
            ReplaySpeed::BarsPerSecond(4.0).pause(Some(&a), &b),
            Duration::from_millis(250)
        );
        assert_eq!(
            ReplaySpeed::Multiplier(86_400.0).pause(Some(&a), &b),
            Duration::from_secs(1)
        );
        assert_eq!(
            ReplaySpeed::Multiplier(1.0).pause(Some(&a), &b),
            Duration::from_secs(60)
        );
        assert!(ReplaySpeed::BarsPerSecond(0.0).validate().is_err());
        assert!(ReplaySpeed::Multiplier(f64::NAN).validate().is_err());
    }
}
