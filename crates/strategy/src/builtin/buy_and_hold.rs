//! [`BuyAndHold`]: buy once at the first bar, hold to the end.

use serde::Deserialize;
use tradepulse_model::{Bar, ClientOrderId, Fill, OrderEvent, OrderEventKind, Side};

use super::sizing::Size;
use crate::{Context, RestoreError, Strategy, StrategyState};

/// Parameters of [`BuyAndHold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
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

    fn checkpoint(&self) -> Option<StrategyState> {
        Some(serde_json::json!({
            "kind": "buy_and_hold",
            "filled": self.filled,
            "entry": self.entry.map(|id| id.to_string()),
        }))
    }

    fn restore(&mut self, state: &StrategyState) -> Result<(), RestoreError> {
        let mismatch = |reason: String| RestoreError::Mismatch {
            strategy: "buy_and_hold".into(),
            reason,
        };
        if state.get("kind").and_then(|k| k.as_str()) != Some("buy_and_hold") {
            return Err(mismatch("not a buy_and_hold checkpoint".into()));
        }
        let filled = state
            .get("filled")
            .and_then(serde_json::Value::as_bool)
            .ok_or_else(|| mismatch("filled: expected true or false".into()))?;
        let entry = match state.get("entry") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(id)) => {
                Some(ClientOrderId::new(id).map_err(|e| mismatch(format!("entry: {e}")))?)
            }
            Some(_) => return Err(mismatch("entry: expected a client order id".into())),
        };
        self.filled = filled;
        self.entry = entry;
        Ok(())
    }
}
