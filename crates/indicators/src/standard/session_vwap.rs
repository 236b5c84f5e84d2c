//! [`SessionVwap`]: volume-weighted average price since the start of the trading session.

use serde::{Deserialize, Serialize};

use crate::{Candle, Error, Indicator};

const NANOS_PER_DAY: i64 = 86_400_000_000_000;

/// `Σ tp·v / Σ v` since the session start, `tp = (h + l + c)/3`.
///
/// Sessions are fixed-length intervals of `session_nanos` (default one UTC day) shifted by
/// `offset_nanos` (e.g. a 22:00 UTC futures open is an offset of 22 h); a bar whose
/// [`Candle::ts`] falls in a new interval starts a new session. While the session has traded
/// no volume the output is the mean typical price of its bars. No warm-up. O(1) per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionVwap {
    #[serde(deserialize_with = "crate::error::positive_i64")]
    session_nanos: i64,
    offset_nanos: i64,
    session: Option<i64>,
    pv: f64,
    vol: f64,
    tp_sum: f64,
    bars: u64,
}

impl SessionVwap {
    /// Sessions of `session_nanos` starting at `offset_nanos` past each multiple of it.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `session_nanos < 1`.
    pub fn new(session_nanos: i64, offset_nanos: i64) -> Result<Self, Error> {
        if session_nanos < 1 {
            return Err(Error::PeriodTooSmall {
                indicator: "SESSION_VWAP",
                parameter: "session_nanos",
                value: 0,
                min: 1,
            });
        }
        Ok(Self {
            session_nanos,
            offset_nanos,
            session: None,
            pv: 0.0,
            vol: 0.0,
            tp_sum: 0.0,
            bars: 0,
        })
    }

    /// Daily sessions starting at midnight UTC.
    #[must_use]
    pub fn daily() -> Self {
        Self {
            session_nanos: NANOS_PER_DAY,
            offset_nanos: 0,
            session: None,
            pv: 0.0,
            vol: 0.0,
            tp_sum: 0.0,
            bars: 0,
        }
    }
}

impl Indicator for SessionVwap {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let session =
            c.ts.wrapping_sub(self.offset_nanos)
                .div_euclid(self.session_nanos);
        if self.session != Some(session) {
            self.session = Some(session);
            self.pv = 0.0;
            self.vol = 0.0;
            self.tp_sum = 0.0;
            self.bars = 0;
        }
        let tp = c.typical_price();
        self.pv += tp * c.volume;
        self.vol += c.volume;
        self.tp_sum += tp;
        self.bars += 1;
        Some(if self.vol != 0.0 {
            self.pv / self.vol
        } else {
            self.tp_sum / self.bars as f64
        })
    }

    fn reset(&mut self) {
        self.session = None;
        self.pv = 0.0;
        self.vol = 0.0;
        self.tp_sum = 0.0;
        self.bars = 0;
    }

    fn is_ready(&self) -> bool {
        self.session.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resets_at_each_session() {
        let hour = 3_600_000_000_000;
        let mut v = SessionVwap::new(24 * hour, 22 * hour).unwrap();
        let bar = |ts: i64, p: f64, vol: f64| Candle::new(p, p, p, p, vol).with_ts(ts);
        assert_eq!(v.update(bar(20 * hour, 10.0, 1.0)), Some(10.0));
        assert_eq!(v.update(bar(21 * hour, 20.0, 1.0)), Some(15.0));
        // 22:00 UTC opens a new session.
        assert_eq!(v.update(bar(22 * hour, 30.0, 1.0)), Some(30.0));
        // No volume yet in a new session: mean typical price.
        assert_eq!(v.update(bar(46 * hour, 40.0, 0.0)), Some(40.0));
    }
}
