//! [`TemporalRicci`]: how the transition graph and its curvature change between snapshots.

use serde::{Deserialize, Serialize};

use super::OllivierRicci;
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

/// One snapshot: the edge set as sorted level pairs `(a, b)`, `a < b`, and its mean κ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Snapshot {
    edges: Vec<(i64, i64)>,
    curvature: f64,
}

/// Temporal Ricci analysis: every `step` bars (once `window` prices are in), the transition
/// graph of the last `window` prices is snapshotted with its mean Ollivier–Ricci curvature;
/// the last `snapshots` snapshots are compared. The graph is [`OllivierRicci`]'s, on the same
/// fixed log-level grid for every window, so edge sets of different snapshots compare
/// level for level.
///
/// Warm-up: `window − 1 + step` bars (two snapshots); between snapshots the last output is
/// repeated. Cost: the graph is maintained every bar (O(1) edge changes, see
/// [`OllivierRicci`]); on a snapshot bar the edges that went stale since the previous
/// snapshot are re-solved, the edge list is copied into a preallocated slot, and the
/// comparisons are merges of sorted lists, O(snapshots · E). No allocation per update.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "TemporalRicciState")]
pub struct TemporalRicci {
    step: usize,
    since: usize,
    ricci: OllivierRicci,
    snapshots: Snapshots,
    last: Option<TemporalRicciOutput>,
}

/// A ring of `slots.len()` snapshots whose edge lists keep their capacity (`window − 1`
/// edges, the most a window can have) when overwritten.
#[derive(Debug)]
struct Snapshots {
    slots: Vec<Snapshot>,
    head: usize,
    len: usize,
    /// Merge cursors for [`Snapshots::persistence`], one per slot.
    cursors: Vec<usize>,
}

/// Most memory reserved for the snapshot slots (1 GiB): more is refused, by `new` and when
/// loading a checkpoint, rather than aborting on allocation.
const MAX_RESERVED_BYTES: usize = 1 << 30;

impl Snapshots {
    /// `count` empty slots of `edges` edges each; `None` if that takes more than
    /// [`MAX_RESERVED_BYTES`].
    fn with_capacity(count: usize, edges: usize) -> Option<Self> {
        let per_slot = edges
            .checked_mul(size_of::<(i64, i64)>())?
            .checked_add(size_of::<Snapshot>() + size_of::<usize>())?;
        if count.checked_mul(per_slot)? > MAX_RESERVED_BYTES {
            return None;
        }
        let slots = (0..count)
            .map(|_| Snapshot {
                edges: Vec::with_capacity(edges),
                curvature: 0.0,
            })
            .collect();
        Some(Self {
            slots,
            head: 0,
            len: 0,
            cursors: Vec::with_capacity(count),
        })
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// The `i`-th oldest snapshot.
    fn get(&self, i: usize) -> &Snapshot {
        &self.slots[(self.head + i) % self.slots.len()]
    }

    fn iter(&self) -> impl Iterator<Item = &Snapshot> + '_ {
        (0..self.len).map(|i| self.get(i))
    }

    /// The slot for a new snapshot (the oldest one is overwritten when all are in use).
    fn push(&mut self) -> &mut Snapshot {
        let n = self.slots.len();
        let slot = if self.len < n {
            self.len += 1;
            (self.head + self.len - 1) % n
        } else {
            let s = self.head;
            self.head = (self.head + 1) % n;
            s
        };
        &mut self.slots[slot]
    }

    /// `|∩ E| / |∪ E|` over the retained snapshots (1 for an empty union), by merging the
    /// sorted edge lists.
    fn persistence(&mut self) -> f64 {
        let n = self.len;
        self.cursors.clear();
        self.cursors.resize(n, 0);
        let (mut union, mut common) = (0usize, 0usize);
        loop {
            let mut min: Option<(i64, i64)> = None;
            for i in 0..n {
                let edges = &self.slots[(self.head + i) % self.slots.len()].edges;
                if let Some(&e) = edges.get(self.cursors[i]) {
                    min = Some(min.map_or(e, |m| m.min(e)));
                }
            }
            let Some(min) = min else { break };
            let mut holders = 0;
            for i in 0..n {
                let edges = &self.slots[(self.head + i) % self.slots.len()].edges;
                if edges.get(self.cursors[i]) == Some(&min) {
                    self.cursors[i] += 1;
                    holders += 1;
                }
            }
            union += 1;
            if holders == n {
                common += 1;
            }
        }
        if union == 0 {
            1.0
        } else {
            common as f64 / union as f64
        }
    }
}

impl Clone for Snapshots {
    fn clone(&self) -> Self {
        // Keep every slot's reserved capacity (a derived clone would shrink it to the length).
        let capacity = |s: &Snapshot| s.edges.capacity();
        let slots = self
            .slots
            .iter()
            .map(|s| {
                let mut edges = Vec::with_capacity(capacity(s));
                edges.extend_from_slice(&s.edges);
                Snapshot {
                    edges,
                    curvature: s.curvature,
                }
            })
            .collect();
        Self {
            slots,
            head: self.head,
            len: self.len,
            cursors: Vec::with_capacity(self.cursors.capacity()),
        }
    }
}

impl PartialEq for Snapshots {
    fn eq(&self, other: &Self) -> bool {
        self.capacity() == other.capacity() && self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Serialize for Snapshots {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Jaccard similarity of two sorted, duplicate-free lists (1 when both are empty).
fn jaccard(a: &[(i64, i64)], b: &[(i64, i64)]) -> f64 {
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - inter;
    if union == 0 {
        1.0
    } else {
        inter as f64 / union as f64
    }
}

/// Serialised form of [`TemporalRicci`]: the parameters, the curvature indicator (its price
/// window), the bar count since the last snapshot, the retained snapshots oldest first and
/// the last output.
#[derive(Deserialize)]
struct TemporalRicciState {
    step: usize,
    since: usize,
    max_snapshots: usize,
    ricci: OllivierRicci,
    snapshots: Vec<Snapshot>,
    last: Option<TemporalRicciOutput>,
}

#[derive(Serialize)]
struct TemporalRicciStateRef<'a> {
    step: usize,
    since: usize,
    max_snapshots: usize,
    ricci: &'a OllivierRicci,
    snapshots: &'a Snapshots,
    last: Option<TemporalRicciOutput>,
}

impl Serialize for TemporalRicci {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TemporalRicciStateRef {
            step: self.step,
            since: self.since,
            max_snapshots: self.snapshots.capacity(),
            ricci: &self.ricci,
            snapshots: &self.snapshots,
            last: self.last,
        }
        .serialize(s)
    }
}

impl TryFrom<TemporalRicciState> for TemporalRicci {
    type Error = Error;
    fn try_from(s: TemporalRicciState) -> Result<Self, Error> {
        if s.step == 0 || s.since >= s.step {
            return Err(Error::InvalidState(
                "temporal Ricci step/since out of range",
            ));
        }
        if s.max_snapshots < 2 || s.snapshots.len() > s.max_snapshots {
            return Err(Error::InvalidState(
                "temporal Ricci snapshot count out of range",
            ));
        }
        let sorted =
            |e: &[(i64, i64)]| e.iter().all(|&(a, b)| a < b) && e.windows(2).all(|w| w[0] < w[1]);
        if !s.snapshots.iter().all(|snap| sorted(&snap.edges)) {
            return Err(Error::InvalidState(
                "temporal Ricci snapshot edges not sorted level pairs",
            ));
        }
        // The window is at least 3 (checked when the curvature state loaded).
        let mut snapshots = Snapshots::with_capacity(s.max_snapshots, s.ricci.window() - 1).ok_or(
            Error::InvalidState("temporal Ricci snapshot count too large"),
        )?;
        for snap in s.snapshots {
            let slot = snapshots.push();
            slot.edges.clear();
            slot.edges.extend_from_slice(&snap.edges);
            slot.curvature = snap.curvature;
        }
        Ok(Self {
            step: s.step,
            since: s.since,
            ricci: s.ricci,
            snapshots,
            last: s.last,
        })
    }
}

impl TemporalRicci {
    /// Snapshots of `window` prices every `step` bars, keeping `snapshots` of them.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 3`, `step < 1` or `snapshots < 2`;
    /// [`Error::ParameterOutOfRange`] for a bad `level_step` or `alpha`;
    /// [`Error::InconsistentParameters`] if the snapshot slots, allocated up front
    /// (`snapshots × (window − 1)` edges of 16 bytes), would take more than 1 GiB.
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
        let ricci = OllivierRicci::new(window, level_step, alpha)?;
        // A window of w prices has at most w − 1 edges.
        let snapshots = Snapshots::with_capacity(snapshots, window - 1).ok_or(
            Error::InconsistentParameters {
                indicator: "TEMPORAL_RICCI",
                message: "snapshots × window too large (over 1 GiB of snapshot slots)",
            },
        )?;
        Ok(Self {
            step,
            since: 0,
            ricci,
            snapshots,
            last: None,
        })
    }

    fn snapshot(&mut self) {
        let curvature = self.ricci.curvature();
        let slot = self.snapshots.push();
        slot.edges.clear();
        self.ricci.level_edges_into(&mut slot.edges);
        slot.curvature = curvature;
    }

    fn compare(&mut self) -> Option<TemporalRicciOutput> {
        let n = self.snapshots.len;
        if n < 2 {
            return None;
        }
        let (prev, last) = (self.snapshots.get(n - 2), self.snapshots.get(n - 1));
        let stability = jaccard(&prev.edges, &last.edges);
        let change = last.curvature - prev.curvature;
        let curvature = last.curvature;
        let persistence = self.snapshots.persistence();
        let transition = (0.5 * (1.0 - stability) + 0.5 * change.abs().min(1.0)).clamp(0.0, 1.0);
        Some(TemporalRicciOutput {
            curvature,
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
        self.ricci.push(price);
        if !self.ricci.is_full() {
            return None;
        }
        if self.since == 0 {
            self.snapshot();
            if let Some(out) = self.compare() {
                self.last = Some(out);
            }
        }
        self.since = (self.since + 1) % self.step;
        self.last
    }

    fn reset(&mut self) {
        self.ricci.reset();
        self.since = 0;
        self.snapshots.clear();
        self.last = None;
    }

    fn is_ready(&self) -> bool {
        self.last.is_some()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use proptest::strategy::Strategy as _;

    use super::*;
    use crate::{TransitionGraph, mean_curvature, ollivier_ricci};

    /// The definition, computed naively: a fresh graph per snapshot, collected edge sets.
    fn naive(
        xs: &[f64],
        (window, step, keep, level_step, alpha): (usize, usize, usize, f64, f64),
    ) -> Vec<Option<TemporalRicciOutput>> {
        let mut snaps: VecDeque<(Vec<(i64, i64)>, f64)> = VecDeque::new();
        let mut last = None;
        let mut since = 0;
        (0..xs.len())
            .map(|t| {
                if t + 1 < window {
                    return None;
                }
                if since == 0 {
                    let g = TransitionGraph::from_prices(&xs[t + 1 - window..=t], level_step);
                    let edges: Vec<(i64, i64)> = g.level_edges().collect();
                    let k = mean_curvature(&ollivier_ricci(&g, alpha));
                    if snaps.len() == keep {
                        snaps.pop_front();
                    }
                    snaps.push_back((edges, k));
                    if snaps.len() >= 2 {
                        let (prev, cur) = (&snaps[snaps.len() - 2], &snaps[snaps.len() - 1]);
                        let inter = prev.0.iter().filter(|e| cur.0.contains(e)).count();
                        let union = prev.0.len() + cur.0.len() - inter;
                        let stability = if union == 0 {
                            1.0
                        } else {
                            inter as f64 / union as f64
                        };
                        let mut all: Vec<(i64, i64)> =
                            snaps.iter().flat_map(|s| s.0.clone()).collect();
                        all.sort_unstable();
                        all.dedup();
                        let common = all
                            .iter()
                            .filter(|e| snaps.iter().all(|s| s.0.contains(e)))
                            .count();
                        let persistence = if all.is_empty() {
                            1.0
                        } else {
                            common as f64 / all.len() as f64
                        };
                        let change = cur.1 - prev.1;
                        last = Some(TemporalRicciOutput {
                            curvature: cur.1,
                            curvature_change: change,
                            edge_stability: stability,
                            persistence,
                            transition: (0.5 * (1.0 - stability) + 0.5 * change.abs().min(1.0))
                                .clamp(0.0, 1.0),
                        });
                    }
                }
                since = (since + 1) % step;
                last
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn matches_the_naive_definition(
            xs in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => (0u8..6).prop_map(|k| 100.0 * (0.01 * f64::from(k)).exp()),
                    1 => 1.0f64..2000.0,
                    1 => proptest::strategy::Just(f64::NAN),
                ],
                0..160,
            ),
            window in 3usize..20,
            step in 1usize..6,
            keep in 2usize..5,
        ) {
            let mut ind = TemporalRicci::new(window, step, keep, 0.01, 0.5).unwrap();
            let streamed: Vec<_> = xs.iter().map(|&x| ind.update(x)).collect();
            let expected = naive(&xs, (window, step, keep, 0.01, 0.5));
            proptest::prop_assert_eq!(format!("{streamed:?}"), format!("{expected:?}"));
        }
    }
}
