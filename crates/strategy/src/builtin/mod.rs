//! Built-in strategies and [`StrategySpec`], the config form that selects one.

mod buy_and_hold;
mod close_sums;
mod sizing;
mod sma_cross;

use serde::Deserialize;

pub use buy_and_hold::{BuyAndHold, BuyAndHoldParams};
pub use close_sums::CloseSums;
pub use sizing::{Direction, Size};
pub use sma_cross::{Entry, SmaCross, SmaCrossParams};

use crate::Strategy;

/// Which built-in strategy to run and its parameters, as written in a config file:
///
/// ```yaml
/// strategy:
///   kind: sma_cross
///   params: {fast: 10, slow: 50, size: {units: 1}, direction: long_only}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(
    tag = "kind",
    content = "params",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum StrategySpec {
    /// [`SmaCross`].
    SmaCross(SmaCrossParams),
    /// [`BuyAndHold`].
    BuyAndHold(BuyAndHoldParams),
}

/// Strategy parameters that are well-formed but make no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy.params: {reason}")]
pub struct InvalidParams {
    /// What is wrong.
    pub reason: String,
}

impl StrategySpec {
    /// Builds the strategy.
    ///
    /// # Errors
    /// [`InvalidParams`] if the parameters are inconsistent (e.g. `fast >= slow`).
    pub fn build(&self) -> Result<Box<dyn Strategy + Send>, InvalidParams> {
        let wrap = |reason| InvalidParams { reason };
        Ok(match *self {
            Self::SmaCross(p) => Box::new(SmaCross::new(p).map_err(wrap)?),
            Self::BuyAndHold(p) => Box::new(BuyAndHold::new(p).map_err(wrap)?),
        })
    }

    /// [`StrategySpec::build`], reading moving-average window sums from `sums` (the prefix
    /// sums of the closes the strategy will be fed, shared by many instances, e.g. a sweep's
    /// trials) where the strategy has such windows. The strategy behaves exactly as one from
    /// [`StrategySpec::build`].
    ///
    /// # Errors
    /// As [`StrategySpec::build`].
    pub fn build_with_sums(
        &self,
        sums: &std::sync::Arc<CloseSums>,
    ) -> Result<Box<dyn Strategy + Send>, InvalidParams> {
        let wrap = |reason| InvalidParams { reason };
        Ok(match *self {
            Self::SmaCross(p) => Box::new(SmaCross::with_sums(p, sums.clone()).map_err(wrap)?),
            Self::BuyAndHold(_) => self.build()?,
        })
    }

    /// The same strategy with its position size set to `size` (a canary's
    /// [`Size::VenueMinimum`]).
    #[must_use]
    pub fn with_size(mut self, size: Size) -> Self {
        match &mut self {
            Self::SmaCross(p) => p.size = size,
            Self::BuyAndHold(p) => p.size = size,
        }
        self
    }

    /// Names of the numeric parameters a sweep may vary, as written under `params`.
    #[must_use]
    pub const fn parameter_names(&self) -> &'static [&'static str] {
        match self {
            Self::SmaCross(_) => &["fast", "slow", "units", "equity_fraction"],
            Self::BuyAndHold(_) => &["units", "equity_fraction"],
        }
    }

    /// Sets one numeric parameter (see [`StrategySpec::parameter_names`]); `units` and
    /// `equity_fraction` switch the sizing mode.
    ///
    /// # Errors
    /// [`InvalidParams`] for an unknown name, a non-integer window, or a value that is not a
    /// valid decimal.
    pub fn set_parameter(&mut self, name: &str, value: f64) -> Result<(), InvalidParams> {
        let fail = |reason: String| InvalidParams { reason };
        let window = |v: f64| -> Result<usize, InvalidParams> {
            if v.fract() == 0.0 && (1.0..=1e6).contains(&v) {
                Ok(v as usize)
            } else {
                Err(fail(format!(
                    "{name} must be a whole number in 1..=1000000, got {v}"
                )))
            }
        };
        let size = |v: f64| -> Result<Option<Size>, InvalidParams> {
            Ok(match name {
                "units" => Some(Size::Units(
                    tradepulse_model::Quantity::try_from_f64(v)
                        .map_err(|e| fail(format!("units: {e}")))?,
                )),
                "equity_fraction" => Some(Size::EquityFraction(
                    format!("{v}")
                        .parse()
                        .map_err(|e| fail(format!("equity_fraction: {e}")))?,
                )),
                _ => None,
            })
        };
        match self {
            Self::SmaCross(p) => match name {
                "fast" => p.fast = window(value)?,
                "slow" => p.slow = window(value)?,
                _ => match size(value)? {
                    Some(s) => p.size = s,
                    None => {
                        return Err(fail(format!(
                            "sma_cross has no numeric parameter '{name}' (have: fast, slow, units, equity_fraction)"
                        )));
                    }
                },
            },
            Self::BuyAndHold(p) => match size(value)? {
                Some(s) => p.size = s,
                None => {
                    return Err(fail(format!(
                        "buy_and_hold has no numeric parameter '{name}' (have: units, equity_fraction)"
                    )));
                }
            },
        }
        Ok(())
    }

    /// The strategy kind as written in config.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::SmaCross(_) => "sma_cross",
            Self::BuyAndHold(_) => "buy_and_hold",
        }
    }
}
