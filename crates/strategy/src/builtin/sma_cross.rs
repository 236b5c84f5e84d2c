//! [`SmaCross`]: trades the crosses of a fast and a slow simple moving average of closes.

use std::sync::Arc;

use serde::Deserialize;
use tradepulse_model::{Bar, Quantity, Side};

use super::close_sums::CloseSums;
use super::sizing::{Direction, Size};
use crate::{Context, RestoreError, Strategy, StrategyState};

/// Parameters of [`SmaCross`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmaCrossParams {
    /// Fast window in bars.
    pub fast: usize,
    /// Slow window in bars (> fast).
    pub slow: usize,
    /// Position size.
    pub size: Size,
    /// Long-only or long-short.
    #[serde(default)]
    pub direction: Direction,
    /// When to enter: on a cross (default) or whenever the averages are in order.
    #[serde(default)]
    pub entry: Entry,
}

/// When [`SmaCross`] trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// On a cross only: long when fast[t] > slow[t] and fast[t−1] ≤ slow[t−1] (both averages
    /// defined at t−1); out (or short) on the mirror cross. What backtrader's `CrossOver`,
    /// vectorbt's `crossed_above`/`crossed_below`, NautilusTrader's EMA-cross example and
    /// backtesting.py's `crossover` do, so a ported strategy makes the same trades.
    #[default]
    Cross,
    /// Whenever the averages are in order: long while fast > slow (entering at the first bar
    /// where both averages exist), flat or short while below.
    State,
}

/// Moving-average crossover on bar closes.
///
/// After each bar's close, once `slow` closes are known. With `entry: cross` (default): when
/// SMA(fast) crosses above SMA(slow) (above now, at or below on the previous bar, both defined
/// then) the target is long; when it crosses below, flat (long-only) or short (long-short); on
/// other bars nothing happens. With `entry: state`: if SMA(fast) > SMA(slow) the target is long;
/// if below, flat or short; if equal, unchanged — so it also enters at the first bar where both
/// averages exist. When the position differs from the target and no order is in flight, it sends
/// one market order for the difference. Sized once at entry (no rebalancing while the signal
/// holds).
///
/// The averages are compared exactly, on the prices' integer mantissas (`Σfast·slow` vs
/// `Σslow·fast` in 128 bits), so a crossover never depends on floating-point rounding.
///
/// Built with [`SmaCross::with_sums`], it reads its window sums from [`CloseSums`] shared with
/// other instances over the same bars (a sweep's trials) instead of keeping its own windows;
/// the sums are the same integers either way, so the trades are identical.
#[derive(Debug, Clone)]
pub struct SmaCross {
    params: SmaCrossParams,
    /// Prefix sums of the closes this instance is expected to see, while every close so far
    /// matched them; `None` once one did not (or never given): then `window` holds the closes.
    shared: Option<Arc<CloseSums>>,
    /// Ring of the last `slow` closes (empty while `shared` is used).
    window: Vec<i64>,
    next: usize,
    fast_tail: usize,
    count: usize,
    fast_sum: i128,
    slow_sum: i128,
    /// The comparison at the previous bar, once both averages were defined.
    previous: Option<std::cmp::Ordering>,
}

impl SmaCross {
    /// Builds the strategy.
    ///
    /// # Errors
    /// If a window is zero, `fast >= slow`, or the size is not positive.
    pub fn new(params: SmaCrossParams) -> Result<Self, String> {
        if params.fast == 0 {
            return Err("fast must be at least 1".into());
        }
        if params.fast >= params.slow {
            return Err(format!(
                "fast ({}) must be smaller than slow ({})",
                params.fast, params.slow
            ));
        }
        if params.slow > 1_000_000 {
            return Err(format!("slow ({}) must be at most 1000000", params.slow));
        }
        params.size.validate()?;
        Ok(Self {
            params,
            shared: None,
            window: vec![0; params.slow],
            next: 0,
            fast_tail: 0,
            count: 0,
            fast_sum: 0,
            slow_sum: 0,
            previous: None,
        })
    }

    /// [`SmaCross::new`] reading its window sums from `sums`, the prefix sums of the closes
    /// it will be fed (see [`CloseSums`]). Fed other closes, it falls back to windows of its
    /// own from the first close that differs, with the same results.
    ///
    /// # Errors
    /// As [`SmaCross::new`].
    pub fn with_sums(params: SmaCrossParams, sums: Arc<CloseSums>) -> Result<Self, String> {
        let mut s = Self::new(params)?;
        s.window = Vec::new();
        s.shared = Some(sums);
        Ok(s)
    }

    /// Adds a close; returns the sign of SMA(fast) − SMA(slow) once both are defined.
    #[inline]
    fn push(&mut self, close: i64) -> Option<std::cmp::Ordering> {
        if let Some(sums) = &self.shared {
            // Only sums of closes already delivered are read (index `count` is this close).
            if sums.close(self.count) == Some(i128::from(close)) {
                self.count += 1;
                let (n, slow, fast) = (self.count, self.params.slow, self.params.fast);
                if n < slow {
                    return None;
                }
                let total = sums.sum(n);
                self.fast_sum = total - sums.sum(n - fast);
                self.slow_sum = total - sums.sum(n - slow);
                return Some((self.fast_sum * slow as i128).cmp(&(self.slow_sum * fast as i128)));
            }
            self.detach();
        }
        self.push_own(close)
    }

    /// Stops reading the shared sums: rebuilds the ring of the last `slow` closes (and the
    /// window sums) that [`SmaCross::push_own`] would have kept over the closes seen so far,
    /// which all matched the shared sums.
    #[cold]
    fn detach(&mut self) {
        let Some(sums) = self.shared.take() else {
            return;
        };
        let (n, slow, fast) = (self.count, self.params.slow, self.params.fast);
        self.window = vec![0; slow];
        for k in n.saturating_sub(slow)..n {
            // Every close below `count` is in `sums` and fits an i64 (it was one).
            self.window[k % slow] = sums.close(k).map_or(0, |c| c as i64);
        }
        self.next = n % slow;
        self.fast_tail = if n >= fast { (n - fast) % slow } else { 0 };
        self.fast_sum = sums.sum(n) - sums.sum(n.saturating_sub(fast));
        self.slow_sum = sums.sum(n) - sums.sum(n.saturating_sub(slow));
    }

    /// [`SmaCross::push`] on the instance's own windows.
    ///
    /// `window` is a ring of the last `slow` closes; `next` is where the next close goes, and
    /// `fast_tail` trails it by `fast` slots (the close leaving the fast window). Indices wrap by
    /// comparison rather than `%`, which costs a division per bar on this hot path.
    fn push_own(&mut self, close: i64) -> Option<std::cmp::Ordering> {
        let slow = self.params.slow;
        let fast = self.params.fast;
        if self.count >= slow {
            self.slow_sum -= i128::from(self.window[self.next]);
        }
        if self.count >= fast {
            self.fast_sum -= i128::from(self.window[self.fast_tail]);
            self.fast_tail += 1;
            if self.fast_tail == slow {
                self.fast_tail = 0;
            }
        }
        self.window[self.next] = close;
        self.next += 1;
        if self.next == slow {
            self.next = 0;
        }
        self.fast_sum += i128::from(close);
        self.slow_sum += i128::from(close);
        self.count += 1;
        (self.count >= slow)
            .then(|| (self.fast_sum * slow as i128).cmp(&(self.slow_sum * fast as i128)))
    }

    /// The closes in the window, oldest first (at most `slow`).
    fn closes(&self) -> Vec<i64> {
        if self.count < self.params.slow {
            return self.window[..self.count].to_vec();
        }
        let (newer, older) = self.window.split_at(self.next);
        older.iter().chain(newer).copied().collect()
    }
}

fn ordering_code(o: Option<std::cmp::Ordering>) -> Option<i8> {
    o.map(|o| o as i8)
}

/// The checkpoint of [`SmaCross`]: the windows' closes (raw mantissas) and the last comparison.
#[derive(Debug, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SmaCrossState {
    kind: String,
    fast: usize,
    slow: usize,
    closes: Vec<i64>,
    previous: Option<i8>,
}

impl Strategy for SmaCross {
    fn name(&self) -> &str {
        "sma_cross"
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        use std::cmp::Ordering;
        let Some(order) = self.push(bar.close.raw()) else {
            return;
        };
        let previous = self.previous.replace(order);
        let signal = match self.params.entry {
            Entry::State => order,
            Entry::Cross => match (previous, order) {
                (Some(p), Ordering::Greater) if p != Ordering::Greater => Ordering::Greater,
                (Some(p), Ordering::Less) if p != Ordering::Less => Ordering::Less,
                _ => return,
            },
        };
        if ctx.open_orders() > 0 {
            return;
        }
        let current = ctx.position().quantity();
        // Target sign: +1 long, 0 flat, -1 short.
        let target_sign = match (signal, self.params.direction) {
            (Ordering::Greater, _) => 1,
            (Ordering::Less, Direction::LongOnly) => 0,
            (Ordering::Less, Direction::LongShort) => -1,
            (Ordering::Equal, _) => return,
        };
        let current_sign = current.raw().signum();
        if current_sign == target_sign {
            return;
        }
        let target = match target_sign {
            0 => Quantity::ZERO,
            1 => self.params.size.quantity(ctx, bar.close),
            _ => self.params.size.quantity(ctx, bar.close).neg(),
        };
        let Some(delta) = target.checked_sub(current) else {
            return;
        };
        if delta.is_zero() {
            return;
        }
        let side = if delta.is_positive() {
            Side::Buy
        } else {
            Side::Sell
        };
        ctx.market(side, delta.abs());
    }

    fn checkpoint(&self) -> Option<StrategyState> {
        serde_json::to_value(SmaCrossState {
            kind: "sma_cross".into(),
            fast: self.params.fast,
            slow: self.params.slow,
            closes: self.closes(),
            previous: ordering_code(self.previous),
        })
        .ok()
    }

    fn restore(&mut self, state: &StrategyState) -> Result<(), RestoreError> {
        let mismatch = |reason: String| RestoreError::Mismatch {
            strategy: "sma_cross".into(),
            reason,
        };
        let saved = SmaCrossState::deserialize(state).map_err(|e| mismatch(e.to_string()))?;
        if saved.kind != "sma_cross" {
            return Err(mismatch(format!("it is a {} checkpoint", saved.kind)));
        }
        if (saved.fast, saved.slow) != (self.params.fast, self.params.slow) {
            return Err(mismatch(format!(
                "saved with fast={} slow={}, configured fast={} slow={}",
                saved.fast, saved.slow, self.params.fast, self.params.slow
            )));
        }
        if saved.closes.len() > saved.slow {
            return Err(mismatch(format!(
                "{} closes for a window of {}",
                saved.closes.len(),
                saved.slow
            )));
        }
        let previous = match saved.previous {
            None => None,
            Some(-1) => Some(std::cmp::Ordering::Less),
            Some(0) => Some(std::cmp::Ordering::Equal),
            Some(1) => Some(std::cmp::Ordering::Greater),
            Some(other) => return Err(mismatch(format!("previous: {other} is not -1, 0 or 1"))),
        };
        let mut fresh = Self::new(self.params).map_err(mismatch)?;
        for close in saved.closes {
            fresh.push(close);
        }
        fresh.previous = previous;
        *self = fresh;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(fast: usize, slow: usize) -> SmaCross {
        SmaCross::new(SmaCrossParams {
            fast,
            slow,
            size: Size::Units(Quantity::from_units(1)),
            direction: Direction::LongOnly,
            entry: Entry::Cross,
        })
        .unwrap()
    }

    #[test]
    fn exact_rolling_comparison() {
        let mut s = strategy(2, 3);
        assert_eq!(s.push(10), None);
        assert_eq!(s.push(20), None);
        // fast = (20+30)/2 = 25 > slow = 20
        assert_eq!(s.push(30), Some(std::cmp::Ordering::Greater));
        // fast = (30+0)/2 = 15 < slow = (20+30+0)/3 ≈ 16.7
        assert_eq!(s.push(0), Some(std::cmp::Ordering::Less));
        // fast = (0+45)/2 = 22.5 > slow = 25 ? no: slow = (30+0+45)/3 = 25
        assert_eq!(s.push(45), Some(std::cmp::Ordering::Less));
        // fast = (45+15)/2 = 30, slow = (0+45+15)/3 = 20
        assert_eq!(s.push(15), Some(std::cmp::Ordering::Greater));
    }

    /// Closes of a deterministic random walk in small steps (many equal averages).
    fn walk(n: usize, seed: u64) -> Vec<Bar> {
        let mut x = seed;
        let mut price = 1_000i64;
        (0..n)
            .map(|i| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                price = (price + ((x >> 61) as i64 - 3)).max(1);
                let p = tradepulse_model::Price::from_raw(price * 1_000_000);
                Bar {
                    ts: tradepulse_model::UnixNanos::new(i as i64),
                    open: p,
                    high: p,
                    low: p,
                    close: p,
                    volume: 1.0,
                }
            })
            .collect()
    }

    fn params(fast: usize, slow: usize) -> SmaCrossParams {
        SmaCrossParams {
            fast,
            slow,
            size: Size::Units(Quantity::from_units(1)),
            direction: Direction::LongOnly,
            entry: Entry::Cross,
        }
    }

    #[test]
    fn shared_sums_give_the_own_windows_comparisons() {
        let bars = walk(5_000, 7);
        let sums = Arc::new(CloseSums::new(&bars));
        for (fast, slow) in [(1, 2), (2, 3), (5, 60), (10, 50), (49, 50), (3, 4_999)] {
            let mut own = SmaCross::new(params(fast, slow)).unwrap();
            let mut shared = SmaCross::with_sums(params(fast, slow), sums.clone()).unwrap();
            for bar in &bars {
                let c = bar.close.raw();
                assert_eq!(shared.push(c), own.push(c), "{fast}/{slow}");
            }
            assert!(shared.shared.is_some(), "never left the shared sums");
        }
    }

    #[test]
    fn other_closes_than_the_sums_fall_back_to_own_windows() {
        let bars = walk(3_000, 11);
        let other = walk(3_000, 12);
        for diverge in [0, 1, 4, 9, 10, 11, 49, 50, 51, 777, 2_999] {
            // Fed `bars` up to `diverge`, then `other`'s closes.
            let fed: Vec<i64> = bars[..diverge]
                .iter()
                .chain(&other[diverge..])
                .map(|b| b.close.raw())
                .collect();
            let sums = Arc::new(CloseSums::new(&bars));
            for (fast, slow) in [(10, 50), (3, 7), (1, 2)] {
                let mut own = SmaCross::new(params(fast, slow)).unwrap();
                let mut shared = SmaCross::with_sums(params(fast, slow), sums.clone()).unwrap();
                for &c in &fed {
                    assert_eq!(shared.push(c), own.push(c), "{fast}/{slow} from {diverge}");
                }
            }
        }
        // More closes than the sums hold: the instance goes on with its own windows.
        let sums = Arc::new(CloseSums::new(&bars[..100]));
        let mut own = SmaCross::new(params(10, 50)).unwrap();
        let mut shared = SmaCross::with_sums(params(10, 50), sums).unwrap();
        for bar in &bars[..300] {
            let c = bar.close.raw();
            assert_eq!(shared.push(c), own.push(c));
        }
        assert!(shared.shared.is_none());
    }

    #[test]
    fn checkpoint_restores_the_same_future() {
        let closes: Vec<i64> = (0..40).map(|i| 100 + (i * 37 % 23) - (i % 7) * 3).collect();
        for cut in [0, 2, 3, 4, 11, 39] {
            let mut whole = strategy(2, 5);
            let mut first = strategy(2, 5);
            for &c in &closes[..cut] {
                whole.push(c);
                first.push(c);
            }
            first.previous = whole.previous;
            let saved = first.checkpoint().unwrap();
            let mut resumed = strategy(2, 5);
            resumed.restore(&saved).unwrap();
            for &c in &closes[cut..] {
                assert_eq!(resumed.push(c), whole.push(c), "cut at {cut}");
            }
            assert_eq!(resumed.closes(), whole.closes());
        }
    }

    #[test]
    fn checkpoint_of_other_parameters_is_refused() {
        let mut a = strategy(2, 5);
        for c in [1, 2, 3, 4, 5, 6] {
            a.push(c);
        }
        let saved = a.checkpoint().unwrap();
        let mut b = strategy(3, 5);
        let err = b.restore(&saved).unwrap_err().to_string();
        assert!(err.contains("fast=2 slow=5"), "{err}");
        let mut c = strategy(2, 5);
        let bad = serde_json::json!({"kind": "sma_cross", "fast": 2, "slow": 5, "closes": [1], "previous": 7});
        assert!(c.restore(&bad).is_err());
    }

    #[test]
    fn rejects_bad_windows() {
        let p = |fast, slow| SmaCrossParams {
            fast,
            slow,
            size: Size::Units(Quantity::from_units(1)),
            direction: Direction::LongOnly,
            entry: Entry::Cross,
        };
        assert!(SmaCross::new(p(0, 5)).is_err());
        assert!(SmaCross::new(p(5, 5)).is_err());
        assert!(SmaCross::new(p(3, 5)).is_ok());
    }
}
