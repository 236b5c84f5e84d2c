//! The JSON documents of the exec API. Exact numbers travel as decimal strings (`"0.5"`,
//! `"50000.01"`), never as JSON floats; times as UTC nanoseconds.

use serde::{Deserialize, Serialize};
use tradepulse_live::{BalanceView, EngineEvent, OrderView, PositionView, SubmitRequest};
use tradepulse_model::{
    ClientOrderId, InstrumentId, OrderKind, Price, Quantity, Side, TimeInForce, UnixNanos,
};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SideDto {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

/// Order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderTypeDto {
    /// At the best price.
    Market,
    /// At `price` or better.
    Limit,
    /// A market order once the market trades through `trigger_price`.
    Stop,
    /// A limit order at `price` once the market trades through `trigger_price`.
    StopLimit,
}

/// Time in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForceDto {
    /// Good till cancelled.
    #[default]
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Fill or kill.
    Fok,
    /// Until the end of the UTC day (not on Binance).
    Day,
}

/// `POST /v1/orders`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitOrder {
    /// Your id for the order (1–36 of `A-Za-z0-9._:/-`): a repeated submit with the same id
    /// returns the first order (idempotent). Without one the engine assigns an id.
    #[serde(default)]
    pub client_order_id: Option<String>,
    /// Who decides (kill switches and rate limits are per strategy). Default `api`.
    #[serde(default)]
    pub strategy: Option<String>,
    /// `SYMBOL.VENUE`, e.g. `BTCUSD.SIM`.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: SideDto,
    /// `market`, `limit`, `stop`, `stop_limit`.
    #[serde(rename = "type")]
    pub order_type: OrderTypeDto,
    /// Positive decimal, a multiple of the lot size.
    pub quantity: String,
    /// Limit price (limit, stop_limit).
    #[serde(default)]
    pub price: Option<String>,
    /// Trigger price (stop, stop_limit).
    #[serde(default)]
    pub trigger_price: Option<String>,
    /// Default `gtc`.
    #[serde(default)]
    pub time_in_force: TimeInForceDto,
    /// When the decision was made (UTC ns); latency is measured from it.
    #[serde(default)]
    pub decided_at_ns: Option<i64>,
}

fn decimal<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| ApiError::invalid(field, format!("'{text}' is not a decimal: {e}")))
}

impl SubmitOrder {
    /// The engine's request.
    ///
    /// # Errors
    /// `422 INVALID_FIELD` naming the field.
    pub fn into_request(self) -> Result<SubmitRequest, ApiError> {
        let client_order_id = self
            .client_order_id
            .as_deref()
            .map(ClientOrderId::new)
            .transpose()
            .map_err(|e| ApiError::invalid("client_order_id", e))?;
        let instrument: InstrumentId = self
            .instrument
            .parse()
            .map_err(|e| ApiError::invalid("instrument", e))?;
        let quantity: Quantity = decimal("quantity", &self.quantity)?;
        if !quantity.is_positive() {
            return Err(ApiError::invalid("quantity", "must be positive"));
        }
        let price = self
            .price
            .as_deref()
            .map(|p| decimal::<Price>("price", p))
            .transpose()?;
        let trigger = self
            .trigger_price
            .as_deref()
            .map(|p| decimal::<Price>("trigger_price", p))
            .transpose()?;
        for (field, value) in [("price", price), ("trigger_price", trigger)] {
            if value.is_some_and(|p| !p.is_positive()) {
                return Err(ApiError::invalid(field, "must be positive"));
            }
        }
        let need = |field: &str, v: Option<Price>| {
            v.ok_or_else(|| ApiError::invalid(field, "is required for this order type"))
        };
        let refuse = |field: &str, v: Option<Price>| match v {
            Some(_) => Err(ApiError::invalid(field, "is not used by this order type")),
            None => Ok(()),
        };
        let kind = match self.order_type {
            OrderTypeDto::Market => {
                refuse("price", price)?;
                refuse("trigger_price", trigger)?;
                OrderKind::Market
            }
            OrderTypeDto::Limit => {
                refuse("trigger_price", trigger)?;
                OrderKind::Limit {
                    price: need("price", price)?,
                }
            }
            OrderTypeDto::Stop => {
                refuse("price", price)?;
                OrderKind::Stop {
                    trigger: need("trigger_price", trigger)?,
                }
            }
            OrderTypeDto::StopLimit => OrderKind::StopLimit {
                trigger: need("trigger_price", trigger)?,
                limit: need("price", price)?,
            },
        };
        let strategy = self.strategy.unwrap_or_else(|| "api".to_owned());
        if strategy.is_empty()
            || strategy.len() > 64
            || !strategy
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(ApiError::invalid(
                "strategy",
                "1-64 of letters, digits and _ - .",
            ));
        }
        if strategy == tradepulse_live::EXTERNAL {
            return Err(ApiError::invalid(
                "strategy",
                "`external` is reserved for orders adopted from the venue",
            ));
        }
        Ok(SubmitRequest {
            client_order_id,
            strategy,
            instrument,
            side: match self.side {
                SideDto::Buy => Side::Buy,
                SideDto::Sell => Side::Sell,
            },
            quantity,
            kind,
            time_in_force: match self.time_in_force {
                TimeInForceDto::Gtc => TimeInForce::Gtc,
                TimeInForceDto::Ioc => TimeInForce::Ioc,
                TimeInForceDto::Fok => TimeInForce::Fok,
                TimeInForceDto::Day => TimeInForce::Day,
            },
            decided_at: self.decided_at_ns.map(UnixNanos::new),
        })
    }
}

/// A fee charged in one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FeeDto {
    /// Asset.
    pub asset: String,
    /// Amount (decimal).
    pub amount: String,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OrderDto {
    /// Client order id.
    pub client_order_id: String,
    /// The venue's id, once known.
    pub venue_order_id: Option<String>,
    /// Who sent it (`external`: adopted from the venue).
    pub strategy: String,
    /// `SYMBOL.VENUE`.
    pub instrument: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `market`, `limit`, `stop`, `stop_limit`, `trailing_stop`.
    #[serde(rename = "type")]
    pub order_type: String,
    /// Ordered quantity.
    pub quantity: String,
    /// Limit price.
    pub price: Option<String>,
    /// Trigger price.
    pub trigger_price: Option<String>,
    /// `GTC`, `IOC`, `FOK`, `DAY`.
    pub time_in_force: String,
    /// `refused` (before the venue), `submitted`, `accepted`, `triggered`,
    /// `partially_filled`, `pending_cancel`, `filled`, `canceled`, `expired`, `rejected`.
    pub status: String,
    /// Reason code of a refusal or rejection.
    pub reject_reason: Option<String>,
    /// Executed quantity.
    pub filled_quantity: String,
    /// Average execution price.
    pub avg_fill_price: Option<String>,
    /// Fees per asset.
    pub fees: Vec<FeeDto>,
    /// `local` or `external`.
    pub origin: String,
    /// Recorded at (UTC ns).
    pub created_at_ns: i64,
    /// Last change (UTC ns).
    pub updated_at_ns: i64,
}

impl From<&OrderView> for OrderDto {
    fn from(v: &OrderView) -> Self {
        let (price, trigger) = match v.request.kind {
            OrderKind::Market => (None, None),
            OrderKind::Limit { price } => (Some(price), None),
            OrderKind::Stop { trigger } => (None, Some(trigger)),
            OrderKind::StopLimit { trigger, limit } => (Some(limit), Some(trigger)),
            OrderKind::TrailingStop { offset } => (None, Some(offset)),
        };
        Self {
            client_order_id: v.request.client_order_id.to_string(),
            venue_order_id: v.venue_order_id.map(|id| id.to_string()),
            strategy: v.strategy.clone(),
            instrument: v.request.instrument.to_string(),
            side: v.request.side.as_str().to_owned(),
            order_type: v.request.kind.as_str().to_owned(),
            quantity: v.request.quantity.to_string(),
            price: price.map(|p| p.to_string()),
            trigger_price: trigger.map(|p| p.to_string()),
            time_in_force: v.request.time_in_force.as_str().to_owned(),
            status: v.status().to_owned(),
            reject_reason: v.reject_reason.map(|r| r.code().to_owned()),
            filled_quantity: v.filled.to_string(),
            avg_fill_price: v.avg_fill_price.map(|p| p.to_string()),
            fees: v
                .fees
                .iter()
                .map(|(asset, amount)| FeeDto {
                    asset: asset.to_string(),
                    amount: amount.to_string(),
                })
                .collect(),
            origin: match v.origin {
                tradepulse_execution::Origin::Local => "local".into(),
                tradepulse_execution::Origin::External => "external".into(),
            },
            created_at_ns: v.created_at.as_nanos(),
            updated_at_ns: v.updated_at.as_nanos(),
        }
    }
}

/// An intent refused before the venue (risk, kill switch, journal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RefusedDto {
    /// The reason code, e.g. `MAX_POSITION`.
    pub code: String,
    /// With the values behind it, e.g. `MAX_POSITION: value=6, limit=5`.
    pub message: String,
    /// The order as recorded.
    pub order: OrderDto,
}

/// `GET /v1/orders` filters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    /// `open`, `closed` or a status name.
    pub status: Option<String>,
    /// `SYMBOL.VENUE`.
    pub instrument: Option<String>,
    /// Strategy name.
    pub strategy: Option<String>,
    /// Created at or after (UTC ns).
    pub since_ns: Option<i64>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<usize>,
}

/// A position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PositionDto {
    /// `SYMBOL.VENUE`.
    pub instrument: String,
    /// Signed quantity.
    pub quantity: String,
    /// Signed cost basis.
    pub cost_basis: String,
    /// Realised PnL before fees.
    pub realized_pnl: String,
    /// Latest price.
    pub mark: Option<String>,
    /// Unrealised PnL at the mark.
    pub unrealized_pnl: Option<String>,
}

impl From<&PositionView> for PositionDto {
    fn from(p: &PositionView) -> Self {
        Self {
            instrument: p.instrument.to_string(),
            quantity: p.quantity.to_string(),
            cost_basis: p.cost_basis.to_string(),
            realized_pnl: p.realized_pnl.to_string(),
            mark: p.mark.map(|m| m.to_string()),
            unrealized_pnl: p.unrealized_pnl.map(|m| m.to_string()),
        }
    }
}

/// A balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BalanceDto {
    /// Asset.
    pub asset: String,
    /// Total held (decimal; negative: owed).
    pub total: String,
}

impl From<&BalanceView> for BalanceDto {
    fn from(b: &BalanceView) -> Self {
        Self {
            asset: b.asset.to_string(),
            total: b.total.to_string(),
        }
    }
}

/// `POST /v1/kill-switch`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchRequest {
    /// `global`, `strategy:NAME` or `instrument:SYMBOL.VENUE`.
    pub scope: String,
    /// Engage (`true`) or release.
    pub engaged: bool,
    /// Why (audited; 3–256 characters).
    pub reason: String,
    /// Also cancel the open orders the scope covers.
    #[serde(default)]
    pub cancel_open: bool,
}

/// The kill switches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct KillSwitchDto {
    /// Engaged scopes.
    pub engaged: Vec<String>,
    /// Orders whose cancel this change requested.
    pub cancel_requested: Vec<String>,
}

/// `GET /v1/status`, `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusDto {
    /// Restored, reconciled, accepting orders.
    pub ready: bool,
    /// Why not.
    pub reason: Option<String>,
    /// Session id.
    pub session: i64,
    /// Venue.
    pub venue: String,
    /// Orders that can still fill.
    pub open_orders: usize,
    /// Engaged kill switches.
    pub kill_switches: Vec<String>,
    /// Orders sent this session.
    pub orders_sent: u64,
    /// Fills booked this session.
    pub fills: u64,
    /// Refusals and rejections this session.
    pub rejected: u64,
    /// `rejected` by reason code (`MAX_POSITION`, `KILL_SWITCH`, …; only reasons that occurred).
    pub rejected_by_reason: std::collections::BTreeMap<String, u64>,
    /// Last complete reconciliation (UTC ns).
    pub last_reconciliation_ns: Option<i64>,
}

/// An execution (in `/v1/stream` and `/v1/orders/{id}/fills`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FillDto {
    /// Order.
    pub client_order_id: String,
    /// The venue's id of the order.
    pub venue_order_id: String,
    /// The venue's trade id.
    pub trade_id: String,
    /// `maker` or `taker`.
    pub liquidity: String,
    /// `SYMBOL.VENUE`.
    pub instrument: String,
    /// Strategy.
    pub strategy: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Quantity.
    pub quantity: String,
    /// Price.
    pub price: String,
    /// Fee.
    pub fee: String,
    /// Fee asset.
    pub fee_asset: String,
    /// Venue time (UTC ns).
    pub ts_ns: i64,
}

impl FillDto {
    /// The fill of an order of `strategy` in `instrument`.
    #[must_use]
    pub fn new(fill: &tradepulse_model::Fill, instrument: &InstrumentId, strategy: &str) -> Self {
        Self {
            client_order_id: fill.client_order_id.to_string(),
            venue_order_id: fill.venue_order_id.to_string(),
            trade_id: fill.trade_id.to_string(),
            liquidity: fill.liquidity.as_str().to_owned(),
            instrument: instrument.to_string(),
            strategy: strategy.to_owned(),
            side: fill.side.as_str().to_owned(),
            quantity: fill.quantity.to_string(),
            price: fill.price.to_string(),
            fee: fill.fee.to_string(),
            fee_asset: fill.fee_asset.to_string(),
            ts_ns: fill.ts.as_nanos(),
        }
    }
}

/// Who the token is (`GET /v1/whoami`): what a client may offer its user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WhoAmIDto {
    /// The token's name.
    pub name: String,
    /// What the token may do.
    pub role: RoleDto,
}

/// A token's role: `viewer` < `trader` < `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleDto {
    /// Reads.
    Viewer,
    /// Reads, orders, strategies, backtests.
    Trader,
    /// Everything, the kill switch too.
    Admin,
}

impl From<crate::auth::Role> for RoleDto {
    fn from(role: crate::auth::Role) -> Self {
        match role {
            crate::auth::Role::Viewer => Self::Viewer,
            crate::auth::Role::Trader => Self::Trader,
            crate::auth::Role::Admin => Self::Admin,
        }
    }
}

/// One message of the `/v1/stream` WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamMessage {
    /// An order changed.
    Order {
        /// The order now.
        order: OrderDto,
    },
    /// An execution.
    Fill(FillDto),
    /// A kill switch changed.
    KillSwitch {
        /// Scope.
        scope: String,
        /// Engaged.
        engaged: bool,
    },
    /// Reconciliation ran.
    Reconciled {
        /// Corrections.
        adjustments: usize,
        /// Local and venue agree.
        complete: bool,
    },
    /// This client fell behind and missed `missed` messages (re-read the orders it cares
    /// about).
    Lagged {
        /// How many.
        missed: u64,
    },
}

impl From<&EngineEvent> for StreamMessage {
    fn from(e: &EngineEvent) -> Self {
        match e {
            EngineEvent::Order(v) => Self::Order {
                order: OrderDto::from(v.as_ref()),
            },
            EngineEvent::Fill {
                fill,
                instrument,
                strategy,
            } => Self::Fill(FillDto::new(fill, instrument, strategy)),
            EngineEvent::KillSwitch { scope, engaged } => Self::KillSwitch {
                scope: scope.key(),
                engaged: *engaged,
            },
            EngineEvent::Reconciled {
                adjustments,
                complete,
            } => Self::Reconciled {
                adjustments: *adjustments,
                complete: *complete,
            },
        }
    }
}
