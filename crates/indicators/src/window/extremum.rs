//! [`Extremum`]: rolling maximum or minimum in amortised O(1) per update.

use serde::{Deserialize, Serialize};

use super::ring::Ring;

/// Which extreme a [`Extremum`] tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Side {
    /// Rolling maximum.
    Max,
    /// Rolling minimum.
    Min,
}

/// Rolling max/min over the last `period` values with a monotonic deque (each value is pushed
/// and popped at most once, so updates are amortised O(1) with no allocation).
///
/// A NaN dominates every number: the result is NaN while a NaN is inside the window, and
/// returns to the true extreme once it has left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Extremum {
    side: Side,
    #[serde(deserialize_with = "crate::error::nonzero")]
    period: usize,
    seq: u64,
    deque: Ring<(u64, f64)>,
}

impl Extremum {
    pub(crate) fn new(side: Side, period: usize) -> Self {
        Self {
            side,
            period: period.max(1),
            seq: 0,
            deque: Ring::new(period.max(1)),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.seq = 0;
        self.deque.clear();
    }

    /// `a` makes `b` irrelevant: `a` is at least as extreme (NaN is the most extreme).
    fn dominates(&self, a: f64, b: f64) -> bool {
        if a.is_nan() {
            return true;
        }
        match self.side {
            Side::Max => a >= b,
            Side::Min => a <= b,
        }
    }

    /// Adds `x` and returns the extreme of the last `period` values (including `x`).
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> f64 {
        while let Some((_, b)) = self.deque.back() {
            if self.dominates(x, b) {
                self.deque.pop_back();
            } else {
                break;
            }
        }
        // The deque holds at most `period` entries with distinct in-window sequence numbers,
        // so after expiring old entries below there is always room; push_back cannot evict
        // a live entry.
        while let Some((s, _)) = self.deque.front() {
            if s + self.period as u64 <= self.seq {
                self.deque.pop_front();
            } else {
                break;
            }
        }
        self.deque.push_back((self.seq, x));
        self.seq += 1;
        self.deque.front().map_or(x, |(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_max_and_min_match_a_scan() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        let mut mx = Extremum::new(Side::Max, 3);
        let mut mn = Extremum::new(Side::Min, 3);
        for i in 0..xs.len() {
            let lo = i.saturating_sub(2);
            let w = &xs[lo..=i];
            assert_eq!(mx.push(xs[i]), w.iter().copied().fold(f64::MIN, f64::max));
            assert_eq!(mn.push(xs[i]), w.iter().copied().fold(f64::MAX, f64::min));
        }
    }

    #[test]
    fn nan_dominates_while_in_window() {
        let mut mx = Extremum::new(Side::Max, 2);
        mx.push(1.0);
        assert!(mx.push(f64::NAN).is_nan());
        assert!(mx.push(0.5).is_nan());
        assert_eq!(mx.push(0.25), 0.5);
    }
}
