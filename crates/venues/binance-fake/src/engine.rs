//! The fake's whole state behind one lock: symbols, keys, balances, orders, the order book, the
//! account's trades, klines, rate-limit windows, test controls and the open WebSocket sessions.
//!
//! Matching is simple but honest: price-time priority against resting liquidity, fills at the
//! resting price, partial fills, IOC/FOK/MARKET rests expired, balances locked on placement and
//! moved exactly (rust_decimal, 8 decimals as Binance reports) on every fill and release.
//! User orders match only liquidity the test added ([`Engine::add_liquidity`]); the user's resting
//! orders are hit by external takers ([`Engine::take`]), which makes them maker fills.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{FakeConfig, KlineSpec, Side, SymbolSpec};

/// An error answer: HTTP status, Binance code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Binance code.
    pub code: i32,
    /// Message.
    pub msg: String,
    /// `Retry-After` seconds (429/418 only).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: i32, msg: impl Into<String>) -> Self {
        Self {
            status,
            code,
            msg: msg.into(),
            retry_after: None,
        }
    }

    pub(crate) fn body(&self) -> Value {
        json!({"code": self.code, "msg": self.msg})
    }
}

/// A mandatory parameter, or Binance's `-1102` naming it.
pub(crate) fn mandatory<'a>(
    params: &'a HashMap<String, String>,
    name: &str,
) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                400,
                -1102,
                format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
            )
        })
}

pub(crate) fn rejected(msg: &str) -> ApiError {
    ApiError::new(400, -2010, msg)
}

pub(crate) fn filter_failure(filter: &str) -> ApiError {
    ApiError::new(400, -1013, format!("Filter failure: {filter}"))
}

/// Binance's decimal format: eight places.
pub(crate) fn fmt8(value: Decimal) -> String {
    format!("{:.8}", value.round_dp(8))
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Bal {
    pub free: Decimal,
    pub locked: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub symbol: String,
    pub order_id: u64,
    pub client_order_id: String,
    pub side: Side,
    pub order_type: String,
    pub time_in_force: String,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    pub cum_quote: Decimal,
    pub status: &'static str,
    pub time: i64,
    pub update_time: i64,
    /// Quote still locked for a BUY, base for a SELL.
    pub locked: Decimal,
}

impl Order {
    fn is_open(&self) -> bool {
        matches!(self.status, "NEW" | "PARTIALLY_FILLED")
    }

    pub(crate) fn json(&self) -> Value {
        json!({
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt8(self.price),
            "origQty": fmt8(self.orig_qty),
            "executedQty": fmt8(self.executed_qty),
            "cummulativeQuoteQty": fmt8(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.order_type,
            "side": self.side.as_str(),
            "stopPrice": fmt8(Decimal::ZERO),
            "icebergQty": fmt8(Decimal::ZERO),
            "time": self.time,
            "updateTime": self.update_time,
            "isWorking": self.is_open(),
            "workingTime": self.time,
            "origQuoteOrderQty": fmt8(Decimal::ZERO),
            "selfTradePreventionMode": "NONE",
        })
    }
}

/// One trade of the account (`myTrades`).
#[derive(Debug, Clone)]
pub(crate) struct Trade {
    pub symbol: String,
    pub id: u64,
    pub order_id: u64,
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub time: i64,
    pub is_buyer: bool,
    pub is_maker: bool,
}

impl Trade {
    pub(crate) fn json(&self) -> Value {
        json!({
            "symbol": self.symbol,
            "id": self.id,
            "orderId": self.order_id,
            "orderListId": -1,
            "price": fmt8(self.price),
            "qty": fmt8(self.qty),
            "quoteQty": fmt8(self.price * self.qty),
            "commission": fmt8(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": true,
        })
    }
}

#[derive(Debug, Clone)]
struct Resting {
    /// `None` for liquidity the test added, `Some(order_id)` for the account's own order.
    owner: Option<u64>,
    side: Side,
    price: Decimal,
    qty: Decimal,
    seq: u64,
}

/// A rejection the test queued for the next matching requests.
#[derive(Debug, Clone)]
pub(crate) struct Injected {
    pub path: String,
    pub error: ApiError,
}

/// What one outgoing WebSocket frame carries, with the test's delay/duplication settings at the
/// time it was produced.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub text: String,
    /// Not sent before this instant (production time + the report delay).
    pub not_before: Option<Instant>,
    pub copies: u8,
}

impl Outgoing {
    pub(crate) fn now(text: String) -> Self {
        Self {
            text,
            not_before: None,
            copies: 1,
        }
    }
}

pub(crate) struct UserSubscription {
    pub session: u64,
    pub subscription_id: u64,
    pub tx: mpsc::UnboundedSender<Outgoing>,
}

pub(crate) struct MarketSession {
    pub id: u64,
    pub streams: HashSet<String>,
    pub combined: bool,
    pub tx: mpsc::UnboundedSender<Outgoing>,
}

#[derive(Debug, Default)]
struct Window {
    start: Option<Instant>,
    used: u64,
}

impl Window {
    fn roll(&mut self, now: Instant, length: Duration) {
        match self.start {
            Some(start) if now.duration_since(start) < length => {}
            _ => {
                self.start = Some(now);
                self.used = 0;
            }
        }
    }

    fn remaining(&self, now: Instant, length: Duration) -> Duration {
        self.start.map_or(Duration::ZERO, |s| {
            length.saturating_sub(now.duration_since(s))
        })
    }
}

/// Counters a test can read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeStats {
    /// REST requests by `METHOD /path`.
    pub requests: BTreeMap<String, u64>,
    /// 429 answers.
    pub http_429: u64,
    /// 418 answers.
    pub http_418: u64,
    /// Requests that arrived while a `Retry-After` was still running (Binance bans for these).
    pub requests_during_backoff: u64,
    /// -1021 answers.
    pub timestamp_rejections: u64,
    /// -1022 answers.
    pub signature_rejections: u64,
    /// WebSocket connections refused by [`crate::FakeBinance::refuse_websockets`].
    pub refused_websockets: u64,
}

pub(crate) struct Engine {
    pub config: FakeConfig,
    manual_ms: Option<i64>,
    offset_ms: i64,
    pub balances: BTreeMap<String, Bal>,
    pub orders: BTreeMap<u64, Order>,
    book: HashMap<String, Vec<Resting>>,
    pub trades: Vec<Trade>,
    next_order_id: u64,
    next_trade_id: HashMap<String, u64>,
    next_seq: u64,
    next_cancel_id: u64,
    pub klines: BTreeMap<(String, String), BTreeMap<i64, KlineSpec>>,
    weight: Window,
    order_window: Window,
    order_day: u64,
    retry_until: Option<Instant>,
    banned_until: Option<Instant>,
    violations: u32,
    pub injected: VecDeque<Injected>,
    pub unknown_outcome_next: u32,
    pub report_delay: Duration,
    pub duplicate_reports: bool,
    pub refuse_ws: bool,
    pub kill: tokio::sync::watch::Sender<u64>,
    pub user_subs: Vec<UserSubscription>,
    pub market_sessions: Vec<MarketSession>,
    pub next_session: u64,
    pub next_subscription: u64,
    pub stats: FakeStats,
    pub market_update_id: u64,
}

impl Engine {
    pub(crate) fn new(config: FakeConfig) -> Self {
        let balances = config
            .balances
            .iter()
            .map(|(asset, free)| {
                (
                    asset.clone(),
                    Bal {
                        free: *free,
                        locked: Decimal::ZERO,
                    },
                )
            })
            .collect();
        let (kill, _) = tokio::sync::watch::channel(0);
        Self {
            manual_ms: config.manual_clock_ms,
            offset_ms: 0,
            balances,
            orders: BTreeMap::new(),
            book: HashMap::new(),
            trades: Vec::new(),
            next_order_id: 1,
            next_trade_id: HashMap::new(),
            next_seq: 0,
            next_cancel_id: 1,
            klines: BTreeMap::new(),
            weight: Window::default(),
            order_window: Window::default(),
            order_day: 0,
            retry_until: None,
            banned_until: None,
            violations: 0,
            injected: VecDeque::new(),
            unknown_outcome_next: 0,
            report_delay: Duration::ZERO,
            duplicate_reports: false,
            refuse_ws: false,
            kill,
            user_subs: Vec::new(),
            market_sessions: Vec::new(),
            next_session: 1,
            next_subscription: 0,
            stats: FakeStats::default(),
            market_update_id: 1,
            config,
        }
    }

    /// The venue's clock in ms.
    pub(crate) fn now_ms(&self) -> i64 {
        let base = self.manual_ms.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        });
        base + self.offset_ms
    }

    pub(crate) fn move_time(&mut self, delta_ms: i64) {
        match &mut self.manual_ms {
            Some(ms) => *ms += delta_ms,
            None => self.offset_ms += delta_ms,
        }
    }

    pub(crate) fn symbol(&self, name: &str) -> Result<&SymbolSpec, ApiError> {
        self.config
            .symbols
            .iter()
            .find(|s| s.symbol == name)
            .ok_or_else(|| ApiError::new(400, -1121, "Invalid symbol."))
    }

    // ----- rate limits -------------------------------------------------------------------

    /// Charges `weight` to the IP's window; answers 429 past the limit and 418 to clients that
    /// keep sending during a `Retry-After`. Returns the weight used in the window.
    pub(crate) fn charge(&mut self, weight: u64) -> Result<u64, ApiError> {
        let now = Instant::now();
        let limits = self.config.limits.clone();
        if let Some(until) = self.banned_until {
            if until > now {
                self.stats.http_418 += 1;
                let mut e = ApiError::new(
                    418,
                    -1003,
                    format!(
                        "Way too much request weight used; IP banned until {}. Please use WebSocket Streams for live updates to avoid bans.",
                        self.now_ms() + i64::try_from((until - now).as_millis()).unwrap_or(0)
                    ),
                );
                e.retry_after = Some(ceil_secs(until - now));
                return Err(e);
            }
            self.banned_until = None;
        }
        if let Some(until) = self.retry_until {
            if until > now {
                self.stats.requests_during_backoff += 1;
                self.violations += 1;
                if self.violations >= limits.ban_after_violations {
                    self.banned_until = Some(now + limits.ban);
                    self.violations = 0;
                    self.stats.http_418 += 1;
                    let mut e =
                        ApiError::new(418, -1003, "Way too much request weight used; IP banned.");
                    e.retry_after = Some(ceil_secs(limits.ban));
                    return Err(e);
                }
                self.stats.http_429 += 1;
                let mut e = ApiError::new(429, -1003, "Too many requests; please back off.");
                e.retry_after = Some(ceil_secs(until - now));
                return Err(e);
            }
            self.retry_until = None;
        }
        self.weight.roll(now, limits.weight_window);
        self.weight.used += weight;
        if self.weight.used > limits.weight_limit {
            let wait = self.weight.remaining(now, limits.weight_window);
            return Err(self.limited(now, wait, -1003, format!(
                "Too much request weight used; current limit is {} request weight per {}. Please use WebSocket Streams for live updates to avoid polling the API.",
                limits.weight_limit, limits.weight_interval.1
            )));
        }
        Ok(self.weight.used)
    }

    /// A 429 that starts a `Retry-After` of `wait`.
    fn limited(&mut self, now: Instant, wait: Duration, code: i32, msg: String) -> ApiError {
        self.retry_until = Some(now + wait);
        self.stats.http_429 += 1;
        let mut error = ApiError::new(429, code, msg);
        error.retry_after = Some(ceil_secs(wait));
        error
    }

    pub(crate) fn weight_header(&self) -> (String, u64) {
        let (num, letter) = &self.config.limits.weight_interval;
        (
            format!("X-MBX-USED-WEIGHT-{num}{}", letter_of(letter)),
            self.weight.used,
        )
    }

    /// Counts one order against the order-rate limits.
    pub(crate) fn charge_order(&mut self) -> Result<Vec<(String, u64)>, ApiError> {
        let now = Instant::now();
        let limits = self.config.limits.clone();
        self.order_window.roll(now, limits.order_window);
        if self.order_window.used >= limits.order_limit {
            let wait = self.order_window.remaining(now, limits.order_window);
            return Err(self.limited(
                now,
                wait,
                -1015,
                format!(
                    "Too many new orders; current limit is {} orders per {}.",
                    limits.order_limit, limits.order_interval.1
                ),
            ));
        }
        self.order_window.used += 1;
        self.order_day += 1;
        let (num, letter) = &limits.order_interval;
        Ok(vec![
            (
                format!("X-MBX-ORDER-COUNT-{num}{}", letter_of(letter)),
                self.order_window.used,
            ),
            ("X-MBX-ORDER-COUNT-1D".to_owned(), self.order_day),
        ])
    }

    pub(crate) fn take_injected(&mut self, path: &str) -> Option<ApiError> {
        let index = self
            .injected
            .iter()
            .position(|i| path.starts_with(&i.path))?;
        self.injected.remove(index).map(|i| i.error)
    }

    // ----- orders ----------------------------------------------------------------------------

    fn trade_id(&mut self, symbol: &str) -> u64 {
        let next = self.next_trade_id.entry(symbol.to_owned()).or_insert(1);
        let id = *next;
        *next += 1;
        id
    }

    fn bal(&mut self, asset: &str) -> &mut Bal {
        self.balances.entry(asset.to_owned()).or_default()
    }

    /// `POST /api/v3/order` after authentication. Returns the FULL response.
    pub(crate) fn new_order(&mut self, p: &HashMap<String, String>) -> Result<Value, ApiError> {
        let get = |name: &str| p.get(name).map(String::as_str).filter(|v| !v.is_empty());
        let mandatory = |name: &str| mandatory(p, name);
        let symbol_name = mandatory("symbol")?.to_owned();
        let spec = self.symbol(&symbol_name)?.clone();
        let side = match mandatory("side")? {
            "BUY" => Side::Buy,
            "SELL" => Side::Sell,
            _ => return Err(ApiError::new(400, -1117, "Invalid side.")),
        };
        let order_type = mandatory("type")?.to_owned();
        let decimal = |name: &str| -> Result<Option<Decimal>, ApiError> {
            get(name)
                .map(|v| {
                    v.parse::<Decimal>().map_err(|_| {
                        ApiError::new(400, -1100, format!("Illegal characters found in parameter '{name}'; legal range is '^([0-9]{{1,20}})(\\.[0-9]{{1,20}})?$'."))
                    })
                })
                .transpose()
        };
        let quantity = decimal("quantity")?;
        let price = decimal("price")?;
        let tif = get("timeInForce").map(str::to_owned);
        match order_type.as_str() {
            "LIMIT" | "MARKET" => {}
            "STOP_LOSS" => {
                return Err(rejected(
                    "Stop loss orders are not supported for this symbol.",
                ));
            }
            "STOP_LOSS_LIMIT" => {
                return Err(rejected(
                    "Stop loss limit orders are not supported for this symbol.",
                ));
            }
            "TAKE_PROFIT" => {
                return Err(rejected(
                    "Take profit orders are not supported for this symbol.",
                ));
            }
            "TAKE_PROFIT_LIMIT" => {
                return Err(rejected(
                    "Take profit limit orders are not supported for this symbol.",
                ));
            }
            _ => return Err(ApiError::new(400, -1116, "Invalid orderType.")),
        }
        let quantity = quantity.ok_or_else(|| {
            ApiError::new(
                400,
                -1102,
                "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
            )
        })?;
        let is_market = order_type == "MARKET";
        let (price, tif) = if is_market {
            if tif.is_some() {
                return Err(ApiError::new(
                    400,
                    -1106,
                    "Parameter 'timeInForce' sent when not required.",
                ));
            }
            (None, "GTC".to_owned())
        } else {
            let price = price.ok_or_else(|| {
                ApiError::new(
                    400,
                    -1102,
                    "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
                )
            })?;
            let tif = tif.ok_or_else(|| {
                ApiError::new(
                    400,
                    -1102,
                    "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
                )
            })?;
            if !matches!(tif.as_str(), "GTC" | "IOC" | "FOK") {
                return Err(ApiError::new(400, -1115, "Invalid timeInForce."));
            }
            (Some(price), tif)
        };
        // Filters (filters.md), in Binance's order: price, lot, market lot, notional.
        if let Some(price) = price
            && (price < spec.min_price
                || (spec.max_price > Decimal::ZERO && price > spec.max_price)
                || !multiple(price, spec.tick_size))
        {
            return Err(filter_failure("PRICE_FILTER"));
        }
        if quantity < spec.min_qty || quantity > spec.max_qty || !multiple(quantity, spec.step_size)
        {
            return Err(filter_failure("LOT_SIZE"));
        }
        if is_market && (quantity > spec.market_max_qty || !multiple(quantity, spec.step_size)) {
            return Err(filter_failure("MARKET_LOT_SIZE"));
        }
        let reference = match price {
            Some(p) => Some(p),
            None => self.best_price(&symbol_name, side.opposite()),
        };
        if let Some(reference) = reference
            && (!is_market || spec.min_notional_applies_to_market)
            && reference * quantity < spec.min_notional
        {
            return Err(filter_failure("NOTIONAL"));
        }
        let client_order_id = match get("newClientOrderId") {
            Some(id) => {
                if id.len() > 36
                    || !id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(&b))
                {
                    return Err(ApiError::new(
                        400,
                        -1100,
                        "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[a-zA-Z0-9-_]{1,36}$'.",
                    ));
                }
                // Binance: unique among open orders; reusable once the earlier one is done.
                if self
                    .orders
                    .values()
                    .any(|o| o.is_open() && o.client_order_id == id)
                {
                    return Err(rejected("Duplicate order sent."));
                }
                id.to_owned()
            }
            None => format!("fake{}", self.next_order_id),
        };
        // Balance: a limit buy locks price × quantity of quote, a sell locks the quantity of base;
        // a market buy needs what it will cost against the book now.
        let lock = match (side, price) {
            (Side::Buy, Some(p)) => p * quantity,
            (Side::Buy, None) => self.market_cost(&symbol_name, quantity),
            (Side::Sell, _) => quantity,
        };
        let lock_asset = if side == Side::Buy {
            &spec.quote
        } else {
            &spec.base
        };
        if self.bal(lock_asset).free < lock {
            return Err(rejected(
                "Account has insufficient balance for requested action.",
            ));
        }
        let now = self.now_ms();
        let order_id = self.next_order_id;
        self.next_order_id += 1;
        {
            let b = self.bal(lock_asset);
            b.free -= lock;
            b.locked += lock;
        }
        let order = Order {
            symbol: symbol_name.clone(),
            order_id,
            client_order_id,
            side,
            order_type: order_type.clone(),
            time_in_force: tif.clone(),
            price: price.unwrap_or(Decimal::ZERO),
            orig_qty: quantity,
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: "NEW",
            time: now,
            update_time: now,
            locked: lock,
        };
        self.orders.insert(order_id, order);
        self.report(order_id, "NEW", None, "");
        // FOK: all or nothing, decided before any fill.
        let available = self.available(&symbol_name, side, price);
        let fills = if tif == "FOK" && available < quantity {
            Vec::new()
        } else {
            self.match_incoming(order_id)
        };
        let still_open = self.orders.get(&order_id).is_some_and(Order::is_open);
        let remaining = self
            .orders
            .get(&order_id)
            .map_or(Decimal::ZERO, |o| o.orig_qty - o.executed_qty);
        if still_open && remaining > Decimal::ZERO {
            if is_market || tif != "GTC" {
                let reason = match (is_market, tif.as_str()) {
                    (true, _) => "INSUFFICIENT_LIQUIDITY",
                    (_, "FOK") => "UNFILLED_FOK_ORDER_EXPIRED",
                    _ => "UNFILLED_IOC_QUANTITY_EXPIRED",
                };
                self.finish(order_id, "EXPIRED", Some(reason), "");
            } else {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.book
                    .entry(symbol_name.clone())
                    .or_default()
                    .push(Resting {
                        owner: Some(order_id),
                        side,
                        price: price.unwrap_or(Decimal::ZERO),
                        qty: remaining,
                        seq,
                    });
            }
        }
        let order = self.orders.get(&order_id).ok_or_else(|| {
            ApiError::new(
                500,
                -1000,
                "An unknown error occurred while processing the request.",
            )
        })?;
        let mut response = order.json();
        if let Some(obj) = response.as_object_mut() {
            obj.insert("transactTime".into(), json!(now));
            for key in ["stopPrice", "icebergQty", "time", "updateTime", "isWorking"] {
                obj.remove(key);
            }
            obj.insert("fills".into(), Value::Array(fills));
        }
        Ok(response)
    }

    fn best_price(&self, symbol: &str, side: Side) -> Option<Decimal> {
        let levels = self
            .book
            .get(symbol)?
            .iter()
            .filter(|r| r.side == side && r.owner.is_none());
        match side {
            Side::Sell => levels.map(|r| r.price).min(),
            Side::Buy => levels.map(|r| r.price).max(),
        }
    }

    /// External liquidity an incoming `side` order at `limit` could take now.
    fn available(&self, symbol: &str, side: Side, limit: Option<Decimal>) -> Decimal {
        self.book.get(symbol).map_or(Decimal::ZERO, |book| {
            book.iter()
                .filter(|r| {
                    r.owner.is_none() && r.side == side.opposite() && crosses(side, r.price, limit)
                })
                .map(|r| r.qty)
                .sum()
        })
    }

    fn market_cost(&self, symbol: &str, mut qty: Decimal) -> Decimal {
        let mut asks: Vec<&Resting> = self
            .book
            .get(symbol)
            .map(|b| {
                b.iter()
                    .filter(|r| r.owner.is_none() && r.side == Side::Sell)
                    .collect()
            })
            .unwrap_or_default();
        asks.sort_by(|a, b| a.price.cmp(&b.price).then(a.seq.cmp(&b.seq)));
        let mut cost = Decimal::ZERO;
        for ask in asks {
            let take = qty.min(ask.qty);
            cost += take * ask.price;
            qty -= take;
            if qty.is_zero() {
                break;
            }
        }
        cost
    }

    /// Matches the account's incoming order against external liquidity; returns the FULL
    /// response's `fills`.
    fn match_incoming(&mut self, order_id: u64) -> Vec<Value> {
        let Some(order) = self.orders.get(&order_id).cloned() else {
            return Vec::new();
        };
        let limit = (order.order_type == "LIMIT").then_some(order.price);
        let mut fills = Vec::new();
        loop {
            let remaining = self
                .orders
                .get(&order_id)
                .map_or(Decimal::ZERO, |o| o.orig_qty - o.executed_qty);
            if remaining <= Decimal::ZERO {
                break;
            }
            let Some(book) = self.book.get_mut(&order.symbol) else {
                break;
            };
            let best = book
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.owner.is_none()
                        && r.side == order.side.opposite()
                        && crosses(order.side, r.price, limit)
                })
                .min_by(|(_, a), (_, b)| {
                    let by_price = match order.side {
                        Side::Buy => a.price.cmp(&b.price),
                        Side::Sell => b.price.cmp(&a.price),
                    };
                    by_price.then(a.seq.cmp(&b.seq))
                })
                .map(|(i, r)| (i, r.price, r.qty));
            let Some((index, price, available)) = best else {
                break;
            };
            let qty = remaining.min(available);
            book[index].qty -= qty;
            if book[index].qty.is_zero() {
                book.remove(index);
            }
            let fill = self.execute(order_id, price, qty, false);
            fills.push(fill);
        }
        fills
    }

    /// Books one execution of the account's order: balances, order, trade, reports. Returns the
    /// fill as the FULL response lists it.
    fn execute(&mut self, order_id: u64, price: Decimal, qty: Decimal, is_maker: bool) -> Value {
        let now = self.now_ms();
        let Some(order) = self.orders.get(&order_id).cloned() else {
            return Value::Null;
        };
        let Ok(spec) = self.symbol(&order.symbol).cloned() else {
            return Value::Null;
        };
        let rate = if is_maker {
            self.config.maker_commission
        } else {
            self.config.taker_commission
        };
        let notional = price * qty;
        // Binance charges the commission in the asset received.
        let (commission, commission_asset) = match order.side {
            Side::Buy => ((qty * rate).round_dp(8), spec.base.clone()),
            Side::Sell => ((notional * rate).round_dp(8), spec.quote.clone()),
        };
        let released = match order.side {
            Side::Buy => {
                // What was locked for this quantity: its share of the limit price, or for a
                // market buy the execution cost itself.
                let locked_for_fill = if order.order_type == "LIMIT" {
                    order.price * qty
                } else {
                    notional
                };
                let locked_for_fill = locked_for_fill.min(order.locked);
                let quote = self.bal(&spec.quote);
                quote.locked -= locked_for_fill;
                quote.free += locked_for_fill - notional;
                self.bal(&spec.base).free += qty - commission;
                locked_for_fill
            }
            Side::Sell => {
                let base = self.bal(&spec.base);
                base.locked -= qty;
                self.bal(&spec.quote).free += notional - commission;
                qty
            }
        };
        let trade_id = self.trade_id(&order.symbol);
        self.trades.push(Trade {
            symbol: order.symbol.clone(),
            id: trade_id,
            order_id,
            price,
            qty,
            commission,
            commission_asset: commission_asset.clone(),
            time: now,
            is_buyer: order.side == Side::Buy,
            is_maker,
        });
        if let Some(o) = self.orders.get_mut(&order_id) {
            o.executed_qty += qty;
            o.cum_quote += notional;
            o.locked -= released;
            o.update_time = now;
            o.status = if o.executed_qty >= o.orig_qty {
                "FILLED"
            } else {
                "PARTIALLY_FILLED"
            };
        }
        let filled = self
            .orders
            .get(&order_id)
            .is_some_and(|o| o.status == "FILLED");
        if filled {
            // A limit buy filled below its price leaves nothing locked; release any rounding rest.
            self.release(order_id);
        }
        self.trade_report(
            order_id,
            trade_id,
            price,
            qty,
            commission,
            &commission_asset,
            is_maker,
        );
        json!({
            "price": fmt8(price),
            "qty": fmt8(qty),
            "commission": fmt8(commission),
            "commissionAsset": commission_asset,
            "tradeId": trade_id,
        })
    }

    fn release(&mut self, order_id: u64) {
        let Some(order) = self.orders.get_mut(&order_id) else {
            return;
        };
        let amount = std::mem::take(&mut order.locked);
        let (symbol, side) = (order.symbol.clone(), order.side);
        let Ok(spec) = self.symbol(&symbol).cloned() else {
            return;
        };
        let asset = if side == Side::Buy {
            spec.quote
        } else {
            spec.base
        };
        let b = self.bal(&asset);
        b.locked -= amount;
        b.free += amount;
    }

    /// Ends an open order (CANCELED or EXPIRED): releases its locked balance and takes it off the
    /// book.
    fn finish(
        &mut self,
        order_id: u64,
        status: &'static str,
        expiry: Option<&str>,
        cancel_id: &str,
    ) {
        self.release(order_id);
        let now = self.now_ms();
        if let Some(order) = self.orders.get_mut(&order_id) {
            order.status = status;
            order.update_time = now;
            if let Some(book) = self.book.get_mut(&order.symbol) {
                book.retain(|r| r.owner != Some(order_id));
            }
        }
        self.report(order_id, status, expiry, cancel_id);
    }

    /// `DELETE /api/v3/order`.
    pub(crate) fn cancel(&mut self, p: &HashMap<String, String>) -> Result<Value, ApiError> {
        let symbol = mandatory(p, "symbol")?;
        self.symbol(symbol)?;
        let order_id = self
            .find(p, symbol)
            .map_err(|_| ApiError::new(400, -2011, "Unknown order sent."))?;
        let open = self.orders.get(&order_id).is_some_and(Order::is_open);
        if !open {
            return Err(ApiError::new(400, -2011, "Unknown order sent."));
        }
        let cancel_id = p.get("newClientOrderId").cloned().unwrap_or_else(|| {
            let id = format!("cancel{}", self.next_cancel_id);
            self.next_cancel_id += 1;
            id
        });
        self.finish(order_id, "CANCELED", None, &cancel_id);
        let order = self
            .orders
            .get(&order_id)
            .ok_or_else(|| ApiError::new(400, -2011, "Unknown order sent."))?;
        let mut response = order.json();
        if let Some(obj) = response.as_object_mut() {
            obj.insert("origClientOrderId".into(), json!(order.client_order_id));
            obj.insert("clientOrderId".into(), json!(cancel_id));
            obj.insert("transactTime".into(), json!(self.now_ms()));
            for key in [
                "stopPrice",
                "icebergQty",
                "time",
                "updateTime",
                "isWorking",
                "workingTime",
            ] {
                obj.remove(key);
            }
        }
        Ok(response)
    }

    /// Finds the order `orderId` / `origClientOrderId` names (Binance checks both when both are
    /// sent).
    pub(crate) fn find(&self, p: &HashMap<String, String>, symbol: &str) -> Result<u64, ApiError> {
        let missing = || ApiError::new(400, -2013, "Order does not exist.");
        let by_id = p.get("orderId").and_then(|v| v.parse::<u64>().ok());
        let by_client = p.get("origClientOrderId");
        let order = match (by_id, by_client) {
            (Some(id), client) => {
                let o = self
                    .orders
                    .get(&id)
                    .filter(|o| o.symbol == symbol)
                    .ok_or_else(missing)?;
                if client.is_some_and(|c| *c != o.client_order_id) {
                    return Err(missing());
                }
                o
            }
            // The most recent order with that id (ids are reusable once an order is done).
            (None, Some(client)) => self
                .orders
                .values()
                .rev()
                .find(|o| o.symbol == symbol && o.client_order_id == *client)
                .ok_or_else(missing)?,
            (None, None) => {
                return Err(ApiError::new(
                    400,
                    -1102,
                    "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
                ));
            }
        };
        Ok(order.order_id)
    }

    // ----- test-driven market -----------------------------------------------------------------

    pub(crate) fn add_liquidity(&mut self, symbol: &str, side: Side, price: Decimal, qty: Decimal) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.book
            .entry(symbol.to_owned())
            .or_default()
            .push(Resting {
                owner: None,
                side,
                price,
                qty,
                seq,
            });
    }

    /// An external taker trades `qty` on `taker_side` up to `limit`: it fills the account's
    /// resting orders (maker fills) in price-time priority. Returns the quantity it filled.
    pub(crate) fn take(
        &mut self,
        symbol: &str,
        taker_side: Side,
        limit: Decimal,
        mut qty: Decimal,
    ) -> Decimal {
        let mut filled = Decimal::ZERO;
        while qty > Decimal::ZERO {
            let Some(book) = self.book.get_mut(symbol) else {
                break;
            };
            let best = book
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.owner.is_some()
                        && r.side == taker_side.opposite()
                        && crosses(taker_side, r.price, Some(limit))
                })
                .min_by(|(_, a), (_, b)| {
                    let by_price = match taker_side {
                        Side::Buy => a.price.cmp(&b.price),
                        Side::Sell => b.price.cmp(&a.price),
                    };
                    by_price.then(a.seq.cmp(&b.seq))
                })
                .map(|(i, r)| (i, r.owner, r.price, r.qty));
            let Some((index, Some(order_id), price, available)) = best else {
                break;
            };
            let take = qty.min(available);
            book[index].qty -= take;
            if book[index].qty.is_zero() {
                book.remove(index);
            }
            self.execute(order_id, price, take, true);
            qty -= take;
            filled += take;
        }
        filled
    }

    // ----- user data events -------------------------------------------------------------------

    fn push_user(&mut self, event: Value) {
        let not_before = (!self.report_delay.is_zero()).then(|| Instant::now() + self.report_delay);
        let copies = if self.duplicate_reports { 2 } else { 1 };
        self.user_subs.retain(|sub| {
            let frame = json!({"subscriptionId": sub.subscription_id, "event": event});
            sub.tx
                .send(Outgoing {
                    text: frame.to_string(),
                    not_before,
                    copies,
                })
                .is_ok()
        });
    }

    fn execution_report(
        &self,
        order: &Order,
        execution_type: &str,
        expiry: Option<&str>,
        cancel_id: &str,
    ) -> Value {
        let now = self.now_ms();
        let mut event = json!({
            "e": "executionReport", "E": now, "s": order.symbol,
            "c": if cancel_id.is_empty() { order.client_order_id.clone() } else { cancel_id.to_owned() },
            "S": order.side.as_str(), "o": order.order_type, "f": order.time_in_force,
            "q": fmt8(order.orig_qty), "p": fmt8(order.price), "P": fmt8(Decimal::ZERO), "F": fmt8(Decimal::ZERO),
            "g": -1, "C": if cancel_id.is_empty() { String::new() } else { order.client_order_id.clone() },
            "x": execution_type, "X": order.status, "r": "NONE", "i": order.order_id,
            "l": fmt8(Decimal::ZERO), "z": fmt8(order.executed_qty), "L": fmt8(Decimal::ZERO),
            "n": "0", "N": null, "T": order.update_time, "t": -1, "I": 0, "w": order.is_open(),
            "m": false, "M": false, "O": order.time, "Z": fmt8(order.cum_quote), "Y": fmt8(Decimal::ZERO),
            "Q": fmt8(Decimal::ZERO), "V": "NONE",
        });
        if let (Some(reason), Some(obj)) = (expiry, event.as_object_mut()) {
            obj.insert("eR".into(), json!(reason));
        }
        event
    }

    fn account_position(&self, assets: &[&str]) -> Value {
        let now = self.now_ms();
        let balances: Vec<Value> = assets
            .iter()
            .map(|a| {
                let b = self.balances.get(*a).copied().unwrap_or_default();
                json!({"a": a, "f": fmt8(b.free), "l": fmt8(b.locked)})
            })
            .collect();
        json!({"e": "outboundAccountPosition", "E": now, "u": now, "B": balances})
    }

    fn assets_of(&self, order_id: u64) -> Vec<String> {
        self.orders
            .get(&order_id)
            .and_then(|o| self.symbol(&o.symbol).ok())
            .map(|s| vec![s.base.clone(), s.quote.clone()])
            .unwrap_or_default()
    }

    /// executionReport for a state change (NEW, CANCELED, EXPIRED), then the balances it moved.
    fn report(
        &mut self,
        order_id: u64,
        execution_type: &str,
        expiry: Option<&str>,
        cancel_id: &str,
    ) {
        let Some(order) = self.orders.get(&order_id) else {
            return;
        };
        let event = self.execution_report(order, execution_type, expiry, cancel_id);
        let assets = self.assets_of(order_id);
        let refs: Vec<&str> = assets.iter().map(String::as_str).collect();
        let position = self.account_position(&refs);
        self.push_user(event);
        self.push_user(position);
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one field per executionReport trade field"
    )]
    fn trade_report(
        &mut self,
        order_id: u64,
        trade_id: u64,
        price: Decimal,
        qty: Decimal,
        commission: Decimal,
        asset: &str,
        is_maker: bool,
    ) {
        let Some(order) = self.orders.get(&order_id) else {
            return;
        };
        let mut event = self.execution_report(order, "TRADE", None, "");
        if let Some(obj) = event.as_object_mut() {
            obj.insert("l".into(), json!(fmt8(qty)));
            obj.insert("L".into(), json!(fmt8(price)));
            obj.insert("n".into(), json!(fmt8(commission)));
            obj.insert("N".into(), json!(asset));
            obj.insert("t".into(), json!(trade_id));
            obj.insert("m".into(), json!(is_maker));
            obj.insert("Y".into(), json!(fmt8(price * qty)));
        }
        let assets = self.assets_of(order_id);
        let refs: Vec<&str> = assets.iter().map(String::as_str).collect();
        let position = self.account_position(&refs);
        self.push_user(event);
        self.push_user(position);
    }

    // ----- market streams ---------------------------------------------------------------------

    pub(crate) fn push_stream(&mut self, stream: &str, payload: Value) {
        self.market_sessions.retain(|s| {
            if !s.streams.contains(stream) {
                return true;
            }
            let text = if s.combined {
                json!({"stream": stream, "data": payload}).to_string()
            } else {
                payload.to_string()
            };
            s.tx.send(Outgoing::now(text)).is_ok()
        });
    }

    pub(crate) fn push_kline(&mut self, symbol: &str, interval: &str, k: KlineSpec) {
        self.klines
            .entry((symbol.to_owned(), interval.to_owned()))
            .or_default()
            .insert(k.open_time, k.clone());
        let now = self.now_ms();
        let payload = json!({
            "e": "kline", "E": now, "s": symbol,
            "k": {
                "t": k.open_time, "T": k.close_time, "s": symbol, "i": interval, "f": 0, "L": 0,
                "o": fmt8(k.open), "c": fmt8(k.close), "h": fmt8(k.high), "l": fmt8(k.low),
                "v": fmt8(k.volume), "n": k.trades, "x": k.closed, "q": fmt8(k.volume * k.close),
                "V": "0", "Q": "0", "B": "0"
            }
        });
        let stream = format!("{}@kline_{interval}", symbol.to_ascii_lowercase());
        self.push_stream(&stream, payload);
    }
}

fn letter_of(interval: &str) -> char {
    match interval {
        "SECOND" => 'S',
        "HOUR" => 'H',
        "DAY" => 'D',
        _ => 'M',
    }
}

fn ceil_secs(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

fn multiple(value: Decimal, step: Decimal) -> bool {
    step.is_zero() || (value % step).is_zero()
}

/// Would an incoming `side` order at `limit` (None = market) trade with a resting `price`?
fn crosses(side: Side, price: Decimal, limit: Option<Decimal>) -> bool {
    match (side, limit) {
        (_, None) => true,
        (Side::Buy, Some(limit)) => price <= limit,
        (Side::Sell, Some(limit)) => price >= limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn engine() -> Engine {
        Engine::new(FakeConfig {
            balances: vec![("USDT".into(), d("10000")), ("BTC".into(), d("1"))],
            ..FakeConfig::default()
        })
    }

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn total(e: &Engine, asset: &str) -> Decimal {
        e.balances
            .get(asset)
            .map_or(Decimal::ZERO, |b| b.free + b.locked)
    }

    #[test]
    fn partial_fills_move_balances_exactly() {
        let mut e = engine();
        e.add_liquidity("BTCUSDT", Side::Sell, d("100"), d("0.3"));
        e.add_liquidity("BTCUSDT", Side::Sell, d("101"), d("0.5"));
        let r = e
            .new_order(&params(&[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "1"),
                ("price", "101"),
                ("newClientOrderId", "a"),
            ]))
            .unwrap();
        assert_eq!(r["status"], "PARTIALLY_FILLED");
        assert_eq!(r["fills"].as_array().unwrap().len(), 2);
        // Spent 0.3×100 + 0.5×101 = 80.5; 0.2 × 101 = 20.2 still locked.
        assert_eq!(e.balances["USDT"].locked, d("20.2"));
        assert_eq!(total(&e, "USDT"), d("10000") - d("80.5"));
        // Received 0.8 BTC less 0.1% commission in BTC.
        assert_eq!(
            total(&e, "BTC"),
            d("1") + d("0.8") - d("0.0003") - d("0.0005")
        );
        let filled = e.take("BTCUSDT", Side::Sell, d("101"), d("0.2"));
        assert_eq!(filled, d("0.2"));
        assert_eq!(e.balances["USDT"].locked, Decimal::ZERO);
        assert_eq!(e.orders[&1].status, "FILLED");
    }

    #[test]
    fn documented_rejections() {
        let mut e = engine();
        let order = |qty: &str, price: &str| {
            params(&[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", qty),
                ("price", price),
            ])
        };
        assert_eq!(
            e.new_order(&order("0.0001", "100")).unwrap_err().code,
            -1013
        );
        assert_eq!(
            e.new_order(&order("1", "100.001")).unwrap_err().msg,
            "Filter failure: PRICE_FILTER"
        );
        assert_eq!(
            e.new_order(&order("200", "100")).unwrap_err().msg,
            "Account has insufficient balance for requested action."
        );
        assert_eq!(
            e.cancel(&params(&[("symbol", "BTCUSDT"), ("orderId", "99")]))
                .unwrap_err()
                .code,
            -2011
        );
    }
}
