//! [`Fill`]: one execution of (part of) an order.

use serde::Serialize;

use crate::{ClientOrderId, Money, Price, Quantity, Side, UnixNanos};

/// Whether a fill added liquidity (maker, a resting limit order) or took it (taker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Liquidity {
    /// Added liquidity.
    Maker,
    /// Took liquidity.
    Taker,
}

impl Liquidity {
    /// Lower-case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Maker => "maker",
            Self::Taker => "taker",
        }
    }
}

/// One execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    /// The order it belongs to.
    pub client_order_id: ClientOrderId,
    /// When it happened.
    pub ts: UnixNanos,
    /// Buy or sell.
    pub side: Side,
    /// Filled quantity (positive).
    pub quantity: Quantity,
    /// Execution price.
    pub price: Price,
    /// Fee charged in the quote currency (negative = rebate).
    pub fee: Money,
    /// Maker or taker.
    pub liquidity: Liquidity,
}

impl Fill {
    /// `price × quantity`.
    #[must_use]
    pub fn notional(&self) -> Money {
        self.price.notional(self.quantity)
    }
}
