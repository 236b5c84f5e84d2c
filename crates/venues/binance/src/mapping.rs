//! From Binance's wire types ([`crate::dto`]) to TradePulse's model, and back for requests.
//!
//! - [`SymbolRules`]: a symbol's filters, exactly; [`SymbolRules::instrument`] gives the model
//!   [`Instrument`] (tick, lot, minimum notional) so the risk engine checks the venue's own rules.
//! - [`NewOrder`]: a model [`OrderRequest`] as Binance parameters.
//! - [`OrderUpdate`]: one change of one order (accepted, filled, cancelled, expired, rejected), from
//!   an `executionReport`, a REST order response or a `myTrades` row. It carries Binance's order id
//!   and trade id, so the order manager applies duplicates idempotently.
//!
//! Decimals are parsed from the venue's strings into the model's fixed-point types, never through
//! `f64` (bar volume, an analytic value, is the one exception, as in [`Bar`]).

use std::str::FromStr;

use tradepulse_model::{
    Asset, Bar, ClientOrderId, Instrument, InstrumentId, Liquidity, Money, OrderKind, OrderRequest,
    Price, Quantity, Side, TimeInForce, UnixNanos, UnixUnit,
};

use crate::Error;
use crate::dto::{
    AccountTrade, ExecutionReport, OrderResponse, RestKline, StreamKline, SymbolFilter, SymbolInfo,
};

/// Parses a venue decimal into a model number.
pub(crate) fn parse<T: FromStr>(text: &str, what: &'static str) -> Result<T, Error>
where
    T::Err: std::fmt::Display,
{
    text.trim().parse().map_err(|e: T::Err| Error::Mapping {
        what,
        reason: format!("'{text}': {e}"),
    })
}

/// Milliseconds since the epoch as [`UnixNanos`].
pub(crate) fn ms(value: i64) -> UnixNanos {
    UnixNanos::from_unix(value, UnixUnit::Millis).unwrap_or(UnixNanos::EPOCH)
}

/// `BUY`/`SELL` as a [`Side`].
pub(crate) fn side(text: &str) -> Result<Side, Error> {
    match text {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(Error::Mapping {
            what: "side",
            reason: format!("'{other}' is neither BUY nor SELL"),
        }),
    }
}

pub(crate) fn side_text(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

fn client_id(text: &str) -> Result<ClientOrderId, Error> {
    ClientOrderId::new(text).map_err(|e| Error::Mapping {
        what: "client order id",
        reason: e.to_string(),
    })
}

/// Quantity bounds and step (LOT_SIZE, MARKET_LOT_SIZE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LotRule {
    /// Minimum quantity.
    pub min: Quantity,
    /// Maximum quantity.
    pub max: Quantity,
    /// Step (zero = none).
    pub step: Quantity,
}

/// A symbol's trading rules as Binance publishes them in exchangeInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRules {
    /// e.g. `BTCUSDT`.
    pub symbol: String,
    /// `TRADING`, `HALT`, `BREAK`.
    pub status: String,
    /// e.g. `BTC`.
    pub base_asset: String,
    /// e.g. `USDT`.
    pub quote_asset: String,
    /// PRICE_FILTER minimum (`None` when disabled).
    pub min_price: Option<Price>,
    /// PRICE_FILTER maximum (`None` when disabled).
    pub max_price: Option<Price>,
    /// PRICE_FILTER tick (`None` when disabled).
    pub tick_size: Option<Price>,
    /// LOT_SIZE.
    pub lot: Option<LotRule>,
    /// MARKET_LOT_SIZE.
    pub market_lot: Option<LotRule>,
    /// NOTIONAL or MIN_NOTIONAL minimum.
    pub min_notional: Option<Money>,
    /// Whether the minimum notional applies to MARKET orders.
    pub min_notional_applies_to_market: bool,
    /// NOTIONAL maximum.
    pub max_notional: Option<Money>,
}

/// Which filter an order breaks, named as Binance's `-1013` message names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilterViolation {
    /// `Filter failure: PRICE_FILTER`.
    #[error("Filter failure: PRICE_FILTER")]
    Price,
    /// `Filter failure: LOT_SIZE`.
    #[error("Filter failure: LOT_SIZE")]
    LotSize,
    /// `Filter failure: MARKET_LOT_SIZE`.
    #[error("Filter failure: MARKET_LOT_SIZE")]
    MarketLotSize,
    /// `Filter failure: NOTIONAL`.
    #[error("Filter failure: NOTIONAL")]
    Notional,
}

fn nonzero<T: Default + PartialEq>(value: T) -> Option<T> {
    (value != T::default()).then_some(value)
}

impl SymbolRules {
    /// Reads the filters of one exchangeInfo symbol.
    ///
    /// # Errors
    /// [`Error::Mapping`] if a filter value is not a decimal the model can hold.
    pub fn from_info(info: &SymbolInfo) -> Result<Self, Error> {
        let mut rules = Self {
            symbol: info.symbol.clone(),
            status: info.status.clone(),
            base_asset: info.base_asset.clone(),
            quote_asset: info.quote_asset.clone(),
            min_price: None,
            max_price: None,
            tick_size: None,
            lot: None,
            market_lot: None,
            min_notional: None,
            min_notional_applies_to_market: false,
            max_notional: None,
        };
        let lot = |min: &str, max: &str, step: &str| -> Result<LotRule, Error> {
            Ok(LotRule {
                min: parse(min, "minQty")?,
                max: parse(max, "maxQty")?,
                step: parse(step, "stepSize")?,
            })
        };
        for filter in &info.filters {
            match filter {
                SymbolFilter::Price {
                    min_price,
                    max_price,
                    tick_size,
                } => {
                    rules.min_price = nonzero(parse::<Price>(min_price, "minPrice")?);
                    rules.max_price = nonzero(parse::<Price>(max_price, "maxPrice")?);
                    rules.tick_size = nonzero(parse::<Price>(tick_size, "tickSize")?);
                }
                SymbolFilter::LotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => rules.lot = Some(lot(min_qty, max_qty, step_size)?),
                SymbolFilter::MarketLotSize {
                    min_qty,
                    max_qty,
                    step_size,
                } => rules.market_lot = Some(lot(min_qty, max_qty, step_size)?),
                SymbolFilter::MinNotional {
                    min_notional,
                    apply_to_market,
                } => {
                    // NOTIONAL supersedes MIN_NOTIONAL where a symbol has both.
                    if rules.min_notional.is_none() {
                        rules.min_notional = Some(parse(min_notional, "minNotional")?);
                        rules.min_notional_applies_to_market = *apply_to_market;
                    }
                }
                SymbolFilter::Notional {
                    min_notional,
                    apply_min_to_market,
                    max_notional,
                    ..
                } => {
                    rules.min_notional = Some(parse(min_notional, "minNotional")?);
                    rules.min_notional_applies_to_market = *apply_min_to_market;
                    rules.max_notional = match max_notional {
                        Some(text) => nonzero(parse::<Money>(text, "maxNotional")?),
                        None => None,
                    };
                }
                SymbolFilter::Other => {}
            }
        }
        Ok(rules)
    }

    /// The model instrument `SYMBOL.venue` with the venue's tick, step, minimum notional and base
    /// asset (a spot instrument).
    ///
    /// # Errors
    /// [`Error::Mapping`] if the symbol has no tick size or step size (the model requires both)
    /// or its quote asset is not a 3–5 character code.
    pub fn instrument(&self, venue: &str) -> Result<Instrument, Error> {
        let mapping = |reason: String| Error::Mapping {
            what: "instrument",
            reason,
        };
        let id = InstrumentId::new(&self.symbol, venue).map_err(|e| mapping(e.to_string()))?;
        let tick = self
            .tick_size
            .ok_or_else(|| mapping(format!("{}: PRICE_FILTER has no tickSize", self.symbol)))?;
        let step = self
            .lot
            .map(|l| l.step)
            .filter(|s| s.is_positive())
            .ok_or_else(|| mapping(format!("{}: LOT_SIZE has no stepSize", self.symbol)))?;
        let base =
            Asset::new(&self.base_asset).map_err(|e| mapping(format!("{}: {e}", self.symbol)))?;
        Instrument::new(
            id,
            &self.quote_asset,
            tick,
            step,
            self.min_notional.unwrap_or(Money::ZERO),
        )
        .map(|instrument| instrument.with_base_asset(base))
        .map_err(|e| mapping(format!("{}: {e}", self.symbol)))
    }

    /// Checks an order against the filters as Binance does before it reaches the matching engine
    /// (`-1013`). A MARKET order's notional is checked at `reference_price` when given (Binance
    /// uses its average price).
    ///
    /// # Errors
    /// The first filter the order breaks.
    pub fn check(
        &self,
        order: &NewOrder,
        reference_price: Option<Price>,
    ) -> Result<(), FilterViolation> {
        let price_ok = |p: Price| {
            self.min_price.is_none_or(|min| p >= min)
                && self.max_price.is_none_or(|max| p <= max)
                && self.tick_size.is_none_or(|tick| p.raw() % tick.raw() == 0)
        };
        for p in [order.price, order.stop_price].into_iter().flatten() {
            if !price_ok(p) {
                return Err(FilterViolation::Price);
            }
        }
        let lot_ok = |rule: &LotRule, q: Quantity| {
            q >= rule.min && q <= rule.max && q.is_multiple_of(rule.step)
        };
        if let Some(rule) = &self.lot
            && !lot_ok(rule, order.quantity)
        {
            return Err(FilterViolation::LotSize);
        }
        let is_market = order.order_type == "MARKET";
        if is_market
            && let Some(rule) = &self.market_lot
            && !lot_ok(rule, order.quantity)
        {
            return Err(FilterViolation::MarketLotSize);
        }
        let price = if is_market {
            reference_price
        } else {
            order.price
        };
        if let Some(price) = price {
            let notional = price.notional(order.quantity);
            if let Some(min) = self.min_notional
                && (!is_market || self.min_notional_applies_to_market)
                && notional < min
            {
                return Err(FilterViolation::Notional);
            }
            if let Some(max) = self.max_notional
                && !is_market
                && notional > max
            {
                return Err(FilterViolation::Notional);
            }
        }
        Ok(())
    }
}

/// A new order as Binance parameters (`POST /api/v3/order`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// Binance symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// `MARKET`, `LIMIT`, `STOP_LOSS`, `STOP_LOSS_LIMIT`.
    pub order_type: &'static str,
    /// `GTC`, `IOC`, `FOK` (limit types only).
    pub time_in_force: Option<&'static str>,
    /// Base quantity.
    pub quantity: Quantity,
    /// Limit price.
    pub price: Option<Price>,
    /// Trigger price.
    pub stop_price: Option<Price>,
    /// Our id, sent as `newClientOrderId`.
    pub client_order_id: ClientOrderId,
}

impl NewOrder {
    /// Expresses a model order on Binance. Stops map to `STOP_LOSS` / `STOP_LOSS_LIMIT`, which
    /// Binance triggers above the market for buys and below it for sells.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a DAY time in force (Binance has none), a trailing stop (Binance
    /// trails in basis points, not a price offset) or a non-positive quantity.
    pub fn from_request(request: &OrderRequest) -> Result<Self, Error> {
        if !request.quantity.is_positive() {
            return Err(Error::Unsupported(format!(
                "{}: quantity must be positive, got {}",
                request.client_order_id, request.quantity
            )));
        }
        let tif = match request.time_in_force {
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Fok => "FOK",
            TimeInForce::Day => {
                return Err(Error::Unsupported(format!(
                    "{}: Binance Spot has no DAY time in force",
                    request.client_order_id
                )));
            }
        };
        let (order_type, time_in_force, price, stop_price) = match request.kind {
            OrderKind::Market => ("MARKET", None, None, None),
            OrderKind::Limit { price } => ("LIMIT", Some(tif), Some(price), None),
            OrderKind::Stop { trigger } => ("STOP_LOSS", None, None, Some(trigger)),
            OrderKind::StopLimit { trigger, limit } => {
                ("STOP_LOSS_LIMIT", Some(tif), Some(limit), Some(trigger))
            }
            OrderKind::TrailingStop { .. } => {
                return Err(Error::Unsupported(format!(
                    "{}: trailing stops by price offset are not supported on Binance \
                     (it trails by basis points)",
                    request.client_order_id
                )));
            }
        };
        Ok(Self {
            symbol: request.instrument.symbol().to_owned(),
            side: request.side,
            order_type,
            time_in_force,
            quantity: request.quantity,
            price,
            stop_price,
            client_order_id: request.client_order_id,
        })
    }

    /// The request parameters, in the documented order.
    pub(crate) fn params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("symbol", self.symbol.clone()),
            ("side", side_text(self.side).to_owned()),
            ("type", self.order_type.to_owned()),
        ];
        if let Some(tif) = self.time_in_force {
            params.push(("timeInForce", tif.to_owned()));
        }
        params.push(("quantity", self.quantity.to_string()));
        if let Some(price) = self.price {
            params.push(("price", price.to_string()));
        }
        if let Some(stop) = self.stop_price {
            params.push(("stopPrice", stop.to_string()));
        }
        params.push(("newClientOrderId", self.client_order_id.as_str().to_owned()));
        // FULL: the response carries the fills at placement, so a taker fill is known without
        // waiting for the user-data stream.
        params.push(("newOrderRespType", "FULL".to_owned()));
        params
    }
}

/// One execution (fill) of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeFill {
    /// Binance's trade id (unique per symbol): the idempotency key of the fill.
    pub trade_id: u64,
    /// Buy or sell.
    pub side: Side,
    /// Execution price.
    pub price: Price,
    /// Filled quantity.
    pub quantity: Quantity,
    /// Fee, in `fee_asset`.
    pub fee: Money,
    /// The asset the fee was charged in (Binance charges the received asset, or BNB).
    pub fee_asset: String,
    /// Maker or taker.
    pub liquidity: Liquidity,
}

/// What happened to the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderUpdateKind {
    /// The venue accepted it (it is working, or about to fill).
    Accepted,
    /// The matching engine refused it (the stream's reject reason, e.g. `INSUFFICIENT_BALANCES`).
    Rejected {
        /// Binance's reason.
        reason: String,
    },
    /// Cancelled on request.
    Canceled,
    /// Expired by the venue (IOC/FOK rest, STP, exchange cancel), with Binance's expiry reason.
    Expired {
        /// e.g. `UNFILLED_IOC_QUANTITY_EXPIRED`.
        reason: Option<String>,
    },
    /// A fill.
    Fill(TradeFill),
}

impl OrderUpdateKind {
    /// True for the states after which no event but a late fill can follow.
    #[must_use]
    pub const fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Rejected { .. } | Self::Canceled | Self::Expired { .. }
        )
    }
}

/// Where an update came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateSource {
    /// The user-data stream.
    Stream,
    /// A REST response to our own request.
    Response,
    /// The REST catch-up after a stream gap.
    CatchUp,
}

/// One change of one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    /// Binance symbol.
    pub symbol: String,
    /// The order's client order id (for a cancel, the cancelled order's, not the cancel
    /// request's).
    pub client_order_id: ClientOrderId,
    /// Binance's order id.
    pub order_id: u64,
    /// Venue time of the change.
    pub ts: UnixNanos,
    /// What happened.
    pub kind: OrderUpdateKind,
    /// Where it came from.
    pub source: UpdateSource,
}

impl OrderUpdate {
    /// Maps an `executionReport`. `REPLACED` (an amend) yields `None`.
    ///
    /// # Errors
    /// [`Error::Mapping`] for an unknown execution type or a malformed value.
    pub fn from_execution_report(report: &ExecutionReport) -> Result<Option<Self>, Error> {
        // On a cancel, `c` is the cancel request's own id and `C` the cancelled order's.
        let own_id =
            if report.execution_type == "CANCELED" && !report.orig_client_order_id.is_empty() {
                &report.orig_client_order_id
            } else {
                &report.client_order_id
            };
        let kind = match report.execution_type.as_str() {
            "NEW" => OrderUpdateKind::Accepted,
            "CANCELED" => OrderUpdateKind::Canceled,
            "REJECTED" => OrderUpdateKind::Rejected {
                reason: report.reject_reason.clone(),
            },
            "EXPIRED" => OrderUpdateKind::Expired {
                reason: report.expiry_reason.clone(),
            },
            "TRADE_PREVENTION" => OrderUpdateKind::Expired {
                reason: Some("TRADE_PREVENTION".to_owned()),
            },
            "TRADE" => {
                let trade_id = u64::try_from(report.trade_id).map_err(|_| Error::Mapping {
                    what: "executionReport",
                    reason: format!("TRADE without a trade id ({})", report.trade_id),
                })?;
                OrderUpdateKind::Fill(TradeFill {
                    trade_id,
                    side: side(&report.side)?,
                    price: parse(&report.last_price, "L (last price)")?,
                    quantity: parse(&report.last_qty, "l (last quantity)")?,
                    fee: parse(
                        report.commission.as_deref().unwrap_or("0"),
                        "n (commission)",
                    )?,
                    fee_asset: report.commission_asset.clone().unwrap_or_default(),
                    liquidity: if report.is_maker {
                        Liquidity::Maker
                    } else {
                        Liquidity::Taker
                    },
                })
            }
            "REPLACED" => return Ok(None),
            other => {
                return Err(Error::Mapping {
                    what: "executionReport",
                    reason: format!("unknown execution type '{other}'"),
                });
            }
        };
        Ok(Some(Self {
            symbol: report.symbol.clone(),
            client_order_id: client_id(own_id)?,
            order_id: report.order_id,
            ts: ms(report.transaction_time),
            kind,
            source: UpdateSource::Stream,
        }))
    }

    /// The updates a REST order answer implies: for a new order, `Accepted` plus its placement
    /// fills (FULL response) plus `Expired` for an IOC/FOK/MARKET rest; for a query or cancel, the
    /// terminal state if there is one. Fills of a queried order are not in the answer: they come
    /// from `myTrades` ([`OrderUpdate::from_account_trade`]).
    ///
    /// # Errors
    /// [`Error::Mapping`] for a malformed value.
    pub fn from_order_response(
        response: &OrderResponse,
        source: UpdateSource,
    ) -> Result<Vec<Self>, Error> {
        let own_id = response
            .orig_client_order_id
            .as_deref()
            .unwrap_or(&response.client_order_id);
        let client_order_id = client_id(own_id)?;
        let ts = ms(response
            .transact_time
            .or(response.update_time)
            .or(response.time)
            .unwrap_or(0));
        let make = |kind| Self {
            symbol: response.symbol.clone(),
            client_order_id,
            order_id: response.order_id,
            ts,
            kind,
            source,
        };
        let mut out = Vec::new();
        let status = response.status.as_deref().unwrap_or("NEW");
        if status != "REJECTED" && response.orig_client_order_id.is_none() {
            out.push(make(OrderUpdateKind::Accepted));
        }
        if !response.fills.is_empty() {
            let order_side = side(response.side.as_deref().unwrap_or(""))?;
            for fill in &response.fills {
                out.push(make(OrderUpdateKind::Fill(TradeFill {
                    trade_id: fill.trade_id,
                    side: order_side,
                    price: parse(&fill.price, "fills.price")?,
                    quantity: parse(&fill.qty, "fills.qty")?,
                    fee: parse(&fill.commission, "fills.commission")?,
                    fee_asset: fill.commission_asset.clone(),
                    // Fills in the placement response happened as the order arrived: taker.
                    liquidity: Liquidity::Taker,
                })));
            }
        }
        match status {
            "CANCELED" => out.push(make(OrderUpdateKind::Canceled)),
            "EXPIRED" | "EXPIRED_IN_MATCH" => {
                out.push(make(OrderUpdateKind::Expired { reason: None }));
            }
            "REJECTED" => out.push(make(OrderUpdateKind::Rejected {
                reason: "REJECTED".to_owned(),
            })),
            _ => {}
        }
        Ok(out)
    }

    /// A fill from `GET /api/v3/myTrades`; the row has no client order id, so the caller passes
    /// the one it knows for `trade.order_id`.
    ///
    /// # Errors
    /// [`Error::Mapping`] for a malformed value.
    pub fn from_account_trade(
        trade: &AccountTrade,
        client_order_id: ClientOrderId,
    ) -> Result<Self, Error> {
        Ok(Self {
            symbol: trade.symbol.clone(),
            client_order_id,
            order_id: trade.order_id,
            ts: ms(trade.time),
            kind: OrderUpdateKind::Fill(TradeFill {
                trade_id: trade.id,
                side: if trade.is_buyer {
                    Side::Buy
                } else {
                    Side::Sell
                },
                price: parse(&trade.price, "price")?,
                quantity: parse(&trade.qty, "qty")?,
                fee: parse(&trade.commission, "commission")?,
                fee_asset: trade.commission_asset.clone(),
                liquidity: if trade.is_maker {
                    Liquidity::Maker
                } else {
                    Liquidity::Taker
                },
            }),
            source: UpdateSource::CatchUp,
        })
    }
}

/// A per-asset balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Asset, e.g. `BTC`.
    pub asset: String,
    /// Available.
    pub free: Money,
    /// Locked in open orders.
    pub locked: Money,
}

impl Balance {
    /// `free + locked`.
    #[must_use]
    pub fn total(&self) -> Money {
        self.free.checked_add(self.locked).unwrap_or(self.free)
    }
}

/// A REST kline as a model bar (stamped with its open time) and its close time.
///
/// # Errors
/// [`Error::Mapping`] for a malformed value or a bar that breaks the OHLC rules.
pub fn bar_from_rest(kline: &RestKline) -> Result<(Bar, UnixNanos), Error> {
    let bar = Bar {
        ts: ms(kline.0),
        open: parse(&kline.1, "kline open")?,
        high: parse(&kline.2, "kline high")?,
        low: parse(&kline.3, "kline low")?,
        close: parse(&kline.4, "kline close")?,
        volume: parse(&kline.5, "kline volume")?,
    };
    bar.validate().map_err(|e| Error::Mapping {
        what: "kline",
        reason: e.to_string(),
    })?;
    Ok((bar, ms(kline.6)))
}

/// A stream kline as a model bar.
///
/// # Errors
/// As [`bar_from_rest`].
pub fn bar_from_stream(kline: &StreamKline) -> Result<Bar, Error> {
    let bar = Bar {
        ts: ms(kline.open_time),
        open: parse(&kline.open, "kline open")?,
        high: parse(&kline.high, "kline high")?,
        low: parse(&kline.low, "kline low")?,
        close: parse(&kline.close, "kline close")?,
        volume: parse(&kline.volume, "kline volume")?,
    };
    bar.validate().map_err(|e| Error::Mapping {
        what: "kline",
        reason: e.to_string(),
    })?;
    Ok(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::SymbolInfo;

    fn btcusdt() -> SymbolRules {
        let info: SymbolInfo = serde_json::from_value(serde_json::json!({
            "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "100.00000000", "stepSize": "0.00000000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
            ]
        }))
        .unwrap();
        SymbolRules::from_info(&info).unwrap()
    }

    fn order(kind: &'static str, qty: &str, price: Option<&str>) -> NewOrder {
        NewOrder {
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            order_type: kind,
            time_in_force: price.map(|_| "GTC"),
            quantity: qty.parse().unwrap(),
            price: price.map(|p| p.parse().unwrap()),
            stop_price: None,
            client_order_id: ClientOrderId::new("t-1").unwrap(),
        }
    }

    #[test]
    fn filters_become_instrument_rules() {
        let instrument = btcusdt().instrument("BINANCE").unwrap();
        assert_eq!(instrument.id().as_str(), "BTCUSDT.BINANCE");
        assert_eq!(instrument.tick_size().to_string(), "0.01");
        assert_eq!(instrument.lot_size().to_string(), "0.00001");
        assert_eq!(instrument.min_notional().to_string(), "5.00");
        assert_eq!(instrument.quote_currency().as_str(), "USDT");
        assert_eq!(
            instrument
                .base_asset()
                .map(|a| a.as_str().to_owned())
                .as_deref(),
            Some("BTC")
        );
    }

    #[test]
    fn checks_filters_like_the_venue() {
        let rules = btcusdt();
        assert_eq!(
            rules.check(&order("LIMIT", "0.001", Some("50000.00")), None),
            Ok(())
        );
        assert_eq!(
            rules.check(&order("LIMIT", "0.001", Some("50000.005")), None),
            Err(FilterViolation::Price)
        );
        assert_eq!(
            rules.check(&order("LIMIT", "0.000015", Some("50000")), None),
            Err(FilterViolation::LotSize)
        );
        assert_eq!(
            rules.check(&order("LIMIT", "0.0001", Some("10")), None),
            Err(FilterViolation::Notional)
        );
        assert_eq!(
            rules.check(&order("MARKET", "101", None), None),
            Err(FilterViolation::MarketLotSize)
        );
        assert_eq!(
            rules.check(
                &order("MARKET", "0.00001", None),
                Some("50000".parse().unwrap())
            ),
            Err(FilterViolation::Notional)
        );
    }

    #[test]
    fn cancel_reports_name_the_cancelled_order() {
        let report: ExecutionReport = serde_json::from_value(serde_json::json!({
            "E": 1, "s": "BTCUSDT", "c": "cancel-req-1", "S": "BUY", "o": "LIMIT", "f": "GTC",
            "q": "1.0", "p": "100.0", "P": "0", "C": "ord-1", "x": "CANCELED", "X": "CANCELED",
            "r": "NONE", "i": 7, "l": "0", "z": "0", "L": "0", "n": "0", "N": null, "T": 2,
            "t": -1, "m": false
        }))
        .unwrap();
        let update = OrderUpdate::from_execution_report(&report)
            .unwrap()
            .unwrap();
        assert_eq!(update.client_order_id.as_str(), "ord-1");
        assert_eq!(update.kind, OrderUpdateKind::Canceled);
    }

    #[test]
    fn model_orders_map_to_binance_types() {
        let request = OrderRequest {
            client_order_id: ClientOrderId::new("c-1").unwrap(),
            instrument: "BTCUSDT.BINANCE".parse().unwrap(),
            side: Side::Sell,
            quantity: "0.5".parse().unwrap(),
            kind: OrderKind::StopLimit {
                trigger: "99".parse().unwrap(),
                limit: "98.5".parse().unwrap(),
            },
            time_in_force: TimeInForce::Gtc,
        };
        let order = NewOrder::from_request(&request).unwrap();
        assert_eq!(order.order_type, "STOP_LOSS_LIMIT");
        let params = order.params();
        assert!(params.contains(&("stopPrice", "99.0".to_owned())));
        assert!(params.contains(&("newClientOrderId", "c-1".to_owned())));
        let day = OrderRequest {
            time_in_force: TimeInForce::Day,
            kind: OrderKind::Limit {
                price: "1".parse().unwrap(),
            },
            ..request
        };
        assert!(matches!(
            NewOrder::from_request(&day),
            Err(Error::Unsupported(_))
        ));
    }
}
