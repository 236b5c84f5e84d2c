//! A local fake of Binance Spot for tests and chaos drills: the REST endpoints, the WebSocket API
//! user-data subscription and the market streams the TradePulse adapter uses, implemented from
//! Binance's documentation (`binance-spot-api-docs`: `rest-api.md`, `web-socket-api.md`,
//! `user-data-stream.md`, `web-socket-streams.md`, `filters.md`, `errors.md`).
//!
//! **Where it sits.** A dev-dependency of `tradepulse-venue-binance` (and of any crate whose tests
//! need a venue: the exec service, the crash test); the `fake-binance` binary runs it by hand.
//! Nothing in the sync pipeline depends on it.
//!
//! **What it does.**
//! - REST: `time`, `ping`, `exchangeInfo` (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL),
//!   `order` (new, cancel, query), `openOrders`, `account`, `myTrades`, `klines`.
//! - Security: `X-MBX-APIKEY`, HMAC-SHA256 and Ed25519 signatures (`-1022`), timestamp and
//!   `recvWindow` (`-1021`), both for REST and WebSocket API requests.
//! - Rejections as documented: `-1013 Filter failure: …`, `-2010` (insufficient balance, duplicate
//!   client order id among open orders), `-2011 Unknown order sent.`, `-2013 Order does not
//!   exist.`, `-1121 Invalid symbol.`; rate limits with `X-MBX-USED-WEIGHT-*` /
//!   `X-MBX-ORDER-COUNT-*` headers, 429 + `Retry-After`, and a 418 ban for clients that keep
//!   sending during a `Retry-After`.
//! - A matching engine: MARKET and LIMIT (GTC/IOC/FOK), price-time priority against liquidity the
//!   test adds, partial fills, maker fills when an external taker hits the account's resting
//!   orders, commission in the received asset, balances locked and moved exactly.
//! - WebSocket API: `session.logon` (Ed25519), `userDataStream.subscribe`,
//!   `userDataStream.subscribe.signature`, `userDataStream.unsubscribe`, `session.status`, pushing
//!   `executionReport` and `outboundAccountPosition`.
//! - Market streams (`/stream?streams=…`, `/ws/<stream>`): kline, trade and bookTicker events the
//!   test pushes; pushed klines are also served by `GET /api/v3/klines`.
//! - Test controls: drop every WebSocket connection, refuse new ones, delay and duplicate
//!   user-data reports, reject the next N requests of a path, answer "execution status unknown"
//!   after executing an order, move the clock.
//!
//! State lives behind one lock; ids are sequential and, with [`FakeConfig::manual_clock_ms`], every
//! timestamp is deterministic.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use tradepulse_fake_binance::{FakeBinance, FakeConfig, Side};
//!
//! let fake = FakeBinance::start(FakeConfig::default()).await?;
//! assert!(fake.rest_url().starts_with("http://127.0.0.1:"));
//! fake.add_liquidity("BTCUSDT", Side::Sell, "50000", "0.5");
//! assert_eq!(fake.balance("BTC").0.to_string(), "2");
//! # Ok(())
//! # }
//! ```
//!
//! No cargo features.

mod auth;
mod engine;
mod server;

use std::net::SocketAddr;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::json;

pub use engine::FakeStats;
use engine::{ApiError, Engine, Injected};
use server::{Shared, lock};

/// Buy or sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Buy.
    Buy,
    /// Sell.
    Sell,
}

impl Side {
    /// `BUY` / `SELL`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }

    /// The other side.
    #[must_use]
    pub const fn opposite(self) -> Self {
        match self {
            Self::Buy => Self::Sell,
            Self::Sell => Self::Buy,
        }
    }
}

/// A symbol and its filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolSpec {
    /// e.g. `BTCUSDT`.
    pub symbol: String,
    /// e.g. `BTC`.
    pub base: String,
    /// e.g. `USDT`.
    pub quote: String,
    /// PRICE_FILTER.
    pub min_price: Decimal,
    /// PRICE_FILTER (0 = none).
    pub max_price: Decimal,
    /// PRICE_FILTER.
    pub tick_size: Decimal,
    /// LOT_SIZE.
    pub min_qty: Decimal,
    /// LOT_SIZE.
    pub max_qty: Decimal,
    /// LOT_SIZE (and MARKET_LOT_SIZE's effective step).
    pub step_size: Decimal,
    /// MARKET_LOT_SIZE maximum.
    pub market_max_qty: Decimal,
    /// NOTIONAL minimum.
    pub min_notional: Decimal,
    /// NOTIONAL `applyMinToMarket`.
    pub min_notional_applies_to_market: bool,
}

impl SymbolSpec {
    /// A `BASEQUOTE` symbol with the given tick and step and Binance-like bounds.
    ///
    /// # Panics
    /// If `tick`, `step` or `min_notional` is not a decimal (a bug in the test that calls it).
    #[must_use]
    pub fn new(base: &str, quote: &str, tick: &str, step: &str, min_notional: &str) -> Self {
        let d = |text: &str| -> Decimal {
            #[expect(clippy::expect_used, reason = "test fixtures; documented panic")]
            text.parse().expect("a decimal")
        };
        Self {
            symbol: format!("{base}{quote}"),
            base: base.to_owned(),
            quote: quote.to_owned(),
            min_price: d(tick),
            max_price: d("1000000"),
            tick_size: d(tick),
            min_qty: d(step),
            max_qty: d("9000"),
            step_size: d(step),
            market_max_qty: d("100"),
            min_notional: d(min_notional),
            min_notional_applies_to_market: true,
        }
    }
}

/// How a key signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeKey {
    /// HMAC secret key.
    Hmac(String),
    /// Ed25519 public key.
    Ed25519([u8; 32]),
}

/// An API key of the (single) account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeySpec {
    /// The key sent as `X-MBX-APIKEY` / `apiKey`.
    pub api_key: String,
    /// How its requests are signed.
    pub key: FakeKey,
}

/// Rate limits. Tests shorten the windows; the header name follows the interval
/// (`X-MBX-USED-WEIGHT-1S` for one second).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSpec {
    /// REQUEST_WEIGHT per window.
    pub weight_limit: u64,
    /// The weight window.
    pub weight_window: Duration,
    /// `(intervalNum, interval)` of the weight window, e.g. `(1, "MINUTE")`.
    pub weight_interval: (u32, String),
    /// ORDERS per order window.
    pub order_limit: u64,
    /// The order window.
    pub order_window: Duration,
    /// `(intervalNum, interval)` of the order window, e.g. `(10, "SECOND")`.
    pub order_interval: (u32, String),
    /// Requests during a `Retry-After` that earn an IP ban (418).
    pub ban_after_violations: u32,
    /// Length of a ban (Binance: 2 minutes to 3 days).
    pub ban: Duration,
}

impl Default for LimitSpec {
    fn default() -> Self {
        Self {
            weight_limit: 6000,
            weight_window: Duration::from_secs(60),
            weight_interval: (1, "MINUTE".to_owned()),
            order_limit: 100,
            order_window: Duration::from_secs(10),
            order_interval: (10, "SECOND".to_owned()),
            ban_after_violations: 3,
            ban: Duration::from_secs(120),
        }
    }
}

/// One kline, as the test pushes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlineSpec {
    /// Open time (ms).
    pub open_time: i64,
    /// Close time (ms).
    pub close_time: i64,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Base volume.
    pub volume: Decimal,
    /// Number of trades.
    pub trades: u64,
    /// Whether the interval is over.
    pub closed: bool,
}

/// The fake's setup.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// Tradable symbols.
    pub symbols: Vec<SymbolSpec>,
    /// API keys of the account.
    pub keys: Vec<ApiKeySpec>,
    /// Starting free balances.
    pub balances: Vec<(String, Decimal)>,
    /// Maker commission rate (e.g. 0.001).
    pub maker_commission: Decimal,
    /// Taker commission rate.
    pub taker_commission: Decimal,
    /// Rate limits.
    pub limits: LimitSpec,
    /// `Some(ms)`: the clock stands at `ms` and moves only with [`FakeBinance::move_time`].
    pub manual_clock_ms: Option<i64>,
    /// Server ping interval on WebSockets (Binance: 20 s).
    pub ping_interval: Duration,
}

/// The HMAC example key of Binance's documentation (`rest-api.md`), registered by default so the
/// documented request and signature verify end to end.
pub const DOCS_API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
/// Its secret key.
pub const DOCS_SECRET_KEY: &str =
    "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            symbols: vec![
                SymbolSpec::new("BTC", "USDT", "0.01", "0.00001", "5"),
                SymbolSpec::new("ETH", "USDT", "0.01", "0.0001", "5"),
            ],
            keys: vec![ApiKeySpec {
                api_key: DOCS_API_KEY.to_owned(),
                key: FakeKey::Hmac(DOCS_SECRET_KEY.to_owned()),
            }],
            balances: vec![
                ("USDT".to_owned(), Decimal::from(100_000)),
                ("BTC".to_owned(), Decimal::from(2)),
                ("ETH".to_owned(), Decimal::from(20)),
            ],
            maker_commission: Decimal::new(1, 3),
            taker_commission: Decimal::new(1, 3),
            limits: LimitSpec::default(),
            manual_clock_ms: None,
            ping_interval: Duration::from_secs(20),
        }
    }
}

/// A running fake on an ephemeral loopback port. Dropping it stops the server.
pub struct FakeBinance {
    shared: Shared,
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FakeBinance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBinance")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeBinance {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A decimal from a test literal; malformed literals panic (a bug in the calling test).
fn dec(text: &str) -> Decimal {
    #[expect(
        clippy::expect_used,
        reason = "test-control literals; a typo should fail the test loudly"
    )]
    text.parse().expect("a decimal literal")
}

impl FakeBinance {
    /// Starts on `127.0.0.1:0`.
    ///
    /// # Errors
    /// If the port cannot be bound.
    pub async fn start(config: FakeConfig) -> std::io::Result<Self> {
        Self::start_on(
            "127.0.0.1:0".parse().map_err(std::io::Error::other)?,
            config,
        )
        .await
    }

    /// Starts on `addr` (the binary uses a fixed port).
    ///
    /// # Errors
    /// If the address cannot be bound.
    pub async fn start_on(addr: SocketAddr, config: FakeConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared: Shared = std::sync::Arc::new(std::sync::Mutex::new(Engine::new(config)));
        let app = server::router(std::sync::Arc::clone(&shared));
        let task = tokio::spawn(async move {
            // The server only ends when the task is aborted; an accept error ends it early and
            // the tests then fail on connection errors, which name the cause.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { shared, addr, task })
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// REST base URL, e.g. `http://127.0.0.1:40123`.
    #[must_use]
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// WebSocket API URL.
    #[must_use]
    pub fn ws_api_url(&self) -> String {
        format!("ws://{}/ws-api/v3", self.addr)
    }

    /// Market-stream base URL.
    #[must_use]
    pub fn stream_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// Registers another API key.
    pub fn add_key(&self, key: ApiKeySpec) {
        lock(&self.shared).config.keys.push(key);
    }

    /// The venue clock (ms).
    #[must_use]
    pub fn now_ms(&self) -> i64 {
        lock(&self.shared).now_ms()
    }

    /// Moves the venue clock by `delta_ms` (either direction).
    pub fn move_time(&self, delta_ms: i64) {
        lock(&self.shared).move_time(delta_ms);
    }

    /// Adds external resting liquidity the account's orders can take.
    ///
    /// # Panics
    /// If `price` or `qty` is not a decimal literal.
    pub fn add_liquidity(&self, symbol: &str, side: Side, price: &str, qty: &str) {
        lock(&self.shared).add_liquidity(symbol, side, dec(price), dec(qty));
    }

    /// An external taker trades up to `qty` at `limit` or better against the account's resting
    /// orders; returns the quantity filled.
    ///
    /// # Panics
    /// If `limit` or `qty` is not a decimal literal.
    pub fn take(&self, symbol: &str, taker_side: Side, limit: &str, qty: &str) -> Decimal {
        lock(&self.shared).take(symbol, taker_side, dec(limit), dec(qty))
    }

    /// Free and locked balance of `asset`.
    #[must_use]
    pub fn balance(&self, asset: &str) -> (Decimal, Decimal) {
        lock(&self.shared)
            .balances
            .get(asset)
            .map_or((Decimal::ZERO, Decimal::ZERO), |b| (b.free, b.locked))
    }

    /// Orders with `client_order_id` (one per placement; ids are reusable once filled).
    #[must_use]
    pub fn orders_with_client_id(&self, client_order_id: &str) -> usize {
        lock(&self.shared)
            .orders
            .values()
            .filter(|o| o.client_order_id == client_order_id)
            .count()
    }

    /// Status of the latest order with `client_order_id`.
    #[must_use]
    pub fn order_status(&self, client_order_id: &str) -> Option<String> {
        lock(&self.shared)
            .orders
            .values()
            .rev()
            .find(|o| o.client_order_id == client_order_id)
            .map(|o| o.status.to_owned())
    }

    /// The account's trades as `(trade id, order id, price, qty)`.
    #[must_use]
    pub fn trades(&self, symbol: &str) -> Vec<(u64, u64, Decimal, Decimal)> {
        lock(&self.shared)
            .trades
            .iter()
            .filter(|t| t.symbol == symbol)
            .map(|t| (t.id, t.order_id, t.price, t.qty))
            .collect()
    }

    /// Request and rejection counters.
    #[must_use]
    pub fn stats(&self) -> FakeStats {
        lock(&self.shared).stats.clone()
    }

    /// The next `n` requests whose path starts with `path` get `status` / `code` / `msg` (before
    /// any processing).
    pub fn reject_next(&self, path: &str, n: usize, status: u16, code: i32, msg: &str) {
        let mut engine = lock(&self.shared);
        for _ in 0..n {
            engine.injected.push_back(Injected {
                path: path.to_owned(),
                error: ApiError::new(status, code, msg),
            });
        }
    }

    /// The next `n` new orders are executed but answered `503 -1007` ("execution status
    /// unknown"), as Binance does when the matching engine is slow.
    pub fn unknown_outcome_next_orders(&self, n: u32) {
        lock(&self.shared).unknown_outcome_next = n;
    }

    /// Delays every user-data report produced from now on by `delay`.
    pub fn set_report_delay(&self, delay: Duration) {
        lock(&self.shared).report_delay = delay;
    }

    /// Sends every user-data report produced from now on twice.
    pub fn set_duplicate_reports(&self, on: bool) {
        lock(&self.shared).duplicate_reports = on;
    }

    /// Closes every open WebSocket (user data and market streams) without a close frame.
    pub fn drop_connections(&self) {
        let mut engine = lock(&self.shared);
        engine.user_subs.clear();
        engine.market_sessions.clear();
        engine.kill.send_modify(|generation| *generation += 1);
    }

    /// Refuses (503) new WebSocket connections while `on`.
    pub fn refuse_websockets(&self, on: bool) {
        lock(&self.shared).refuse_ws = on;
    }

    /// Number of active user-data subscriptions.
    #[must_use]
    pub fn user_subscriptions(&self) -> usize {
        lock(&self.shared).user_subs.len()
    }

    /// Number of connected market-stream sessions.
    #[must_use]
    pub fn market_sessions(&self) -> usize {
        lock(&self.shared).market_sessions.len()
    }

    /// Pushes a kline on `<symbol>@kline_<interval>` and stores it for `GET /api/v3/klines`.
    pub fn push_kline(&self, symbol: &str, interval: &str, kline: KlineSpec) {
        lock(&self.shared).push_kline(symbol, interval, kline);
    }

    /// Stores a kline for `GET /api/v3/klines` without pushing it (it happened while no one was
    /// connected).
    pub fn store_kline(&self, symbol: &str, interval: &str, kline: KlineSpec) {
        lock(&self.shared)
            .klines
            .entry((symbol.to_owned(), interval.to_owned()))
            .or_default()
            .insert(kline.open_time, kline);
    }

    /// Pushes a public trade on `<symbol>@trade`.
    ///
    /// # Panics
    /// If `price` or `qty` is not a decimal literal.
    pub fn push_trade(
        &self,
        symbol: &str,
        trade_id: u64,
        price: &str,
        qty: &str,
        buyer_is_maker: bool,
    ) {
        let mut engine = lock(&self.shared);
        let now = engine.now_ms();
        let payload = json!({
            "e": "trade", "E": now, "s": symbol, "t": trade_id, "p": engine::fmt8(dec(price)),
            "q": engine::fmt8(dec(qty)), "T": now, "m": buyer_is_maker, "M": true
        });
        engine.push_stream(&format!("{}@trade", symbol.to_ascii_lowercase()), payload);
    }

    /// Pushes a best bid/ask on `<symbol>@bookTicker`.
    ///
    /// # Panics
    /// If a price or quantity is not a decimal literal.
    pub fn push_book_ticker(
        &self,
        symbol: &str,
        bid: &str,
        bid_qty: &str,
        ask: &str,
        ask_qty: &str,
    ) {
        let mut engine = lock(&self.shared);
        let update_id = engine.market_update_id;
        engine.market_update_id += 1;
        let payload = json!({
            "u": update_id, "s": symbol, "b": engine::fmt8(dec(bid)), "B": engine::fmt8(dec(bid_qty)),
            "a": engine::fmt8(dec(ask)), "A": engine::fmt8(dec(ask_qty))
        });
        engine.push_stream(
            &format!("{}@bookTicker", symbol.to_ascii_lowercase()),
            payload,
        );
    }
}
