//! The newest fills and equity points in memory, for `GET /v1/fills` and `GET /v1/equity`.
//!
//! Both are what the store holds (loaded from it at start) plus what happened since: fills as
//! the engine books them (its event stream), equity points as the recorder writes them. A read
//! then costs no database round trip, which is what lets these endpoints keep up with a
//! dashboard's polling (`deploy/bench/core_read.sh`). At most [`KEPT`] of each are kept —
//! the API's largest `limit`.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{broadcast, watch};
use tradepulse_live::{EngineEvent, EngineHandle};
use tradepulse_model::{ClientOrderId, Fill, InstrumentId, TradeId};
use tradepulse_store::{EquitySnapshot, Store};

/// Fills and equity points kept (the API's largest `limit`).
pub(crate) const KEPT: usize = 10_000;

/// One fill with what `/v1/fills` shows besides it.
#[derive(Debug, Clone)]
pub(crate) struct FillRow {
    pub strategy: String,
    pub instrument: InstrumentId,
    pub fill: Fill,
}

#[derive(Debug, Default)]
struct Fills {
    /// Oldest first.
    rows: VecDeque<FillRow>,
    /// A fill seen twice (loaded from the store and also on the event stream) is kept once.
    keys: HashSet<(ClientOrderId, TradeId)>,
}

impl Fills {
    fn push(&mut self, row: FillRow) {
        if !self
            .keys
            .insert((row.fill.client_order_id, row.fill.trade_id))
        {
            return;
        }
        self.rows.push_back(row);
        if self.rows.len() > KEPT
            && let Some(old) = self.rows.pop_front()
        {
            self.keys
                .remove(&(old.fill.client_order_id, old.fill.trade_id));
        }
    }
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    fills: Mutex<Fills>,
    /// Oldest first.
    equity: Mutex<VecDeque<EquitySnapshot>>,
}

impl Recent {
    /// The newest `limit` fills, newest first.
    pub(crate) fn fills(&self, limit: usize) -> Vec<FillRow> {
        let fills = self.fills.lock().unwrap_or_else(PoisonError::into_inner);
        fills.rows.iter().rev().take(limit).cloned().collect()
    }

    /// The newest `limit` equity points, oldest first.
    pub(crate) fn equity(&self, limit: usize) -> Vec<EquitySnapshot> {
        let equity = self.equity.lock().unwrap_or_else(PoisonError::into_inner);
        let skip = equity.len().saturating_sub(limit);
        equity.iter().skip(skip).copied().collect()
    }

    /// An equity point the recorder has stored.
    pub(crate) fn push_equity(&self, point: EquitySnapshot) {
        let mut equity = self.equity.lock().unwrap_or_else(PoisonError::into_inner);
        equity.push_back(point);
        if equity.len() > KEPT {
            equity.pop_front();
        }
    }

    /// Replaces the fills with the store's newest (at start, and after the event stream
    /// lagged and dropped some).
    async fn reload_fills(&self, store: &Store) -> Result<(), tradepulse_store::Error> {
        let rows = store
            .recent_fills(i64::try_from(KEPT).unwrap_or(i64::MAX))
            .await?;
        let newest = rows.first().map(|(_, _, f)| f.fill.ts);
        let mut fills = Fills::default();
        for (strategy, instrument, stored) in rows.into_iter().rev() {
            fills.push(FillRow {
                strategy,
                instrument,
                fill: stored.fill,
            });
        }
        let mut current = self.fills.lock().unwrap_or_else(PoisonError::into_inner);
        // Fills booked while the store was read (on the event stream, not yet written) stay.
        for row in current.rows.drain(..) {
            if newest.is_none_or(|t| row.fill.ts >= t) {
                fills.push(row);
            }
        }
        *current = fills;
        Ok(())
    }
}

/// Loads what the store holds and follows the engine's fills until `stopping`.
///
/// # Errors
/// Store failures while loading.
pub(crate) async fn start(
    engine: &EngineHandle,
    account: &str,
    stopping: watch::Receiver<bool>,
) -> Result<(Arc<Recent>, tokio::task::JoinHandle<()>), tradepulse_store::Error> {
    let recent = Arc::new(Recent::default());
    // Subscribed before loading, so a fill booked meanwhile is on one side or both (kept once).
    let events = engine.subscribe();
    let store = engine.store();
    recent.reload_fills(store).await?;
    for point in store
        .equity_tail(account, i64::try_from(KEPT).unwrap_or(i64::MAX))
        .await?
    {
        recent.push_equity(point);
    }
    let task = tokio::spawn(follow(Arc::clone(&recent), store.clone(), events, stopping));
    Ok((recent, task))
}

async fn follow(
    recent: Arc<Recent>,
    store: Store,
    mut events: broadcast::Receiver<EngineEvent>,
    mut stopping: watch::Receiver<bool>,
) {
    use broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = stopping.wait_for(|s| *s) => return,
        };
        match event {
            Ok(EngineEvent::Fill {
                fill,
                instrument,
                strategy,
            }) => {
                let mut fills = recent.fills.lock().unwrap_or_else(PoisonError::into_inner);
                fills.push(FillRow {
                    strategy,
                    instrument,
                    fill: *fill,
                });
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "the recent-fills cache fell behind the engine's events; reloading it"
                );
                // The engine writes its fills in batches: give the missed ones time to land.
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                if let Err(e) = recent.reload_fills(&store).await {
                    tracing::warn!(error = %e, "recent fills not reloaded");
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradepulse_model::{Asset, Liquidity, Side, UnixNanos, VenueOrderId};

    fn fill(order: &str, trade: &str) -> FillRow {
        FillRow {
            strategy: "s".into(),
            instrument: InstrumentId::new("BTCUSD", "SIM").unwrap(),
            fill: Fill {
                client_order_id: ClientOrderId::new(order).unwrap(),
                venue_order_id: VenueOrderId::new("v").unwrap(),
                trade_id: TradeId::new(trade).unwrap(),
                ts: UnixNanos::new(1),
                side: Side::Buy,
                quantity: "1".parse().unwrap(),
                price: "100".parse().unwrap(),
                fee: "0".parse().unwrap(),
                fee_asset: Asset::new("USD").unwrap(),
                liquidity: Liquidity::Taker,
            },
        }
    }

    #[test]
    fn a_fill_is_kept_once_and_the_oldest_go_first() {
        let mut fills = Fills::default();
        fills.push(fill("a", "1"));
        fills.push(fill("a", "1"));
        assert_eq!(fills.rows.len(), 1);
        for i in 0..KEPT {
            fills.push(fill("b", &i.to_string()));
        }
        assert_eq!(fills.rows.len(), KEPT);
        assert_eq!(fills.keys.len(), KEPT);
        assert_eq!(fills.rows[0].fill.trade_id.as_str(), "0");
        // The evicted fill may come again (a reload) and is kept again.
        fills.push(fill("a", "1"));
        assert_eq!(fills.rows.back().unwrap().fill.trade_id.as_str(), "1");
    }

    #[test]
    fn equity_keeps_the_newest_points_oldest_first() {
        let recent = Recent::default();
        for i in 0..(KEPT as i64 + 5) {
            recent.push_equity(EquitySnapshot {
                ts: UnixNanos::new(i),
                equity: tradepulse_model::Money::ZERO,
                cash: tradepulse_model::Money::ZERO,
            });
        }
        let last = recent.equity(2);
        assert_eq!(
            last.iter().map(|p| p.ts.as_nanos()).collect::<Vec<_>>(),
            [KEPT as i64 + 3, KEPT as i64 + 4]
        );
        assert_eq!(recent.equity(usize::MAX).len(), KEPT);
        assert_eq!(
            recent.equity(usize::MAX)[0].ts.as_nanos(),
            5,
            "the oldest went first"
        );
    }
}
