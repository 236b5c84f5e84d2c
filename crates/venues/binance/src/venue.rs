//! [`BinanceVenue`]: the pipeline's sync [`Venue`] in front of the async adapter.
//!
//! `submit` and `cancel` queue a request for the I/O task and return at once; the task places it
//! over REST ([`RestClient::submit_order`], idempotent by client order id) and passes the answer
//! through the user-data stream's de-duplication ([`UserDataStream::ingest_response`]), so the
//! pipeline receives each acceptance, fill and cancel once, whichever of the REST answer, the
//! stream or the catch-up brings it first. `poll` drains what the task converted into
//! [`ExecutionReport`]s.
//!
//! Requests are handled one at a time in the order given, so a cancel never overtakes the
//! submission it cancels.
//!
//! Mapping of failures: a venue rejection becomes `Rejected` with the closest model reason
//! (`-2010` balance → `InsufficientBalance`, duplicate id → `DuplicateClientOrderId`, `-1013`
//! filters → `InvalidPrice` / `QuantityNotMultipleOfLot` / `BelowMinNotional`, `-1121` →
//! `UnknownInstrument`, anything else → `VenueRejected`); a request that certainly never reached
//! the venue (connect failure, held by a `Retry-After`) → `VenueUnavailable`; a request whose
//! outcome is unknown after every retry produces **no** report: the order stays submitted until
//! the stream, the catch-up or reconciliation says what became of it.
//!
//! Not supported: OCO pairs and brackets (Binance order lists) — every order of such a submission
//! is rejected with `VenueRejected`.

use std::collections::HashMap;

use tokio::sync::mpsc;
use tradepulse_execution::{ExecutionReport, FundsCheck, Submission, Venue, VenueError};
use tradepulse_model::{
    Asset, Bar, ClientOrderId, Fill, Instrument, InstrumentId, OrderEvent, OrderEventKind,
    Quantity, RejectReason, TradeId, UnixNanos, VenueOrderId,
};

use crate::mapping::{NewOrder, OrderUpdate, OrderUpdateKind, SymbolRules};
use crate::rest::{OrderRef, RestClient};
use crate::user_stream::{UserDataStream, UserStreamConfig, UserStreamEvent};
use crate::{Error, ErrorClass};

enum Request {
    Submit(NewOrder),
    Cancel { symbol: String, id: ClientOrderId },
}

/// What the task sends back: reports, or an update the venue could not map (logged by the
/// caller through [`BinanceVenue::take_faults`]).
enum Outcome {
    Report(ExecutionReport),
    Fault(String),
}

/// The Binance Spot venue of the pipeline.
pub struct BinanceVenue {
    venue: String,
    rules: HashMap<String, SymbolRules>,
    instruments: HashMap<InstrumentId, String>,
    requests: mpsc::UnboundedSender<Request>,
    outcomes: mpsc::UnboundedReceiver<Outcome>,
    /// Ordered and filled quantity of each order still working.
    working: HashMap<ClientOrderId, (Quantity, Quantity)>,
    faults: Vec<String>,
    rate_limits: Vec<crate::dto::RateLimit>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for BinanceVenue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceVenue")
            .field("venue", &self.venue)
            .field("instruments", &self.instruments.len())
            .field("working", &self.working.len())
            .finish_non_exhaustive()
    }
}

impl Drop for BinanceVenue {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BinanceVenue {
    /// Synchronises the clock, loads the rules of `symbols` from exchangeInfo, starts the
    /// user-data stream and the I/O task on the current runtime. `venue` is the venue part of
    /// the instrument ids (`BTCUSDT.BINANCE` → `BINANCE`).
    ///
    /// # Errors
    /// As [`RestClient::sync_time`], [`RestClient::symbol_rules`] and [`UserDataStream::spawn`].
    pub async fn start(rest: RestClient, venue: &str, symbols: &[&str]) -> Result<Self, Error> {
        rest.sync_time().await?;
        // One exchangeInfo for the rules and the published rate limits.
        let info = rest.exchange_info(symbols).await?;
        let rules = info
            .symbols
            .iter()
            .map(|s| SymbolRules::from_info(s).map(|r| (r.symbol.clone(), r)))
            .collect::<Result<_, _>>()?;
        let (stream, events) = UserDataStream::spawn(
            rest.clone(),
            UserStreamConfig {
                symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
            },
        )?;
        let (requests, inbox) = mpsc::unbounded_channel();
        let (outbox, outcomes) = mpsc::unbounded_channel();
        let task = tokio::spawn(io_task(rest, stream, events, inbox, outbox));
        Ok(Self {
            venue: venue.to_owned(),
            rules,
            instruments: HashMap::new(),
            requests,
            outcomes,
            working: HashMap::new(),
            faults: Vec::new(),
            rate_limits: info.rate_limits,
            task,
        })
    }

    /// The rate limits exchangeInfo published when the venue started (`REQUEST_WEIGHT`,
    /// `ORDERS`, `RAW_REQUESTS`), for metrics.
    #[must_use]
    pub fn rate_limits(&self) -> &[crate::dto::RateLimit] {
        &self.rate_limits
    }

    /// The model instruments of the loaded symbols, with the venue's tick, lot, minimum notional
    /// and base asset, for the risk engine and [`Venue::add_instrument`].
    ///
    /// # Errors
    /// [`Error::Mapping`] for a symbol whose rules do not fit the model.
    pub fn instruments(&self) -> Result<Vec<Instrument>, Error> {
        let mut out: Vec<Instrument> = self
            .rules
            .values()
            .map(|r| r.instrument(&self.venue))
            .collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.id().cmp(b.id()));
        Ok(out)
    }

    /// Updates the venue could not turn into reports since the last call (malformed values,
    /// unknown assets); the caller logs them.
    pub fn take_faults(&mut self) -> Vec<String> {
        std::mem::take(&mut self.faults)
    }

    fn reject(
        &mut self,
        id: ClientOrderId,
        now: UnixNanos,
        reason: RejectReason,
        reports: &mut Vec<ExecutionReport>,
    ) {
        self.working.remove(&id);
        reports.push(ExecutionReport::Order(OrderEvent {
            client_order_id: id,
            venue_order_id: None,
            ts: now,
            kind: OrderEventKind::Rejected(reason),
        }));
    }

    /// Keeps `working` in step with a report on its way to the pipeline.
    fn track(&mut self, report: &ExecutionReport) {
        match report {
            ExecutionReport::Fill(fill) => {
                if let Some((ordered, filled)) = self.working.get_mut(&fill.client_order_id) {
                    *filled = filled.checked_add(fill.quantity).unwrap_or(*ordered);
                    if *filled >= *ordered {
                        self.working.remove(&fill.client_order_id);
                    }
                }
            }
            ExecutionReport::Order(event) => {
                if matches!(
                    event.kind,
                    OrderEventKind::Rejected(_)
                        | OrderEventKind::Canceled
                        | OrderEventKind::Expired
                ) {
                    self.working.remove(&event.client_order_id);
                }
            }
        }
    }
}

impl Venue for BinanceVenue {
    fn name(&self) -> &str {
        "binance"
    }

    fn add_instrument(&mut self, instrument: &Instrument) -> Result<(), VenueError> {
        let id = instrument.id();
        let listed = id.venue() == self.venue && self.rules.contains_key(id.symbol());
        if !listed {
            return Err(VenueError::UnknownInstrument {
                venue: self.venue.clone(),
                instrument: id.clone(),
            });
        }
        if self
            .instruments
            .insert(id.clone(), id.symbol().to_owned())
            .is_some()
        {
            return Err(VenueError::Duplicate(id.clone()));
        }
        Ok(())
    }

    fn submit(
        &mut self,
        submission: Submission,
        _latest: Option<&Bar>,
        now: UnixNanos,
        _funds: &mut dyn FundsCheck,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let Submission::Single(request) = &submission else {
            for order in submission.each() {
                self.reject(
                    order.client_order_id,
                    now,
                    RejectReason::VenueRejected,
                    reports,
                );
            }
            return;
        };
        if !self.instruments.contains_key(&request.instrument) {
            self.reject(
                request.client_order_id,
                now,
                RejectReason::UnknownInstrument,
                reports,
            );
            return;
        }
        let order = match NewOrder::from_request(request) {
            Ok(order) => order,
            Err(_) => {
                self.reject(
                    request.client_order_id,
                    now,
                    RejectReason::VenueRejected,
                    reports,
                );
                return;
            }
        };
        self.working
            .insert(request.client_order_id, (request.quantity, Quantity::ZERO));
        if self.requests.send(Request::Submit(order)).is_err() {
            self.reject(
                request.client_order_id,
                now,
                RejectReason::VenueUnavailable,
                reports,
            );
        }
    }

    fn cancel(
        &mut self,
        instrument: &InstrumentId,
        id: ClientOrderId,
        now: UnixNanos,
        reports: &mut Vec<ExecutionReport>,
    ) {
        let symbol = instrument.symbol().to_owned();
        if self.requests.send(Request::Cancel { symbol, id }).is_err() {
            reports.push(ExecutionReport::Order(OrderEvent {
                client_order_id: id,
                venue_order_id: None,
                ts: now,
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
        // The real market executes the orders; bars change nothing here.
    }

    fn poll(&mut self, _now: UnixNanos, reports: &mut Vec<ExecutionReport>) {
        while let Ok(outcome) = self.outcomes.try_recv() {
            match outcome {
                Outcome::Report(report) => {
                    self.track(&report);
                    reports.push(report);
                }
                Outcome::Fault(fault) => self.faults.push(fault),
            }
        }
    }

    fn finish(&mut self, now: UnixNanos, reports: &mut Vec<ExecutionReport>) {
        // Orders stay at the exchange; deliver what has arrived.
        self.poll(now, reports);
    }

    fn working_orders(&self) -> usize {
        self.working.len()
    }
}

/// The model report of one adapter update.
///
/// # Errors
/// A description of the value that does not fit the model.
pub fn report_of(update: &OrderUpdate) -> Result<ExecutionReport, String> {
    let venue_order_id =
        VenueOrderId::new(&update.order_id.to_string()).map_err(|e| e.to_string())?;
    let event = |kind| {
        ExecutionReport::Order(OrderEvent {
            client_order_id: update.client_order_id,
            venue_order_id: Some(venue_order_id),
            ts: update.ts,
            kind,
        })
    };
    Ok(match &update.kind {
        OrderUpdateKind::Accepted => event(OrderEventKind::Accepted),
        OrderUpdateKind::Canceled => event(OrderEventKind::Canceled),
        OrderUpdateKind::Expired { .. } => event(OrderEventKind::Expired),
        OrderUpdateKind::Rejected { reason } => event(OrderEventKind::Rejected(
            if reason == "INSUFFICIENT_BALANCES" {
                RejectReason::InsufficientBalance
            } else {
                RejectReason::VenueRejected
            },
        )),
        OrderUpdateKind::Fill(fill) => ExecutionReport::Fill(Fill {
            client_order_id: update.client_order_id,
            venue_order_id,
            trade_id: TradeId::new(&fill.trade_id.to_string()).map_err(|e| e.to_string())?,
            ts: update.ts,
            side: fill.side,
            quantity: fill.quantity,
            price: fill.price,
            fee: fill.fee,
            fee_asset: Asset::new(&fill.fee_asset).map_err(|e| format!("fee asset: {e}"))?,
            liquidity: fill.liquidity,
        }),
    })
}

/// The closest model reason for a venue's refusal of a new order.
#[must_use]
pub fn reject_reason(error: &Error) -> RejectReason {
    match error {
        Error::Venue {
            code: -2010, msg, ..
        } if msg.contains("insufficient balance") => RejectReason::InsufficientBalance,
        Error::Venue {
            code: -2010, msg, ..
        } if msg.contains("Duplicate order") => RejectReason::DuplicateClientOrderId,
        Error::Venue {
            code: -1013, msg, ..
        } => {
            if msg.contains("PRICE_FILTER") {
                RejectReason::InvalidPrice
            } else if msg.contains("LOT_SIZE") {
                RejectReason::QuantityNotMultipleOfLot
            } else if msg.contains("NOTIONAL") {
                RejectReason::BelowMinNotional
            } else {
                RejectReason::VenueRejected
            }
        }
        Error::Venue { code: -1121, .. } => RejectReason::UnknownInstrument,
        e if e.class() == ErrorClass::Transient => RejectReason::VenueUnavailable,
        _ => RejectReason::VenueRejected,
    }
}

async fn io_task(
    rest: RestClient,
    stream: UserDataStream,
    mut events: mpsc::UnboundedReceiver<UserStreamEvent>,
    mut inbox: mpsc::UnboundedReceiver<Request>,
    outbox: mpsc::UnboundedSender<Outcome>,
) {
    let forward = |update: &OrderUpdate| {
        let outcome = match report_of(update) {
            Ok(report) => Outcome::Report(report),
            Err(fault) => Outcome::Fault(format!(
                "{} {}: {fault}",
                update.symbol, update.client_order_id
            )),
        };
        outbox.send(outcome).is_ok()
    };
    loop {
        tokio::select! {
            // Updates first: what a request's answer fed into the stream is forwarded before
            // the next request can report, so one order's reports keep their order.
            biased;
            event = events.recv() => match event {
                Some(UserStreamEvent::Order(update)) => {
                    if !forward(&update) {
                        return;
                    }
                }
                Some(_) => {} // balances and connection state: for the service's metrics, not the OMS
                None => return,
            },
            request = inbox.recv() => {
                let Some(request) = request else { return };
                let report = handle(&rest, &stream, request).await;
                if let Some(report) = report
                    && outbox.send(Outcome::Report(report)).is_err() {
                        return;
                    }
            }
        }
    }
}

/// Places or cancels; successes travel through the stream's de-duplication, failures come back
/// as a report (or none when the outcome is unknown).
async fn handle(
    rest: &RestClient,
    stream: &UserDataStream,
    request: Request,
) -> Option<ExecutionReport> {
    let now = UnixNanos::from_unix(rest.server_now_ms(), tradepulse_model::UnixUnit::Millis)
        .unwrap_or(UnixNanos::EPOCH);
    let (id, result, is_cancel) = match request {
        Request::Submit(order) => (
            order.client_order_id,
            rest.submit_order(&order).await,
            false,
        ),
        Request::Cancel { symbol, id } => (
            id,
            rest.cancel_order(&symbol, OrderRef::Client(id)).await,
            true,
        ),
    };
    let event = |kind| {
        Some(ExecutionReport::Order(OrderEvent {
            client_order_id: id,
            venue_order_id: None,
            ts: now,
            kind,
        }))
    };
    match result {
        Ok(response) => {
            // Mapping faults of a response the venue accepted show up again on the stream.
            let _ = stream.ingest_response(&response);
            None
        }
        Err(error) if error.outcome_unknown() && !is_cancel => None,
        Err(error) if is_cancel => {
            let reason = if error.venue_code() == Some(-2011) {
                RejectReason::UnknownOrder
            } else {
                reject_reason(&error)
            };
            event(OrderEventKind::CancelRejected(reason))
        }
        Err(error) => event(OrderEventKind::Rejected(reject_reason(&error))),
    }
}
