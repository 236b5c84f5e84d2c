//! [`BuyAndHold`]: buy once at the first bar, hold to the end.

use serde::Deserialize;
use tradepulse_model::{Bar, Side};

use super::sizing::Size;
use crate::{Context, Strategy};

/// Parameters of [`BuyAndHold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyAndHoldParams {
    /// Position size, sized at the first bar's close.
    pub size: Size,
}

/// Sends one market buy after the first bar and then does nothing: the benchmark every other
/// strategy must beat.
#[derive(Debug, Clone)]
pub struct BuyAndHold {
    params: BuyAndHoldParams,
    done: bool,
}

impl BuyAndHold {
    /// Builds the strategy.
    ///
    /// # Errors
    /// If the size is not positive.
    pub fn new(params: BuyAndHoldParams) -> Result<Self, String> {
        params.size.validate()?;
        Ok(Self {
            params,
            done: false,
        })
    }
}

impl Strategy for BuyAndHold {
    fn name(&self) -> &str {
        "buy_and_hold"
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if self.done {
            return;
        }
        let quantity = self.params.size.quantity(ctx, bar.close);
        if quantity.is_positive() {
            ctx.market(Side::Buy, quantity);
            self.done = true;
        }
    }
}
