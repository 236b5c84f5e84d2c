//! [`Engine`]: the thread that owns the [`Pipeline`] and drives it with the wall clock, and
//! [`EngineHandle`], the cloneable async front the services use.
//!
//! # The engine thread
//!
//! One OS thread owns the pipeline (it is sync and never shared). It waits for commands on a
//! channel with a short timeout (the venue poll interval), takes every command that is
//! waiting, sends consecutive intents as **one batch** (one journal commit for all of them:
//! group commit), polls the venue for reports, publishes what happened as [`EngineEvent`]s on
//! a broadcast channel, updates the metrics, and writes reports to the journal at least every
//! `report_flush` while any wait. Queries (orders, positions, balances) are answered from the
//! pipeline's own state: there is one order manager and one portfolio.
//!
//! # Start
//!
//! [`Engine::start`] allocates a session in the store (its id is in every client order id the
//! session assigns, so ids are unique across restarts and processes), replays the journal
//! through [`Pipeline::restore`] (orders, reports, adjustments in the order written; ids used,
//! open orders, applied trade ids, positions and balances come back), applies the persisted
//! kill switches, and starts the reconciler. Until the first reconciliation completes the
//! engine is not ready: submits are answered [`EngineError::NotReady`] and strategies' intents
//! are refused (`WARM_UP`), so no order leaves.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use foldhash::{HashMap, HashMapExt};
use serde_json::json;
use tokio::sync::{broadcast, oneshot};
use tradepulse_execution::reconcile::{
    Adjustment, VenueOrderStatus, VenueSnapshot, diff_balances, diff_orders,
};
use tradepulse_execution::{
    Clock, ExecutionReport, IgnoredReport, OrderIds, OrderState, Origin, Pipeline, PipelineEvent,
    Restore, SlotId, Venue, WallClock,
};
use tradepulse_model::{
    Asset, Bar, ClientOrderId, Fill, Instrument, InstrumentId, Money, OrderEventKind, OrderRequest,
    Price, Quantity, RejectReason, UnixNanos,
};
use tradepulse_portfolio::{AccountConfig, InstrumentKey, Portfolio};
use tradepulse_risk::{KillScope, RiskConfig, RiskEngine};
use tradepulse_store::{AuditEntry, KillSwitchState, Store, StrategyCheckpoint};
use tradepulse_strategy::Strategy;

use crate::journal::{Replayed, StoreJournal, decode};
use crate::metrics::{EngineMetrics, Registry};
use crate::reconcile::{LocalOrder, ReconcileScope, ReconcileSettings, SnapshotSource};
use crate::views::{
    BalanceView, EngineEvent, EngineStatus, OrderFilter, OrderView, PositionView, StrategyView,
    SubmitRequest,
};

/// The strategy name of orders adopted from the venue.
pub const EXTERNAL: &str = "external";

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Service name recorded with the session (`exec`, `core`).
    pub service: String,
    /// Instance tag at the start of every client order id the session assigns (letters and
    /// digits; give each deployment sharing a venue account its own).
    pub id_prefix: String,
    /// The account's cash currency.
    pub currency: Asset,
    /// Cash or margin account.
    pub account: AccountConfig,
    /// Pre-trade limits.
    pub risk: RiskConfig,
    /// Cash deposited when the journal is new (a simulated account's starting cash); a live
    /// account's opening balances come from the venue.
    pub opening_cash: Option<Money>,
    /// How often the venue is polled for reports while no command arrives.
    pub poll_interval: Duration,
    /// Reports waiting in the journal are written at least this often.
    pub report_flush: Duration,
    /// Reconciliation.
    pub reconcile: ReconcileSettings,
    /// Checkpoint the in-process strategies' state in the store after every bar (and restore
    /// it at start), so a restart continues with the decisions of an uninterrupted run.
    pub checkpoints: bool,
}

impl EngineConfig {
    /// Defaults for `service` trading in `currency`: cash account, no limits beyond the
    /// instrument rules, 1 ms poll, 5 ms report flush, reconciliation every 60 s.
    #[must_use]
    pub fn new(service: &str, currency: Asset) -> Self {
        Self {
            service: service.to_owned(),
            id_prefix: "tp".to_owned(),
            currency,
            account: AccountConfig::cash(),
            risk: RiskConfig::default(),
            opening_cash: None,
            poll_interval: Duration::from_millis(1),
            report_flush: Duration::from_millis(5),
            reconcile: ReconcileSettings::default(),
            checkpoints: false,
        }
    }
}

/// The venue the engine trades on.
pub struct VenueSetup {
    /// The pipeline's venue (simulated, or a live adapter).
    pub venue: Box<dyn Venue>,
    /// The instruments to trade, with the venue's rules.
    pub instruments: Vec<Instrument>,
    /// Where reconciliation gets the venue's view.
    pub snapshots: Arc<dyn SnapshotSource>,
    /// Started with the engine's handle: a task feeding reference prices (a live venue's
    /// trades and quotes; risk values market orders at them).
    pub prices: Option<PriceFeed>,
}

/// Starts a task that feeds prices to the engine ([`EngineHandle::on_price`]).
pub type PriceFeed = Box<dyn FnOnce(EngineHandle) -> tokio::task::JoinHandle<()> + Send>;

impl std::fmt::Debug for VenueSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VenueSetup")
            .field("venue", &self.venue.name())
            .field("instruments", &self.instruments.len())
            .finish_non_exhaustive()
    }
}

/// A strategy run inside the engine (the core service's in-process mode).
pub struct StrategySetup {
    /// Its name (kill switches, rate limits and orders are by name).
    pub name: String,
    /// The instrument it trades.
    pub instrument: InstrumentId,
    /// The strategy.
    pub strategy: Box<dyn Strategy + Send>,
    /// A canary: its first risk-limit refusal engages its kill switch and counts in
    /// `tradepulse_canary_limit_breaches_total` (the post-deploy check that the limits hold).
    pub canary: bool,
}

impl std::fmt::Debug for StrategySetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategySetup")
            .field("name", &self.name)
            .field("instrument", &self.instrument)
            .field("canary", &self.canary)
            .finish_non_exhaustive()
    }
}

/// What went wrong, grouped as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Not restored or not reconciled yet: no order may leave.
    #[error("the engine is not ready: {0}")]
    NotReady(String),
    /// Shutting down: no new orders.
    #[error("the engine is shutting down")]
    ShuttingDown,
    /// The client order id belongs to a different order.
    #[error("client order id {0} is used by a different order")]
    Conflict(ClientOrderId),
    /// No such order.
    #[error("no order {0}")]
    NotFound(ClientOrderId),
    /// The order cannot be cancelled (it has ended, or is not one the caller may cancel).
    #[error("order {id} cannot be cancelled: {reason}")]
    NotCancelable {
        /// The order.
        id: ClientOrderId,
        /// Why.
        reason: String,
    },
    /// An instrument the engine does not trade.
    #[error("unknown instrument {0}")]
    UnknownInstrument(InstrumentId),
    /// The store failed (the message names the operation, never a secret).
    #[error("store: {0}")]
    Store(String),
    /// The engine thread stopped (a fatal accounting error, or shut down).
    #[error("the engine has stopped")]
    Stopped,
    /// Restoring the journal failed.
    #[error("restore: {0}")]
    Restore(String),
    /// The venue could not be set up.
    #[error("venue: {0}")]
    Venue(String),
    /// No outcome within the wait: the intent is held (a market order before any price is
    /// known) or still travelling; query the order later.
    #[error("order {0} has no outcome yet")]
    Pending(ClientOrderId),
}

/// The answer to a submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitOutcome {
    /// The order as it stands (refused, submitted, accepted, filled, …).
    pub order: OrderView,
    /// `false` when the client order id was submitted before (the first order is returned).
    pub created: bool,
    /// Why it was refused, with the values behind it (`MAX_POSITION: value=6, limit=5`).
    pub message: Option<String>,
}

/// A kill-switch change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillSwitchChange {
    /// Where.
    pub scope: KillScope,
    /// Engage or release.
    pub engaged: bool,
    /// Why (audited).
    pub reason: String,
    /// Who (audited).
    pub actor: String,
    /// Also cancel the open orders it covers.
    pub cancel_open: bool,
}

/// What a shutdown did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Cancels requested.
    pub cancels_requested: usize,
    /// Orders still open when the engine stopped.
    pub still_open: usize,
}

/// What one reconciliation run did (each adjustment is also in the audit log).
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileOutcome {
    /// The audit entries written for it.
    pub audit: Vec<AuditEntry>,
    /// Local and venue state agree.
    pub complete: bool,
    /// Local orders the venue does not know yet.
    pub pending: usize,
    /// Differences that could not be corrected.
    pub discrepancies: usize,
}

type Reply<T> = oneshot::Sender<T>;

/// A submit waiting for its order's first outcome: the reply, whether it created the order,
/// since when it waits.
type Waiter = (Reply<Result<SubmitOutcome, EngineError>>, bool, Instant);

enum Command {
    Submit(
        Box<SubmitRequest>,
        Reply<Result<SubmitOutcome, EngineError>>,
    ),
    Cancel(ClientOrderId, Reply<Result<OrderView, EngineError>>),
    Order(ClientOrderId, Reply<Option<OrderView>>),
    Orders(OrderFilter, Reply<Vec<OrderView>>),
    Positions(Reply<Vec<PositionView>>),
    Balances(Reply<Vec<BalanceView>>),
    Status(Reply<EngineStatus>),
    KillSwitch(KillSwitchChange, Reply<Vec<ClientOrderId>>),
    Strategies(Reply<Vec<StrategyView>>),
    Bar(InstrumentId, Bar),
    Price(InstrumentId, Price, bool),
    Scope(Reply<ReconcileScope>),
    Reconcile(Box<VenueSnapshot>, Reply<ReconcileOutcome>),
    SetReady,
    Shutdown(bool, Instant, Reply<ShutdownReport>),
}

/// Per order: what the order manager does not keep.
#[derive(Debug, Clone)]
struct Extra {
    strategy: String,
    created_at: UnixNanos,
    decided_at: UnixNanos,
    updated_at: UnixNanos,
    fill_notional: i128,
    fees: Vec<(Asset, Money)>,
    acked: bool,
    filled_once: bool,
}

impl Extra {
    fn new(strategy: String, at: UnixNanos, decided_at: UnixNanos) -> Self {
        Self {
            strategy,
            created_at: at,
            decided_at,
            updated_at: at,
            fill_notional: 0,
            fees: Vec::new(),
            acked: false,
            filled_once: false,
        }
    }

    fn book(&mut self, fill: &Fill) {
        self.fill_notional += fill.notional().raw();
        self.updated_at = fill.ts.max(self.updated_at);
        match self.fees.iter_mut().find(|(a, _)| *a == fill.fee_asset) {
            Some((_, m)) => *m = Money::from_raw(m.raw() + fill.fee.raw()),
            None => self.fees.push((fill.fee_asset, fill.fee)),
        }
    }
}

/// An intent refused before the venue.
#[derive(Debug, Clone)]
struct Refusal {
    request: OrderRequest,
    strategy: String,
    reason: RejectReason,
    message: String,
    created_at: UnixNanos,
}

/// An in-process strategy and its progress.
#[derive(Debug, Clone)]
struct RunStrategy {
    name: String,
    slot: SlotId,
    key: InstrumentKey,
    instrument: InstrumentId,
    bars: i64,
    last_bar: Option<UnixNanos>,
    restored: bool,
    canary: bool,
}

/// Where strategy checkpoints go (the engine thread blocks on the store, as the journal does).
struct Checkpointer {
    store: Store,
    runtime: tokio::runtime::Handle,
    writes: Arc<crate::metrics::Counter>,
}

/// The engine thread's state.
struct Core {
    pipeline: Pipeline<'static>,
    venue: String,
    session: i64,
    api_prefix: String,
    api_sequence: u64,
    strategy_ids: OrderIds,
    default_key: InstrumentKey,
    extras: HashMap<ClientOrderId, Extra>,
    refused: HashMap<ClientOrderId, Refusal>,
    /// Submits waiting for their order's first outcome; the bool says "created by it".
    waiters: HashMap<ClientOrderId, Vec<Waiter>>,
    /// Requests of the batch being sent (to record refusals with their request).
    batch_requests: HashMap<ClientOrderId, (OrderRequest, String)>,
    recent_fills: VecDeque<(InstrumentKey, Fill)>,
    last_trade: Vec<u64>,
    ready: bool,
    started: bool,
    baseline: bool,
    shutting_down: bool,
    last_reconciled: Option<UnixNanos>,
    events: broadcast::Sender<EngineEvent>,
    metrics: EngineMetrics,
    settings: ReconcileSettings,
    dirty: bool,
    last_flush: Instant,
    clock: WallClock,
    strategies: Vec<RunStrategy>,
    checkpointer: Option<Checkpointer>,
    /// For the kill switches the engine engages itself (canaries): persisted and audited off
    /// the engine thread.
    store: Store,
    runtime: tokio::runtime::Handle,
    /// Asked for the venue's connection state (a remote exec's stream) by `status`.
    venue_health: Arc<dyn SnapshotSource>,
    /// [`EngineHandle::orders_version`]: bumped before any change an answer could show.
    orders_version: Arc<AtomicU64>,
}

/// Recent fills kept for the balance comparison (executions after the venue's balance time).
const RECENT_FILLS: usize = 20_000;
/// Submits are answered after this long without an outcome (as `submitted`).
const WAITER_TTL: Duration = Duration::from_secs(30);

impl Core {
    fn now(&self) -> UnixNanos {
        self.clock.now()
    }

    fn slot(&mut self, strategy: &str) -> SlotId {
        if let Some(slot) = self.pipeline.slot_of(strategy) {
            return slot;
        }
        self.pipeline
            .add_strategy(strategy, self.default_key, None, self.strategy_ids.clone())
    }

    fn view(&self, id: ClientOrderId) -> Option<OrderView> {
        if let Some(entry) = self.pipeline.orders().get(id) {
            let extra = self.extras.get(&id);
            let filled = entry.filled();
            let avg = extra.and_then(|e| Price::average(Money::from_raw(e.fill_notional), filled));
            return Some(OrderView {
                request: entry.request.clone(),
                strategy: extra.map_or_else(
                    || self.pipeline.slot_name(entry.slot).to_owned(),
                    |e| e.strategy.clone(),
                ),
                state: Some(entry.state),
                reject_reason: match entry.state {
                    OrderState::Rejected(r) => Some(r),
                    _ => None,
                },
                venue_order_id: entry.venue_order_id,
                origin: entry.origin,
                filled,
                avg_fill_price: avg,
                fees: extra.map(|e| e.fees.clone()).unwrap_or_default(),
                created_at: extra.map_or(UnixNanos::EPOCH, |e| e.created_at),
                updated_at: extra.map_or(UnixNanos::EPOCH, |e| e.updated_at),
            });
        }
        self.refused.get(&id).map(|r| OrderView {
            request: r.request.clone(),
            strategy: r.strategy.clone(),
            state: None,
            reject_reason: Some(r.reason),
            venue_order_id: None,
            origin: Origin::Local,
            filled: Quantity::ZERO,
            avg_fill_price: None,
            fees: Vec::new(),
            created_at: r.created_at,
            updated_at: r.created_at,
        })
    }

    fn outcome(&self, id: ClientOrderId, created: bool) -> Result<SubmitOutcome, EngineError> {
        let order = self.view(id).ok_or(EngineError::NotFound(id))?;
        let message = self.refused.get(&id).map(|r| r.message.clone());
        Ok(SubmitOutcome {
            order,
            created,
            message,
        })
    }

    fn resolve(&mut self, id: ClientOrderId) {
        if let Some(waiters) = self.waiters.remove(&id) {
            for (reply, created, _) in waiters {
                let _ = reply.send(self.outcome(id, created));
            }
        }
    }

    /// Marks that orders are about to change: a cached order list made at an older version
    /// must not be served any more.
    fn changing(&self) {
        self.orders_version.fetch_add(1, Ordering::AcqRel);
    }

    fn publish(&self, id: ClientOrderId) {
        if self.events.receiver_count() > 0
            && let Some(view) = self.view(id)
        {
            let _ = self.events.send(EngineEvent::Order(Box::new(view)));
        }
    }

    /// Checks one submit; returns the request to send, or answers it at once.
    fn admit(
        &mut self,
        request: SubmitRequest,
        reply: Reply<Result<SubmitOutcome, EngineError>>,
    ) -> Option<(SlotId, OrderRequest)> {
        if self.shutting_down {
            let _ = reply.send(Err(EngineError::ShuttingDown));
            return None;
        }
        if !self.ready {
            let _ = reply.send(Err(EngineError::NotReady(
                "reconciliation with the venue has not completed".into(),
            )));
            return None;
        }
        let id = match request.client_order_id {
            Some(id) => id,
            None => {
                self.api_sequence += 1;
                ClientOrderId::sequenced(&self.api_prefix, self.api_sequence)
            }
        };
        let order = OrderRequest {
            client_order_id: id,
            instrument: request.instrument.clone(),
            side: request.side,
            quantity: request.quantity,
            kind: request.kind,
            time_in_force: request.time_in_force,
        };
        let same = |stored: &OrderRequest, strategy: &str| {
            stored.instrument == order.instrument
                && stored.side == order.side
                && stored.kind == order.kind
                && stored.time_in_force == order.time_in_force
                && stored.quantity <= order.quantity
                && strategy == request.strategy
        };
        let known = self
            .pipeline
            .orders()
            .get(id)
            .map(|e| {
                (
                    e.request.clone(),
                    self.view(id).map(|v| v.strategy).unwrap_or_default(),
                )
            })
            .or_else(|| {
                self.refused
                    .get(&id)
                    .map(|r| (r.request.clone(), r.strategy.clone()))
            })
            .or_else(|| self.batch_requests.get(&id).cloned());
        if let Some((stored, strategy)) = known {
            if !same(&stored, &strategy) {
                let _ = reply.send(Err(EngineError::Conflict(id)));
                return None;
            }
            if self.batch_requests.contains_key(&id) {
                // The same intent twice in one batch: answered with the first one's outcome.
                self.waiters
                    .entry(id)
                    .or_default()
                    .push((reply, false, Instant::now()));
            } else {
                let _ = reply.send(self.outcome(id, false));
            }
            return None;
        }
        if self
            .pipeline
            .portfolio()
            .key_of(&request.instrument)
            .is_none()
        {
            let _ = reply.send(Err(EngineError::UnknownInstrument(request.instrument)));
            return None;
        }
        let now = self.now();
        let decided = request.decided_at.unwrap_or(now);
        self.extras
            .insert(id, Extra::new(request.strategy.clone(), now, decided));
        self.waiters
            .entry(id)
            .or_default()
            .push((reply, true, Instant::now()));
        self.batch_requests
            .insert(id, (order.clone(), request.strategy.clone()));
        let slot = self.slot(&request.strategy);
        Some((slot, order))
    }

    fn send_batch(&mut self, batch: &mut Vec<(SlotId, OrderRequest)>) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        let now = self.now();
        self.pipeline.set_time(now);
        let result = self.pipeline.submit_many(batch.drain(..));
        self.last_flush = Instant::now();
        self.drain();
        self.batch_requests.clear();
        result.map_err(|e| e.to_string())
    }

    /// Publishes the pipeline's events, updates metrics and extras, answers waiting submits.
    fn drain(&mut self) {
        let events: Vec<PipelineEvent> = self.pipeline.drain_events().collect();
        if events.is_empty() {
            return;
        }
        // Before any view is published or any submit answered.
        self.changing();
        self.dirty = true;
        let venue = self.venue.clone();
        let wall = self.now();
        // Views are published and waiting submits answered once every event is applied: the
        // pipeline has applied all reports already, so a view made mid-way would mix states.
        let mut touched: Vec<ClientOrderId> = Vec::new();
        let mut sent: Vec<ClientOrderId> = Vec::new();
        let mut breaches: Vec<(String, RejectReason)> = Vec::new();
        for event in events {
            match event {
                PipelineEvent::Sent {
                    slot,
                    client_order_id,
                    ..
                } => {
                    self.metrics.orders.inc(&[&venue]);
                    self.metrics.risk_checks.inc(&["accepted"]);
                    let name = self.pipeline.slot_name(slot).to_owned();
                    // The client order id is the correlation id: it follows the intent from
                    // the strategy through risk, the journal, the venue (and a remote exec,
                    // which logs the same id) to its fills.
                    tracing::debug!(
                        correlation_id = %client_order_id,
                        strategy = %name,
                        "risk checks passed, journaled, sent to the venue"
                    );
                    self.extras
                        .entry(client_order_id)
                        .or_insert_with(|| Extra::new(name, wall, wall));
                    // Published, not answered: a submit waits for the venue's outcome.
                    sent.push(client_order_id);
                }
                PipelineEvent::Refused {
                    slot,
                    client_order_id,
                    rejection,
                } => {
                    self.metrics.rejects.inc(&[&venue, rejection.reason.code()]);
                    if !matches!(
                        rejection.reason,
                        RejectReason::DuplicateClientOrderId | RejectReason::StoreUnavailable
                    ) {
                        self.metrics.risk_checks.inc(&[rejection.reason.code()]);
                    }
                    tracing::debug!(
                        correlation_id = %client_order_id,
                        strategy = %self.pipeline.slot_name(slot),
                        reason = rejection.reason.code(),
                        "refused before the venue"
                    );
                    let extra = self.extras.remove(&client_order_id);
                    if let Some((request, strategy)) = self.batch_requests.get(&client_order_id)
                        && rejection.reason != RejectReason::DuplicateClientOrderId
                    {
                        self.refused.insert(
                            client_order_id,
                            Refusal {
                                request: request.clone(),
                                strategy: strategy.clone(),
                                reason: rejection.reason,
                                message: rejection.to_string(),
                                created_at: extra.map_or(wall, |e| e.created_at),
                            },
                        );
                    }
                    if rejection.reason.is_risk_limit()
                        && let Some(canary) =
                            self.strategies.iter().find(|s| s.slot == slot && s.canary)
                    {
                        breaches.push((canary.name.clone(), rejection.reason));
                    }
                    touched.push(client_order_id);
                }
                PipelineEvent::Order { event, .. } => {
                    let id = event.client_order_id;
                    tracing::debug!(
                        correlation_id = %id,
                        event = ?event.kind,
                        venue_order_id = event.venue_order_id.map(|v| v.to_string()),
                        "venue report"
                    );
                    if let OrderEventKind::Rejected(reason) = event.kind {
                        self.metrics.rejects.inc(&[&venue, reason.code()]);
                    }
                    if let Some(extra) = self.extras.get_mut(&id) {
                        extra.updated_at = wall;
                        if matches!(event.kind, OrderEventKind::Accepted) && !extra.acked {
                            extra.acked = true;
                            self.metrics
                                .decision_to_ack
                                .observe(&[&venue], seconds(extra.decided_at, wall));
                        }
                    }
                    touched.push(id);
                }
                PipelineEvent::Fill { key, fill, .. } => {
                    let id = fill.client_order_id;
                    tracing::debug!(
                        correlation_id = %id,
                        trade_id = %fill.trade_id,
                        quantity = %fill.quantity,
                        price = %fill.price,
                        "fill booked"
                    );
                    self.metrics.fills.inc(&[&venue]);
                    if let Some(extra) = self.extras.get_mut(&id) {
                        extra.book(&fill);
                        extra.updated_at = wall;
                        if !extra.acked {
                            // Filled on arrival: the fill is the acknowledgement.
                            extra.acked = true;
                            self.metrics
                                .decision_to_ack
                                .observe(&[&venue], seconds(extra.decided_at, wall));
                        }
                        if !extra.filled_once {
                            extra.filled_once = true;
                            self.metrics
                                .decision_to_fill
                                .observe(&[&venue], seconds(extra.decided_at, wall));
                        }
                    }
                    self.note_trade(key, &fill);
                    if self.recent_fills.len() >= RECENT_FILLS {
                        self.recent_fills.pop_front();
                    }
                    self.recent_fills.push_back((key, fill));
                    if self.events.receiver_count() > 0 {
                        let instrument = self.pipeline.portfolio().instrument(key).id().clone();
                        let strategy = self
                            .extras
                            .get(&id)
                            .map(|e| e.strategy.clone())
                            .unwrap_or_default();
                        let _ = self.events.send(EngineEvent::Fill {
                            fill: Box::new(fill),
                            instrument,
                            strategy,
                        });
                    }
                    touched.push(id);
                }
                PipelineEvent::JournalUnavailable(e) => {
                    tracing::warn!(error = %e, "journal unavailable: the batch's orders were refused");
                }
                PipelineEvent::Ignored { report, why } => {
                    let label = match why {
                        IgnoredReport::Stale => "stale",
                        IgnoredReport::Unknown => "unknown",
                        IgnoredReport::Invalid(_) => "invalid",
                    };
                    self.metrics.reports_ignored.inc(&[&venue, label]);
                    if let IgnoredReport::Invalid(e) = why {
                        tracing::warn!(order = %report.client_order_id(), error = %e, "report contradicts the order");
                    }
                }
            }
        }
        for id in sent {
            if !touched.contains(&id) {
                self.publish(id);
            }
        }
        touched.dedup();
        for id in touched {
            self.publish(id);
            self.resolve(id);
        }
        self.metrics
            .open_orders
            .set(&[&venue], self.pipeline.orders().open_orders() as f64);
        for (name, reason) in breaches {
            self.trip_canary(name, reason);
        }
    }

    /// A canary strategy went past a risk limit: count it, engage its kill switch (cancelling
    /// its open orders) and persist and audit that, as an operator's switch would be.
    fn trip_canary(&mut self, name: String, reason: RejectReason) {
        self.metrics.canary_breaches.inc(&[&name]);
        let scope = KillScope::Strategy(name.clone());
        if self.pipeline.risk().kill_switch().active().contains(&scope) {
            return;
        }
        tracing::error!(
            strategy = %name,
            reason = reason.code(),
            "canary strategy breached a risk limit; its kill switch is engaged"
        );
        let change = KillSwitchChange {
            scope,
            engaged: true,
            reason: format!("canary breached a risk limit ({})", reason.code()),
            actor: "canary".into(),
            cancel_open: true,
        };
        self.kill_switch(&change);
        let store = self.store.clone();
        let now = self.now();
        self.runtime.spawn(async move {
            if let Err(e) = persist_kill_switch(&store, &change, now).await {
                tracing::warn!(error = %e, "the canary's kill switch is engaged but not persisted");
            }
        });
    }

    fn note_trade(&mut self, key: InstrumentKey, fill: &Fill) {
        if let Ok(n) = fill.trade_id.as_str().parse::<u64>() {
            let last = &mut self.last_trade[key.index()];
            *last = (*last).max(n);
        }
    }

    fn flush_if_due(&mut self, report_flush: Duration) {
        if self.dirty && self.last_flush.elapsed() >= report_flush {
            if let Err(e) = self.pipeline.flush_journal() {
                tracing::warn!(error = %e, "journal flush failed; reports stay buffered");
            }
            self.dirty = false;
            self.last_flush = Instant::now();
        }
    }

    fn cancel(&mut self, id: ClientOrderId) -> Result<OrderView, EngineError> {
        let entry = self.pipeline.orders().get(id).ok_or_else(|| {
            if self.refused.contains_key(&id) {
                EngineError::NotCancelable {
                    id,
                    reason: "it was refused before reaching the venue".into(),
                }
            } else {
                EngineError::NotFound(id)
            }
        })?;
        if entry.state.is_terminal() {
            return Err(EngineError::NotCancelable {
                id,
                reason: format!("it is {}", entry.state),
            });
        }
        let slot = entry.slot;
        let now = self.now();
        self.pipeline.set_time(now);
        self.pipeline
            .cancel(slot, id)
            .map_err(|e| EngineError::Restore(e.to_string()))?;
        self.drain();
        self.view(id).ok_or(EngineError::NotFound(id))
    }

    fn cancel_where(&mut self, covers: impl Fn(&str, &InstrumentId) -> bool) -> Vec<ClientOrderId> {
        let ids: Vec<ClientOrderId> = self
            .pipeline
            .orders()
            .iter()
            .filter(|o| o.state.is_open() && !matches!(o.state, OrderState::PendingCancel { .. }))
            .filter(|o| covers(self.pipeline.slot_name(o.slot), &o.request.instrument))
            .map(|o| o.request.client_order_id)
            .collect();
        for id in &ids {
            let _ = self.cancel(*id);
        }
        ids
    }

    fn kill_switch(&mut self, change: &KillSwitchChange) -> Vec<ClientOrderId> {
        self.pipeline.set_kill_switch(&change.scope, change.engaged);
        self.metrics.kill_switch.set(
            &[&change.scope.key()],
            if change.engaged { 1.0 } else { 0.0 },
        );
        let _ = self.events.send(EngineEvent::KillSwitch {
            scope: change.scope.clone(),
            engaged: change.engaged,
        });
        if !(change.engaged && change.cancel_open) {
            return Vec::new();
        }
        let scope = change.scope.clone();
        self.cancel_where(|strategy, instrument| match &scope {
            KillScope::Global => true,
            KillScope::Strategy(name) => strategy == name,
            KillScope::Instrument(id) => instrument == id,
        })
    }

    /// After a bar of `key`: counts it for its strategies and, with checkpoints on, makes the
    /// reports so far durable and saves each strategy's state with the bar's time. A crash
    /// between an order and its bar's checkpoint replays that bar into the older state; the
    /// restored position then shows the order as done (the built-ins trade towards a target
    /// position, so they do not send it again).
    fn after_bar(&mut self, key: InstrumentKey, bar: &Bar) {
        let mut any = false;
        for s in self.strategies.iter_mut().filter(|s| s.key == key) {
            s.bars += 1;
            s.last_bar = Some(bar.ts);
            any = true;
        }
        let Some(cp) = &self.checkpointer else {
            return;
        };
        if !any {
            return;
        }
        if self.dirty {
            if let Err(e) = self.pipeline.flush_journal() {
                tracing::warn!(error = %e, "journal flush before a checkpoint failed");
            } else {
                self.dirty = false;
                self.last_flush = Instant::now();
            }
        }
        let now = self.clock.now();
        for s in self.strategies.iter().filter(|s| s.key == key) {
            let Some(state) = self
                .pipeline
                .strategy(s.slot)
                .and_then(|st| st.checkpoint())
            else {
                continue;
            };
            let record = StrategyCheckpoint {
                strategy: s.name.clone(),
                instrument: s.instrument.clone(),
                bar_ts: bar.ts,
                bars: s.bars,
                state,
                updated_at: now,
            };
            match cp
                .runtime
                .block_on(cp.store.save_strategy_checkpoint(&record))
            {
                Ok(()) => cp.writes.inc(&["ok"]),
                Err(e) => {
                    cp.writes.inc(&["failed"]);
                    tracing::warn!(strategy = %s.name, error = %e, "strategy checkpoint not written");
                }
            }
        }
    }

    fn strategy_views(&self) -> Vec<StrategyView> {
        let active = self.pipeline.risk().kill_switch().active();
        self.strategies
            .iter()
            .map(|s| {
                let strategy = self.pipeline.strategy(s.slot);
                StrategyView {
                    name: s.name.clone(),
                    kind: strategy.map(|st| st.name().to_owned()).unwrap_or_default(),
                    instrument: s.instrument.clone(),
                    bars: s.bars,
                    last_bar: s.last_bar,
                    checkpointed: self.checkpointer.is_some()
                        && strategy.is_some_and(|st| st.checkpoint().is_some()),
                    restored: s.restored,
                    stopped: active
                        .iter()
                        .any(|k| matches!(k, KillScope::Strategy(n) if *n == s.name)),
                    position: self.pipeline.portfolio().position(s.key).quantity(),
                }
            })
            .collect()
    }

    fn orders(&self, filter: &OrderFilter) -> Vec<OrderView> {
        let limit = filter
            .limit
            .unwrap_or(OrderFilter::DEFAULT_LIMIT)
            .min(OrderFilter::MAX_LIMIT);
        // Newest first by a key that costs no view: a page of a long session builds only the
        // views it looks at, not one per order ever sent.
        let mut keys: Vec<(UnixNanos, ClientOrderId)> = self
            .pipeline
            .orders()
            .iter()
            .map(|o| {
                let id = o.request.client_order_id;
                let created = self
                    .extras
                    .get(&id)
                    .map_or(UnixNanos::EPOCH, |e| e.created_at);
                (created, id)
            })
            .chain(self.refused.iter().map(|(id, r)| (r.created_at, *id)))
            .filter(|(created, _)| filter.since.is_none_or(|t| *created >= t))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        keys.iter()
            .filter_map(|(_, id)| self.view(*id))
            .filter(|v| filter.matches(v))
            .take(limit)
            .collect()
    }

    fn positions(&self) -> Vec<PositionView> {
        let p = self.pipeline.portfolio();
        p.keys()
            .map(|key| {
                let position = p.position(key);
                let mark = p.mark(key);
                PositionView {
                    instrument: p.instrument(key).id().clone(),
                    quantity: position.quantity(),
                    cost_basis: position.cost_basis(),
                    realized_pnl: position.realized_pnl(),
                    mark,
                    unrealized_pnl: mark.map(|m| position.unrealized_pnl(m)),
                }
            })
            .collect()
    }

    fn balances(&self) -> Vec<BalanceView> {
        self.pipeline
            .portfolio()
            .balances()
            .into_iter()
            .map(|b| BalanceView {
                asset: b.asset,
                total: b.amount,
            })
            .collect()
    }

    fn status(&self) -> EngineStatus {
        let stats = self.pipeline.stats();
        let venue_down = self.venue_health.unavailable();
        EngineStatus {
            ready: self.ready && !self.shutting_down && venue_down.is_none(),
            not_ready_reason: if self.shutting_down {
                Some("shutting down".into())
            } else if venue_down.is_some() {
                venue_down
            } else if self.ready {
                None
            } else {
                Some("reconciliation with the venue has not completed".into())
            },
            session: self.session,
            venue: self.venue.clone(),
            open_orders: self.pipeline.orders().open_orders(),
            kill_switches: self.pipeline.risk().kill_switch().active(),
            orders_sent: stats.orders_sent,
            fills: stats.fills,
            rejected: stats.rejected(),
            rejected_by_reason: stats
                .rejections_by_reason()
                .map(|(reason, n)| (reason.code(), n))
                .collect(),
            last_reconciliation: self.last_reconciled,
            journal_pending: usize::from(self.dirty),
            equity: self.pipeline.portfolio().equity(),
            gross_exposure: self.pipeline.portfolio().gross_exposure(),
        }
    }

    fn scope(&self) -> ReconcileScope {
        let p = self.pipeline.portfolio();
        ReconcileScope {
            instruments: p.keys().map(|k| p.instrument(k).id().clone()).collect(),
            open: self
                .pipeline
                .orders()
                .iter()
                .filter(|o| o.state.is_open())
                .map(|o| LocalOrder {
                    client_order_id: o.request.client_order_id,
                    instrument: o.request.instrument.clone(),
                    venue_order_id: o.venue_order_id,
                    filled: o.filled(),
                })
                .collect(),
            last_trade_ids: p
                .keys()
                .filter(|k| self.last_trade[k.index()] > 0)
                .map(|k| (p.instrument(k).id().clone(), self.last_trade[k.index()]))
                .collect(),
            baseline: self.baseline,
        }
    }

    fn reconcile(&mut self, mut snapshot: VenueSnapshot) -> ReconcileOutcome {
        let now = self.now();
        let actor = "reconciliation";
        let mut audit = Vec::new();
        let mut entry = |action: &str, target: String, detail: serde_json::Value| {
            audit.push(AuditEntry {
                id: 0,
                ts: now,
                actor: actor.to_owned(),
                action: action.to_owned(),
                target,
                detail,
            });
        };
        // Adopted orders are recorded for what was left of them when adopted; a baseline
        // adopts working orders for their unfilled rest (what they filled before is in the
        // opening balances). Both are compared as such.
        for vo in &mut snapshot.orders {
            let offset = match self.pipeline.orders().get(vo.client_order_id) {
                Some(e) if e.origin == Origin::External && vo.quantity > e.request.quantity => {
                    Quantity::from_raw(vo.quantity.raw() - e.request.quantity.raw())
                }
                None if self.baseline && vo.status == VenueOrderStatus::Open => vo.filled,
                _ => Quantity::ZERO,
            };
            if offset.is_positive() {
                vo.quantity = Quantity::from_raw(vo.quantity.raw() - offset.raw());
                vo.filled = Quantity::from_raw((vo.filled.raw() - offset.raw()).max(0));
            }
        }
        if self.baseline {
            snapshot.fills.clear();
        }
        let extras = &self.extras;
        let r = diff_orders(
            self.pipeline.orders(),
            &snapshot,
            &self.settings.policy,
            |id| extras.get(&id).map(|e| e.created_at),
            now,
        );
        let external = self.slot(EXTERNAL);
        let mut reports = Vec::new();
        for adjustment in &r.adjustments {
            match adjustment {
                Adjustment::Adopt(vo) => {
                    if !reports.is_empty() {
                        let _ = self.pipeline.inject(reports.drain(..), now);
                    }
                    match self
                        .pipeline
                        .adopt(external, vo.request(), vo.venue_order_id, now)
                    {
                        Ok(()) => {
                            self.extras.insert(
                                vo.client_order_id,
                                Extra {
                                    acked: true,
                                    ..Extra::new(EXTERNAL.into(), now, now)
                                },
                            );
                            self.metrics.reconciliation_adjustments.inc(&["adopt"]);
                            entry(
                                "reconcile.adopt",
                                vo.client_order_id.to_string(),
                                json!({
                                    "venue_order_id": vo.venue_order_id.as_str(),
                                    "instrument": vo.instrument.as_str(),
                                    "side": vo.side.as_str(),
                                    "quantity": vo.quantity.to_string(),
                                    "status": format!("{:?}", vo.status),
                                }),
                            );
                        }
                        Err(e) => entry(
                            "reconcile.adopt_failed",
                            vo.client_order_id.to_string(),
                            json!({ "error": e.to_string() }),
                        ),
                    }
                }
                Adjustment::Report(report) | Adjustment::Lost(report) => {
                    let (kind, detail) = match report {
                        ExecutionReport::Fill(f) => (
                            "fill",
                            json!({
                                "trade_id": f.trade_id.as_str(),
                                "quantity": f.quantity.to_string(),
                                "price": f.price.to_string(),
                                "side": f.side.as_str(),
                            }),
                        ),
                        ExecutionReport::Order(e) => (
                            e.kind.as_str(),
                            json!({ "venue_order_id": e.venue_order_id.map(|v| v.to_string()) }),
                        ),
                    };
                    let lost = matches!(adjustment, Adjustment::Lost(_));
                    let action = if lost {
                        "reconcile.lost".to_owned()
                    } else {
                        format!("reconcile.{kind}")
                    };
                    self.metrics.reconciliation_adjustments.inc(&[if lost {
                        "lost"
                    } else {
                        kind
                    }]);
                    entry(&action, report.client_order_id().to_string(), detail);
                    reports.push(*report);
                }
                Adjustment::Cancel {
                    client_order_id, ..
                } => {
                    if !reports.is_empty() {
                        let _ = self.pipeline.inject(reports.drain(..), now);
                    }
                    self.pipeline.set_time(now);
                    let _ = self.pipeline.cancel(external, *client_order_id);
                    self.metrics.reconciliation_adjustments.inc(&["cancel"]);
                    entry("reconcile.cancel", client_order_id.to_string(), json!({}));
                }
            }
        }
        if !reports.is_empty() {
            let _ = self.pipeline.inject(reports.drain(..), now);
        }
        self.drain();
        for d in &r.discrepancies {
            entry(
                "reconcile.discrepancy",
                String::new(),
                json!({ "detail": format!("{d:?}") }),
            );
        }
        for id in &r.pending {
            entry("reconcile.pending", id.to_string(), json!({}));
        }
        let mut complete = r.is_complete();
        // Balances only once every order and execution agrees: a missing fill must never be
        // absorbed as a deposit.
        if complete && let Some(balances) = &snapshot.balances {
            let later: Vec<(InstrumentKey, Fill)> = self
                .recent_fills
                .iter()
                .filter(|(_, f)| f.ts > balances.ts)
                .copied()
                .collect();
            let diffs = diff_balances(self.pipeline.portfolio(), balances, &later);
            for d in diffs {
                let detail = json!({
                    "local": d.local.to_string(),
                    "venue": d.venue.to_string(),
                    "delta": d.delta().to_string(),
                    "opening": self.baseline,
                });
                if !self.settings.adjust_balances {
                    complete = false;
                    entry("reconcile.balance_mismatch", d.asset.to_string(), detail);
                    continue;
                }
                let p = self.pipeline.portfolio();
                let price = p
                    .keys()
                    .find(|k| p.instrument(*k).base_asset() == Some(d.asset))
                    .and_then(|k| p.mark(k))
                    .unwrap_or(Price::ZERO);
                match self.pipeline.adjust_balance(d.asset, d.delta(), price, now) {
                    Ok(()) => {
                        self.metrics.reconciliation_adjustments.inc(&["balance"]);
                        entry("reconcile.balance", d.asset.to_string(), detail);
                    }
                    Err(e) => {
                        complete = false;
                        entry(
                            "reconcile.balance_failed",
                            d.asset.to_string(),
                            json!({ "error": e.to_string() }),
                        );
                    }
                }
            }
        }
        if let Err(e) = self.pipeline.flush_journal() {
            complete = false;
            tracing::warn!(error = %e, "journal flush after reconciliation failed");
        }
        self.dirty = false;
        self.last_flush = Instant::now();
        if complete {
            self.baseline = false;
            self.last_reconciled = Some(now);
        }
        let outcome = ReconcileOutcome {
            complete,
            pending: r.pending.len(),
            discrepancies: r.discrepancies.len(),
            audit,
        };
        let _ = self.events.send(EngineEvent::Reconciled {
            adjustments: outcome.audit.len(),
            complete,
        });
        outcome
    }

    fn set_ready(&mut self) {
        if self.ready {
            return;
        }
        self.ready = true;
        self.pipeline.set_trading(true);
        if !self.started {
            self.started = true;
            let now = self.now();
            if let Err(e) = self.pipeline.start(now) {
                tracing::error!(error = %e, "strategies failed to start");
            }
            self.drain();
        }
        self.metrics.ready.set(&[], 1.0);
    }
}

fn seconds(from: UnixNanos, to: UnixNanos) -> f64 {
    (to.as_nanos().saturating_sub(from.as_nanos())).max(0) as f64 / 1e9
}

/// The engine: build it with [`Engine::start`].
#[derive(Debug)]
pub struct Engine;

struct Shared {
    commands: Mutex<Option<Sender<Command>>>,
    events: broadcast::Sender<EngineEvent>,
    store: Store,
    metrics: EngineMetrics,
    ready: AtomicBool,
    session: i64,
    venue: String,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    market: Arc<MarketBacklog>,
    orders_version: Arc<AtomicU64>,
}

/// Bars and prices sent but not yet taken by the engine thread. The command channel is first
/// in, first out, so a kill switch or a status request waits behind this backlog: feeds keep it
/// under [`MARKET_BACKLOG`] with [`EngineHandle::market_room`].
#[derive(Default)]
struct MarketBacklog {
    queued: AtomicUsize,
    room: tokio::sync::Notify,
}

impl MarketBacklog {
    /// The engine thread took one market event.
    fn taken(&self) {
        if self.queued.fetch_sub(1, Ordering::AcqRel) == MARKET_BACKLOG {
            self.room.notify_waiters();
        }
    }
}

/// How many market events a feed may queue ahead of the engine. Small: a replay at full speed
/// loses nothing by waiting (the engine is never idle while the queue is non-empty), and an
/// operator's command never waits behind more than this many bars.
pub const MARKET_BACKLOG: usize = 64;

/// The cloneable front of a running engine. Every method is cancellation-safe: dropping a
/// future after the command was sent leaves the engine consistent (the command still runs).
#[derive(Clone)]
pub struct EngineHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EngineHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineHandle")
            .field("session", &self.shared.session)
            .field("venue", &self.shared.venue)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Restores the engine from `store`, starts its thread and its reconciler, and returns the
    /// handle. Must be called inside a tokio runtime (multi-threaded: the engine thread blocks
    /// on the store through it).
    ///
    /// # Errors
    /// [`EngineError::Store`] if the store cannot be read or the session cannot be recorded;
    /// [`EngineError::Restore`] for a journal that does not replay (a corrupt row, an
    /// instrument that is no longer configured); [`EngineError::Venue`] for an instrument the
    /// venue does not trade.
    pub async fn start(
        config: EngineConfig,
        store: Store,
        venue: VenueSetup,
        strategies: Vec<StrategySetup>,
        registry: &Registry,
    ) -> Result<EngineHandle, EngineError> {
        let clock = WallClock;
        let store_err = |e: tradepulse_store::Error| EngineError::Store(e.to_string());
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map_or_else(|| "unknown".to_owned(), |h| h.trim().to_owned());
        let session = store
            .start_session(&config.service, &host, std::process::id(), clock.now())
            .await
            .map_err(store_err)?;
        let loaded = store.load_journal().await.map_err(store_err)?;
        let restored = decode(&loaded).map_err(|e| EngineError::Restore(e.to_string()))?;
        let baseline = loaded.events.is_empty() && loaded.adjustments.is_empty();
        let kill_switches = store.kill_switches().await.map_err(store_err)?;

        let venue_name = venue.venue.name().to_owned();
        let metrics = EngineMetrics::register(registry, &venue_name);
        let mut journal = StoreJournal::new(store.clone(), tokio::runtime::Handle::current())
            .map_err(store_err)?;
        journal.set_metrics(metrics.clone());
        journal.resume(restored.sequences.iter().copied());
        let risk = RiskEngine::new(config.risk.clone())
            .map_err(|e| EngineError::Restore(format!("risk config: {e}")))?;
        let portfolio = Portfolio::new(config.currency, Money::ZERO, config.account);
        let mut pipeline = Pipeline::new(portfolio, risk, venue.venue, Box::new(journal));
        // Every order of the session stays known: a repeated client order id is answered with
        // its first order however long ago it ended, and every order can be looked up by id.
        pipeline.keep_ended_orders(usize::MAX);
        let mut keys = Vec::new();
        for instrument in venue.instruments {
            keys.push(
                pipeline
                    .add_instrument(instrument)
                    .map_err(|e| EngineError::Venue(e.to_string()))?,
            );
        }
        let Some(&default_key) = keys.first() else {
            return Err(EngineError::Venue("no instrument to trade".into()));
        };
        let prefix: String = config
            .id_prefix
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(6)
            .collect();
        let strategy_ids = OrderIds {
            prefix: format!("{prefix}{session}s"),
            first_sequence: 1,
        };
        let saved = if config.checkpoints {
            store.strategy_checkpoints().await.map_err(store_err)?
        } else {
            Vec::new()
        };
        let mut run_strategies = Vec::new();
        for mut s in strategies {
            let key = pipeline
                .portfolio()
                .key_of(&s.instrument)
                .ok_or_else(|| EngineError::UnknownInstrument(s.instrument.clone()))?;
            let (mut bars, mut last_bar, mut restored) = (0, None, false);
            if let Some(cp) = saved.iter().find(|c| c.strategy == s.name) {
                if cp.instrument != s.instrument {
                    return Err(EngineError::Restore(format!(
                        "strategy {}: its checkpoint is for {}, the config trades {}",
                        s.name, cp.instrument, s.instrument
                    )));
                }
                s.strategy
                    .restore(&cp.state)
                    .map_err(|e| EngineError::Restore(format!("strategy {}: {e}", s.name)))?;
                (bars, last_bar, restored) = (cp.bars, Some(cp.bar_ts), true);
                tracing::info!(strategy = %s.name, bars = cp.bars, bar_ts = cp.bar_ts.as_nanos(), "strategy state restored from its checkpoint");
            }
            let slot = pipeline.add_strategy(&s.name, key, Some(s.strategy), strategy_ids.clone());
            run_strategies.push(RunStrategy {
                name: s.name,
                slot,
                key,
                instrument: s.instrument,
                bars,
                last_bar,
                restored,
                canary: s.canary,
            });
        }
        let checkpointer = config.checkpoints.then(|| Checkpointer {
            store: store.clone(),
            runtime: tokio::runtime::Handle::current(),
            writes: registry.counter(
                "tradepulse_strategy_checkpoints_total",
                "Strategy checkpoints written to the store, by outcome (ok, failed).",
                &["outcome"],
            ),
        });
        let (events, _) = broadcast::channel(8192);
        let mut core = Core {
            last_trade: vec![0; keys.len()],
            pipeline,
            venue: venue_name.clone(),
            session,
            api_prefix: format!("{prefix}{session}"),
            api_sequence: 0,
            strategy_ids,
            default_key,
            extras: HashMap::new(),
            refused: HashMap::new(),
            waiters: HashMap::new(),
            batch_requests: HashMap::new(),
            recent_fills: VecDeque::new(),
            ready: false,
            started: false,
            baseline,
            shutting_down: false,
            last_reconciled: None,
            events: events.clone(),
            metrics: metrics.clone(),
            settings: config.reconcile,
            dirty: false,
            orders_version: Arc::new(AtomicU64::new(0)),
            last_flush: Instant::now(),
            clock,
            strategies: run_strategies,
            checkpointer,
            store: store.clone(),
            runtime: tokio::runtime::Handle::current(),
            venue_health: Arc::clone(&venue.snapshots),
        };
        for s in core.strategies.iter().filter(|s| s.canary) {
            metrics.canary_breaches.touch(&[&s.name]);
        }
        core.replay(restored.records)?;
        core.pipeline.drain_events().for_each(drop);
        for k in kill_switches.iter().filter(|k| k.engaged) {
            if let Some(scope) = KillScope::parse(&k.scope) {
                core.pipeline.set_kill_switch(&scope, true);
                metrics.kill_switch.set(&[&k.scope], 1.0);
            }
        }
        if baseline && let Some(cash) = config.opening_cash {
            // Journaled with the first flush (on the engine thread: flushing blocks).
            let now = core.now();
            core.pipeline
                .adjust_balance(config.currency, cash, Price::ZERO, now)
                .map_err(|e| EngineError::Restore(e.to_string()))?;
            core.dirty = true;
        }
        core.pipeline.set_trading(false);
        metrics
            .open_orders
            .set(&[&venue_name], core.pipeline.orders().open_orders() as f64);

        let (tx, rx) = std::sync::mpsc::channel();
        let poll = config.poll_interval;
        let report_flush = config.report_flush;
        let market = Arc::new(MarketBacklog::default());
        let backlog = Arc::clone(&market);
        let orders_version = Arc::clone(&core.orders_version);
        let thread = std::thread::Builder::new()
            .name("tradepulse-engine".into())
            .spawn(move || run(core, &rx, &backlog, poll, report_flush))
            .map_err(|e| EngineError::Venue(format!("cannot start the engine thread: {e}")))?;
        let handle = EngineHandle {
            shared: Arc::new(Shared {
                commands: Mutex::new(Some(tx)),
                events,
                store,
                metrics,
                ready: AtomicBool::new(false),
                session,
                venue: venue_name,
                thread: Mutex::new(Some(thread)),
                tasks: Mutex::new(Vec::new()),
                market,
                orders_version,
            }),
        };
        tokio::spawn(reconciler(
            handle.clone(),
            venue.snapshots,
            config.reconcile,
        ));
        if let Some(feed) = venue.prices {
            let task = feed(handle.clone());
            handle
                .shared
                .tasks
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(task);
        }
        Ok(handle)
    }
}

impl Core {
    fn replay(&mut self, records: Vec<Replayed>) -> Result<(), EngineError> {
        let fail = |e: tradepulse_execution::PipelineError| EngineError::Restore(e.to_string());
        for record in records {
            match record {
                Replayed::Order {
                    strategy,
                    request,
                    venue_order_id,
                    created_at,
                } => {
                    let id = request.client_order_id;
                    let slot = self.slot(&strategy);
                    self.pipeline
                        .restore(Restore::Order {
                            slot,
                            request,
                            venue_order_id,
                        })
                        .map_err(fail)?;
                    let mut extra = Extra::new(strategy, created_at, created_at);
                    // Restored orders' latencies were measured by the session that sent them.
                    extra.acked = true;
                    extra.filled_once = true;
                    self.extras.insert(id, extra);
                }
                Replayed::Refused {
                    strategy,
                    request,
                    reason,
                    created_at,
                } => {
                    self.refused.insert(
                        request.client_order_id,
                        Refusal {
                            message: reason.code().to_owned(),
                            request,
                            strategy,
                            reason,
                            created_at,
                        },
                    );
                }
                Replayed::CancelRequested(id) => {
                    self.pipeline
                        .restore(Restore::CancelRequested(id))
                        .map_err(fail)?;
                }
                Replayed::Report(report) => {
                    let ignored = self
                        .pipeline
                        .restore(Restore::Report(report))
                        .map_err(fail)?;
                    if ignored.is_none() {
                        let id = report.client_order_id();
                        if let Some(extra) = self.extras.get_mut(&id) {
                            match &report {
                                ExecutionReport::Fill(f) => extra.book(f),
                                ExecutionReport::Order(e) => {
                                    extra.updated_at = e.ts.max(extra.updated_at);
                                }
                            }
                        }
                        if let ExecutionReport::Fill(f) = report
                            && let Some(key) = self.pipeline.orders().get(id).map(|e| e.key)
                        {
                            self.note_trade(key, &f);
                        }
                    }
                }
                Replayed::Balance {
                    asset,
                    amount,
                    price,
                } => {
                    self.pipeline
                        .restore(Restore::Balance {
                            asset,
                            amount,
                            price,
                        })
                        .map_err(fail)?;
                }
            }
        }
        Ok(())
    }
}

fn run(
    mut core: Core,
    rx: &Receiver<Command>,
    backlog: &MarketBacklog,
    poll: Duration,
    report_flush: Duration,
) {
    let mut batch: Vec<(SlotId, OrderRequest)> = Vec::with_capacity(256);
    let mut shutdown: Option<(Instant, Reply<ShutdownReport>, usize)> = None;
    let mut last_cleanup = Instant::now();
    let mut commands: Vec<Command> = Vec::with_capacity(256);
    loop {
        let wait = if core.dirty {
            report_flush
                .saturating_sub(core.last_flush.elapsed())
                .min(poll)
        } else {
            poll
        };
        match rx.recv_timeout(wait) {
            Ok(command) => {
                commands.push(command);
                while commands.len() < 1024 {
                    match rx.try_recv() {
                        Ok(c) => commands.push(c),
                        Err(_) => break,
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                if shutdown.is_none() {
                    break;
                }
            }
        }
        for command in commands.drain(..) {
            let read_only = matches!(
                command,
                Command::Order(..)
                    | Command::Orders(..)
                    | Command::Positions(..)
                    | Command::Balances(..)
                    | Command::Status(..)
                    | Command::Strategies(..)
                    | Command::Scope(..)
            );
            // Bars and prices change state only through pipeline events (see `drain`).
            if !read_only && !matches!(command, Command::Bar(..) | Command::Price(..)) {
                core.changing();
            }
            if let Command::Submit(request, reply) = command {
                if let Some(item) = core.admit(*request, reply) {
                    batch.push(item);
                }
                continue;
            }
            if let Err(e) = core.send_batch(&mut batch) {
                tracing::error!(error = %e, "the pipeline failed on a batch");
            }
            match command {
                Command::Submit(..) => {}
                Command::Cancel(id, reply) => {
                    let _ = reply.send(core.cancel(id));
                }
                Command::Order(id, reply) => {
                    let _ = reply.send(core.view(id));
                }
                Command::Orders(filter, reply) => {
                    let _ = reply.send(core.orders(&filter));
                }
                Command::Positions(reply) => {
                    let _ = reply.send(core.positions());
                }
                Command::Balances(reply) => {
                    let _ = reply.send(core.balances());
                }
                Command::Status(reply) => {
                    let _ = reply.send(core.status());
                }
                Command::KillSwitch(change, reply) => {
                    let _ = reply.send(core.kill_switch(&change));
                }
                Command::Bar(instrument, bar) => {
                    backlog.taken();
                    if let Some(key) = core.pipeline.portfolio().key_of(&instrument) {
                        let now = core.now();
                        if let Err(e) = core.pipeline.on_bar(key, &bar, now) {
                            tracing::error!(error = %e, "the pipeline failed on a bar");
                        }
                        core.drain();
                        core.after_bar(key, &bar);
                    }
                }
                Command::Strategies(reply) => {
                    let _ = reply.send(core.strategy_views());
                }
                Command::Price(instrument, price, mid) => {
                    backlog.taken();
                    if let Some(key) = core.pipeline.portfolio().key_of(&instrument) {
                        let now = core.now();
                        core.pipeline.on_price(key, price, mid, now);
                    }
                }
                Command::Scope(reply) => {
                    let _ = reply.send(core.scope());
                }
                Command::Reconcile(snapshot, reply) => {
                    let _ = reply.send(core.reconcile(*snapshot));
                }
                Command::SetReady => core.set_ready(),
                Command::Shutdown(cancel_open, deadline, reply) => {
                    core.shutting_down = true;
                    core.metrics.ready.set(&[], 0.0);
                    let requested = if cancel_open {
                        core.cancel_where(|_, _| true).len()
                    } else {
                        0
                    };
                    shutdown = Some((deadline, reply, requested));
                }
            }
        }
        if let Err(e) = core.send_batch(&mut batch) {
            tracing::error!(error = %e, "the pipeline failed on a batch");
        }
        let now = core.now();
        if let Err(e) = core.pipeline.poll(now) {
            tracing::error!(error = %e, "the pipeline failed on venue reports");
        }
        core.drain();
        core.flush_if_due(report_flush);
        if last_cleanup.elapsed() > Duration::from_secs(1) {
            last_cleanup = Instant::now();
            let expired: Vec<ClientOrderId> = core
                .waiters
                .iter()
                .filter(|(_, w)| w.iter().all(|(_, _, since)| since.elapsed() > WAITER_TTL))
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                core.resolve(id);
            }
            let lag = core.last_reconciled.map_or(0.0, |t| seconds(t, now));
            core.metrics.reconciliation_lag.set(&[], lag);
        }
        if let Some((deadline, _, _)) = &shutdown {
            let cancels_pending = core
                .pipeline
                .orders()
                .iter()
                .any(|o| matches!(o.state, OrderState::PendingCancel { .. }));
            if !cancels_pending || Instant::now() >= *deadline {
                let _ = core.pipeline.flush_journal();
                if let Some((_, reply, requested)) = shutdown.take() {
                    let _ = reply.send(ShutdownReport {
                        cancels_requested: requested,
                        still_open: core.pipeline.orders().open_orders(),
                    });
                }
                for (id, _) in std::mem::take(&mut core.waiters) {
                    let _ = id;
                }
                return;
            }
        }
    }
    let _ = core.pipeline.flush_journal();
}

impl EngineHandle {
    fn send(&self, command: Command) -> Result<(), EngineError> {
        let guard = self
            .shared
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        guard
            .as_ref()
            .ok_or(EngineError::Stopped)?
            .send(command)
            .map_err(|_| EngineError::Stopped)
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, EngineError> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx))?;
        rx.await.map_err(|_| EngineError::Stopped)
    }

    /// Submits an intent and waits up to `wait` for its first outcome (refused, acknowledged,
    /// filled, rejected by the venue); after that it answers with the order as it stands
    /// (`submitted`). A client order id submitted before returns that order (`created:
    /// false`) if the request is the same, else [`EngineError::Conflict`].
    ///
    /// # Errors
    /// [`EngineError::NotReady`], [`EngineError::ShuttingDown`], [`EngineError::Conflict`],
    /// [`EngineError::UnknownInstrument`], [`EngineError::Stopped`].
    pub async fn submit(
        &self,
        request: SubmitRequest,
        wait: Duration,
    ) -> Result<SubmitOutcome, EngineError> {
        let (tx, rx) = oneshot::channel();
        let asked = request.client_order_id;
        self.send(Command::Submit(Box::new(request), tx))?;
        match tokio::time::timeout(wait, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(EngineError::Stopped),
            Err(_) => {
                // No outcome yet: the order as it stands (an engine-assigned id is only known
                // from the reply, so the wait is not cut short for those).
                let Some(id) = asked else {
                    return Err(EngineError::Stopped);
                };
                let order = self.order(id).await?.ok_or(EngineError::Pending(id))?;
                Ok(SubmitOutcome {
                    order,
                    created: true,
                    message: None,
                })
            }
        }
    }

    /// Requests a cancel of `id`; answers with the order as it stands after the request
    /// (`pending_cancel`, or `canceled` where the venue answers at once).
    ///
    /// # Errors
    /// [`EngineError::NotFound`], [`EngineError::NotCancelable`], [`EngineError::Stopped`].
    pub async fn cancel(&self, id: ClientOrderId) -> Result<OrderView, EngineError> {
        self.ask(|tx| Command::Cancel(id, tx)).await?
    }

    /// One order (or refused intent) by client order id.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn order(&self, id: ClientOrderId) -> Result<Option<OrderView>, EngineError> {
        self.ask(|tx| Command::Order(id, tx)).await
    }

    /// Orders matching `filter`, newest first.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn orders(&self, filter: OrderFilter) -> Result<Vec<OrderView>, EngineError> {
        self.ask(|tx| Command::Orders(filter, tx)).await
    }

    /// Every position.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn positions(&self) -> Result<Vec<PositionView>, EngineError> {
        self.ask(Command::Positions).await
    }

    /// Every balance.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn balances(&self) -> Result<Vec<BalanceView>, EngineError> {
        self.ask(Command::Balances).await
    }

    /// Health and counters.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn status(&self) -> Result<EngineStatus, EngineError> {
        self.ask(Command::Status).await
    }

    /// True once restored and reconciled (and not shutting down). Cheap: no round trip.
    #[must_use]
    pub fn is_ready(&self) -> bool {
        self.shared.ready.load(Ordering::Relaxed)
    }

    /// The session id.
    #[must_use]
    pub fn session(&self) -> i64 {
        self.shared.session
    }

    /// The venue's name (the metrics label).
    #[must_use]
    pub fn venue(&self) -> &str {
        &self.shared.venue
    }

    /// The store the engine journals to.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The engine's metric series.
    #[must_use]
    pub fn metrics(&self) -> &EngineMetrics {
        &self.shared.metrics
    }

    /// Every engine event from now on. A receiver that falls more than 8192 events behind
    /// gets `Lagged` and continues with newer ones.
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.shared.events.subscribe()
    }

    /// Engages or releases a kill switch: applied to the pipeline at once (the next intent sees
    /// it), persisted (it survives restarts) and audited. Engaging applies before persisting,
    /// releasing after, so a store failure never leaves trading less protected. Returns the
    /// orders whose cancel was requested.
    ///
    /// # Errors
    /// [`EngineError::Store`] if the state could not be persisted (an engaged switch stays
    /// engaged in memory); [`EngineError::Stopped`].
    pub async fn set_kill_switch(
        &self,
        change: KillSwitchChange,
    ) -> Result<Vec<ClientOrderId>, EngineError> {
        let now = WallClock.now();
        let persist = persist_kill_switch(&self.shared.store, &change, now);
        if change.engaged {
            let cancelled = self
                .ask(|tx| Command::KillSwitch(change.clone(), tx))
                .await?;
            persist
                .await
                .map_err(|e| EngineError::Store(e.to_string()))?;
            Ok(cancelled)
        } else {
            persist
                .await
                .map_err(|e| EngineError::Store(e.to_string()))?;
            self.ask(|tx| Command::KillSwitch(change.clone(), tx)).await
        }
    }

    /// The in-process strategies, in the order configured.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn strategies(&self) -> Result<Vec<StrategyView>, EngineError> {
        self.ask(Command::Strategies).await
    }

    /// A completed bar of `instrument` (the core service's market data): the venue and the
    /// strategies see it, at the wall clock's time.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub fn on_bar(&self, instrument: InstrumentId, bar: Bar) -> Result<(), EngineError> {
        self.send_market(Command::Bar(instrument, bar))
    }

    /// Waits until the engine has room for another market event (fewer than
    /// [`MARKET_BACKLOG`] queued). A feed awaits this before each [`Self::on_bar`] /
    /// [`Self::on_price`], so a replay at full speed cannot queue a whole file ahead of an
    /// operator's kill switch.
    pub async fn market_room(&self) {
        let market = &self.shared.market;
        loop {
            let room = market.room.notified();
            tokio::pin!(room);
            // Registered before the check, so a wake-up between the two is not lost.
            room.as_mut().enable();
            let stopped = self
                .shared
                .commands
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none();
            // A stopped engine takes nothing more: the next send reports it.
            if stopped || market.queued.load(Ordering::Acquire) < MARKET_BACKLOG {
                return;
            }
            // Bounded, in case the engine thread ended without a shutdown.
            let _ = tokio::time::timeout(Duration::from_millis(250), room).await;
        }
    }

    /// A number that grows before any change of the orders the engine's answers show (it may
    /// also grow without one; marks moved by bars and prices are not order changes). An answer obtained after reading
    /// version `v` is at least as new as the state at `v`, so a cache keyed by it never serves
    /// a page older than the version its reader saw — a page cached at `v` is valid while the
    /// version is still `v`. Cheap: no round trip.
    #[must_use]
    pub fn orders_version(&self) -> u64 {
        self.shared.orders_version.load(Ordering::Acquire)
    }

    /// Market events queued ahead of the engine thread (at most [`MARKET_BACKLOG`] from the
    /// feeds). Cheap: no round trip.
    #[must_use]
    pub fn market_backlog(&self) -> usize {
        self.shared.market.queued.load(Ordering::Acquire)
    }

    fn send_market(&self, command: Command) -> Result<(), EngineError> {
        self.shared.market.queued.fetch_add(1, Ordering::AcqRel);
        self.send(command).inspect_err(|_| {
            self.shared.market.queued.fetch_sub(1, Ordering::AcqRel);
        })
    }

    /// A trade price (`mid: false`) or a quote's mid (`true`) of `instrument`.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub fn on_price(
        &self,
        instrument: InstrumentId,
        price: Price,
        mid: bool,
    ) -> Result<(), EngineError> {
        self.send_market(Command::Price(instrument, price, mid))
    }

    /// Stops the engine: no new orders from now on; with `cancel_open`, every open order's
    /// cancel is requested and awaited until `grace` has passed; then the journal is flushed
    /// and the thread ends.
    ///
    /// # Errors
    /// [`EngineError::Stopped`] if it had stopped already.
    pub async fn shutdown(
        &self,
        cancel_open: bool,
        grace: Duration,
    ) -> Result<ShutdownReport, EngineError> {
        self.shared.ready.store(false, Ordering::Relaxed);
        let deadline = Instant::now() + grace;
        let report = self
            .ask(|tx| Command::Shutdown(cancel_open, deadline, tx))
            .await?;
        self.shared
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.shared.market.room.notify_waiters();
        for task in self
            .shared
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        let thread = self
            .shared
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        Ok(report)
    }

    async fn scope(&self) -> Result<ReconcileScope, EngineError> {
        self.ask(Command::Scope).await
    }

    /// Applies a venue snapshot as reconciliation does (tests and drills use it to reconcile
    /// on demand); the adjustments are returned, not audited.
    ///
    /// # Errors
    /// [`EngineError::Stopped`].
    pub async fn apply_snapshot(
        &self,
        snapshot: VenueSnapshot,
    ) -> Result<ReconcileOutcome, EngineError> {
        self.ask(|tx| Command::Reconcile(Box::new(snapshot), tx))
            .await
    }

    fn set_ready(&self) -> Result<(), EngineError> {
        self.send(Command::SetReady)?;
        self.shared.ready.store(true, Ordering::Relaxed);
        Ok(())
    }
}

/// Reconciles at start (retrying until complete) and then every `settings.interval`.
async fn reconciler(
    handle: EngineHandle,
    source: Arc<dyn SnapshotSource>,
    settings: ReconcileSettings,
) {
    let metrics = handle.metrics().clone();
    let venue = handle.venue().to_owned();
    loop {
        let Ok(scope) = handle.scope().await else {
            return; // the engine stopped
        };
        let complete = match source.snapshot(&scope).await {
            Ok(snapshot) => match handle.apply_snapshot(snapshot).await {
                Ok(outcome) => {
                    for entry in &outcome.audit {
                        if let Err(e) = handle.store().append_audit(entry).await {
                            tracing::warn!(error = %e, action = %entry.action, "audit entry not written");
                        }
                    }
                    if !outcome.audit.is_empty() {
                        tracing::info!(
                            adjustments = outcome.audit.len(),
                            complete = outcome.complete,
                            "reconciled"
                        );
                    }
                    metrics.reconciliation_runs.inc(&[if outcome.complete {
                        "complete"
                    } else {
                        "pending"
                    }]);
                    outcome.complete
                }
                Err(_) => return,
            },
            Err(e) => {
                metrics.reconciliation_runs.inc(&["failed"]);
                metrics.reconciliation_failures.inc(&[]);
                tracing::warn!(error = %e, "reconciliation snapshot failed");
                false
            }
        };
        metrics
            .reconciliation_ok
            .set(&[], if complete { 1.0 } else { 0.0 });
        if complete {
            let now = WallClock.now().as_nanos() as f64 / 1e9;
            metrics.reconciliation_last_success.set(&[], now);
            metrics.reconciliation_lag.set(&[], 0.0);
            if !handle.is_ready() && handle.set_ready().is_err() {
                return;
            }
        }
        let usage = source.usage();
        for (interval, weight) in usage.weight {
            metrics
                .venue_weight
                .set(&[&venue, &interval], weight as f64);
        }
        for (interval, limit) in usage.weight_limit {
            metrics
                .venue_weight_limit
                .set(&[&venue, &interval], limit as f64);
        }
        for (interval, count) in usage.orders {
            metrics
                .venue_order_count
                .set(&[&venue, &interval], count as f64);
        }
        let pause = if complete {
            settings.interval
        } else {
            settings.retry
        };
        tokio::time::sleep(pause).await;
        let stopped = handle
            .shared
            .commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none();
        if stopped {
            return;
        }
    }
}

/// Stores a kill switch's state (it survives restarts) and audits the change.
async fn persist_kill_switch(
    store: &Store,
    change: &KillSwitchChange,
    now: UnixNanos,
) -> Result<(), tradepulse_store::Error> {
    store
        .set_kill_switch(&KillSwitchState {
            scope: change.scope.key(),
            engaged: change.engaged,
            reason: change.reason.clone(),
            actor: change.actor.clone(),
            updated_at: now,
        })
        .await?;
    store
        .append_audit(&AuditEntry {
            id: 0,
            ts: now,
            actor: change.actor.clone(),
            action: if change.engaged {
                "kill_switch.engage".into()
            } else {
                "kill_switch.release".into()
            },
            target: change.scope.key(),
            detail: json!({ "reason": change.reason, "cancel_open": change.cancel_open }),
        })
        .await?;
    Ok(())
}
