//! Binance's JSON, typed as the documentation writes it (field names kept, decimals kept as the
//! venue's strings). Nothing here knows about TradePulse's model: [`crate::mapping`] turns these
//! into model types, so a change of Binance's format touches this module and its parser tests only.
//!
//! Unknown fields are ignored on purpose: Binance adds response fields without notice, and a
//! response must not fail because of one.

use serde::{Deserialize, Serialize};

/// An error payload: `{"code": -1121, "msg": "Invalid symbol."}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ErrorBody {
    /// Binance's error code.
    pub code: i32,
    /// Its message.
    pub msg: String,
}

/// `GET /api/v3/time`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    /// Milliseconds since the epoch.
    pub server_time: i64,
}

/// `GET /api/v3/exchangeInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    /// Server time at the answer (ms).
    pub server_time: i64,
    /// The limits the venue enforces.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// The symbols asked for.
    pub symbols: Vec<SymbolInfo>,
}

/// One entry of `rateLimits` (exchangeInfo, WebSocket API responses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    /// `REQUEST_WEIGHT`, `ORDERS` or `RAW_REQUESTS`.
    pub rate_limit_type: String,
    /// `SECOND`, `MINUTE`, `HOUR` or `DAY`.
    pub interval: String,
    /// How many intervals.
    pub interval_num: u32,
    /// The limit.
    pub limit: u64,
    /// Current usage (WebSocket API responses only).
    #[serde(default)]
    pub count: Option<u64>,
}

/// One symbol of exchangeInfo.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymbolInfo {
    /// e.g. `BTCUSDT`.
    pub symbol: String,
    /// `TRADING`, `HALT`, `BREAK`.
    pub status: String,
    /// e.g. `BTC`.
    pub base_asset: String,
    /// e.g. `USDT`.
    pub quote_asset: String,
    /// Order types the symbol accepts.
    #[serde(default)]
    pub order_types: Vec<String>,
    /// The symbol's filters.
    #[serde(default)]
    pub filters: Vec<SymbolFilter>,
}

/// A symbol filter (`filters.md`). Filters this adapter does not enforce are kept as `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "filterType")]
pub enum SymbolFilter {
    /// Price bounds and tick; a zero disables that rule.
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        /// Minimum price (0 = none).
        min_price: String,
        /// Maximum price (0 = none).
        max_price: String,
        /// Tick (0 = none).
        tick_size: String,
    },
    /// Quantity bounds and step of all orders.
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        /// Minimum quantity.
        min_qty: String,
        /// Maximum quantity.
        max_qty: String,
        /// Step.
        step_size: String,
    },
    /// Quantity bounds and step of MARKET orders.
    #[serde(rename = "MARKET_LOT_SIZE", rename_all = "camelCase")]
    MarketLotSize {
        /// Minimum quantity.
        min_qty: String,
        /// Maximum quantity.
        max_qty: String,
        /// Step (0 = none).
        step_size: String,
    },
    /// Older minimum-notional filter.
    #[serde(rename = "MIN_NOTIONAL", rename_all = "camelCase")]
    MinNotional {
        /// Minimum `price × quantity`.
        min_notional: String,
        /// Whether MARKET orders are checked too.
        #[serde(default)]
        apply_to_market: bool,
    },
    /// Notional range.
    #[serde(rename = "NOTIONAL", rename_all = "camelCase")]
    Notional {
        /// Minimum `price × quantity`.
        min_notional: String,
        /// Whether MARKET orders are checked against the minimum.
        #[serde(default)]
        apply_min_to_market: bool,
        /// Maximum `price × quantity`.
        #[serde(default)]
        max_notional: Option<String>,
        /// Whether MARKET orders are checked against the maximum.
        #[serde(default)]
        apply_max_to_market: bool,
    },
    /// Any other filter (PERCENT_PRICE, ICEBERG_PARTS, MAX_NUM_ORDERS, …).
    #[serde(other)]
    Other,
}

/// An order as the REST API returns it: the new-order response (ACK, RESULT or FULL; absent
/// fields are `None`), query order, open orders and cancel responses.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    /// Symbol.
    pub symbol: String,
    /// Binance's order id.
    pub order_id: u64,
    /// The order list, -1 if none.
    #[serde(default = "minus_one")]
    pub order_list_id: i64,
    /// The order's client order id. On a cancel response this is the cancel request's id; the
    /// order's own id is then `orig_client_order_id`.
    pub client_order_id: String,
    /// Cancel responses only: the cancelled order's client order id.
    #[serde(default)]
    pub orig_client_order_id: Option<String>,
    /// New-order and cancel responses: when it happened (ms).
    #[serde(default)]
    pub transact_time: Option<i64>,
    /// Query responses: when the order was created (ms).
    #[serde(default)]
    pub time: Option<i64>,
    /// Query responses: last update (ms).
    #[serde(default)]
    pub update_time: Option<i64>,
    /// Limit price ("0.00000000" for MARKET).
    #[serde(default)]
    pub price: Option<String>,
    /// Ordered quantity.
    #[serde(default)]
    pub orig_qty: Option<String>,
    /// Filled quantity.
    #[serde(default)]
    pub executed_qty: Option<String>,
    /// Quote quantity filled (Binance's spelling).
    #[serde(default)]
    pub cummulative_quote_qty: Option<String>,
    /// `NEW`, `PARTIALLY_FILLED`, `FILLED`, `CANCELED`, `REJECTED`, `EXPIRED`, …
    #[serde(default)]
    pub status: Option<String>,
    /// `GTC`, `IOC`, `FOK`.
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// `LIMIT`, `MARKET`, …
    #[serde(default, rename = "type")]
    pub order_type: Option<String>,
    /// `BUY` or `SELL`.
    #[serde(default)]
    pub side: Option<String>,
    /// Trigger price of stop orders.
    #[serde(default)]
    pub stop_price: Option<String>,
    /// FULL responses: the fills at placement.
    #[serde(default)]
    pub fills: Vec<OrderFill>,
}

fn minus_one() -> i64 {
    -1
}

/// One fill of a FULL new-order response.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFill {
    /// Price.
    pub price: String,
    /// Quantity.
    pub qty: String,
    /// Fee.
    pub commission: String,
    /// Fee asset.
    pub commission_asset: String,
    /// Trade id.
    pub trade_id: u64,
}

/// `GET /api/v3/account`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Whether the account may trade.
    pub can_trade: bool,
    /// Last update (ms).
    #[serde(default)]
    pub update_time: i64,
    /// `SPOT`, …
    #[serde(default)]
    pub account_type: String,
    /// Per-asset balances.
    pub balances: Vec<AssetBalance>,
}

/// One asset of the account.
#[derive(Debug, Clone, Deserialize)]
pub struct AssetBalance {
    /// Asset, e.g. `BTC`.
    pub asset: String,
    /// Available.
    pub free: String,
    /// Locked in open orders.
    pub locked: String,
}

/// One element of `GET /api/v3/myTrades`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountTrade {
    /// Symbol.
    pub symbol: String,
    /// Trade id (unique per symbol).
    pub id: u64,
    /// The order it filled.
    pub order_id: u64,
    /// Price.
    pub price: String,
    /// Base quantity.
    pub qty: String,
    /// Quote quantity.
    #[serde(default)]
    pub quote_qty: Option<String>,
    /// Fee.
    pub commission: String,
    /// Fee asset.
    pub commission_asset: String,
    /// Trade time (ms).
    pub time: i64,
    /// True if we bought.
    pub is_buyer: bool,
    /// True if our order was the resting one.
    pub is_maker: bool,
}

/// One kline of `GET /api/v3/klines`: a 12-element JSON array.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RestKline(
    pub i64,               // open time
    pub String,            // open
    pub String,            // high
    pub String,            // low
    pub String,            // close
    pub String,            // volume
    pub i64,               // close time
    pub String,            // quote asset volume
    pub u64,               // number of trades
    pub String,            // taker buy base volume
    pub String,            // taker buy quote volume
    pub serde_json::Value, // unused
);

/// A User Data Stream event (`user-data-stream.md`), the `event` of
/// `{"subscriptionId": 0, "event": {…}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "e")]
pub enum UserEvent {
    /// An order changed.
    #[serde(rename = "executionReport")]
    ExecutionReport(Box<ExecutionReport>),
    /// Balances changed (the assets possibly changed by the event).
    #[serde(rename = "outboundAccountPosition")]
    AccountPosition(AccountPosition),
    /// Deposit, withdrawal or transfer.
    #[serde(rename = "balanceUpdate")]
    BalanceUpdate(BalanceUpdate),
    /// The subscription ended (logout, unsubscribe).
    #[serde(rename = "eventStreamTerminated")]
    StreamTerminated {
        /// Event time (ms).
        #[serde(rename = "E")]
        event_time: i64,
    },
    /// Anything else (listStatus, externalLockUpdate, …).
    #[serde(other)]
    Other,
}

/// `executionReport`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ExecutionReport {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Client order id (of the cancel request, on a cancel).
    #[serde(rename = "c")]
    pub client_order_id: String,
    /// `BUY` / `SELL`.
    #[serde(rename = "S")]
    pub side: String,
    /// Order type.
    #[serde(rename = "o")]
    pub order_type: String,
    /// Time in force.
    #[serde(rename = "f")]
    pub time_in_force: String,
    /// Order quantity.
    #[serde(rename = "q")]
    pub quantity: String,
    /// Order price.
    #[serde(rename = "p")]
    pub price: String,
    /// Stop price.
    #[serde(rename = "P", default)]
    pub stop_price: String,
    /// Original client order id: the cancelled order's id on a cancel, else "".
    #[serde(rename = "C", default)]
    pub orig_client_order_id: String,
    /// Execution type: `NEW`, `CANCELED`, `REPLACED`, `REJECTED`, `TRADE`, `EXPIRED`,
    /// `TRADE_PREVENTION`.
    #[serde(rename = "x")]
    pub execution_type: String,
    /// Order status.
    #[serde(rename = "X")]
    pub order_status: String,
    /// Reject reason (`NONE` unless rejected).
    #[serde(rename = "r", default)]
    pub reject_reason: String,
    /// Binance's order id.
    #[serde(rename = "i")]
    pub order_id: u64,
    /// Last executed quantity.
    #[serde(rename = "l")]
    pub last_qty: String,
    /// Cumulative filled quantity.
    #[serde(rename = "z")]
    pub cum_qty: String,
    /// Last executed price.
    #[serde(rename = "L")]
    pub last_price: String,
    /// Commission of this execution.
    #[serde(rename = "n", default)]
    pub commission: Option<String>,
    /// Commission asset (null without a trade).
    #[serde(rename = "N", default)]
    pub commission_asset: Option<String>,
    /// Transaction time (ms).
    #[serde(rename = "T")]
    pub transaction_time: i64,
    /// Trade id, -1 without a trade.
    #[serde(rename = "t")]
    pub trade_id: i64,
    /// Is the trade the maker side?
    #[serde(rename = "m", default)]
    pub is_maker: bool,
    /// Expiry reason, on expired orders.
    #[serde(rename = "eR", default)]
    pub expiry_reason: Option<String>,
}

/// `outboundAccountPosition`.
#[derive(Debug, Clone, Deserialize)]
pub struct AccountPosition {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Time of last account update (ms).
    #[serde(rename = "u")]
    pub last_update: i64,
    /// The balances.
    #[serde(rename = "B")]
    pub balances: Vec<PositionBalance>,
}

/// One balance of `outboundAccountPosition`.
#[derive(Debug, Clone, Deserialize)]
pub struct PositionBalance {
    /// Asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// Free.
    #[serde(rename = "f")]
    pub free: String,
    /// Locked.
    #[serde(rename = "l")]
    pub locked: String,
}

/// `balanceUpdate`.
#[derive(Debug, Clone, Deserialize)]
pub struct BalanceUpdate {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Asset.
    #[serde(rename = "a")]
    pub asset: String,
    /// Balance delta.
    #[serde(rename = "d")]
    pub delta: String,
    /// Clear time (ms).
    #[serde(rename = "T")]
    pub clear_time: i64,
}

/// A WebSocket API frame: a response to a request (`id`, `status`, `result` or `error`), or an
/// event (`subscriptionId`, `event`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsApiFrame {
    /// The request id, for responses.
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    /// HTTP-like status, for responses.
    #[serde(default)]
    pub status: Option<u16>,
    /// Success payload.
    #[serde(default)]
    pub result: Option<serde_json::Value>,
    /// Failure payload.
    #[serde(default)]
    pub error: Option<ErrorBody>,
    /// Rate-limit usage, when the session returns it.
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    /// For events: which subscription.
    #[serde(default)]
    pub subscription_id: Option<u64>,
    /// For events: the payload.
    #[serde(default)]
    pub event: Option<serde_json::Value>,
}

/// A market-stream payload (`web-socket-streams.md`): kline, trade or bookTicker.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// `<symbol>@kline_<interval>`.
    Kline(KlineEvent),
    /// `<symbol>@trade`.
    Trade(TradeEvent),
    /// `<symbol>@bookTicker`.
    BookTicker(BookTickerEvent),
    /// `serverShutdown`: reconnect soon.
    ServerShutdown,
}

/// A combined-stream frame: `{"stream": "<name>", "data": <payload>}`.
#[derive(Debug, Deserialize)]
pub struct CombinedFrame {
    /// Stream name.
    pub stream: String,
    /// Payload.
    pub data: serde_json::Value,
}

/// `kline` event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KlineEvent {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// The kline.
    #[serde(rename = "k")]
    pub kline: StreamKline,
}

/// The `k` object of a kline event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StreamKline {
    /// Start time (ms).
    #[serde(rename = "t")]
    pub open_time: i64,
    /// Close time (ms).
    #[serde(rename = "T")]
    pub close_time: i64,
    /// Interval, e.g. `1m`.
    #[serde(rename = "i")]
    pub interval: String,
    /// Open.
    #[serde(rename = "o")]
    pub open: String,
    /// Close.
    #[serde(rename = "c")]
    pub close: String,
    /// High.
    #[serde(rename = "h")]
    pub high: String,
    /// Low.
    #[serde(rename = "l")]
    pub low: String,
    /// Base volume.
    #[serde(rename = "v")]
    pub volume: String,
    /// Number of trades.
    #[serde(rename = "n", default)]
    pub trades: u64,
    /// Is this kline closed?
    #[serde(rename = "x")]
    pub closed: bool,
}

/// `trade` event.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TradeEvent {
    /// Event time (ms).
    #[serde(rename = "E")]
    pub event_time: i64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Trade id.
    #[serde(rename = "t")]
    pub trade_id: u64,
    /// Price.
    #[serde(rename = "p")]
    pub price: String,
    /// Quantity.
    #[serde(rename = "q")]
    pub quantity: String,
    /// Trade time (ms).
    #[serde(rename = "T")]
    pub trade_time: i64,
    /// Is the buyer the maker?
    #[serde(rename = "m")]
    pub buyer_is_maker: bool,
}

/// `bookTicker` event (no event type field).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BookTickerEvent {
    /// Order book update id.
    #[serde(rename = "u")]
    pub update_id: u64,
    /// Symbol.
    #[serde(rename = "s")]
    pub symbol: String,
    /// Best bid.
    #[serde(rename = "b")]
    pub bid_price: String,
    /// Best bid quantity.
    #[serde(rename = "B")]
    pub bid_qty: String,
    /// Best ask.
    #[serde(rename = "a")]
    pub ask_price: String,
    /// Best ask quantity.
    #[serde(rename = "A")]
    pub ask_qty: String,
}

impl StreamEvent {
    /// Parses a raw-stream payload (the `data` of a combined frame). Unknown payloads are `None`.
    ///
    /// # Errors
    /// If the payload names a known event type but does not match its documented shape.
    pub fn from_payload(value: serde_json::Value) -> Result<Option<Self>, serde_json::Error> {
        let kind = value.get("e").and_then(|e| e.as_str()).map(str::to_owned);
        match kind.as_deref() {
            Some("kline") => serde_json::from_value(value).map(|k| Some(Self::Kline(k))),
            Some("trade") => serde_json::from_value(value).map(|t| Some(Self::Trade(t))),
            Some("serverShutdown") => Ok(Some(Self::ServerShutdown)),
            Some(_) => Ok(None),
            // bookTicker carries no "e"; recognise it by its fields.
            None if value.get("u").is_some() && value.get("b").is_some() => {
                serde_json::from_value(value).map(|b| Some(Self::BookTicker(b)))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_documented_execution_report() {
        // user-data-stream.md "Order Update" example, conditional fields left out.
        let frame = r#"{"subscriptionId":0,"event":{"e":"executionReport","E":1499405658658,"s":"ETHBTC","c":"mUvoqJxFIILMdfAW5iGSOW","S":"BUY","o":"LIMIT","f":"GTC","q":"1.00000000","p":"0.10264410","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"NEW","X":"NEW","r":"NONE","i":4293153,"l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,"T":1499405658657,"t":-1,"I":8641984,"w":true,"m":false,"M":false,"O":1499405658657,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":1499405658657,"V":"NONE"}}"#;
        let frame: WsApiFrame = serde_json::from_str(frame).unwrap();
        let event: UserEvent = serde_json::from_value(frame.event.unwrap()).unwrap();
        let UserEvent::ExecutionReport(report) = event else {
            panic!("expected an execution report")
        };
        assert_eq!(report.order_id, 4293153);
        assert_eq!(report.trade_id, -1);
        assert_eq!(report.commission_asset, None);
    }

    #[test]
    fn parses_filters_and_ignores_unknown_ones() {
        let json = r#"[{"filterType":"PRICE_FILTER","minPrice":"0.00000100","maxPrice":"100000.00000000","tickSize":"0.00000100"},
            {"filterType":"PERCENT_PRICE","multiplierUp":"1.3000","multiplierDown":"0.7000","avgPriceMins":5},
            {"filterType":"NOTIONAL","minNotional":"10.00000000","applyMinToMarket":false,"maxNotional":"10000.00000000","applyMaxToMarket":false,"avgPriceMins":5}]"#;
        let filters: Vec<SymbolFilter> = serde_json::from_str(json).unwrap();
        assert_eq!(filters[1], SymbolFilter::Other);
        assert!(
            matches!(&filters[2], SymbolFilter::Notional { min_notional, .. } if min_notional == "10.00000000")
        );
    }

    #[test]
    fn parses_stream_payloads() {
        let book = serde_json::json!({"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"});
        assert!(matches!(
            StreamEvent::from_payload(book),
            Ok(Some(StreamEvent::BookTicker(_)))
        ));
        let kline = serde_json::json!({"e":"kline","E":1672515782136u64,"s":"BNBBTC","k":{"t":1672515780000u64,"T":1672515839999u64,"s":"BNBBTC","i":"1m","f":100,"L":200,"o":"0.0010","c":"0.0020","h":"0.0025","l":"0.0015","v":"1000","n":100,"x":false,"q":"1.0000","V":"500","Q":"0.500","B":"123456"}});
        assert!(
            matches!(StreamEvent::from_payload(kline), Ok(Some(StreamEvent::Kline(k))) if !k.kline.closed)
        );
        let rest: Vec<RestKline> = serde_json::from_str(r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#).unwrap();
        assert_eq!(rest[0].6, 1499644799999);
    }
}
