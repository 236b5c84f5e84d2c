//! Rate-limit bookkeeping: the `X-MBX-USED-WEIGHT-*` and `X-MBX-ORDER-COUNT-*` headers of every
//! answer (exposed for metrics) and the `Retry-After` of a 429/418, which holds back every further
//! request until it has passed (Binance bans IPs that keep sending after a 429).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Usage in one interval, as a header reported it: `interval` is Binance's
/// `(intervalNum)(intervalLetter)`, e.g. `1M`, `10S`, `1D`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// e.g. `1M`.
    pub interval: String,
    /// The count the venue reported.
    pub count: u64,
}

/// A snapshot of the venue's rate-limit counters as last reported, for metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    /// Request weight used per interval (`X-MBX-USED-WEIGHT-*`).
    pub used_weight: Vec<Usage>,
    /// Orders placed per interval (`X-MBX-ORDER-COUNT-*`).
    pub order_count: Vec<Usage>,
    /// Remaining wait of the last `Retry-After`, if it has not passed.
    pub retry_after: Option<Duration>,
    /// HTTP 429 answers so far.
    pub http_429: u64,
    /// HTTP 418 answers (IP bans) so far.
    pub http_418: u64,
}

#[derive(Debug, Default)]
struct State {
    weight: BTreeMap<String, u64>,
    orders: BTreeMap<String, u64>,
    blocked_until: Option<Instant>,
    http_429: u64,
    http_418: u64,
}

/// Shared by every request of one client. The lock is held for a few map updates only, never
/// across an await.
#[derive(Debug, Default)]
pub(crate) struct RateLimitTracker {
    state: Mutex<State>,
}

const WEIGHT_PREFIX: &str = "x-mbx-used-weight-";
const ORDER_PREFIX: &str = "x-mbx-order-count-";

impl RateLimitTracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A poisoned lock only means another thread panicked mid-update of counters; the counters
        // are still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records the usage headers of one answer.
    pub(crate) fn record_headers(&self, headers: &reqwest::header::HeaderMap) {
        let mut state = self.lock();
        for (name, value) in headers {
            let name = name.as_str();
            let Some(count) = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(interval) = name.strip_prefix(WEIGHT_PREFIX) {
                state.weight.insert(interval.to_ascii_uppercase(), count);
            } else if let Some(interval) = name.strip_prefix(ORDER_PREFIX) {
                state.orders.insert(interval.to_ascii_uppercase(), count);
            }
        }
    }

    /// Records a 429/418 and its `Retry-After`.
    pub(crate) fn record_limited(&self, status: u16, retry_after: Duration) {
        let mut state = self.lock();
        if status == 418 {
            state.http_418 += 1;
        } else {
            state.http_429 += 1;
        }
        let until = Instant::now() + retry_after;
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
    }

    /// How long requests must still wait, if a `Retry-After` has not passed.
    pub(crate) fn blocked_for(&self) -> Option<Duration> {
        let mut state = self.lock();
        let now = Instant::now();
        match state.blocked_until {
            Some(until) if until > now => Some(until - now),
            Some(_) => {
                state.blocked_until = None;
                None
            }
            None => None,
        }
    }

    pub(crate) fn snapshot(&self) -> RateLimitSnapshot {
        let retry_after = self.blocked_for();
        let state = self.lock();
        let list = |map: &BTreeMap<String, u64>| {
            map.iter()
                .map(|(interval, count)| Usage {
                    interval: interval.clone(),
                    count: *count,
                })
                .collect()
        };
        RateLimitSnapshot {
            used_weight: list(&state.weight),
            order_count: list(&state.orders),
            retry_after,
            http_429: state.http_429,
            http_418: state.http_418,
        }
    }
}

/// `Retry-After` in seconds (Binance sends whole seconds); a missing or unreadable header waits
/// one second rather than not at all.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn reads_usage_headers_and_retry_after() {
        let tracker = RateLimitTracker::default();
        let mut headers = HeaderMap::new();
        headers.insert("X-MBX-USED-WEIGHT-1M", HeaderValue::from_static("42"));
        headers.insert("x-mbx-order-count-10s", HeaderValue::from_static("3"));
        headers.insert("Retry-After", HeaderValue::from_static("7"));
        tracker.record_headers(&headers);
        let snap = tracker.snapshot();
        assert_eq!(
            snap.used_weight,
            vec![Usage {
                interval: "1M".into(),
                count: 42
            }]
        );
        assert_eq!(
            snap.order_count,
            vec![Usage {
                interval: "10S".into(),
                count: 3
            }]
        );
        assert_eq!(retry_after(&headers), Duration::from_secs(7));
        tracker.record_limited(429, Duration::from_secs(7));
        assert!(
            tracker
                .blocked_for()
                .is_some_and(|d| d > Duration::from_secs(6))
        );
        assert_eq!(tracker.snapshot().http_429, 1);
    }
}
