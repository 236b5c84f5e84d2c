//! [`RestClient`]: Binance Spot's REST API (`/api/v3`), signed, clock-synchronised and
//! rate-limit aware.
//!
//! - **Deadlines.** Each attempt (send and body) runs under `request_timeout_ms`.
//! - **Clock.** Signed requests carry `timestamp` = local time + the offset measured by
//!   [`RestClient::sync_time`] and `recvWindow`. A `-1021` (timestamp outside the window)
//!   resynchronises the clock and retries once.
//! - **Rate limits.** Usage headers are recorded ([`RestClient::rate_limits`]). After a 429/418 no
//!   request is sent until `Retry-After` has passed: the client waits it out when it is at most
//!   `max_backoff_ms`, otherwise it fails fast with [`Error::RateLimited`].
//! - **Retries.** Reads are retried on transient errors. Orders are made idempotent by their client
//!   order id: [`RestClient::submit_order`] never re-sends an order whose first attempt may have
//!   reached the matching engine without first querying it by that id, because Binance accepts a
//!   reused `newClientOrderId` once the earlier order has filled.
//!
//! Cancellation safety: every method may be dropped at an await; a dropped order submission
//! leaves the venue state unknown, exactly like a timeout (query the client order id).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde::de::DeserializeOwned;
use tradepulse_model::{ClientOrderId, UnixNanos};
use url::Url;

use crate::credentials::Credentials;
use crate::dto::{
    AccountInfo, AccountTrade, ErrorBody, ExchangeInfo, OrderResponse, RestKline, ServerTime,
};
use crate::limits::{RateLimitSnapshot, RateLimitTracker, retry_after};
use crate::mapping::{Balance, NewOrder, SymbolRules, ms, parse};
use crate::{BinanceConfig, Error, ErrorClass};

/// Which order a cancel or query names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderRef {
    /// Binance's order id (the faster lookup).
    OrderId(u64),
    /// Our client order id (`origClientOrderId`).
    Client(ClientOrderId),
}

/// `GET /api/v3/myTrades` parameters (Binance allows `fromId` with or without `orderId`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradesQuery {
    /// Symbol.
    pub symbol: String,
    /// Only trades of this order.
    pub order_id: Option<u64>,
    /// Trades with id ≥ this.
    pub from_id: Option<u64>,
    /// At most this many (Binance: 500 default, 1000 max).
    pub limit: Option<u16>,
}

/// `GET /api/v3/klines` parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KlinesQuery {
    /// Symbol.
    pub symbol: String,
    /// Interval, e.g. `1m`.
    pub interval: String,
    /// Klines opening at or after this time (ms).
    pub start_ms: Option<i64>,
    /// Klines opening at or before this time (ms).
    pub end_ms: Option<i64>,
    /// At most this many (Binance: 500 default, 1000 max).
    pub limit: Option<u16>,
}

/// The account's trading flag and balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Whether the account may trade.
    pub can_trade: bool,
    /// Last account update.
    pub update_time: UnixNanos,
    /// One entry per asset Binance lists.
    pub balances: Vec<Balance>,
}

impl Account {
    /// The balance of `asset`, if listed.
    #[must_use]
    pub fn balance(&self, asset: &str) -> Option<&Balance> {
        self.balances.iter().find(|b| b.asset == asset)
    }
}

/// A cheap-to-clone handle (one connection pool, one clock, one rate-limit state).
#[derive(Clone)]
pub struct RestClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.inner.base.as_str())
            .field("signed", &self.inner.credentials.is_some())
            .finish()
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    credentials: Option<Arc<Credentials>>,
    config: BinanceConfig,
    offset_ms: AtomicI64,
    limits: RateLimitTracker,
}

/// Whether a failed attempt may be sent again as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Reads: retry any transient error.
    Transient,
    /// Writes: retry only what certainly did not reach the venue (rate-limit hold, -1021).
    NotSent,
}

fn local_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl RestClient {
    /// A client for `config`'s REST endpoint; `credentials` are needed for signed endpoints only.
    ///
    /// # Errors
    /// [`Error::Config`] if the config is invalid or the HTTP client cannot be built.
    pub fn new(config: &BinanceConfig, credentials: Option<Credentials>) -> Result<Self, Error> {
        let endpoints = config.endpoints()?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout())
            .connect_timeout(config.request_timeout())
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base: endpoints.rest,
                credentials: credentials.map(Arc::new),
                config: config.clone(),
                offset_ms: AtomicI64::new(0),
                limits: RateLimitTracker::default(),
            }),
        })
    }

    pub(crate) fn credentials(&self) -> Option<&Arc<Credentials>> {
        self.inner.credentials.as_ref()
    }

    pub(crate) fn config(&self) -> &BinanceConfig {
        &self.inner.config
    }

    /// The venue's rate-limit usage as last reported.
    #[must_use]
    pub fn rate_limits(&self) -> RateLimitSnapshot {
        self.inner.limits.snapshot()
    }

    /// Server time minus local time, as last measured (ms).
    #[must_use]
    pub fn clock_offset_ms(&self) -> i64 {
        self.inner.offset_ms.load(Ordering::Relaxed)
    }

    /// The current time on the venue's clock (local time + measured offset), in ms.
    #[must_use]
    pub fn server_now_ms(&self) -> i64 {
        local_ms().saturating_add(self.clock_offset_ms())
    }

    /// Measures the offset of the venue's clock (`GET /api/v3/time`, corrected by half the round
    /// trip) and uses it for every later timestamp. Returns the offset in ms.
    ///
    /// # Errors
    /// As any request.
    pub async fn sync_time(&self) -> Result<i64, Error> {
        let mut attempt = 1;
        loop {
            match self.measure_offset().await {
                Ok(offset) => return Ok(offset),
                Err(e)
                    if e.class() == ErrorClass::Transient
                        && attempt < self.inner.config.max_attempts =>
                {
                    self.pause_before_retry(&e, attempt).await?;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One `GET /api/v3/time` round trip; not built on `send`, which calls it on a `-1021`.
    async fn measure_offset(&self) -> Result<i64, Error> {
        let sent = local_ms();
        let time: ServerTime = self
            .attempt(&Method::GET, "api/v3/time", "GET /api/v3/time", &[], false)
            .await?;
        let received = local_ms();
        let offset = time.server_time - (sent + received) / 2;
        self.inner.offset_ms.store(offset, Ordering::Relaxed);
        Ok(offset)
    }

    /// `GET /api/v3/time`.
    ///
    /// # Errors
    /// As any request.
    pub async fn server_time(&self) -> Result<UnixNanos, Error> {
        let time: ServerTime = self
            .send(
                Method::GET,
                "api/v3/time",
                Vec::new(),
                false,
                Retry::Transient,
            )
            .await?;
        Ok(ms(time.server_time))
    }

    /// `GET /api/v3/exchangeInfo` for `symbols` (all symbols when empty).
    ///
    /// # Errors
    /// As any request; `-1121` for an unknown symbol.
    pub async fn exchange_info(&self, symbols: &[&str]) -> Result<ExchangeInfo, Error> {
        let params = match symbols {
            [] => Vec::new(),
            [one] => vec![("symbol", (*one).to_owned())],
            many => vec![(
                "symbols",
                serde_json::to_string(many).map_err(|e| Error::Unsupported(e.to_string()))?,
            )],
        };
        self.send(
            Method::GET,
            "api/v3/exchangeInfo",
            params,
            false,
            Retry::Transient,
        )
        .await
    }

    /// The trading rules of `symbols`, from exchangeInfo.
    ///
    /// # Errors
    /// As [`RestClient::exchange_info`], or [`Error::Mapping`] for a filter value the model cannot
    /// hold.
    pub async fn symbol_rules(&self, symbols: &[&str]) -> Result<Vec<SymbolRules>, Error> {
        self.exchange_info(symbols)
            .await?
            .symbols
            .iter()
            .map(SymbolRules::from_info)
            .collect()
    }

    /// `POST /api/v3/order`, one attempt (plus the clock-resync retry of a `-1021`, which Binance
    /// rejected before the matching engine). Prefer [`RestClient::submit_order`].
    ///
    /// # Errors
    /// As any signed request: `-1013` filter failure, `-2010` rejected by the matching engine
    /// (insufficient balance, duplicate client order id, …).
    pub async fn new_order(&self, order: &NewOrder) -> Result<OrderResponse, Error> {
        self.send(
            Method::POST,
            "api/v3/order",
            order.params(),
            true,
            Retry::NotSent,
        )
        .await
    }

    /// Places `order` at most once: transient failures are retried with the same client order id,
    /// and after a failure whose outcome is unknown (timeout, 5xx, -1007) the order is first
    /// looked up by that id (after the back-off delay), so a retry does not create a second
    /// order. A `-2010 Duplicate order sent.` to a retry resolves to the order the earlier attempt
    /// created.
    ///
    /// Known limit: an order the matching engine accepts only after that lookup and that fills
    /// before the re-send lets the re-send through, because Binance accepts a client order id
    /// again once its order has filled. The user-data stream then reports both orders and
    /// reconciliation sees them.
    ///
    /// # Errors
    /// The venue's rejection, or the last transient error once `max_attempts` are spent.
    pub async fn submit_order(&self, order: &NewOrder) -> Result<OrderResponse, Error> {
        let attempts = self.inner.config.max_attempts;
        let by_id = OrderRef::Client(order.client_order_id);
        let mut maybe_sent = false;
        let mut attempt = 1;
        loop {
            let error = match self.new_order(order).await {
                Ok(response) => return Ok(response),
                Err(e) => e,
            };
            let duplicate = matches!(&error, Error::Venue { code: -2010, msg, .. } if msg.contains("Duplicate order"));
            if maybe_sent && duplicate {
                return self.query_order(&order.symbol, by_id).await;
            }
            if error.class() != ErrorClass::Transient {
                return Err(error);
            }
            let last = attempt >= attempts;
            if error.outcome_unknown() {
                maybe_sent = true;
                // Wait first: after a -1007 the matching engine may still be working on the
                // order, and a query sent at once could miss it.
                self.pause_before_retry(&error, attempt).await?;
                match self.query_order(&order.symbol, by_id).await {
                    Ok(found) => return Ok(found),
                    Err(Error::Venue { code: -2013, .. }) if !last => {} // not there: send again
                    Err(_) => return Err(error),
                }
            } else {
                if last {
                    return Err(error);
                }
                self.pause_before_retry(&error, attempt).await?;
            }
            attempt += 1;
        }
    }

    /// `DELETE /api/v3/order`. Retried on transient errors; when a retry gets `-2011 Unknown order
    /// sent.` after an attempt whose outcome is unknown, the order is queried and returned if the
    /// earlier attempt cancelled it.
    ///
    /// # Errors
    /// `-2011` for an order that is not open (unknown, filled or already cancelled).
    pub async fn cancel_order(
        &self,
        symbol: &str,
        order: OrderRef,
    ) -> Result<OrderResponse, Error> {
        let attempts = self.inner.config.max_attempts;
        let mut params = vec![("symbol", symbol.to_owned())];
        params.push(order_param(order));
        let mut maybe_sent = false;
        let mut attempt = 1;
        loop {
            let error = match self
                .send::<OrderResponse>(
                    Method::DELETE,
                    "api/v3/order",
                    params.clone(),
                    true,
                    Retry::NotSent,
                )
                .await
            {
                Ok(response) => return Ok(response),
                Err(e) => e,
            };
            if maybe_sent && error.venue_code() == Some(-2011) {
                let found = self.query_order(symbol, order).await?;
                if found.status.as_deref() == Some("CANCELED") {
                    return Ok(found);
                }
                return Err(error);
            }
            if error.class() != ErrorClass::Transient || attempt >= attempts {
                return Err(error);
            }
            maybe_sent |= error.outcome_unknown();
            self.pause_before_retry(&error, attempt).await?;
            attempt += 1;
        }
    }

    /// `GET /api/v3/order`.
    ///
    /// # Errors
    /// `-2013 Order does not exist.` for an unknown order.
    pub async fn query_order(&self, symbol: &str, order: OrderRef) -> Result<OrderResponse, Error> {
        let params = vec![("symbol", symbol.to_owned()), order_param(order)];
        self.send(Method::GET, "api/v3/order", params, true, Retry::Transient)
            .await
    }

    /// `GET /api/v3/openOrders` for one symbol, or all (weight 80) when `None`.
    ///
    /// # Errors
    /// As any signed request.
    pub async fn open_orders(&self, symbol: Option<&str>) -> Result<Vec<OrderResponse>, Error> {
        let params = symbol
            .map(|s| ("symbol", s.to_owned()))
            .into_iter()
            .collect();
        self.send(
            Method::GET,
            "api/v3/openOrders",
            params,
            true,
            Retry::Transient,
        )
        .await
    }

    /// `GET /api/v3/account`: per-asset balances (zero balances omitted).
    ///
    /// # Errors
    /// As any signed request, or [`Error::Mapping`] for a malformed balance.
    pub async fn account(&self) -> Result<Account, Error> {
        let info: AccountInfo = self
            .send(
                Method::GET,
                "api/v3/account",
                vec![("omitZeroBalances", "true".to_owned())],
                true,
                Retry::Transient,
            )
            .await?;
        let balances = info
            .balances
            .iter()
            .map(|b| {
                Ok(Balance {
                    asset: b.asset.clone(),
                    free: parse(&b.free, "free")?,
                    locked: parse(&b.locked, "locked")?,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(Account {
            can_trade: info.can_trade,
            update_time: ms(info.update_time),
            balances,
        })
    }

    /// `GET /api/v3/myTrades`.
    ///
    /// # Errors
    /// As any signed request.
    pub async fn my_trades(&self, query: &TradesQuery) -> Result<Vec<AccountTrade>, Error> {
        let mut params = vec![("symbol", query.symbol.clone())];
        if let Some(id) = query.order_id {
            params.push(("orderId", id.to_string()));
        }
        if let Some(id) = query.from_id {
            params.push(("fromId", id.to_string()));
        }
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        self.send(
            Method::GET,
            "api/v3/myTrades",
            params,
            true,
            Retry::Transient,
        )
        .await
    }

    /// `GET /api/v3/klines`.
    ///
    /// # Errors
    /// As any request; `-1120` for a bad interval.
    pub async fn klines(&self, query: &KlinesQuery) -> Result<Vec<RestKline>, Error> {
        let mut params = vec![
            ("symbol", query.symbol.clone()),
            ("interval", query.interval.clone()),
        ];
        if let Some(t) = query.start_ms {
            params.push(("startTime", t.to_string()));
        }
        if let Some(t) = query.end_ms {
            params.push(("endTime", t.to_string()));
        }
        if let Some(limit) = query.limit {
            params.push(("limit", limit.to_string()));
        }
        self.send(
            Method::GET,
            "api/v3/klines",
            params,
            false,
            Retry::Transient,
        )
        .await
    }

    async fn pause_before_retry(&self, error: &Error, attempt: u32) -> Result<(), Error> {
        let wait = match error.retry_after() {
            Some(wait) => wait,
            None => {
                let (min, max) = self.inner.config.reconnect_delays();
                min.saturating_mul(1 << attempt.min(8)).min(max)
            }
        };
        if wait > self.inner.config.max_backoff() {
            return Err(clone_rate_limited(error, wait));
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// One request with the retry policy `retry`.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &'static str,
        params: Vec<(&'static str, String)>,
        signed: bool,
        retry: Retry,
    ) -> Result<T, Error> {
        let endpoint = format!("{method} /{path}");
        let attempts = self.inner.config.max_attempts;
        let mut resynced = false;
        let mut attempt = 1;
        loop {
            if let Some(wait) = self.inner.limits.blocked_for() {
                if wait > self.inner.config.max_backoff() {
                    return Err(Error::RateLimited {
                        endpoint,
                        status: 0,
                        retry_after: wait,
                        code: None,
                    });
                }
                tokio::time::sleep(wait).await;
            }
            let error = match self
                .attempt(&method, path, &endpoint, &params, signed)
                .await
            {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if error.venue_code() == Some(-1021) && !resynced {
                // Rejected before the matching engine: resynchronise and send once more.
                resynced = true;
                self.measure_offset().await?;
                continue;
            }
            let retryable = match retry {
                Retry::Transient => error.class() == ErrorClass::Transient,
                Retry::NotSent => false,
            };
            if !retryable || attempt >= attempts {
                return Err(error);
            }
            self.pause_before_retry(&error, attempt).await?;
            attempt += 1;
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        method: &Method,
        path: &str,
        endpoint: &str,
        params: &[(&'static str, String)],
        signed: bool,
    ) -> Result<T, Error> {
        let builder = self.build_request(method, path, endpoint, params, signed)?;
        let deadline = self.inner.config.request_timeout();
        let exchange = async {
            let response = builder.send().await.map_err(|e| transport(endpoint, e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(|e| transport(endpoint, e))?;
            Ok::<_, Error>((status, headers, body))
        };
        let (status, headers, body) =
            tokio::time::timeout(deadline, exchange)
                .await
                .map_err(|_| Error::Timeout {
                    endpoint: endpoint.to_owned(),
                    after: deadline,
                })??;
        self.inner.limits.record_headers(&headers);
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| Error::Decode {
                endpoint: endpoint.to_owned(),
                reason: e.to_string(),
            });
        }
        let error_body: Option<ErrorBody> = serde_json::from_slice(&body).ok();
        if status == 429 || status == 418 {
            let wait = retry_after(&headers);
            self.inner.limits.record_limited(status, wait);
            return Err(Error::RateLimited {
                endpoint: endpoint.to_owned(),
                status,
                retry_after: wait,
                code: error_body.map(|b| b.code),
            });
        }
        match error_body {
            Some(ErrorBody { code, msg }) => Err(Error::Venue {
                endpoint: endpoint.to_owned(),
                http_status: status,
                code,
                msg,
            }),
            None if status >= 500 => Err(Error::Server {
                endpoint: endpoint.to_owned(),
                http_status: status,
            }),
            None => Err(Error::Decode {
                endpoint: endpoint.to_owned(),
                reason: format!("HTTP {status} without a Binance error body"),
            }),
        }
    }
}

impl RestClient {
    /// The request with its encoded (and, if `signed`, timestamped and signed) query string.
    /// Sync, so the non-`Send` URL serializer never lives across an await.
    fn build_request(
        &self,
        method: &Method,
        path: &str,
        endpoint: &str,
        params: &[(&'static str, String)],
        signed: bool,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            query.append_pair(name, value);
        }
        let mut request_url = self
            .inner
            .base
            .join(path)
            .map_err(|e| Error::Config(e.to_string()))?;
        if signed {
            let credentials = self.inner.credentials.as_ref().ok_or_else(|| {
                Error::Credentials(format!(
                    "{endpoint} is a SIGNED endpoint and no API key is configured"
                ))
            })?;
            query.append_pair("recvWindow", &self.inner.config.recv_window_ms.to_string());
            query.append_pair("timestamp", &self.server_now_ms().to_string());
            let mut payload = query.finish();
            let signature = credentials.sign(payload.as_bytes());
            payload.push_str("&signature=");
            payload.extend(url::form_urlencoded::byte_serialize(signature.as_bytes()));
            request_url.set_query(Some(&payload));
            Ok(self
                .inner
                .http
                .request(method.clone(), request_url)
                .header("X-MBX-APIKEY", credentials.api_key()))
        } else {
            let payload = query.finish();
            request_url.set_query((!payload.is_empty()).then_some(payload.as_str()));
            Ok(self.inner.http.request(method.clone(), request_url))
        }
    }
}

fn order_param(order: OrderRef) -> (&'static str, String) {
    match order {
        OrderRef::OrderId(id) => ("orderId", id.to_string()),
        OrderRef::Client(id) => ("origClientOrderId", id.as_str().to_owned()),
    }
}

fn transport(endpoint: &str, error: reqwest::Error) -> Error {
    if error.is_timeout() {
        return Error::Timeout {
            endpoint: endpoint.to_owned(),
            after: Duration::ZERO,
        };
    }
    Error::Transport {
        endpoint: endpoint.to_owned(),
        // The URL's query holds the signature and the account's parameters.
        source: error.without_url(),
    }
}

fn clone_rate_limited(error: &Error, wait: Duration) -> Error {
    match error {
        Error::RateLimited {
            endpoint,
            status,
            code,
            ..
        } => Error::RateLimited {
            endpoint: endpoint.clone(),
            status: *status,
            retry_after: wait,
            code: *code,
        },
        other => Error::RateLimited {
            endpoint: format!("retry after: {other}"),
            status: 0,
            retry_after: wait,
            code: other.venue_code(),
        },
    }
}
