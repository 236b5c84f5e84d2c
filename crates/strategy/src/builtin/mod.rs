//! Built-in strategies and [`StrategySpec`], the config form that selects one.

mod buy_and_hold;
mod sizing;
mod sma_cross;

use serde::Deserialize;

pub use buy_and_hold::{BuyAndHold, BuyAndHoldParams};
pub use sizing::{Direction, Size};
pub use sma_cross::{SmaCross, SmaCrossParams};

use crate::Strategy;

/// Which built-in strategy to run and its parameters, as written in a config file:
///
/// ```yaml
/// strategy:
///   kind: sma_cross
///   params: {fast: 10, slow: 50, size: {units: 1}, direction: long_only}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

    /// The strategy kind as written in config.
    #[must_use]
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::SmaCross(_) => "sma_cross",
            Self::BuyAndHold(_) => "buy_and_hold",
        }
    }
}
