//! Where venue snapshots come from, and the task that reconciles at start and periodically.
//!
//! A [`SnapshotSource`] asks the venue what it has ([`VenueSnapshot`]) for the orders and
//! instruments the engine names ([`ReconcileScope`]). The [`Reconciler`] task takes one,
//! hands it to the engine thread (which diffs it with
//! [`tradepulse_execution::reconcile`] and applies the adjustments through the pipeline),
//! writes every adjustment to the store's audit log, and tells the engine it may trade once
//! local and venue state agree. Until then `/readyz` is false and no order leaves.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tradepulse_execution::reconcile::VenueSnapshot;
use tradepulse_model::{ClientOrderId, InstrumentId, Quantity, UnixNanos, VenueOrderId};

/// A boxed future, for dyn-compatible async trait methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One local open order the venue is asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOrder {
    /// Its id.
    pub client_order_id: ClientOrderId,
    /// Its instrument.
    pub instrument: InstrumentId,
    /// The venue's id, once known.
    pub venue_order_id: Option<VenueOrderId>,
    /// Executed here so far.
    pub filled: Quantity,
}

/// What the engine wants to know from the venue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileScope {
    /// Every instrument traded.
    pub instruments: Vec<InstrumentId>,
    /// Every local order that can still fill.
    pub open: Vec<LocalOrder>,
    /// Per instrument, the largest numeric venue trade id applied (executions after it are
    /// listed).
    pub last_trade_ids: Vec<(InstrumentId, u64)>,
    /// The first reconciliation of a new journal: the venue's balances and working orders
    /// are taken as they are (opening state), its past executions are not booked again.
    pub baseline: bool,
}

/// A snapshot could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("venue snapshot failed: {reason}")]
pub struct SnapshotError {
    /// What failed (the venue's message; never a secret).
    pub reason: String,
}

/// Request weight a venue reports, for the `tradepulse_venue_request_weight_used` metric.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VenueUsage {
    /// `(interval, weight used)`, e.g. `("1m", 12)`.
    pub weight: Vec<(String, u64)>,
    /// `(interval, orders counted)`.
    pub orders: Vec<(String, u64)>,
    /// `(interval, request-weight limit)`, e.g. `("1M", 6000)`: the venue's published limits
    /// (Binance exchangeInfo `rateLimits` of type `REQUEST_WEIGHT`), same interval names.
    pub weight_limit: Vec<(String, u64)>,
}

/// Where snapshots come from: the venue's REST API, or an in-process venue.
pub trait SnapshotSource: Send + Sync {
    /// What the venue has for `scope`.
    fn snapshot<'a>(
        &'a self,
        scope: &'a ReconcileScope,
    ) -> BoxFuture<'a, Result<VenueSnapshot, SnapshotError>>;

    /// The venue's reported request usage (empty if it reports none).
    fn usage(&self) -> VenueUsage {
        VenueUsage::default()
    }

    /// Why the venue cannot be used right now (its connection is down), if so: the engine is
    /// not ready meanwhile and its status says this.
    fn unavailable(&self) -> Option<String> {
        None
    }
}

/// The in-process simulated venue lives and dies with the process: after a restart it holds
/// nothing, so every order that was open before is lost (use a `lost_after` grace of zero:
/// nothing can be in flight to it); while running it is the order manager's mirror (reports
/// are synchronous), so later snapshots find nothing else to correct.
#[derive(Debug, Default)]
pub struct SimSnapshots {
    taken: AtomicBool,
    /// Orders open when the process started: the venue never had them.
    before: std::sync::Mutex<Vec<ClientOrderId>>,
}

impl SnapshotSource for SimSnapshots {
    fn snapshot<'a>(
        &'a self,
        scope: &'a ReconcileScope,
    ) -> BoxFuture<'a, Result<VenueSnapshot, SnapshotError>> {
        Box::pin(async move {
            let mut before = self
                .before
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !self.taken.swap(true, Ordering::SeqCst) {
                *before = scope.open.iter().map(|o| o.client_order_id).collect();
            }
            Ok(VenueSnapshot {
                missing: scope
                    .open
                    .iter()
                    .map(|o| o.client_order_id)
                    .filter(|id| before.contains(id))
                    .collect(),
                ..VenueSnapshot::default()
            })
        })
    }
}

/// How reconciliation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileSettings {
    /// Between periodic runs.
    pub interval: Duration,
    /// Between attempts while a run fails or is incomplete.
    pub retry: Duration,
    /// What to do with unknown venue orders, and the grace for orders the venue does not know.
    pub policy: tradepulse_execution::reconcile::ReconcilePolicy,
    /// Book balance differences as external changes (deposits, withdrawals); otherwise they
    /// are only audited and reconciliation stays incomplete.
    pub adjust_balances: bool,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            retry: Duration::from_secs(1),
            policy: tradepulse_execution::reconcile::ReconcilePolicy {
                unknown_orders: tradepulse_execution::reconcile::UnknownOrders::Adopt,
                lost_after_nanos: 10 * UnixNanos::NANOS_PER_SECOND,
            },
            adjust_balances: true,
        }
    }
}
