//! [`BuyAndHold`]: buy once at the first bar, hold to the end.

use serde::Deserialize;
use tradepulse_model::{Bar, ClientOrderId, Fill, OrderEvent, OrderEventKind, Side};

use super::sizing::Size;
use crate::{Context, Strategy};

/// Parameters of [`BuyAndHold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyAndHoldParams {
    /// Position size, sized at the first bar's close.
    pub size: Size,
}

/// Sends one market buy after the first bar and then holds: the benchmark every other strategy
/// must beat. If that order is refused (a warm-up window, buying power) or ends without a fill,
/// it tries again at the next bar.
#[derive(Debug, Clone)]
pub struct BuyAndHold {
    params: BuyAndHoldParams,
    /// The entry order while it is in flight or done; `None` while there is none to wait for.
    entry: Option<ClientOrderId>,
    filled: bool,
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
            entry: None,
            filled: false,
        })
    }
}

impl Strategy for BuyAndHold {
    fn name(&self) -> &str {
        "buy_and_hold"
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        if self.entry.is_some() || self.filled {
            return;
        }
        let quantity = self.params.size.quantity(ctx, bar.close);
        if quantity.is_positive() {
            self.entry = Some(ctx.market(Side::Buy, quantity));
        }
    }

    fn on_fill(&mut self, fill: &Fill, _ctx: &mut Context<'_>) {
        if Some(fill.client_order_id) == self.entry {
            self.filled = true;
        }
    }

    fn on_order_event(&mut self, event: &OrderEvent, _ctx: &mut Context<'_>) {
        let ended = matches!(
            event.kind,
            OrderEventKind::Rejected(_) | OrderEventKind::Canceled | OrderEventKind::Expired
        );
        if ended && Some(event.client_order_id) == self.entry {
            // Refused or ended: whatever filled is held; if nothing did, buy again next bar.
            self.entry = None;
        }
    }
}
