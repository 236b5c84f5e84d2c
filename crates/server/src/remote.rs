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
//! `submit_deadline`; past it, it is rejected locally with `VENUE_UNAVAILABLE` (the exec never
//! saw it — or, if it did, reconciliation of the remote mode, not built yet, must adopt it).

use std::collections::HashSet;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tradepulse_execution::{ExecutionReport, FundsCheck, Submission, Venue, VenueError};
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
    ) -> Result<Self, RemoteError> {
        let base = base.trim_end_matches('/').to_owned();
        let ws_url = format!(
            "{}/v1/stream",
            base.replacen("http://", "ws://", 1)
                .replacen("https://", "wss://", 1)
        );
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                ws_url.as_str(),
            )
            .map_err(|e| RemoteError::Config(format!("url: {e}")))?;
        let bearer = format!("Bearer {token}")
            .parse()
            .map_err(|_| RemoteError::Config("token: not a valid header value".into()))?;
        request.headers_mut().insert("authorization", bearer);
        let (socket, _) = tokio::time::timeout(
            Duration::from_secs(10),
            tokio_tungstenite::connect_async(request),
        )
        .await
        .map_err(|_| RemoteError::Stream {
            url: base.clone(),
            reason: "no answer within 10 s".into(),
        })?
        .map_err(|e| RemoteError::Stream {
            url: base.clone(),
            reason: e.to_string(),
        })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| RemoteError::Config(e.to_string()))?;
        let (requests, rx) = unbounded_channel();
        let (report_tx, reports) = std::sync::mpsc::channel();
        let working = Arc::new(Mutex::new(HashSet::new()));
        let io = Io {
            base,
            token: token.to_owned(),
            strategy: strategy.to_owned(),
            http,
            reports: report_tx,
            working: Arc::clone(&working),
            deadline: submit_deadline,
        };
        tokio::spawn(io.run(rx, socket));
        Ok(Self {
            requests,
            reports,
            working,
        })
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
    base: String,
    token: String,
    strategy: String,
    http: reqwest::Client,
    reports: Sender<ExecutionReport>,
    working: Arc<Mutex<HashSet<ClientOrderId>>>,
    deadline: Duration,
}

impl Io {
    async fn run<S>(self, mut rx: UnboundedReceiver<Request>, socket: S)
    where
        S: futures_util::Stream<
                Item = Result<
                    tokio_tungstenite::tungstenite::Message,
                    tokio_tungstenite::tungstenite::Error,
                >,
            > + Unpin,
    {
        let this = Arc::new(self);
        let mut socket = socket;
        loop {
            tokio::select! {
                request = rx.recv() => {
                    let Some(request) = request else { return };
                    let io = Arc::clone(&this);
                    tokio::spawn(async move { io.send(request).await });
                }
                message = socket.next() => {
                    match message {
                        Some(Ok(tokio_tungstenite::tungstenite::Message::Text(text))) => {
                            this.on_message(text.as_str());
                        }
                        Some(Ok(_)) => {}
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "the exec stream failed; reports stop until restart");
                            return;
                        }
                        None => {
                            tracing::error!("the exec closed its stream; reports stop until restart");
                            return;
                        }
                    }
                }
            }
        }
    }

    async fn send(&self, request: Request) {
        match request {
            Request::Submit(order) => self.submit(order).await,
            Request::Cancel(id) => {
                let url = format!("{}/v1/orders/{id}", self.base);
                let answer = self.http.delete(url).bearer_auth(&self.token).send().await;
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
            "strategy": self.strategy,
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
                .http
                .post(format!("{}/v1/orders", self.base))
                .bearer_auth(&self.token)
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
        let parse = || -> Option<Fill> {
            let id = ClientOrderId::new(m["client_order_id"].as_str()?).ok()?;
            if !self.ours(&id) {
                return None;
            }
            Some(Fill {
                client_order_id: id,
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
        };
        if let Some(fill) = parse() {
            let _ = self.reports.send(ExecutionReport::Fill(fill));
        }
    }
}
