//! [`Mfi`]: money flow index.

use serde::{Deserialize, Serialize};

use super::is_zero_scaled;
use crate::window::Ring;
use crate::{Candle, Error, Indicator, error::check_period};

/// TA-Lib `MFI`: money flow `tp·volume` counted as positive or negative by the sign of the
/// typical-price change, `MFI = 100·pos/(pos + neg)` over `period` bars, by TA-Lib 0.8.1's rules:
///
/// - a change within TA-Lib's tie band (`|tp − prev| ≤ 1e-14·(|tp| + |prev|)`, see
///   [`is_zero_scaled`]) is no movement and carries no flow, neither positive nor negative:
///   typical prices equal on paper often differ in their last bit (`(h + l + c)/3` of two bars
///   with the same sum), and an exact sign test counted those as moves;
/// - the sums are running sums (add the new bar, subtract the one leaving); once a whole
///   `period` of bars has carried no flow (no movement or no volume) they are set to exactly
///   0, dropping the rounding residue of the add-then-subtract;
/// - the output is 0 when `pos + neg ≤ 0` (a window without flow), else `100·pos/(pos + neg)`
///   with `pos` clamped into `[0, pos + neg]` so drift cannot leave `[0, 100]`.
///
/// Warm-up: `period`. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mfi {
    period: usize,
    prev_tp: Option<f64>,
    flows: Ring<(f64, f64)>,
    pos: f64,
    neg: f64,
    /// Consecutive bars without flow, capped at `period` (older checkpoints lack it: 0 only
    /// delays the next reset of the sums).
    #[serde(default)]
    null_run: usize,
}

impl Mfi {
    /// An MFI over `period` bars.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `period < 2`.
    pub fn new(period: usize) -> Result<Self, Error> {
        check_period("MFI", "period", period, 2)?;
        Ok(Self {
            period,
            prev_tp: None,
            flows: Ring::new(period),
            pos: 0.0,
            neg: 0.0,
            null_run: 0,
        })
    }
}

impl Indicator for Mfi {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let tp = c.typical_price();
        let prev = self.prev_tp.replace(tp)?;
        if self.flows.is_full() {
            let (p, n) = self.flows.front().unwrap_or((0.0, 0.0));
            self.pos -= p;
            self.neg -= n;
        }
        let change = tp - prev;
        let flow = if is_zero_scaled(change, tp.abs() + prev.abs()) {
            0.0
        } else {
            tp * c.volume
        };
        let entry = if change < 0.0 {
            self.neg += flow;
            (0.0, flow)
        } else {
            self.pos += flow;
            (flow, 0.0)
        };
        self.flows.push_back(entry);
        self.null_run = if flow == 0.0 {
            (self.null_run + 1).min(self.period)
        } else {
            0
        };
        if self.null_run == self.period {
            // Every slot of the window holds 0: the sums are exactly 0, not their residue.
            self.pos = 0.0;
            self.neg = 0.0;
        }
        if !self.flows.is_full() {
            return None;
        }
        let total = self.pos + self.neg;
        // Not `f64::clamp`, which panics on a NaN bound: a NaN total (NaN input) stays NaN.
        let pos = if self.pos < 0.0 {
            0.0
        } else if self.pos > total {
            total
        } else {
            self.pos
        };
        Some(if total <= 0.0 {
            0.0
        } else {
            100.0 * (pos / total)
        })
    }

    fn reset(&mut self) {
        self.prev_tp = None;
        self.flows.clear();
        self.pos = 0.0;
        self.neg = 0.0;
        self.null_run = 0;
    }

    fn is_ready(&self) -> bool {
        self.flows.is_full()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(h: f64, l: f64, c: f64, v: f64) -> Candle {
        Candle::new(c, h, l, c, v)
    }

    /// Two bars whose high + low + close are the same on paper (300.03) but not in binary:
    /// the typical prices differ in the last bit, and that is no movement.
    #[test]
    fn a_typical_price_that_differs_only_by_rounding_carries_no_flow() {
        let a = bar(100.02, 100.0, 100.01, 1.0).typical_price();
        let b = bar(100.01, 100.01, 100.01, 1.0).typical_price();
        assert_ne!(a, b, "the premise: the two typical prices differ in binary");
        assert!((a - b).abs() < 1e-12);
        let mut mfi = Mfi::new(2).unwrap();
        // tp rises (flow 101·1 positive), then the tie (no flow), then a fall (flow 99·1 negative).
        let bars = [
            bar(100.0, 100.0, 100.0, 1.0),
            bar(101.0, 101.0, 101.0, 1.0),
            bar(100.02, 100.0, 100.01, 1.0),
            bar(100.01, 100.01, 100.01, 1.0),
        ];
        let out = mfi.batch(&bars);
        // Window of bars 2 and 3: a fall (tp 100.01 < 101, negative) and the tie: no positive
        // flow at all, so MFI is exactly 0 whichever way the tie's last bit points.
        assert_eq!(out.values.last().copied(), Some(0.0));
    }

    #[test]
    fn a_window_without_flow_is_zero_and_its_sums_restart_at_zero() {
        let mut mfi = Mfi::new(3).unwrap();
        let mut bars = vec![bar(10.0, 9.0, 9.5, 1e6), bar(10.3, 9.1, 9.9, 3e5)];
        bars.extend(std::iter::repeat_n(bar(10.0, 10.0, 10.0, 1.0), 4));
        bars.push(bar(11.0, 11.0, 11.0, 1.0));
        bars.push(bar(10.0, 10.0, 10.0, 1.0));
        let out = mfi.batch(&bars).values;
        assert_eq!(out[out.len() - 3], 0.0, "a window without flow");
        assert_eq!(mfi.pos, 11.0, "the residue of the large flows was dropped");
        assert_eq!(mfi.neg, 10.0);
        assert_eq!(out.last().copied(), Some(100.0 * (11.0 / 21.0)));
    }
}
