//! [`RemoteExec`]: the core's orders sent to a remote `tradepulse exec` over its API — a
//! [`Venue`] for the core's own pipeline (risk, order manager, portfolio stay the shared ones),
//! whose I/O task submits through `POST /v1/orders` (idempotent on the client order id, so a
//! retry after a timeout never creates a second order) and turns the exec's `/v1/stream`
//! messages about its orders into execution reports.
//!
//! # Delivery
//! The stream is connected before the first order leaves (the service is not ready before), and
//! an order's id is registered as ours before its request is sent, so no report about it is
//! missed. An order the exec cannot be reached for is retried with the same id until
//! `submit_deadline`; past it, it is rejected locally with `VENUE_UNAVAILABLE`.
//!
//! # A lost stream
//! The stream is opened again with back-off; while it is down the engine is not ready and
//! `/readyz` says why ([`SnapshotSource::unavailable`]). What it missed comes back through
//! reconciliation ([`RemoteSnapshots`], at start and every `reconciliation.interval_ms`):
//! each open order is looked up by client order id at the exec with its executions, which
//! the pipeline applies once (by trade id).

use std::collections::HashSet;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tradepulse_execution::reconcile::{VenueOrder, VenueOrderStatus, VenueSnapshot};
use tradepulse_execution::{ExecutionReport, FundsCheck, Submission, Venue, VenueError};
use tradepulse_live::{BoxFuture, ReconcileScope, SnapshotError, SnapshotSource};
use tradepulse_model::{
    Asset, Bar, ClientOrderId, Fill, Instrument, InstrumentId, Liquidity, OrderEvent,
    OrderEventKind, OrderKind, OrderRequest, Price, Quantity, RejectReason, Side, TimeInForce,
    TradeId, UnixNanos, VenueOrderId,
};

enum Request {
    Submit(OrderRequest),
    Cancel(ClientOrderId),
}

/// The remote execution engine as a [`Venue`].
pub struct RemoteExec {
    requests: UnboundedSender<Request>,
    reports: Receiver<ExecutionReport>,
    working: Arc<Mutex<HashSet<ClientOrderId>>>,
}

impl std::fmt::Debug for RemoteExec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteExec").finish_non_exhaustive()
    }
}

/// Why the remote exec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The URL or token cannot be used.
    #[error("execution.remote: {0}")]
    Config(String),
    /// The exec's stream could not be opened.
    #[error("execution.remote: cannot open {url}/v1/stream: {reason}")]
    Stream {
        /// The exec's base URL.
        url: String,
        /// Why (never the token).
        reason: String,
    },
}

impl RemoteExec {
    /// Connects to the exec at `base` (`http://host:port`) with a trader `token`: opens its
    /// stream and starts the I/O task (on the current runtime).
    ///
    /// # Errors
    /// [`RemoteError`] if the stream cannot be opened.
    pub async fn connect(
        base: &str,
        token: &str,
        strategy: &str,
        submit_deadline: Duration,
    ) -> Result<(Self, RemoteSnapshots), RemoteError> {
        let base = base.trim_end_matches('/').to_owned();
        let bearer: tokio_tungstenite::tungstenite::http::HeaderValue = format!("Bearer {token}")
            .parse()
            .map_err(|_| RemoteError::Config("token: not a valid header value".into()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| RemoteError::Config(e.to_string()))?;
        let link = Arc::new(Link {
            base: base.clone(),
            token: token.to_owned(),
            bearer,
            strategy: strategy.to_owned(),
            http,
            down: Mutex::new(None),
        });
        let socket = link
            .open_stream()
            .await
            .map_err(|reason| RemoteError::Stream {
                url: base.clone(),
                reason,
            })?;
        let (requests, rx) = unbounded_channel();
        let (report_tx, reports) = std::sync::mpsc::channel();
        let working = Arc::new(Mutex::new(HashSet::new()));
        let io = Io {
            link: Arc::clone(&link),
            reports: report_tx,
            working: Arc::clone(&working),
            deadline: submit_deadline,
        };
        tokio::spawn(io.run(rx, socket));
        Ok((
            Self {
                requests,
                reports,
                working,
            },
            RemoteSnapshots { link },
        ))
    }
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What the submitting task, the stream task and the snapshot source share.
struct Link {
    base: String,
    token: String,
    bearer: tokio_tungstenite::tungstenite::http::HeaderValue,
    strategy: String,
    http: reqwest::Client,
    /// Why the exec's stream is down, while it is.
    down: Mutex<Option<String>>,
}

impl Link {
    fn stream_url(&self) -> String {
        format!(
            "{}/v1/stream",
            self.base
                .replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        )
    }

    /// Opens `/v1/stream` (the error names what failed, never the token).
    async fn open_stream(&self) -> Result<Stream, String> {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                self.stream_url().as_str(),
            )
            .map_err(|e| format!("url: {e}"))?;
        request
            .headers_mut()
            .insert("authorization", self.bearer.clone());
        let (socket, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .map_err(|_| "no answer within 10 s".to_owned())?
        .map_err(|e| e.to_string())?;
        Ok(socket)
    }

    fn set_down(&self, reason: Option<String>) {
        *self.down.lock().unwrap_or_else(PoisonError::into_inner) = reason;
    }

    /// `GET {base}{path}` as JSON; `Ok(None)` for 404.
    async fn get(&self, path: &str) -> Result<Option<Value>, String> {
        let url = format!("{}{path}", self.base);
        for _ in 0..5 {
            let r = self
                .http
                .get(&url)
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {}", e.without_url()))?;
            match r.status().as_u16() {
                200 => {
                    return r
                        .json()
                        .await
                        .map(Some)
                        .map_err(|e| format!("GET {url}: {e}"));
                }
                404 => return Ok(None),
                // NOT_DURABLE_YET: the exec's journal is a flush behind; ask again.
                503 => tokio::time::sleep(Duration::from_millis(20)).await,
                status => return Err(format!("GET {url}: HTTP {status}")),
            }
        }
        Err(format!("GET {url}: still unavailable"))
    }
}

fn now() -> UnixNanos {
    tradepulse_execution::Clock::now(&tradepulse_execution::WallClock)
}

fn rejected(id: ClientOrderId, reason: RejectReason) -> ExecutionReport {
    ExecutionReport::Order(OrderEvent {
        client_order_id: id,
        venue_order_id: None,
        ts: now(),
        kind: OrderEventKind::Rejected(reason),
    })
}

impl Venue for RemoteExec {
    fn name(&self) -> &str {
        "remote"
    }

    fn add_instrument(&mut self, _instrument: &Instrument) -> Result<(), VenueError> {
        // The exec checks what it trades per order (`UNKNOWN_INSTRUMENT`).
        Ok(())
    }

    fn submit(
        &mut self,
        submission: Submission,
        _latest: Option<&Bar>,
        _now: UnixNanos,
        _funds: &mut dyn FundsCheck,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let Submission::Single(request) = submission else {
            // The exec API takes single orders; OCO and brackets stay local-only for now.
            for order in submission.each() {
                reports.push(rejected(order.client_order_id, RejectReason::VenueRejected));
            }
            return;
        };
        let id = request.client_order_id;
        self.working
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
        if self.requests.send(Request::Submit(request)).is_err() {
            reports.push(rejected(id, RejectReason::VenueUnavailable));
        }
    }

    fn cancel(
        &mut self,
        _instrument: &InstrumentId,
        id: ClientOrderId,
        _now: UnixNanos,
        reports: &mut Vec<ExecutionReport>,
    ) {
        if self.requests.send(Request::Cancel(id)).is_err() {
            reports.push(ExecutionReport::Order(OrderEvent {
                client_order_id: id,
                venue_order_id: None,
                ts: now(),
                kind: OrderEventKind::CancelRejected(RejectReason::VenueUnavailable),
            }));
        }
    }

    fn on_bar(
        &mut self,
        _instrument: &InstrumentId,
        _bar: &Bar,
        _funds: &mut dyn FundsCheck,
        _reports: &mut Vec<ExecutionReport>,
    ) {
    }

    fn poll(&mut self, _now: UnixNanos, reports: &mut Vec<ExecutionReport>) {
        reports.extend(self.reports.try_iter());
    }

    fn finish(&mut self, _now: UnixNanos, _reports: &mut Vec<ExecutionReport>) {}

    fn working_orders(&self) -> usize {
        self.working
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

struct Io {
    link: Arc<Link>,
    reports: Sender<ExecutionReport>,
    working: Arc<Mutex<HashSet<ClientOrderId>>>,
    deadline: Duration,
}

impl Io {
    /// Sends requests and reads the stream; a lost stream is opened again with back-off (the
    /// reports missed meanwhile come back through reconciliation, [`RemoteSnapshots`]), and
    /// while it is down the engine's readiness says so.
    async fn run(self, mut rx: UnboundedReceiver<Request>, socket: Stream) {
        let this = Arc::new(self);
        let mut socket = Some(socket);
        let mut pause = Duration::from_millis(100);
        loop {
            if let Some(stream) = socket.as_mut() {
                tokio::select! {
                    request = rx.recv() => {
                        let Some(request) = request else { return };
                        let io = Arc::clone(&this);
                        tokio::spawn(async move { io.send(request).await });
                    }
                    message = stream.next() => match message {
                        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                            this.on_message(text.as_str());
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "the exec stream failed; reconnecting");
                            this.link.set_down(Some(format!("the exec stream at {} failed: {e}", this.link.stream_url())));
                            socket = None;
                        }
                        None => {
                            tracing::error!("the exec closed its stream; reconnecting");
                            this.link.set_down(Some(format!("the exec at {} closed its stream", this.link.base)));
                            socket = None;
                        }
                    },
                }
            } else {
                tokio::select! {
                    request = rx.recv() => {
                        let Some(request) = request else { return };
                        let io = Arc::clone(&this);
                        tokio::spawn(async move { io.send(request).await });
                    }
                    () = tokio::time::sleep(pause) => match this.link.open_stream().await {
                        Ok(s) => {
                            tracing::info!("the exec stream is back");
                            this.link.set_down(None);
                            socket = Some(s);
                            pause = Duration::from_millis(100);
                        }
                        Err(e) => {
                            this.link.set_down(Some(format!(
                                "the exec at {} is unreachable: {e}",
                                this.link.base
                            )));
                            pause = (pause * 2).min(Duration::from_secs(2));
                        }
                    },
                }
            }
        }
    }

    async fn send(&self, request: Request) {
        match request {
            Request::Submit(order) => self.submit(order).await,
            Request::Cancel(id) => {
                let url = format!("{}/v1/orders/{id}", self.link.base);
                let answer = self
                    .link
                    .http
                    .delete(url)
                    .bearer_auth(&self.link.token)
                    .send()
                    .await;
                let ok = answer.as_ref().is_ok_and(|r| r.status().is_success());
                if !ok {
                    let reason = match answer {
                        Ok(r) if r.status().as_u16() == 409 => RejectReason::VenueRejected,
                        _ => RejectReason::VenueUnavailable,
                    };
                    let _ = self.reports.send(ExecutionReport::Order(OrderEvent {
                        client_order_id: id,
                        venue_order_id: None,
                        ts: now(),
                        kind: OrderEventKind::CancelRejected(reason),
                    }));
                }
            }
        }
    }

    async fn submit(&self, order: OrderRequest) {
        let id = order.client_order_id;
        let (order_type, price, trigger) = match order.kind {
            OrderKind::Market => ("market", None, None),
            OrderKind::Limit { price } => ("limit", Some(price), None),
            OrderKind::Stop { trigger } => ("stop", None, Some(trigger)),
            OrderKind::StopLimit { trigger, limit } => ("stop_limit", Some(limit), Some(trigger)),
            _ => {
                let _ = self.reports.send(rejected(id, RejectReason::VenueRejected));
                return;
            }
        };
        let body = json!({
            "client_order_id": id.to_string(),
            "strategy": self.link.strategy,
            "instrument": order.instrument.to_string(),
            "side": order.side.as_str(),
            "type": order_type,
            "quantity": order.quantity.to_string(),
            "price": price.map(|p: Price| p.to_string()),
            "trigger_price": trigger.map(|p: Price| p.to_string()),
            "time_in_force": match order.time_in_force {
                TimeInForce::Ioc => "ioc",
                TimeInForce::Fok => "fok",
                TimeInForce::Day => "day",
                _ => "gtc",
            },
            "decided_at_ns": now().as_nanos(),
        });
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let answer = self
                .link
                .http
                .post(format!("{}/v1/orders", self.link.base))
                .bearer_auth(&self.link.token)
                .json(&body)
                .send()
                .await;
            match answer {
                Ok(r) if r.status().is_success() => return,
                Ok(r) if r.status().as_u16() == 422 => {
                    // Refused by the exec's own checks: its code is the reason.
                    let code = r
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["code"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let reason =
                        RejectReason::from_code(&code).unwrap_or(RejectReason::VenueRejected);
                    let _ = self.reports.send(rejected(id, reason));
                    return;
                }
                Ok(r) if r.status().is_client_error() && r.status().as_u16() != 429 => {
                    tracing::warn!(order = %id, status = r.status().as_u16(), "the exec refused the order");
                    let _ = self.reports.send(rejected(id, RejectReason::VenueRejected));
                    return;
                }
                // Unreachable, 5xx, 429: the same id again (idempotent) until the deadline.
                _ => {}
            }
            if started.elapsed() + pause > self.deadline {
                tracing::warn!(order = %id, "the exec was not reachable within the submit deadline; rejected locally");
                let _ = self
                    .reports
                    .send(rejected(id, RejectReason::VenueUnavailable));
                return;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    fn ours(&self, id: &ClientOrderId) -> bool {
        self.working
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(id)
    }

    fn done(&self, id: &ClientOrderId) {
        self.working
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
    }

    fn on_message(&self, text: &str) {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return;
        };
        match message["type"].as_str() {
            Some("order") => self.on_order(&message["order"]),
            Some("fill") => self.on_fill(&message),
            Some("lagged") => {
                tracing::warn!(missed = %message["missed"], "the exec stream dropped messages");
            }
            _ => {}
        }
    }

    fn on_order(&self, order: &Value) {
        let Some(id) = order["client_order_id"]
            .as_str()
            .and_then(|t| ClientOrderId::new(t).ok())
        else {
            return;
        };
        if !self.ours(&id) {
            return;
        }
        let reason = || {
            order["reject_reason"]
                .as_str()
                .and_then(RejectReason::from_code)
                .unwrap_or(RejectReason::VenueRejected)
        };
        let kind = match order["status"].as_str() {
            Some("accepted") => OrderEventKind::Accepted,
            Some("triggered") => OrderEventKind::Triggered,
            Some("canceled") => OrderEventKind::Canceled,
            Some("expired") => OrderEventKind::Expired,
            Some("rejected" | "refused") => OrderEventKind::Rejected(reason()),
            Some("filled") => {
                self.done(&id);
                return;
            }
            _ => return,
        };
        if matches!(
            kind,
            OrderEventKind::Canceled | OrderEventKind::Expired | OrderEventKind::Rejected(_)
        ) {
            self.done(&id);
        }
        let venue_order_id = order["venue_order_id"]
            .as_str()
            .and_then(|t| VenueOrderId::new(t).ok());
        let ts = order["updated_at_ns"]
            .as_i64()
            .map_or_else(now, UnixNanos::new);
        let _ = self.reports.send(ExecutionReport::Order(OrderEvent {
            client_order_id: id,
            venue_order_id,
            ts,
            kind,
        }));
    }

    fn on_fill(&self, m: &Value) {
        if let Some(fill) = parse_fill(m)
            && self.ours(&fill.client_order_id)
        {
            let _ = self.reports.send(ExecutionReport::Fill(fill));
        }
    }
}

/// A fill as the exec writes it (`FillDto`: the stream's `fill` messages and
/// `/v1/orders/{id}/fills`).
fn parse_fill(m: &Value) -> Option<Fill> {
    Some(Fill {
        client_order_id: ClientOrderId::new(m["client_order_id"].as_str()?).ok()?,
        venue_order_id: VenueOrderId::new(m["venue_order_id"].as_str()?).ok()?,
        trade_id: TradeId::new(m["trade_id"].as_str()?).ok()?,
        ts: UnixNanos::new(m["ts_ns"].as_i64()?),
        side: match m["side"].as_str()? {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            _ => return None,
        },
        quantity: m["quantity"].as_str()?.parse::<Quantity>().ok()?,
        price: m["price"].as_str()?.parse::<Price>().ok()?,
        fee: m["fee"].as_str()?.parse().ok()?,
        fee_asset: Asset::new(m["fee_asset"].as_str()?).ok()?,
        liquidity: match m["liquidity"].as_str()? {
            "maker" => Liquidity::Maker,
            _ => Liquidity::Taker,
        },
    })
}

/// An order as the exec's API shows it (`OrderDto`), as reconciliation compares it.
fn parse_order(o: &Value) -> Option<VenueOrder> {
    let client_order_id = ClientOrderId::new(o["client_order_id"].as_str()?).ok()?;
    let price = |key: &str| o[key].as_str().and_then(|p| p.parse::<Price>().ok());
    let kind = match o["type"].as_str()? {
        "market" => OrderKind::Market,
        "limit" => OrderKind::Limit {
            price: price("price")?,
        },
        "stop" => OrderKind::Stop {
            trigger: price("trigger_price")?,
        },
        "stop_limit" => OrderKind::StopLimit {
            trigger: price("trigger_price")?,
            limit: price("price")?,
        },
        _ => return None,
    };
    let status = match o["status"].as_str()? {
        "filled" => VenueOrderStatus::Filled,
        "canceled" => VenueOrderStatus::Canceled,
        "expired" => VenueOrderStatus::Expired,
        "rejected" | "refused" => VenueOrderStatus::Rejected,
        _ => VenueOrderStatus::Open,
    };
    Some(VenueOrder {
        client_order_id,
        // An order the exec has not had acknowledged yet has no venue id: its client id
        // stands in (reports keyed by it match).
        venue_order_id: VenueOrderId::new(
            o["venue_order_id"]
                .as_str()
                .unwrap_or(client_order_id.as_str()),
        )
        .ok()?,
        instrument: o["instrument"].as_str()?.parse().ok()?,
        side: match o["side"].as_str()? {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            _ => return None,
        },
        quantity: o["quantity"].as_str()?.parse().ok()?,
        filled: o["filled_quantity"].as_str()?.parse().ok()?,
        kind,
        time_in_force: match o["time_in_force"].as_str()? {
            "IOC" | "ioc" => TimeInForce::Ioc,
            "FOK" | "fok" => TimeInForce::Fok,
            "DAY" | "day" => TimeInForce::Day,
            _ => TimeInForce::Gtc,
        },
        status,
        ts: o["updated_at_ns"].as_i64().map_or_else(now, UnixNanos::new),
    })
}

/// Reconciliation of the remote mode: the exec's view of the core's orders (each open order by
/// client order id, with its executions, and the exec's open orders of this core that the core
/// no longer tracks), so the engine's one reconciliation books fills the stream missed while
/// it was down, ends orders that ended meanwhile and resolves orders lost in flight. Balances
/// are the core's own book (the exec's account is shared), so none are compared.
pub struct RemoteSnapshots {
    link: Arc<Link>,
}

impl std::fmt::Debug for RemoteSnapshots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteSnapshots")
            .field("exec", &self.link.base)
            .finish_non_exhaustive()
    }
}

impl RemoteSnapshots {
    async fn take(&self, scope: &ReconcileScope) -> Result<VenueSnapshot, String> {
        let mut snapshot = VenueSnapshot {
            orders: Vec::new(),
            missing: Vec::new(),
            fills: Vec::new(),
            balances: None,
        };
        let mut seen = HashSet::new();
        for local in &scope.open {
            let id = local.client_order_id;
            seen.insert(id);
            match self.link.get(&format!("/v1/orders/{id}")).await? {
                None => snapshot.missing.push(id),
                Some(order) => self.add(&mut snapshot, &order).await?,
            }
        }
        let open = self
            .link
            .get(&format!(
                "/v1/orders?strategy={}&status=open&limit=1000",
                self.link.strategy
            ))
            .await?
            .unwrap_or(Value::Null);
        for order in open.as_array().into_iter().flatten() {
            let Some(id) = order["client_order_id"]
                .as_str()
                .and_then(|t| ClientOrderId::new(t).ok())
            else {
                continue;
            };
            if seen.insert(id) {
                // Open at the exec but not here: sent, then given up locally after the submit
                // deadline while the exec was unreachable (or a core that lost its journal).
                tracing::warn!(order = %id, "the exec has an open order of this core that the core does not track; reconciliation decides (reconciliation.unknown_orders)");
                self.add(&mut snapshot, order).await?;
            }
        }
        Ok(snapshot)
    }

    async fn add(&self, snapshot: &mut VenueSnapshot, order: &Value) -> Result<(), String> {
        let parsed = parse_order(order)
            .ok_or_else(|| format!("the exec's order is not readable: {order}"))?;
        let id = parsed.client_order_id;
        if !parsed.filled.is_zero() {
            let fills = self
                .link
                .get(&format!("/v1/orders/{id}/fills"))
                .await?
                .unwrap_or(Value::Null);
            for f in fills.as_array().into_iter().flatten() {
                snapshot.fills.push(
                    parse_fill(f).ok_or_else(|| format!("the exec's fill is not readable: {f}"))?,
                );
            }
        }
        snapshot.orders.push(parsed);
        Ok(())
    }
}

impl SnapshotSource for RemoteSnapshots {
    fn snapshot<'a>(
        &'a self,
        scope: &'a ReconcileScope,
    ) -> BoxFuture<'a, Result<VenueSnapshot, SnapshotError>> {
        Box::pin(async move {
            self.take(scope)
                .await
                .map_err(|reason| SnapshotError { reason })
        })
    }

    fn unavailable(&self) -> Option<String> {
        self.link
            .down
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
