//! [`Obv`]: on-balance volume.

use serde::{Deserialize, Serialize};

use crate::{Candle, Indicator};

/// TA-Lib `OBV`: starts at the first bar's volume, then adds the volume of an up-close bar
/// and subtracts that of a down-close bar (an unchanged close adds nothing). No warm-up.
/// O(1) per update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Obv {
    state: Option<(f64, f64)>,
}

impl Obv {
    /// An OBV.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl Indicator for Obv {
    type Input = Candle;
    type Output = f64;

    fn update(&mut self, c: Candle) -> Option<f64> {
        let obv = match self.state {
            None => c.volume,
            Some((prev_close, obv)) => {
                if c.close > prev_close {
                    obv + c.volume
                } else if c.close < prev_close {
                    obv - c.volume
                } else {
                    obv
                }
            }
        };
        self.state = Some((c.close, obv));
        Some(obv)
    }

    fn reset(&mut self) {
        self.state = None;
    }

    fn is_ready(&self) -> bool {
        self.state.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_up_and_subtracts_down_volume() {
        let bars: Vec<Candle> = [(10.0, 100.0), (11.0, 50.0), (11.0, 70.0), (9.0, 30.0)]
            .iter()
            .map(|&(c, v)| Candle::new(c, c, c, c, v))
            .collect();
        assert_eq!(
            Obv::new().batch(&bars).values,
            vec![100.0, 150.0, 150.0, 120.0]
        );
    }
}
