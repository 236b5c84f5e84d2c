//! [`TemporalRicci`]: how the transition graph and its curvature change between snapshots.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::ollivier_ricci::mean_curvature;
use super::{TransitionGraph, ollivier_ricci};
use crate::window::Ring;
use crate::{Error, Indicator, error::check_period, error::check_range};

/// Temporal Ricci outputs, comparing the last two snapshots (and all retained ones for
/// persistence).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TemporalRicciOutput {
    /// Mean Ollivier–Ricci κ̄ of the latest snapshot.
    pub curvature: f64,
    /// `κ̄_latest − κ̄_previous`.
    pub curvature_change: f64,
    /// Jaccard similarity of the two latest edge sets (1 when both are empty).
    pub edge_stability: f64,
    /// `|∩ E| / |∪ E|` over all retained snapshots (1 when the union is empty).
    pub persistence: f64,
    /// `clamp(0.5·(1 − edge_stability) + 0.5·min(|curvature_change|, 1), 0, 1)`:
    /// 0 for an unchanged structure, 1 for a complete rewiring with a large curvature swing.
    pub transition: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    edges: Vec<(i64, i64)>,
    curvature: f64,
}

/// Temporal Ricci analysis: every `step` bars (once `window` prices are in), the transition
/// graph of the last `window` prices is snapshotted with its mean Ollivier–Ricci curvature;
/// the last `snapshots` snapshots are compared. Levels are measured from the first finite
/// price ever seen, so edge sets of different snapshots are comparable.
///
/// Warm-up: `window − 1 + step` bars (two snapshots); between snapshots the last output is
/// repeated. Cost: one Ollivier–Ricci evaluation per `step` bars, plus allocation of the
/// snapshot's edge list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemporalRicci {
    #[serde(deserialize_with = "crate::error::nonzero")]
    step: usize,
    level_step: f64,
    alpha: f64,
    reference: Option<f64>,
    prices: Ring<f64>,
    since: usize,
    max_snapshots: usize,
    snapshots: VecDeque<Snapshot>,
    last: Option<TemporalRicciOutput>,
}

impl TemporalRicci {
    /// Snapshots of `window` prices every `step` bars, keeping `snapshots` of them.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 3`, `step < 1` or `snapshots < 2`;
    /// [`Error::ParameterOutOfRange`] for a bad `level_step` or `alpha`.
    pub fn new(
        window: usize,
        step: usize,
        snapshots: usize,
        level_step: f64,
        alpha: f64,
    ) -> Result<Self, Error> {
        check_period("TEMPORAL_RICCI", "window", window, 3)?;
        check_period("TEMPORAL_RICCI", "step", step, 1)?;
        check_period("TEMPORAL_RICCI", "snapshots", snapshots, 2)?;
        check_range(
            "TEMPORAL_RICCI",
            "level_step",
            level_step,
            f64::MIN_POSITIVE,
            1e300,
            "(0, 1e300]",
        )?;
        check_range("TEMPORAL_RICCI", "alpha", alpha, 0.0, 0.999_999, "[0, 1)")?;
        Ok(Self {
            step,
            level_step,
            alpha,
            reference: None,
            prices: Ring::new(window),
            since: 0,
            max_snapshots: snapshots,
            snapshots: VecDeque::with_capacity(snapshots),
            last: None,
        })
    }

    fn snapshot(&self) -> Snapshot {
        let prices: Vec<f64> = self.prices.iter().collect();
        let g =
            TransitionGraph::from_prices(&prices, self.reference.unwrap_or(0.0), self.level_step);
        let mut edges: Vec<(i64, i64)> = g.level_edges().collect();
        edges.sort_unstable();
        Snapshot {
            edges,
            curvature: mean_curvature(&ollivier_ricci(&g, self.alpha)),
        }
    }

    fn compare(&self) -> Option<TemporalRicciOutput> {
        let snaps: Vec<&Snapshot> = self.snapshots.iter().collect();
        let (prev, last) = match snaps.as_slice() {
            [.., a, b] => (*a, *b),
            _ => return None,
        };
        let jaccard = |a: &[(i64, i64)], b: &[(i64, i64)]| -> f64 {
            let inter = a.iter().filter(|e| b.binary_search(e).is_ok()).count();
            let union = a.len() + b.len() - inter;
            if union == 0 {
                1.0
            } else {
                inter as f64 / union as f64
            }
        };
        let stability = jaccard(&prev.edges, &last.edges);
        let mut union: Vec<(i64, i64)> =
            snaps.iter().flat_map(|s| s.edges.iter().copied()).collect();
        union.sort_unstable();
        union.dedup();
        let common = union
            .iter()
            .filter(|e| snaps.iter().all(|s| s.edges.binary_search(e).is_ok()))
            .count();
        let persistence = if union.is_empty() {
            1.0
        } else {
            common as f64 / union.len() as f64
        };
        let change = last.curvature - prev.curvature;
        let transition = (0.5 * (1.0 - stability) + 0.5 * change.abs().min(1.0)).clamp(0.0, 1.0);
        Some(TemporalRicciOutput {
            curvature: last.curvature,
            curvature_change: change,
            edge_stability: stability,
            persistence,
            transition,
        })
    }
}

impl Indicator for TemporalRicci {
    type Input = f64;
    type Output = TemporalRicciOutput;

    fn update(&mut self, price: f64) -> Option<TemporalRicciOutput> {
        if self.reference.is_none() && price.is_finite() {
            self.reference = Some(price);
        }
        self.prices.push_back(price);
        if !self.prices.is_full() {
            return None;
        }
        if self.since == 0 {
            let snap = self.snapshot();
            if self.snapshots.len() == self.max_snapshots {
                self.snapshots.pop_front();
            }
            self.snapshots.push_back(snap);
            if let Some(out) = self.compare() {
                self.last = Some(out);
            }
        }
        self.since = (self.since + 1) % self.step;
        self.last
    }

    fn reset(&mut self) {
        self.reference = None;
        self.prices.clear();
        self.since = 0;
        self.snapshots.clear();
        self.last = None;
    }

    fn is_ready(&self) -> bool {
        self.last.is_some()
    }
}
