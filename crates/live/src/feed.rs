//! Market data into the engine: [`replay_bars`] (recorded bars at a chosen speed — the core
//! service's paper mode without any network) and [`stream_bars`] (completed bars from a Redis
//! stream through a consumer group, so several runners share one feed).

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::watch;
use tradepulse_model::{Bar, InstrumentId, Price, UnixNanos};
use tradepulse_store::StreamConsumer;

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
        tokio::select! {
            () = engine.market_room() => {}
            _ = stop.wait_for(|s| *s) => {
                report.stopped = true;
                return Ok(report);
            }
        }
        engine.on_bar(instrument.clone(), *bar)?;
        report.sent += 1;
        previous = Some(bar);
    }
    Ok(report)
}

/// One completed bar as published on a market-data stream: exact prices as decimal strings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarMessage {
    /// `SYMBOL.VENUE`.
    pub instrument: String,
    /// The bar's open time, UTC nanoseconds.
    pub ts_ns: i64,
    /// Open.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close.
    pub close: Price,
    /// Volume.
    pub volume: f64,
}

impl BarMessage {
    /// The message of `bar` of `instrument`.
    #[must_use]
    pub fn new(instrument: &InstrumentId, bar: &Bar) -> Self {
        Self {
            instrument: instrument.to_string(),
            ts_ns: bar.ts.as_nanos(),
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        }
    }

    /// The bar.
    #[must_use]
    pub fn bar(&self) -> Bar {
        Bar {
            ts: UnixNanos::new(self.ts_ns),
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        }
    }
}

/// What a stream feed did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamReport {
    /// Bars handed to the engine.
    pub sent: u64,
    /// Bars at or before an instrument's resume point, or of instruments not traded here
    /// (acknowledged, not handed over).
    pub skipped: u64,
    /// Entries that did not decode (acknowledged and logged; a bad publisher must not stall
    /// every runner).
    pub poison: u64,
}

/// Feeds the bars `consumer` reads (its group shares the stream with other runners: each
/// entry goes to one of them) into `engine` once it is ready, skipping bars at or before the
/// instrument's entry in `resume_after` and instruments not listed there; each batch is
/// acknowledged after it was handed over, so a runner that dies re-reads its pending entries
/// on restart. Ends when `stop` turns `true`.
///
/// While Redis is unreachable (a restart, a failover) the feed keeps trying, with a back-off
/// up to 5 s between attempts, and logs the outage once and the recovery once; after the
/// reconnect the consumer re-reads its pending entries, and bars already handed over are
/// skipped by their time, so none is lost or handed over twice (the restart-redis drill,
/// `deploy/chaos/restart-redis.sh`).
///
/// # Errors
/// [`EngineError::Stopped`] if the engine stops; [`EngineError::Store`] on an error that
/// retrying cannot cure (not a transient one).
pub async fn stream_bars(
    engine: EngineHandle,
    mut consumer: StreamConsumer,
    resume_after: Vec<(InstrumentId, Option<UnixNanos>)>,
    mut stop: watch::Receiver<bool>,
) -> Result<StreamReport, EngineError> {
    let mut report = StreamReport::default();
    while !engine.is_ready() {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
            _ = stop.wait_for(|s| *s) => return Ok(report),
        }
    }
    let mut last: Vec<(InstrumentId, Option<UnixNanos>)> = resume_after;
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(report);
        }
        let batch = tokio::select! {
            b = consumer.next_batch::<BarMessage>() => b,
            _ = stop.wait_for(|s| *s) => return Ok(report),
        };
        let entries = match batch {
            Ok(entries) => {
                if failures > 0 {
                    tracing::info!(failures, "market-data stream reachable again");
                    failures = 0;
                }
                entries
            }
            Err(e) if e.is_transient() => {
                if failures == 0 {
                    tracing::warn!(error = %e, "market-data stream unreachable; retrying until it answers");
                }
                failures = failures.saturating_add(1);
                tokio::select! {
                    () = tokio::time::sleep(stream_backoff(failures)) => {}
                    _ = stop.wait_for(|s| *s) => return Ok(report),
                }
                continue;
            }
            Err(tradepulse_store::Error::PoisonEntry { id, reason }) => {
                tracing::warn!(%id, %reason, "market-data entry does not decode; acknowledged and skipped");
                report.poison += 1;
                consumer
                    .ack(std::slice::from_ref(&id))
                    .await
                    .map_err(|e| EngineError::Store(e.to_string()))?;
                continue;
            }
            Err(e) => return Err(EngineError::Store(e.to_string())),
        };
        let mut ids = Vec::with_capacity(entries.len());
        for entry in entries {
            ids.push(entry.id);
            let message = entry.value;
            let bar = message.bar();
            match last
                .iter_mut()
                .find(|(i, _)| i.as_str() == message.instrument)
            {
                Some((instrument, seen)) if seen.is_none_or(|t| bar.ts > t) => {
                    *seen = Some(bar.ts);
                    engine.market_room().await;
                    engine.on_bar(instrument.clone(), bar)?;
                    report.sent += 1;
                }
                _ => report.skipped += 1,
            }
        }
        match consumer.ack(&ids).await {
            Ok(_) => {}
            // Still pending: re-read after the reconnect and acknowledged then (skipped by time).
            Err(e) if e.is_transient() => {
                tracing::warn!(error = %e, entries = ids.len(), "market-data acknowledgement failed; the entries stay pending");
            }
            Err(e) => return Err(EngineError::Store(e.to_string())),
        }
    }
}

/// Longest wait between two attempts to reach an unreachable market-data stream.
const STREAM_RETRY_MAX: Duration = Duration::from_secs(5);

/// The wait after `failures` consecutive failures: 100 ms doubling, at most
/// [`STREAM_RETRY_MAX`].
fn stream_backoff(failures: u32) -> Duration {
    Duration::from_millis(100)
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)))
        .min(STREAM_RETRY_MAX)
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
    fn stream_retries_back_off_to_a_bound() {
        assert_eq!(stream_backoff(1), Duration::from_millis(100));
        assert_eq!(stream_backoff(2), Duration::from_millis(200));
        assert_eq!(stream_backoff(6), Duration::from_millis(3200));
        assert_eq!(stream_backoff(7), STREAM_RETRY_MAX);
        assert_eq!(stream_backoff(u32::MAX), STREAM_RETRY_MAX);
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
