//! [`Fill`]: one execution of (part of) an order.

use serde::Serialize;

use crate::{Asset, ClientOrderId, Money, Price, Quantity, Side, TradeId, UnixNanos, VenueOrderId};

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
    /// The venue's id of that order.
    pub venue_order_id: VenueOrderId,
    /// The venue's id of this execution: the key that makes a repeated report of the same
    /// execution apply once.
    pub trade_id: TradeId,
    /// When it happened.
    pub ts: UnixNanos,
    /// Buy or sell.
    pub side: Side,
    /// Filled quantity (positive).
    pub quantity: Quantity,
    /// Execution price.
    pub price: Price,
    /// Fee charged (negative = rebate), in `fee_asset`.
    pub fee: Money,
    /// The asset the fee was charged in: the quote currency in simulation; on Binance the
    /// received asset or BNB.
    pub fee_asset: Asset,
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
