//! Orders as a strategy asks for them: [`OrderRequest`], [`OrderKind`], [`Side`], [`TimeInForce`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{ClientOrderId, InstrumentId, Price, Quantity};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }

    /// `+1` for buy, `-1` for sell.
    #[must_use]
    pub const fn sign(self) -> i64 {
        match self {
            Self::Buy => 1,
            Self::Sell => -1,
        }
    }

    /// Lower-case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long an order stays working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    /// Good till cancelled.
    #[default]
    Gtc,
    /// Immediate or cancel: fill what can be filled at once, cancel the rest.
    Ioc,
    /// Fill or kill: fill entirely at once or not at all.
    Fok,
    /// Expires at the end of the UTC day it was accepted in.
    Day,
}

impl TimeInForce {
    /// Upper-case name as venues write it.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gtc => "GTC",
            Self::Ioc => "IOC",
            Self::Fok => "FOK",
            Self::Day => "DAY",
        }
    }
}

/// The order type and its prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderKind {
    /// At the best available price.
    Market,
    /// At `price` or better.
    Limit {
        /// Limit price.
        price: Price,
    },
    /// Becomes a market order once the market trades through `trigger`.
    Stop {
        /// Trigger price.
        trigger: Price,
    },
    /// Becomes a limit order at `limit` once the market trades through `trigger`.
    StopLimit {
        /// Trigger price.
        trigger: Price,
        /// Limit price once triggered.
        limit: Price,
    },
    /// A stop whose trigger follows the market at a distance: `offset` below the highest price
    /// seen since it started working for a sell, above the lowest for a buy.
    TrailingStop {
        /// Distance from the best price seen (positive, a multiple of the tick).
        offset: Price,
    },
}

impl OrderKind {
    /// Lower-case name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Market => "market",
            Self::Limit { .. } => "limit",
            Self::Stop { .. } => "stop",
            Self::StopLimit { .. } => "stop_limit",
            Self::TrailingStop { .. } => "trailing_stop",
        }
    }
}

/// An order as a strategy asks for it. The client order id is assigned before the order leaves
/// the strategy, so a retry can never create a second order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    /// Unique id chosen by TradePulse.
    pub client_order_id: ClientOrderId,
    /// What to trade.
    pub instrument: InstrumentId,
    /// Buy or sell.
    pub side: Side,
    /// Positive quantity.
    pub quantity: Quantity,
    /// Type and prices.
    pub kind: OrderKind,
    /// Time in force.
    pub time_in_force: TimeInForce,
}

/// Why an order was refused. The code ([`RejectReason::code`]) is stable: it is the metrics label
/// `reason` and what scripts match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RejectReason {
    /// Quantity is zero or negative.
    InvalidQuantity,
    /// Quantity is not a multiple of the lot size.
    QuantityNotMultipleOfLot,
    /// A limit or trigger price is not positive or not a multiple of the tick size.
    InvalidPrice,
    /// Notional below the instrument's minimum.
    BelowMinNotional,
    /// The client order id was used before.
    DuplicateClientOrderId,
    /// The order is for another instrument than the venue trades.
    UnknownInstrument,
    /// A cancel named an order that is not working.
    UnknownOrder,
    /// The risk engine refused the order.
    RiskLimit,
    /// Sent while the engine was only warming the strategy up on history (walk-forward).
    WarmUp,
    /// Another order of its OCO group or bracket was refused, so the group was refused whole.
    LinkedOrderRejected,
    /// A bracket's stop-loss or take-profit whose entry order ended without filling completely.
    ParentNotFilled,
}

impl RejectReason {
    /// Stable upper-case code, e.g. `BELOW_MIN_NOTIONAL`.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::InvalidQuantity => "INVALID_QUANTITY",
            Self::QuantityNotMultipleOfLot => "QUANTITY_NOT_MULTIPLE_OF_LOT",
            Self::InvalidPrice => "INVALID_PRICE",
            Self::BelowMinNotional => "BELOW_MIN_NOTIONAL",
            Self::DuplicateClientOrderId => "DUPLICATE_CLIENT_ORDER_ID",
            Self::UnknownInstrument => "UNKNOWN_INSTRUMENT",
            Self::UnknownOrder => "UNKNOWN_ORDER",
            Self::RiskLimit => "RISK_LIMIT",
            Self::WarmUp => "WARM_UP",
            Self::LinkedOrderRejected => "LINKED_ORDER_REJECTED",
            Self::ParentNotFilled => "PARENT_NOT_FILLED",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A change in an order's life other than a fill (fills are [`Fill`](crate::Fill)s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderEventKind {
    /// The venue accepted the order; it is working.
    Accepted,
    /// The venue or the risk engine refused it.
    Rejected(RejectReason),
    /// A stop or stop-limit order's trigger was reached.
    Triggered,
    /// Cancelled on request, or the unfilled rest of an IOC/FOK order.
    Canceled,
    /// A DAY order reached the end of its day, or the run ended with it working.
    Expired,
}

impl OrderEventKind {
    /// Lower-case name.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected(_) => "rejected",
            Self::Triggered => "triggered",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }
}

/// An order event as a strategy receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderEvent {
    /// The order.
    pub client_order_id: ClientOrderId,
    /// When it happened.
    pub ts: crate::UnixNanos,
    /// What happened.
    pub kind: OrderEventKind,
}
