//! [`RateWindow`]: a sliding-window order counter on the mode's clock.

use std::collections::VecDeque;

use tradepulse_model::UnixNanos;

use crate::config::RateLimit;

/// Times of the orders sent within the last window, at most `limit.orders` of them: checking and
/// recording an order is O(1) amortised and allocates nothing after the first window fills.
#[derive(Debug, Clone)]
pub(crate) struct RateWindow {
    limit: RateLimit,
    window_nanos: i64,
    sent: VecDeque<UnixNanos>,
}

impl RateWindow {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            window_nanos: i64::from(limit.seconds) * UnixNanos::NANOS_PER_SECOND,
            sent: VecDeque::with_capacity(limit.orders as usize),
        }
    }

    pub(crate) const fn limit(&self) -> RateLimit {
        self.limit
    }

    /// Forgets orders older than the window ending at `now`, then says whether one more fits.
    pub(crate) fn allows(&mut self, now: UnixNanos) -> bool {
        while let Some(&oldest) = self.sent.front() {
            if now.as_nanos() - oldest.as_nanos() >= self.window_nanos {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        self.sent.len() < self.limit.orders as usize
    }

    /// Counts an order sent at `now` (call after [`RateWindow::allows`] said yes).
    pub(crate) fn record(&mut self, now: UnixNanos) {
        self.sent.push_back(now);
    }

    pub(crate) fn len(&self) -> usize {
        self.sent.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window() {
        let mut w = RateWindow::new(RateLimit {
            orders: 2,
            seconds: 1,
        });
        let t = |ms: i64| UnixNanos::new(ms * 1_000_000);
        assert!(w.allows(t(0)));
        w.record(t(0));
        assert!(w.allows(t(500)));
        w.record(t(500));
        assert!(!w.allows(t(999)));
        // The first order leaves the window exactly one second later.
        assert!(w.allows(t(1000)));
        w.record(t(1000));
        assert!(!w.allows(t(1499)));
        assert!(w.allows(t(1500)));
    }
}
