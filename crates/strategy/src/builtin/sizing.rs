//! [`Size`]: how much a built-in strategy trades.

use serde::Deserialize;
use tradepulse_model::{Price, Quantity, Ratio};

use crate::Context;

/// Position size of a built-in strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Size {
    /// A fixed quantity (`size: {units: 1}`).
    Units(Quantity),
    /// A fraction of current equity at the signal bar's close, rounded down to whole lots
    /// (`size: {equity_fraction: 0.95}`).
    EquityFraction(Ratio),
    /// The venue's smallest order at the signal bar's close: one lot, or the fewest lots that
    /// reach the instrument's minimum notional (`size: venue_minimum`; what a canary trades).
    VenueMinimum,
}

impl Size {
    /// The unsigned quantity to hold, sized at `price`.
    pub(crate) fn quantity(self, ctx: &Context<'_>, price: Price) -> Quantity {
        match self {
            Self::Units(q) => q,
            Self::EquityFraction(f) => ctx.quantity_for_equity_fraction(f, price),
            Self::VenueMinimum => ctx.instrument().min_order_quantity(price),
        }
    }

    pub(crate) fn validate(self) -> Result<(), String> {
        match self {
            Self::Units(q) if !q.is_positive() => {
                Err(format!("size.units must be positive, got {q}"))
            }
            Self::EquityFraction(f) if f.raw() <= 0 || f.raw() > 10 * 1_000_000_000 => {
                Err(format!("size.equity_fraction must be in (0, 10], got {f}"))
            }
            _ => Ok(()),
        }
    }
}

/// Which positions a strategy may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Long or flat.
    #[default]
    LongOnly,
    /// Long or short, always in the market once it has a signal.
    LongShort,
}
