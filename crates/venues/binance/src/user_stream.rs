//! [`UserDataStream`]: execution reports and balances over the WebSocket API subscription, with
//! reconnect and a REST catch-up of what the gap hid.
//!
//! Binance deprecated the REST listen key (`POST /api/v3/userDataStream`, changelog 2025-04-07 and
//! 2025-10-24); the current form is a subscription on the WebSocket API connection:
//! `session.logon` + `userDataStream.subscribe` with an Ed25519 key, or
//! `userDataStream.subscribe.signature` with any key type (used for HMAC keys).
//!
//! **No lost, no duplicated fill.** After every (re)subscription, before reading live events, the
//! task catches up over REST: the account's trades since the last trade id it saw
//! (`myTrades?fromId=`), the state of every order it knows to be open (`GET /api/v3/order`), open
//! orders it did not know (`openOrders`), and a balance snapshot (`account`). Subscribing first
//! and catching up second means every change lands in at least one of the two; every update then
//! passes one de-duplication keyed by (symbol, trade id) for fills and by order id for
//! acceptance and terminal states, which also drops the venue's own duplicate reports and
//! the fills already known from a REST order response ([`UserDataStream::ingest_response`]).
//!
//! The first subscription does not replay history: it records the latest trade id of each
//! configured symbol as the starting point (what happened before the process started is the
//! reconciliation's job).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::mpsc;
use tradepulse_model::{ClientOrderId, Money, UnixNanos};

use crate::Error;
use crate::credentials::{KeyType, ws_api_payload};
use crate::dto::{OrderResponse, UserEvent, WsApiFrame};
use crate::mapping::{Balance, OrderUpdate, OrderUpdateKind, UpdateSource, ms, parse};
use crate::rest::{OrderRef, RestClient, TradesQuery};
use crate::ws::{Backoff, Socket, connect, next_text, send_text};

/// What the stream delivers, in venue order per order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserStreamEvent {
    /// One change of one order, de-duplicated.
    Order(OrderUpdate),
    /// Balances: after an `outboundAccountPosition` (only the assets it lists, `snapshot =
    /// false`) or the catch-up's account snapshot (every non-zero asset, `snapshot = true`).
    Balances {
        /// Venue time.
        ts: UnixNanos,
        /// The balances.
        balances: Vec<Balance>,
        /// True if this is the whole account.
        snapshot: bool,
    },
    /// A deposit, withdrawal or transfer (`balanceUpdate`).
    BalanceDelta {
        /// Venue time.
        ts: UnixNanos,
        /// Asset.
        asset: String,
        /// Signed change.
        delta: Money,
    },
    /// Subscribed (again) and caught up; the counts say what the catch-up found.
    Connected {
        /// Fills found over REST that the stream had not delivered.
        caught_up_fills: u64,
        /// Order state changes found over REST.
        caught_up_orders: u64,
    },
    /// The connection was lost; the task reconnects by itself.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// Which symbols the catch-up covers (the symbols of orders the stream sees are added by
/// themselves).
#[derive(Debug, Clone, Default)]
pub struct UserStreamConfig {
    /// Binance symbols, e.g. `BTCUSDT`.
    pub symbols: Vec<String>,
}

/// Counters for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserStreamStats {
    /// Successful (re)subscriptions.
    pub connects: u64,
    /// Updates dropped as duplicates.
    pub duplicates_dropped: u64,
    /// Fills delivered by the catch-up.
    pub caught_up_fills: u64,
}

#[derive(Debug, Clone)]
struct TrackedOrder {
    symbol: String,
    client_order_id: ClientOrderId,
    accepted: bool,
    terminal: bool,
}

#[derive(Debug, Default)]
struct Tracker {
    orders: HashMap<u64, TrackedOrder>,
    /// Seen trade ids per symbol; pruned below `last - TRADE_MEMORY`.
    trades: HashMap<String, BTreeSet<u64>>,
    /// Highest trade id seen per symbol: the catch-up starts after it.
    last_trade: HashMap<String, u64>,
    symbols: BTreeSet<String>,
}

/// How many trade ids below the highest one are remembered for de-duplication; a duplicate older
/// than that is implausible (the venue re-sends within seconds).
const TRADE_MEMORY: u64 = 100_000;

struct Shared {
    tracker: Mutex<Tracker>,
    tx: mpsc::UnboundedSender<UserStreamEvent>,
    connects: AtomicU64,
    duplicates: AtomicU64,
    caught_up_fills: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Passes `update` through de-duplication; returns whether it was new. Sending happens under
    /// the lock so the stream task and REST answers cannot reorder one order's updates.
    fn emit(&self, update: OrderUpdate) -> bool {
        let mut tracker = self.lock();
        tracker.symbols.insert(update.symbol.clone());
        let order = tracker
            .orders
            .entry(update.order_id)
            .or_insert_with(|| TrackedOrder {
                symbol: update.symbol.clone(),
                client_order_id: update.client_order_id,
                accepted: false,
                terminal: false,
            });
        let fresh = match &update.kind {
            OrderUpdateKind::Accepted => !std::mem::replace(&mut order.accepted, true),
            kind if kind.is_terminal() => {
                order.accepted = true;
                !std::mem::replace(&mut order.terminal, true)
            }
            OrderUpdateKind::Fill(fill) => {
                order.accepted = true;
                let trade_id = fill.trade_id;
                let seen = tracker.trades.entry(update.symbol.clone()).or_default();
                let fresh = seen.insert(trade_id);
                if seen.len() as u64 > 2 * TRADE_MEMORY {
                    let keep_from = trade_id.saturating_sub(TRADE_MEMORY);
                    *seen = seen.split_off(&keep_from);
                }
                let last = tracker.last_trade.entry(update.symbol.clone()).or_insert(0);
                *last = (*last).max(trade_id);
                fresh
            }
            _ => true,
        };
        if fresh {
            if update.source == UpdateSource::CatchUp
                && let OrderUpdateKind::Fill(_) = update.kind
            {
                self.caught_up_fills.fetch_add(1, Ordering::Relaxed);
            }
            // A closed receiver means the owner is shutting down; nothing to do.
            let _ = self.tx.send(UserStreamEvent::Order(update));
        } else {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
        fresh
    }

    /// Marks an order filled: nothing but a duplicate can follow, so the catch-up stops asking.
    fn mark_filled(&self, order_id: u64) {
        if let Some(order) = self.lock().orders.get_mut(&order_id) {
            order.terminal = true;
        }
    }

    fn send(&self, event: UserStreamEvent) {
        let _ = self.tx.send(event);
    }
}

/// The running stream task. Dropping it stops the task.
pub struct UserDataStream {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for UserDataStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDataStream")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Drop for UserDataStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl UserDataStream {
    /// Starts the task on the current tokio runtime. It connects, subscribes and catches up by
    /// itself, and reconnects with exponential back-off for as long as it lives.
    ///
    /// # Errors
    /// [`Error::Credentials`] if `rest` has no credentials, [`Error::Config`] for bad URLs.
    pub fn spawn(
        rest: RestClient,
        config: UserStreamConfig,
    ) -> Result<(Self, mpsc::UnboundedReceiver<UserStreamEvent>), Error> {
        if rest.credentials().is_none() {
            return Err(Error::Credentials(
                "the user-data stream needs an API key".to_owned(),
            ));
        }
        let endpoints = rest.config().endpoints()?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            tracker: Mutex::new(Tracker {
                symbols: config.symbols.iter().cloned().collect(),
                ..Tracker::default()
            }),
            tx,
            connects: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            caught_up_fills: AtomicU64::new(0),
        });
        let task = tokio::spawn(run(rest, endpoints.ws_api, Arc::clone(&shared)));
        Ok((Self { shared, task }, rx))
    }

    /// Feeds the answer to our own `POST`/`DELETE /api/v3/order` through the same
    /// de-duplication, so a taker fill is reported once whether the response or the stream comes
    /// first. Returns how many updates were new.
    ///
    /// # Errors
    /// [`Error::Mapping`] for a malformed response.
    pub fn ingest_response(&self, response: &OrderResponse) -> Result<usize, Error> {
        let updates = OrderUpdate::from_order_response(response, UpdateSource::Response)?;
        Ok(updates
            .into_iter()
            .filter(|u| self.shared.emit(u.clone()))
            .count())
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> UserStreamStats {
        UserStreamStats {
            connects: self.shared.connects.load(Ordering::Relaxed),
            duplicates_dropped: self.shared.duplicates.load(Ordering::Relaxed),
            caught_up_fills: self.shared.caught_up_fills.load(Ordering::Relaxed),
        }
    }
}

const ENDPOINT: &str = "user data stream";

async fn run(rest: RestClient, url: url::Url, shared: Arc<Shared>) {
    let mut backoff = Backoff::new(rest.config().reconnect_delays());
    let mut first = true;
    loop {
        let started = Instant::now();
        let error = session(&rest, &url, &shared, &mut first).await;
        shared.send(UserStreamEvent::Disconnected {
            reason: error.to_string(),
        });
        // A session that lasted a while was healthy: reconnect quickly.
        if started.elapsed() > rest.config().reconnect_delays().1 {
            backoff.reset();
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// One connection: subscribe, catch up, then read until it breaks. Always returns the error that
/// ended it.
async fn session(rest: &RestClient, url: &url::Url, shared: &Shared, first: &mut bool) -> Error {
    let config = rest.config();
    let mut socket = match connect(url, config.ws_timeout(), ENDPOINT).await {
        Ok(socket) => socket,
        Err(e) => return e,
    };
    let mut early = Vec::new();
    if let Err(e) = subscribe(rest, &mut socket, &mut early).await {
        return e;
    }
    let caught_up = if *first {
        start_points(rest, shared).await.map(|()| (0, 0))
    } else {
        catch_up(rest, shared).await
    };
    let (caught_up_fills, caught_up_orders) = match caught_up {
        Ok(counts) => counts,
        Err(e) => return e,
    };
    *first = false;
    shared.connects.fetch_add(1, Ordering::Relaxed);
    shared.send(UserStreamEvent::Connected {
        caught_up_fills,
        caught_up_orders,
    });
    for text in early {
        if let Err(e) = handle_frame(shared, &text) {
            return e;
        }
    }
    loop {
        let text = match next_text(&mut socket, config.ws_idle_timeout(), ENDPOINT).await {
            Ok(text) => text,
            Err(e) => return e,
        };
        if let Err(e) = handle_frame(shared, &text) {
            return e;
        }
    }
}

/// Sends one WebSocket API request and waits for its answer; events that arrive meanwhile are kept
/// in `early`.
async fn request(
    rest: &RestClient,
    socket: &mut Socket,
    id: &str,
    method: &str,
    params: Option<serde_json::Value>,
    early: &mut Vec<String>,
) -> Result<serde_json::Value, Error> {
    let config = rest.config();
    let mut body = serde_json::json!({"id": id, "method": method});
    if let Some(params) = params {
        body["params"] = params;
    }
    send_text(socket, body.to_string(), config.ws_timeout(), method).await?;
    let deadline = tokio::time::Instant::now() + config.ws_timeout();
    loop {
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let text = match tokio::time::timeout(
            remaining,
            next_text(socket, config.ws_idle_timeout(), method),
        )
        .await
        {
            Err(_) => {
                return Err(Error::Timeout {
                    endpoint: method.to_owned(),
                    after: config.ws_timeout(),
                });
            }
            Ok(result) => result?,
        };
        let frame: WsApiFrame = serde_json::from_str(&text).map_err(|e| Error::Decode {
            endpoint: method.to_owned(),
            reason: e.to_string(),
        })?;
        if frame.event.is_some() {
            early.push(text);
            continue;
        }
        if frame.id.as_ref().and_then(|v| v.as_str()) != Some(id) {
            continue;
        }
        return match (frame.status, frame.error) {
            (Some(200), _) => Ok(frame.result.unwrap_or(serde_json::Value::Null)),
            (status, Some(error)) => Err(Error::Venue {
                endpoint: method.to_owned(),
                http_status: status.unwrap_or(0),
                code: error.code,
                msg: error.msg,
            }),
            (status, None) => Err(Error::Decode {
                endpoint: method.to_owned(),
                reason: format!("status {status:?} without an error"),
            }),
        };
    }
}

/// Signed parameters of a WebSocket API request: `apiKey`, `timestamp`, `recvWindow`, signed over
/// the sorted payload.
fn signed_params(rest: &RestClient) -> Result<serde_json::Value, Error> {
    let credentials = rest
        .credentials()
        .ok_or_else(|| Error::Credentials("no API key".to_owned()))?;
    let now = rest.server_now_ms();
    let timestamp = now.to_string();
    let recv_window = rest.config().recv_window_ms.to_string();
    let payload = ws_api_payload([
        ("apiKey", credentials.api_key()),
        ("timestamp", timestamp.as_str()),
        ("recvWindow", recv_window.as_str()),
    ]);
    let signature = credentials.sign(payload.as_bytes());
    Ok(serde_json::json!({
        "apiKey": credentials.api_key(),
        "timestamp": now,
        "recvWindow": rest.config().recv_window_ms,
        "signature": signature,
    }))
}

async fn subscribe(
    rest: &RestClient,
    socket: &mut Socket,
    early: &mut Vec<String>,
) -> Result<(), Error> {
    let key_type = rest
        .credentials()
        .map(|c| c.key_type())
        .ok_or_else(|| Error::Credentials("no API key".to_owned()))?;
    let mut resynced = false;
    loop {
        let result = match key_type {
            KeyType::Ed25519 => {
                let logon = request(
                    rest,
                    socket,
                    "logon",
                    "session.logon",
                    Some(signed_params(rest)?),
                    early,
                )
                .await;
                match logon {
                    Ok(_) => {
                        request(
                            rest,
                            socket,
                            "subscribe",
                            "userDataStream.subscribe",
                            None,
                            early,
                        )
                        .await
                    }
                    Err(e) => Err(e),
                }
            }
            KeyType::Hmac => {
                request(
                    rest,
                    socket,
                    "subscribe",
                    "userDataStream.subscribe.signature",
                    Some(signed_params(rest)?),
                    early,
                )
                .await
            }
        };
        match result {
            Ok(_) => return Ok(()),
            Err(e) if e.venue_code() == Some(-1021) && !resynced => {
                resynced = true;
                rest.sync_time().await?;
            }
            Err(e) => return Err(e),
        }
    }
}

fn handle_frame(shared: &Shared, text: &str) -> Result<(), Error> {
    let decode = |reason: String| Error::Decode {
        endpoint: ENDPOINT.to_owned(),
        reason,
    };
    let frame: WsApiFrame = serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
    let Some(event) = frame.event else {
        return Ok(()); // a late answer to a request
    };
    if event.get("e").and_then(|e| e.as_str()) == Some("serverShutdown") {
        return Err(Error::WebSocket {
            endpoint: ENDPOINT.to_owned(),
            reason: "serverShutdown: the server asked us to reconnect".to_owned(),
        });
    }
    let event: UserEvent = serde_json::from_value(event).map_err(|e| decode(e.to_string()))?;
    match event {
        UserEvent::ExecutionReport(report) => {
            if let Some(update) = OrderUpdate::from_execution_report(&report)? {
                shared.emit(update);
            }
            if report.order_status == "FILLED" {
                shared.mark_filled(report.order_id);
            }
        }
        UserEvent::AccountPosition(position) => {
            let balances = position
                .balances
                .iter()
                .map(|b| {
                    Ok(Balance {
                        asset: b.asset.clone(),
                        free: parse(&b.free, "f (free)")?,
                        locked: parse(&b.locked, "l (locked)")?,
                    })
                })
                .collect::<Result<_, Error>>()?;
            shared.send(UserStreamEvent::Balances {
                ts: ms(position.last_update),
                balances,
                snapshot: false,
            });
        }
        UserEvent::BalanceUpdate(update) => shared.send(UserStreamEvent::BalanceDelta {
            ts: ms(update.clear_time),
            asset: update.asset.clone(),
            delta: parse(&update.delta, "d (delta)")?,
        }),
        UserEvent::StreamTerminated { .. } => {
            return Err(Error::WebSocket {
                endpoint: ENDPOINT.to_owned(),
                reason: "eventStreamTerminated: the subscription ended".to_owned(),
            });
        }
        UserEvent::Other => {}
    }
    Ok(())
}

/// First subscription: remember the newest trade id of each symbol as the catch-up start.
async fn start_points(rest: &RestClient, shared: &Shared) -> Result<(), Error> {
    let symbols: Vec<String> = shared.lock().symbols.iter().cloned().collect();
    for symbol in symbols {
        if shared.lock().last_trade.contains_key(&symbol) {
            continue;
        }
        let newest = rest
            .my_trades(&TradesQuery {
                symbol: symbol.clone(),
                limit: Some(1),
                ..TradesQuery::default()
            })
            .await?;
        let mut tracker = shared.lock();
        let entry = tracker.last_trade.entry(symbol).or_insert(0);
        if let Some(trade) = newest.last() {
            *entry = (*entry).max(trade.id);
        }
    }
    Ok(())
}

/// After a gap: trades since the last seen id, then the state of known open orders, then unknown
/// open orders, then a balance snapshot. Returns (fills, order changes) that were new.
async fn catch_up(rest: &RestClient, shared: &Shared) -> Result<(u64, u64), Error> {
    const PAGE: u16 = 1000;
    let mut fills = 0;
    let mut orders = 0;
    let symbols: Vec<String> = shared.lock().symbols.iter().cloned().collect();
    for symbol in &symbols {
        let has_start = shared.lock().last_trade.contains_key(symbol);
        if !has_start {
            // No trade of this symbol seen yet: ask per known order rather than replaying the
            // symbol's whole history.
            let ids: Vec<u64> = shared
                .lock()
                .orders
                .iter()
                .filter(|(_, o)| &o.symbol == symbol)
                .map(|(id, _)| *id)
                .collect();
            for order_id in ids {
                let trades = rest
                    .my_trades(&TradesQuery {
                        symbol: symbol.clone(),
                        order_id: Some(order_id),
                        ..TradesQuery::default()
                    })
                    .await?;
                fills += emit_trades(rest, shared, symbol, &trades).await?;
            }
            continue;
        }
        loop {
            let from = shared.lock().last_trade.get(symbol).map_or(0, |id| id + 1);
            let trades = rest
                .my_trades(&TradesQuery {
                    symbol: symbol.clone(),
                    from_id: Some(from),
                    limit: Some(PAGE),
                    ..TradesQuery::default()
                })
                .await?;
            fills += emit_trades(rest, shared, symbol, &trades).await?;
            if trades.len() < usize::from(PAGE) {
                break;
            }
        }
    }
    let open: Vec<(u64, String)> = shared
        .lock()
        .orders
        .iter()
        .filter(|(_, o)| !o.terminal)
        .map(|(id, o)| (*id, o.symbol.clone()))
        .collect();
    for (order_id, symbol) in open {
        let response = rest
            .query_order(&symbol, OrderRef::OrderId(order_id))
            .await?;
        for update in OrderUpdate::from_order_response(&response, UpdateSource::CatchUp)? {
            if shared.emit(update) {
                orders += 1;
            }
        }
        if response.status.as_deref() == Some("FILLED") {
            shared.mark_filled(order_id);
        }
    }
    for symbol in &symbols {
        for response in rest.open_orders(Some(symbol)).await? {
            for update in OrderUpdate::from_order_response(&response, UpdateSource::CatchUp)? {
                if shared.emit(update) {
                    orders += 1;
                }
            }
        }
    }
    let account = rest.account().await?;
    shared.send(UserStreamEvent::Balances {
        ts: account.update_time,
        balances: account.balances,
        snapshot: true,
    });
    Ok((fills, orders))
}

/// Emits `myTrades` rows as fills, naming each by the client order id of its order (queried when
/// the order is not known yet). Returns how many were new.
async fn emit_trades(
    rest: &RestClient,
    shared: &Shared,
    symbol: &str,
    trades: &[crate::dto::AccountTrade],
) -> Result<u64, Error> {
    let mut fresh = 0;
    for trade in trades {
        let known = shared
            .lock()
            .orders
            .get(&trade.order_id)
            .map(|o| o.client_order_id);
        let client_order_id = match known {
            Some(id) => id,
            None => {
                let order = rest
                    .query_order(symbol, OrderRef::OrderId(trade.order_id))
                    .await?;
                ClientOrderId::new(&order.client_order_id).map_err(|e| Error::Mapping {
                    what: "client order id",
                    reason: e.to_string(),
                })?
            }
        };
        if shared.emit(OrderUpdate::from_account_trade(trade, client_order_id)?) {
            fresh += 1;
        }
    }
    Ok(fresh)
}
