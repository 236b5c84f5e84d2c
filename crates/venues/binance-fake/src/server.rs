//! The HTTP and WebSocket front of the fake: REST under `/api/v3`, the WebSocket API at
//! `/ws-api/v3`, market streams at `/stream?streams=…` (combined) and `/ws/<stream>` (raw).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::auth;
use crate::engine::{ApiError, Engine, MarketSession, Outgoing, UserSubscription, fmt8, mandatory};
use crate::{FakeKey, KlineSpec};

pub(crate) type Shared = Arc<Mutex<Engine>>;

pub(crate) fn lock(shared: &Shared) -> MutexGuard<'_, Engine> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/ws-api/v3", get(ws_api))
        .route("/stream", get(combined_stream))
        .route("/ws/{stream}", get(raw_stream))
        .fallback(rest)
        .with_state(shared)
}

// ----- REST ---------------------------------------------------------------------------------

const INTERVALS: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

/// Request weights from rest-api.md.
fn weight(method: &Method, path: &str, params: &HashMap<String, String>) -> Option<u64> {
    Some(match (method.as_str(), path) {
        ("GET", "/api/v3/ping" | "/api/v3/time") => 1,
        ("GET", "/api/v3/exchangeInfo") => 20,
        ("GET", "/api/v3/klines") => 2,
        ("POST" | "DELETE", "/api/v3/order") => 1,
        ("GET", "/api/v3/order") => 4,
        ("GET", "/api/v3/openOrders") => {
            if params.contains_key("symbol") {
                6
            } else {
                80
            }
        }
        ("GET", "/api/v3/account") => 20,
        ("GET", "/api/v3/myTrades") => {
            if params.contains_key("orderId") {
                5
            } else {
                20
            }
        }
        _ => return None,
    })
}

fn error_response(error: &ApiError, extra: &[(String, u64)]) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = (status, axum::Json(error.body())).into_response();
    add_headers(response.headers_mut(), extra);
    if let Some(secs) = error.retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn add_headers(headers: &mut HeaderMap, extra: &[(String, u64)]) {
    for (name, value) in extra {
        if let Ok(name) = HeaderName::try_from(name.as_str()) {
            headers.insert(name, HeaderValue::from(*value));
        }
    }
}

async fn rest(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_owned();
    let raw_query = uri.query().unwrap_or("").to_owned();
    let mut params: HashMap<String, String> = url::form_urlencoded::parse(raw_query.as_bytes())
        .into_owned()
        .collect();
    // Query-string parameters win over body parameters (rest-api.md).
    for (k, v) in url::form_urlencoded::parse(body.as_bytes()).into_owned() {
        params.entry(k).or_insert(v);
    }
    let mut engine = lock(&shared);
    *engine
        .stats
        .requests
        .entry(format!("{method} {path}"))
        .or_insert(0) += 1;
    let Some(weight) = weight(&method, &path, &params) else {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"code": -1000, "msg": "Unknown endpoint."})),
        )
            .into_response();
    };
    if let Some(error) = engine.take_injected(&path) {
        let header = engine.weight_header();
        return error_response(&error, &[header]);
    }
    if let Err(error) = engine.charge(weight) {
        let header = engine.weight_header();
        return error_response(&error, &[header]);
    }
    let mut headers_out = vec![engine.weight_header()];
    let signed = !matches!(
        path.as_str(),
        "/api/v3/ping" | "/api/v3/time" | "/api/v3/exchangeInfo" | "/api/v3/klines"
    );
    if signed {
        let (payload, signature) = auth::rest_payload(&raw_query, &body);
        let api_key = headers.get("X-MBX-APIKEY").and_then(|v| v.to_str().ok());
        if let Err(error) = auth::verify(
            &mut engine,
            api_key,
            &payload,
            signature.as_deref(),
            params.get("timestamp").map(String::as_str),
            params.get("recvWindow").map(String::as_str),
        ) {
            return error_response(&error, &headers_out);
        }
    }
    let result = match (method.as_str(), path.as_str()) {
        ("GET", "/api/v3/ping") => Ok(json!({})),
        ("GET", "/api/v3/time") => Ok(json!({"serverTime": engine.now_ms()})),
        ("GET", "/api/v3/exchangeInfo") => exchange_info(&engine, &params),
        ("GET", "/api/v3/klines") => klines(&engine, &params),
        ("POST", "/api/v3/order") => match engine.charge_order() {
            Err(e) => Err(e),
            Ok(counts) => {
                headers_out.extend(counts);
                let placed = engine.new_order(&params);
                if placed.is_ok() && engine.unknown_outcome_next > 0 {
                    // Executed, but the client is told the outcome is unknown (rest-api.md: -1007).
                    engine.unknown_outcome_next -= 1;
                    Err(ApiError::new(
                        503,
                        -1007,
                        "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
                    ))
                } else {
                    placed
                }
            }
        },
        ("DELETE", "/api/v3/order") => engine.cancel(&params),
        ("GET", "/api/v3/order") => query_order(&engine, &params),
        ("GET", "/api/v3/openOrders") => Ok(Value::Array(
            engine
                .orders
                .values()
                .filter(|o| matches!(o.status, "NEW" | "PARTIALLY_FILLED"))
                .filter(|o| params.get("symbol").is_none_or(|s| *s == o.symbol))
                .map(crate::engine::Order::json)
                .collect(),
        )),
        ("GET", "/api/v3/account") => Ok(account(&engine, &params)),
        ("GET", "/api/v3/myTrades") => my_trades(&engine, &params),
        _ => Err(ApiError::new(404, -1000, "Unknown endpoint.")),
    };
    drop(engine);
    match result {
        Ok(value) => {
            let mut response = axum::Json(value).into_response();
            add_headers(response.headers_mut(), &headers_out);
            response
        }
        Err(error) => error_response(&error, &headers_out),
    }
}

fn exchange_info(engine: &Engine, params: &HashMap<String, String>) -> Result<Value, ApiError> {
    let wanted: Option<Vec<String>> = match (params.get("symbol"), params.get("symbols")) {
        (Some(one), _) => Some(vec![one.clone()]),
        (None, Some(list)) => Some(serde_json::from_str(list).map_err(|_| {
            ApiError::new(
                400,
                -1100,
                "Illegal characters found in parameter 'symbols'.",
            )
        })?),
        (None, None) => None,
    };
    if let Some(names) = &wanted {
        for name in names {
            engine.symbol(name)?;
        }
    }
    let limits = &engine.config.limits;
    let symbols: Vec<Value> = engine
        .config
        .symbols
        .iter()
        .filter(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.symbol)))
        .map(|s| {
            json!({
                "symbol": s.symbol, "status": "TRADING", "baseAsset": s.base, "baseAssetPrecision": 8,
                "quoteAsset": s.quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "MARKET"],
                "icebergAllowed": false, "ocoAllowed": false, "otoAllowed": false, "opoAllowed": false,
                "quoteOrderQtyMarketAllowed": false, "allowTrailingStop": false, "cancelReplaceAllowed": false,
                "amendAllowed": false, "pegInstructionsAllowed": false,
                "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": fmt8(s.min_price), "maxPrice": fmt8(s.max_price), "tickSize": fmt8(s.tick_size)},
                    {"filterType": "LOT_SIZE", "minQty": fmt8(s.min_qty), "maxQty": fmt8(s.max_qty), "stepSize": fmt8(s.step_size)},
                    {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2", "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
                    {"filterType": "MARKET_LOT_SIZE", "minQty": fmt8(rust_decimal::Decimal::ZERO), "maxQty": fmt8(s.market_max_qty), "stepSize": fmt8(rust_decimal::Decimal::ZERO)},
                    {"filterType": "NOTIONAL", "minNotional": fmt8(s.min_notional), "applyMinToMarket": s.min_notional_applies_to_market, "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5},
                    {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "NONE", "allowedSelfTradePreventionModes": ["NONE"]
            })
        })
        .collect();
    Ok(json!({
        "timezone": "UTC",
        "serverTime": engine.now_ms(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": limits.weight_interval.1, "intervalNum": limits.weight_interval.0, "limit": limits.weight_limit},
            {"rateLimitType": "ORDERS", "interval": limits.order_interval.1, "intervalNum": limits.order_interval.0, "limit": limits.order_limit},
        ],
        "exchangeFilters": [],
        "symbols": symbols,
    }))
}

fn limit_param(
    params: &HashMap<String, String>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match params.get("limit") {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::new(400, -1130, "Data sent for parameter 'limit' is not valid.")
            }),
    }
}

fn klines(engine: &Engine, params: &HashMap<String, String>) -> Result<Value, ApiError> {
    let symbol = mandatory(params, "symbol")?;
    engine.symbol(symbol)?;
    let interval = mandatory(params, "interval")?;
    if !INTERVALS.contains(&interval) {
        return Err(ApiError::new(400, -1120, "Invalid interval."));
    }
    let limit = limit_param(params, 500, 1000)?;
    let start = params.get("startTime").and_then(|t| t.parse::<i64>().ok());
    let end = params.get("endTime").and_then(|t| t.parse::<i64>().ok());
    let empty = std::collections::BTreeMap::new();
    let stored = engine
        .klines
        .get(&(symbol.to_owned(), interval.to_owned()))
        .unwrap_or(&empty);
    let in_range = stored
        .values()
        .filter(|k| start.is_none_or(|s| k.open_time >= s) && end.is_none_or(|e| k.open_time <= e));
    let picked: Vec<&KlineSpec> = if start.is_some() {
        in_range.take(limit).collect()
    } else {
        let all: Vec<&KlineSpec> = in_range.collect();
        all[all.len().saturating_sub(limit)..].to_vec()
    };
    Ok(Value::Array(
        picked
            .into_iter()
            .map(|k| {
                json!([
                    k.open_time,
                    fmt8(k.open),
                    fmt8(k.high),
                    fmt8(k.low),
                    fmt8(k.close),
                    fmt8(k.volume),
                    k.close_time,
                    fmt8(k.volume * k.close),
                    k.trades,
                    "0",
                    "0",
                    "0"
                ])
            })
            .collect(),
    ))
}

fn query_order(engine: &Engine, params: &HashMap<String, String>) -> Result<Value, ApiError> {
    let symbol = mandatory(params, "symbol")?;
    engine.symbol(symbol)?;
    let id = engine.find(params, symbol)?;
    engine
        .orders
        .get(&id)
        .map(crate::engine::Order::json)
        .ok_or_else(|| ApiError::new(400, -2013, "Order does not exist."))
}

fn account(engine: &Engine, params: &HashMap<String, String>) -> Value {
    let omit_zero = params.get("omitZeroBalances").is_some_and(|v| v == "true");
    let balances: Vec<Value> = engine
        .balances
        .iter()
        .filter(|(_, b)| !(omit_zero && b.free.is_zero() && b.locked.is_zero()))
        .map(|(asset, b)| json!({"asset": asset, "free": fmt8(b.free), "locked": fmt8(b.locked)}))
        .collect();
    let commission = |rate: rust_decimal::Decimal| fmt8(rate);
    json!({
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "commissionRates": {"maker": commission(engine.config.maker_commission), "taker": commission(engine.config.taker_commission), "buyer": "0.00000000", "seller": "0.00000000"},
        "canTrade": true, "canWithdraw": true, "canDeposit": true, "brokered": false,
        "requireSelfTradePrevention": false, "preventSor": false, "updateTime": engine.now_ms(),
        "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 1
    })
}

fn my_trades(engine: &Engine, params: &HashMap<String, String>) -> Result<Value, ApiError> {
    let symbol = mandatory(params, "symbol")?;
    engine.symbol(symbol)?;
    let limit = limit_param(params, 500, 1000)?;
    let order_id = params.get("orderId").and_then(|v| v.parse::<u64>().ok());
    let from_id = params.get("fromId").and_then(|v| v.parse::<u64>().ok());
    let matching: Vec<&crate::engine::Trade> = engine
        .trades
        .iter()
        .filter(|t| t.symbol == *symbol && order_id.is_none_or(|id| t.order_id == id))
        .filter(|t| from_id.is_none_or(|from| t.id >= from))
        .collect();
    // With fromId: the oldest from there; without: the most recent (rest-api.md).
    let picked: Vec<&crate::engine::Trade> = if from_id.is_some() {
        matching.into_iter().take(limit).collect()
    } else {
        matching[matching.len().saturating_sub(limit)..].to_vec()
    };
    Ok(Value::Array(
        picked.into_iter().map(crate::engine::Trade::json).collect(),
    ))
}

// ----- WebSockets ---------------------------------------------------------------------------

fn refused(shared: &Shared) -> Option<Response> {
    let mut engine = lock(shared);
    if engine.refuse_ws {
        engine.stats.refused_websockets += 1;
        return Some(StatusCode::SERVICE_UNAVAILABLE.into_response());
    }
    None
}

/// Forwards queued frames to the socket, honouring the delay/duplication each frame carries, and
/// pings every `ping` (the real server pings every 20 s).
async fn writer(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    ping: Duration,
) {
    let mut ticker = tokio::time::interval(ping);
    ticker.tick().await;
    loop {
        tokio::select! {
            out = rx.recv() => {
                let Some(out) = out else { return };
                if let Some(at) = out.not_before {
                    tokio::time::sleep_until(at.into()).await;
                }
                for _ in 0..out.copies {
                    if sink.send(Message::Text(out.text.clone().into())).await.is_err() {
                        return;
                    }
                }
            }
            _ = ticker.tick() => {
                if sink.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Runs `writer` and answers each text request with `handle` until the peer leaves or the test
/// drops every connection; then the socket is closed by dropping both halves.
async fn read_requests(
    mut stream: futures_util::stream::SplitStream<WebSocket>,
    tx: &mpsc::UnboundedSender<Outgoing>,
    kill: &mut tokio::sync::watch::Receiver<u64>,
    writer: impl std::future::Future<Output = ()> + Send + 'static,
    mut handle: impl FnMut(&str) -> Value,
) {
    let writer = tokio::spawn(writer);
    loop {
        tokio::select! {
            _ = kill.changed() => break,
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    if tx.send(Outgoing::now(handle(text.as_str()).to_string())).is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    writer.abort();
}

async fn ws_api(State(shared): State<Shared>, ws: WebSocketUpgrade) -> Response {
    if let Some(response) = refused(&shared) {
        return response;
    }
    ws.on_upgrade(move |socket| ws_api_session(shared, socket))
}

struct WsSession {
    id: u64,
    connected_since: i64,
    logged_in: Option<String>,
    logon_subscription: Option<u64>,
    tx: mpsc::UnboundedSender<Outgoing>,
}

async fn ws_api_session(shared: Shared, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (mut kill, mut session, ping) = {
        let mut engine = lock(&shared);
        let id = engine.next_session;
        engine.next_session += 1;
        let session = WsSession {
            id,
            connected_since: engine.now_ms(),
            logged_in: None,
            logon_subscription: None,
            tx: tx.clone(),
        };
        (
            engine.kill.subscribe(),
            session,
            engine.config.ping_interval,
        )
    };
    read_requests(stream, &tx, &mut kill, writer(sink, rx, ping), |text| {
        ws_api_request(&shared, &mut session, text)
    })
    .await;
    lock(&shared).user_subs.retain(|s| s.session != session.id);
}

fn ws_reply(id: &Value, result: Result<Value, ApiError>) -> Value {
    match result {
        Ok(result) => json!({"id": id, "status": 200, "result": result}),
        Err(error) => json!({"id": id, "status": error.status, "error": error.body()}),
    }
}

fn ws_api_request(shared: &Shared, session: &mut WsSession, text: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return ws_reply(
            &Value::Null,
            Err(ApiError::new(400, -1135, "Invalid JSON Request")),
        );
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let empty = serde_json::Map::new();
    let params = request
        .get("params")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut engine = lock(shared);
    let result = ws_api_method(&mut engine, session, method, params);
    ws_reply(&id, result)
}

fn param_text(params: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    params.get(name).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn verify_ws(
    engine: &mut Engine,
    params: &serde_json::Map<String, Value>,
) -> Result<String, ApiError> {
    let api_key = param_text(params, "apiKey");
    auth::verify(
        engine,
        api_key.as_deref(),
        &auth::ws_payload(params),
        param_text(params, "signature").as_deref(),
        param_text(params, "timestamp").as_deref(),
        param_text(params, "recvWindow").as_deref(),
    )?;
    api_key.ok_or_else(|| ApiError::new(401, -2014, "API-key format invalid."))
}

fn status(engine: &Engine, session: &WsSession) -> Value {
    json!({
        "apiKey": session.logged_in, "authorizedSince": session.logged_in.as_ref().map(|_| session.connected_since),
        "connectedSince": session.connected_since, "returnRateLimits": false, "serverTime": engine.now_ms(),
        "userDataStream": engine.user_subs.iter().any(|s| s.session == session.id),
    })
}

fn subscribe(engine: &mut Engine, session: &WsSession) -> u64 {
    let subscription_id = engine.next_subscription;
    engine.next_subscription += 1;
    engine.user_subs.push(UserSubscription {
        session: session.id,
        subscription_id,
        tx: session.tx.clone(),
    });
    subscription_id
}

fn ws_api_method(
    engine: &mut Engine,
    session: &mut WsSession,
    method: &str,
    params: &serde_json::Map<String, Value>,
) -> Result<Value, ApiError> {
    let method = method.strip_prefix("v3/").unwrap_or(method);
    match method {
        "ping" => Ok(json!({})),
        "time" => Ok(json!({"serverTime": engine.now_ms()})),
        "session.logon" => {
            let api_key = verify_ws(engine, params)?;
            let is_ed25519 = engine
                .config
                .keys
                .iter()
                .any(|k| k.api_key == api_key && matches!(k.key, FakeKey::Ed25519(_)));
            if !is_ed25519 {
                // web-socket-api.md: only Ed25519 keys can log a session on.
                return Err(ApiError::new(
                    400,
                    -1002,
                    "You are not authorized to execute this request.",
                ));
            }
            session.logged_in = Some(api_key);
            Ok(status(engine, session))
        }
        "session.status" => Ok(status(engine, session)),
        "session.logout" => {
            session.logged_in = None;
            if let Some(sub) = session.logon_subscription.take() {
                terminate(engine, session.id, Some(sub));
            }
            Ok(status(engine, session))
        }
        "userDataStream.subscribe" => {
            if session.logged_in.is_none() {
                return Err(ApiError::new(
                    400,
                    -1002,
                    "You are not authorized to execute this request.",
                ));
            }
            if session.logon_subscription.is_some() {
                return Err(ApiError::new(
                    400,
                    -2035,
                    "User Data Stream subscription already active.",
                ));
            }
            let id = subscribe(engine, session);
            session.logon_subscription = Some(id);
            Ok(json!({"subscriptionId": id}))
        }
        "userDataStream.subscribe.signature" => {
            verify_ws(engine, params)?;
            // One account in the fake: one active subscription per connection.
            if engine.user_subs.iter().any(|s| s.session == session.id) {
                return Err(ApiError::new(
                    400,
                    -2035,
                    "User Data Stream subscription already active.",
                ));
            }
            let id = subscribe(engine, session);
            Ok(json!({"subscriptionId": id}))
        }
        "userDataStream.unsubscribe" => {
            let which = params.get("subscriptionId").and_then(Value::as_u64);
            terminate(engine, session.id, which);
            if which.is_none() || which == session.logon_subscription {
                session.logon_subscription = None;
            }
            Ok(json!({}))
        }
        "session.subscriptions" => Ok(Value::Array(
            engine
                .user_subs
                .iter()
                .filter(|s| s.session == session.id)
                .map(|s| json!({"subscriptionId": s.subscription_id}))
                .collect(),
        )),
        _ => Err(ApiError::new(
            400,
            -1020,
            "This operation is not supported.",
        )),
    }
}

/// Sends `eventStreamTerminated` to a session's subscriptions (one or all) and removes them.
fn terminate(engine: &mut Engine, session: u64, which: Option<u64>) {
    let now = engine.now_ms();
    engine.user_subs.retain(|s| {
        let hit = s.session == session && which.is_none_or(|w| w == s.subscription_id);
        if hit {
            let frame = json!({"subscriptionId": s.subscription_id, "event": {"e": "eventStreamTerminated", "E": now}});
            let _ = s.tx.send(Outgoing::now(frame.to_string()));
        }
        !hit
    });
}

async fn combined_stream(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(response) = refused(&shared) {
        return response;
    }
    let streams: HashSet<String> = query
        .get("streams")
        .map(|s| {
            s.split('/')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    ws.on_upgrade(move |socket| market_session(shared, socket, streams, true))
}

async fn raw_stream(
    State(shared): State<Shared>,
    Path(stream): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(response) = refused(&shared) {
        return response;
    }
    let streams = HashSet::from([stream]);
    ws.on_upgrade(move |socket| market_session(shared, socket, streams, false))
}

async fn market_session(
    shared: Shared,
    socket: WebSocket,
    streams: HashSet<String>,
    combined: bool,
) {
    let (sink, stream) = socket.split();
    let (tx, rx) = mpsc::unbounded_channel();
    let (mut kill, id, ping) = {
        let mut engine = lock(&shared);
        let id = engine.next_session;
        engine.next_session += 1;
        engine.market_sessions.push(MarketSession {
            id,
            streams,
            combined,
            tx: tx.clone(),
        });
        (engine.kill.subscribe(), id, engine.config.ping_interval)
    };
    read_requests(stream, &tx, &mut kill, writer(sink, rx, ping), |text| {
        market_request(&shared, id, text)
    })
    .await;
    lock(&shared).market_sessions.retain(|s| s.id != id);
}

/// `SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS` (web-socket-streams.md).
fn market_request(shared: &Shared, session: u64, text: &str) -> Value {
    let Ok(request) = serde_json::from_str::<Value>(text) else {
        return json!({"code": 3, "msg": "Invalid JSON"});
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let names: Vec<String> = request
        .get("params")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut engine = lock(shared);
    let Some(s) = engine.market_sessions.iter_mut().find(|s| s.id == session) else {
        return json!({"result": null, "id": id});
    };
    match request.get("method").and_then(Value::as_str) {
        Some("SUBSCRIBE") => {
            s.streams.extend(names);
            json!({"result": null, "id": id})
        }
        Some("UNSUBSCRIBE") => {
            for name in &names {
                s.streams.remove(name);
            }
            json!({"result": null, "id": id})
        }
        Some("LIST_SUBSCRIPTIONS") => {
            let mut list: Vec<&String> = s.streams.iter().collect();
            list.sort();
            json!({"result": list, "id": id})
        }
        _ => json!({"code": 1, "msg": "Invalid request", "id": id}),
    }
}
