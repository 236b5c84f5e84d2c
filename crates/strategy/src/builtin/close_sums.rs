//! [`CloseSums`]: the running sums of a bar series' closes, computed once and shared read-only
//! by every [`SmaCross`](super::SmaCross) of a sweep that runs on those bars.

use tradepulse_model::Bar;

/// Prefix sums of the closes of one bar series: `sum(k)` is the sum of the first `k` closes'
/// integer mantissas, exactly (in 128 bits), so the sum of any window of closes is one
/// subtraction and equals, to the bit, the running sum an [`SmaCross`](super::SmaCross)
/// would keep on its own.
///
/// A sweep computes this once for its bars and hands it (in an [`Arc`](std::sync::Arc)) to
/// every trial's strategy: every moving-average window of every trial then reads the same
/// array instead of each trial keeping its own rolling windows. The strategy still sees the
/// bars one at a time and reads only the sums of closes it has been given; it checks each close
/// against the array and keeps its own windows from the first one that differs (other bars
/// than the ones the sums were made from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseSums {
    /// `prefix[k]` = Σ close\[0..k\]; one more entry than there are bars.
    prefix: Vec<i128>,
}

impl CloseSums {
    /// The sums of `bars`' closes.
    #[must_use]
    pub fn new(bars: &[Bar]) -> Self {
        let mut prefix = Vec::with_capacity(bars.len() + 1);
        let mut sum = 0i128;
        prefix.push(sum);
        for bar in bars {
            sum += i128::from(bar.close.raw());
            prefix.push(sum);
        }
        Self { prefix }
    }

    /// Number of closes summed.
    #[must_use]
    pub fn len(&self) -> usize {
        self.prefix.len() - 1
    }

    /// True if made from no bars.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Σ of the first `k` closes (`k <= len`).
    #[inline]
    pub(super) fn sum(&self, k: usize) -> i128 {
        self.prefix[k]
    }

    /// The `k`-th close (`k < len`), if there is one.
    #[inline]
    pub(super) fn close(&self, k: usize) -> Option<i128> {
        match (self.prefix.get(k), self.prefix.get(k + 1)) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        }
    }
}
