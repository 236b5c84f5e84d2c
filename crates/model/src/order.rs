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

macro_rules! reject_reasons {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// Why an order (or a cancel) was refused. The code ([`RejectReason::code`]) is stable:
        /// it is the metrics label `reason`, the JSON form, and what scripts match on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RejectReason {
            $($(#[$doc])* $variant,)*
        }

        impl RejectReason {
            /// Every reason, in declaration order ([`RejectReason::index`] is the position).
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// Stable upper-case code, e.g. `BELOW_MIN_NOTIONAL`.
            #[must_use]
            pub const fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The reason with this code.
            #[must_use]
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

reject_reasons! {
    /// Quantity is zero or negative.
    InvalidQuantity => "INVALID_QUANTITY",
    /// Quantity is not a multiple of the lot size.
    QuantityNotMultipleOfLot => "QUANTITY_NOT_MULTIPLE_OF_LOT",
    /// A limit or trigger price is not positive or not a multiple of the tick size.
    InvalidPrice => "INVALID_PRICE",
    /// Notional below the instrument's minimum.
    BelowMinNotional => "BELOW_MIN_NOTIONAL",
    /// The client order id was used before.
    DuplicateClientOrderId => "DUPLICATE_CLIENT_ORDER_ID",
    /// The order is for an instrument the venue does not trade.
    UnknownInstrument => "UNKNOWN_INSTRUMENT",
    /// A cancel named an order that is not working.
    UnknownOrder => "UNKNOWN_ORDER",
    /// Sent while the engine was only warming the strategy up on history (walk-forward).
    WarmUp => "WARM_UP",
    /// Another order of its OCO group or bracket was refused, so the group was refused whole.
    LinkedOrderRejected => "LINKED_ORDER_REJECTED",
    /// A bracket's stop-loss or take-profit whose entry order ended without filling completely.
    ParentNotFilled => "PARENT_NOT_FILLED",
    /// Risk: the order's quantity is above `risk.max_order_quantity`.
    MaxOrderQuantity => "MAX_ORDER_QUANTITY",
    /// Risk: the order's notional is above `risk.max_order_notional`.
    MaxOrderNotional => "MAX_ORDER_NOTIONAL",
    /// Risk: the position (with working orders) would exceed `risk.max_position`.
    MaxPosition => "MAX_POSITION",
    /// Risk: gross exposure would exceed `risk.max_gross_exposure`.
    MaxGrossExposure => "MAX_GROSS_EXPOSURE",
    /// Risk: net exposure would exceed `risk.max_net_exposure`.
    MaxNetExposure => "MAX_NET_EXPOSURE",
    /// Risk: more working orders than `risk.max_open_orders`.
    MaxOpenOrders => "MAX_OPEN_ORDERS",
    /// Risk: more orders in the window than `risk.order_rate` allows.
    OrderRateLimit => "ORDER_RATE_LIMIT",
    /// Risk: the limit or trigger price is farther from the reference price than the band.
    PriceBand => "PRICE_BAND",
    /// Risk: no reference price is known yet for the instrument, so the order cannot be priced.
    NoReferencePrice => "NO_REFERENCE_PRICE",
    /// Risk: the account cannot pay for the order (cash, or margin at the configured leverage).
    InsufficientBuyingPower => "INSUFFICIENT_BUYING_POWER",
    /// Risk: a cash account cannot sell what it does not hold.
    ShortNotAllowed => "SHORT_NOT_ALLOWED",
    /// Risk: the day's loss reached `risk.daily_loss_limit`; only reducing orders are allowed.
    DailyLossLimit => "DAILY_LOSS_LIMIT",
    /// Risk: the drawdown reached `risk.max_drawdown`; only reducing orders are allowed.
    MaxDrawdown => "MAX_DRAWDOWN",
    /// Risk: a kill switch (global, strategy or instrument) is on.
    KillSwitch => "KILL_SWITCH",
    /// The venue refused for lack of balance (Binance -2010).
    InsufficientBalance => "INSUFFICIENT_BALANCE",
    /// The venue refused for another reason (its code and message are logged).
    VenueRejected => "VENUE_REJECTED",
    /// The venue or the execution engine could not be reached before the order's deadline.
    VenueUnavailable => "VENUE_UNAVAILABLE",
    /// The order journal could not record the order, so it was not sent.
    StoreUnavailable => "STORE_UNAVAILABLE",
}

impl RejectReason {
    /// True for the pre-trade risk limits (size, position, exposure, open orders, rate, price
    /// band, buying power, loss and drawdown guards): the refusals that mean a strategy went
    /// past a configured limit. Not the kill switch itself, input errors or venue outcomes.
    #[must_use]
    pub const fn is_risk_limit(self) -> bool {
        matches!(
            self,
            Self::MaxOrderQuantity
                | Self::MaxOrderNotional
                | Self::MaxPosition
                | Self::MaxGrossExposure
                | Self::MaxNetExposure
                | Self::MaxOpenOrders
                | Self::OrderRateLimit
                | Self::PriceBand
                | Self::InsufficientBuyingPower
                | Self::ShortNotAllowed
                | Self::DailyLossLimit
                | Self::MaxDrawdown
        )
    }

    /// Position in [`RejectReason::ALL`], for counting by reason in a fixed-size array.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for RejectReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for RejectReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::from_code(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown reject reason '{code}'")))
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
    /// A cancel request was refused (the order had already ended, or the venue did not know it);
    /// the order itself is unchanged.
    CancelRejected(RejectReason),
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
            Self::CancelRejected(_) => "cancel_rejected",
            Self::Expired => "expired",
        }
    }
}

/// An order event as a strategy receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderEvent {
    /// The order.
    pub client_order_id: ClientOrderId,
    /// The venue's id of the order, once the venue has assigned one (from `Accepted` on).
    pub venue_order_id: Option<crate::VenueOrderId>,
    /// When it happened.
    pub ts: crate::UnixNanos,
    /// What happened.
    pub kind: OrderEventKind,
}
