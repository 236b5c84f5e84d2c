//! [`TemporalRicci`]: how the transition graph and its curvature change between snapshots.

use std::collections::VecDeque;

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

/// Temporal Ricci analysis: every `step` bars (once `window` prices are in), the transition
/// graph of the last `window` prices is snapshotted with its mean Ollivier–Ricci curvature;
/// the last `snapshots` snapshots are compared. The graph is [`OllivierRicci`]'s, on the same
/// fixed log-level grid for every window, so edge sets of different snapshots compare
/// level for level.
///
/// Warm-up: `window − 1 + step` bars (two snapshots); between snapshots the last output is
/// repeated. Cost: the graph is maintained every bar (see [`OllivierRicci`]), and each edge
/// that appears or disappears updates a few counts of which edges were in which snapshot
/// (O(1) expected); on a snapshot bar the edges that went stale since the previous snapshot
/// are re-solved and stability and persistence are read off those counts in O(1) — no edge
/// list is copied or merged. No allocation per update.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "TemporalRicciState")]
pub struct TemporalRicci {
    step: usize,
    since: usize,
    ricci: OllivierRicci,
    presence: Presence,
    /// Mean κ at the last snapshot.
    curvature: Option<f64>,
    last: Option<TemporalRicciOutput>,
}

type EdgeKey = (i64, i64);

/// What [`Presence`] remembers of an edge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Record {
    /// In the graph now.
    present: bool,
    /// For a present edge, the first snapshot of its current run: it was in every snapshot
    /// from `run` to the last one, or `run` is the next snapshot (it came in since the last).
    run: u64,
    /// The last snapshot it was in, if any.
    last_seen: Option<u64>,
}

/// Which edges were in which of the retained snapshots, as counts that each edge change
/// updates, so that a snapshot compares with the previous ones in O(1) instead of merging
/// edge lists.
///
/// Snapshots are numbered 0, 1, …; with `last` the latest and `K` the number kept, the
/// retained ones are `lo ..= last`, `lo = max(0, last + 1 − K)`. Then:
/// - an edge is in both of the last two snapshots iff it is present with `run ≤ last − 1`
///   (at a snapshot every present edge has `run ≤ last`, so that is `E − #(run = last)`);
/// - it is in every retained snapshot iff it is present with `run ≤ lo` (`settled`);
/// - it is in some retained snapshot iff it is present, or absent with `last_seen ≥ lo`
///   (`gone_total` counts those).
///
/// `fresh` counts present edges by run start in `(lo, next]` and `gone` absent edges by last
/// snapshot seen in `[lo, last]`, both at index `r mod (K + 1)`; when a snapshot moves `lo`
/// on, one bucket of each is folded in or expires. Records of edges that are absent and in no
/// retained snapshot are dropped (through `expiry`, oldest first), so at most `w − 1` present
/// and `K·(w − 1)` absent edges are remembered.
#[derive(Debug)]
struct Presence {
    keep: usize,
    /// Most records a state can need: present edges and those of the retained snapshots.
    remembered: usize,
    /// The latest snapshot, if any.
    last: Option<u64>,
    /// Edge count at the latest snapshot.
    last_edges: usize,
    records: foldhash::HashMap<EdgeKey, Record>,
    /// `(edge, last_seen)` in the order `last_seen` was set.
    expiry: VecDeque<(EdgeKey, u64)>,
    settled: usize,
    fresh: Vec<usize>,
    gone: Vec<usize>,
    gone_total: usize,
}

/// Most memory reserved for the snapshot bookkeeping, as estimated from the entries (1 GiB;
/// the hash map's power-of-two buckets can take up to about twice that): more is refused, by
/// `new` and when loading a checkpoint, rather than aborting on allocation.
const MAX_RESERVED_BYTES: usize = 1 << 30;

impl Presence {
    /// Bookkeeping for `keep` snapshots of graphs with at most `edges` edges, reserved up
    /// front; `None` if that takes more than [`MAX_RESERVED_BYTES`].
    fn with_capacity(keep: usize, edges: usize) -> Option<Self> {
        // Present edges plus those of K retained snapshots; the map at twice that never
        // reallocates (tombstones are cleared in place).
        let remembered = keep.checked_add(1)?.checked_mul(edges.max(1))?;
        let map_bytes = remembered
            .checked_mul(2)?
            .checked_mul(size_of::<(EdgeKey, Record)>() + 1)?;
        let queue_bytes = remembered.checked_mul(size_of::<(EdgeKey, u64)>())?;
        if map_bytes.checked_add(queue_bytes)? > MAX_RESERVED_BYTES {
            return None;
        }
        Some(Self {
            keep,
            remembered,
            last: None,
            last_edges: 0,
            records: foldhash::HashMap::with_capacity_and_hasher(
                2 * remembered,
                Default::default(),
            ),
            expiry: VecDeque::with_capacity(remembered),
            settled: 0,
            fresh: vec![0; keep + 1],
            gone: vec![0; keep + 1],
            gone_total: 0,
        })
    }

    fn clear(&mut self) {
        self.last = None;
        self.last_edges = 0;
        self.records.clear();
        self.expiry.clear();
        self.settled = 0;
        self.fresh.fill(0);
        self.gone.fill(0);
        self.gone_total = 0;
    }

    /// Number of the next snapshot.
    fn next(&self) -> u64 {
        self.last.map_or(0, |s| s + 1)
    }

    /// The oldest retained snapshot.
    fn lo(&self) -> u64 {
        self.last
            .map_or(0, |s| (s + 1).saturating_sub(self.keep as u64))
    }

    fn bucket(&self, r: u64) -> usize {
        (r % (self.keep as u64 + 1)) as usize
    }

    /// Counts (`up`) or uncounts a present edge whose run starts at `run`.
    fn count_run(&mut self, run: u64, up: bool) {
        let slot = if run <= self.lo() {
            &mut self.settled
        } else {
            let b = self.bucket(run);
            &mut self.fresh[b]
        };
        if up {
            *slot += 1;
        } else {
            *slot -= 1;
        }
    }

    /// Counts or uncounts an absent edge last seen at `seen`, if that snapshot is retained.
    fn count_gone(&mut self, seen: Option<u64>, up: bool) {
        if let Some(r) = seen.filter(|&r| r >= self.lo()) {
            let b = self.bucket(r);
            if up {
                self.gone[b] += 1;
                self.gone_total += 1;
            } else {
                self.gone[b] -= 1;
                self.gone_total -= 1;
            }
        }
    }

    /// Edge `key` entered the graph.
    fn insert(&mut self, key: EdgeKey) {
        let next = self.next();
        let record = *self.records.entry(key).or_insert(Record {
            present: false,
            run: next,
            last_seen: None,
        });
        // Out since the last snapshot only: its run goes on.
        let run = if record.last_seen.is_some() && record.last_seen == self.last {
            record.run
        } else {
            next
        };
        self.count_gone(record.last_seen, false);
        self.count_run(run, true);
        self.records.insert(
            key,
            Record {
                present: true,
                run,
                ..record
            },
        );
    }

    /// Edge `key` left the graph.
    fn remove(&mut self, key: EdgeKey) {
        let Some(mut record) = self.records.get(&key).copied().filter(|r| r.present) else {
            return;
        };
        self.count_run(record.run, false);
        record.present = false;
        if let Some(last) = self.last.filter(|&s| record.run <= s)
            && record.last_seen != Some(last)
        {
            record.last_seen = Some(last);
            self.expiry.push_back((key, last));
        }
        if record.last_seen.is_some_and(|r| r >= self.lo()) {
            self.count_gone(record.last_seen, true);
            self.records.insert(key, record);
        } else {
            self.records.remove(&key);
        }
    }

    /// Takes a snapshot of a graph of `edges` edges; returns `(edge_stability, persistence)`
    /// against the previous snapshots (`None` for the first).
    fn snapshot(&mut self, edges: usize) -> Option<(f64, f64)> {
        let s = self.next();
        let (lo_old, lo_new) = (self.lo(), (s + 1).saturating_sub(self.keep as u64));
        for r in lo_old..lo_new {
            // Runs from r + 1 now cover every retained snapshot; edges last seen at r are
            // in none any more.
            let b = self.bucket(r + 1);
            self.settled += std::mem::take(&mut self.fresh[b]);
            let b = self.bucket(r);
            self.gone_total -= std::mem::take(&mut self.gone[b]);
        }
        self.last = Some(s);
        while let Some(&(key, seen)) = self.expiry.front()
            && seen < lo_new
        {
            self.expiry.pop_front();
            if self
                .records
                .get(&key)
                .is_some_and(|r| !r.present && r.last_seen == Some(seen))
            {
                self.records.remove(&key);
            }
        }
        let previous = std::mem::replace(&mut self.last_edges, edges);
        if s == 0 {
            return None;
        }
        let both = edges - self.fresh[self.bucket(s)];
        let union = previous + edges - both;
        let stability = ratio(both, union);
        let persistence = ratio(self.settled, edges + self.gone_total);
        Some((stability, persistence))
    }

    /// The state as saved in a checkpoint: the snapshot counters and the records, sorted.
    fn state(&self) -> PresenceState {
        let mut records: Vec<(EdgeKey, Record)> =
            self.records.iter().map(|(&k, &r)| (k, r)).collect();
        records.sort_unstable_by_key(|&(k, _)| k);
        PresenceState {
            last: self.last,
            last_edges: self.last_edges,
            records,
        }
    }

    /// Rebuilds the counts from saved records, checking them against the graph's `edges`
    /// (sorted level pairs).
    fn restore(&mut self, state: PresenceState, edges: &[EdgeKey]) -> Result<(), Error> {
        let bad = |what| Err(Error::InvalidState(what));
        if state.records.len() > self.remembered {
            return bad("temporal Ricci records exceed what the snapshots can hold");
        }
        // Numbers count snapshots one by one: far from overflowing, unless corrupt.
        if state.last.is_some_and(|s| s > u64::MAX / 2) {
            return bad("temporal Ricci snapshot number out of range");
        }
        self.clear();
        self.last = state.last;
        self.last_edges = state.last_edges;
        let (next, lo) = (self.next(), self.lo());
        let mut present = 0;
        // Every record last seen at a retained snapshot has its expiry entry in a live state
        // (set when it was last seen), present ones too: they may leave before the next
        // snapshot and then are forgotten through it.
        let mut expiring: Vec<(u64, EdgeKey)> = Vec::new();
        for &(key, record) in &state.records {
            if key.0 >= key.1 {
                return bad("temporal Ricci record is not a level pair a < b");
            }
            if record.last_seen.is_some_and(|r| Some(r) > self.last) {
                return bad("temporal Ricci record seen after the last snapshot");
            }
            if record.present {
                if record.run > next || edges.binary_search(&key).is_err() {
                    return bad("temporal Ricci record does not match the window's graph");
                }
                present += 1;
                self.count_run(record.run, true);
            } else {
                if record.last_seen.is_none_or(|r| r < lo) {
                    return bad("temporal Ricci record of an edge no snapshot holds");
                }
                self.count_gone(record.last_seen, true);
            }
            if let Some(r) = record.last_seen.filter(|&r| r >= lo) {
                expiring.push((r, key));
            }
            if self.records.insert(key, record).is_some() {
                return bad("temporal Ricci record repeated");
            }
        }
        if present != edges.len() {
            return bad("temporal Ricci records do not match the window's graph");
        }
        // The last snapshot's edges: present since at least then, or last seen then.
        let in_last = |r: &Record| match self.last {
            Some(last) if r.present => r.run <= last,
            last => r.last_seen.is_some() && r.last_seen == last,
        };
        if state.records.iter().filter(|(_, r)| in_last(r)).count() != self.last_edges {
            return bad("temporal Ricci snapshot edge count does not match its records");
        }
        expiring.sort_unstable();
        self.expiry
            .extend(expiring.into_iter().map(|(r, key)| (key, r)));
        Ok(())
    }
}

impl Clone for Presence {
    fn clone(&self) -> Self {
        // A derived clone would shrink the expiry queue to its length.
        let mut expiry = VecDeque::with_capacity(self.expiry.capacity());
        expiry.extend(self.expiry.iter().copied());
        Self {
            keep: self.keep,
            remembered: self.remembered,
            last: self.last,
            last_edges: self.last_edges,
            records: self.records.clone(),
            expiry,
            settled: self.settled,
            fresh: self.fresh.clone(),
            gone: self.gone.clone(),
            gone_total: self.gone_total,
        }
    }
}

impl PartialEq for Presence {
    fn eq(&self, other: &Self) -> bool {
        // `expiry` only decides when forgotten records are dropped: not part of the value.
        self.keep == other.keep
            && self.last == other.last
            && self.last_edges == other.last_edges
            && self.records == other.records
    }
}

/// `part / whole`, 1 for an empty whole.
fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Serialised form of [`Presence`] (the counts are rebuilt from the records).
#[derive(Serialize, Deserialize)]
struct PresenceState {
    last: Option<u64>,
    last_edges: usize,
    records: Vec<(EdgeKey, Record)>,
}

/// Serialised form of [`TemporalRicci`]: the parameters, the curvature indicator (its price
/// window), the bar count since the last snapshot, the snapshot bookkeeping, the last
/// snapshot's mean κ and the last output.
#[derive(Deserialize)]
struct TemporalRicciState {
    step: usize,
    since: usize,
    max_snapshots: usize,
    ricci: OllivierRicci,
    presence: PresenceState,
    curvature: Option<f64>,
    last: Option<TemporalRicciOutput>,
}

#[derive(Serialize)]
struct TemporalRicciStateRef<'a> {
    step: usize,
    since: usize,
    max_snapshots: usize,
    ricci: &'a OllivierRicci,
    presence: PresenceState,
    curvature: Option<f64>,
    last: Option<TemporalRicciOutput>,
}

impl Serialize for TemporalRicci {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TemporalRicciStateRef {
            step: self.step,
            since: self.since,
            max_snapshots: self.presence.keep,
            ricci: &self.ricci,
            presence: self.presence.state(),
            curvature: self.curvature,
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
        if s.max_snapshots < 2 {
            return Err(Error::InvalidState(
                "temporal Ricci snapshot count out of range",
            ));
        }
        // The window is at least 3 (checked when the curvature state loaded).
        let mut presence = Presence::with_capacity(s.max_snapshots, s.ricci.window() - 1).ok_or(
            Error::InvalidState("temporal Ricci snapshot count too large"),
        )?;
        let mut edges = Vec::new();
        s.ricci.level_edges_into(&mut edges);
        presence.restore(s.presence, &edges)?;
        Ok(Self {
            step: s.step,
            since: s.since,
            ricci: s.ricci,
            presence,
            curvature: s.curvature,
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
    /// [`Error::InconsistentParameters`] if the snapshot bookkeeping, reserved up front
    /// (about 120 bytes per edge of `snapshots + 1` windows), would take more than 1 GiB.
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
        // A window of w prices has at most w − 1 edges.
        let presence = Presence::with_capacity(snapshots, window - 1).ok_or(
            Error::InconsistentParameters {
                indicator: "TEMPORAL_RICCI",
                message: "snapshots × window too large (over 1 GiB of snapshot bookkeeping)",
            },
        )?;
        let ricci = OllivierRicci::new(window, level_step, alpha)?;
        Ok(Self {
            step,
            since: 0,
            ricci,
            presence,
            curvature: None,
            last: None,
        })
    }

    fn snapshot(&mut self) -> Option<TemporalRicciOutput> {
        let curvature = self.ricci.curvature();
        let previous = self.curvature.replace(curvature);
        let (stability, persistence) = self.presence.snapshot(self.ricci.edge_count())?;
        let change = curvature - previous?;
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
        for &(key, added) in self.ricci.edge_changes() {
            if added {
                self.presence.insert(key);
            } else {
                self.presence.remove(key);
            }
        }
        if !self.ricci.is_full() {
            return None;
        }
        if self.since == 0
            && let Some(out) = self.snapshot()
        {
            self.last = Some(out);
        }
        self.since = (self.since + 1) % self.step;
        self.last
    }

    fn reset(&mut self) {
        self.ricci.reset();
        self.since = 0;
        self.presence.clear();
        self.curvature = None;
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
        fn remembers_no_more_than_the_retained_snapshots_hold(
            xs in proptest::collection::vec((0u8..12).prop_map(|k| 100.0 * (0.01 * f64::from(k)).exp()), 0..400),
            window in 3usize..16,
            step in 1usize..4,
            keep in 2usize..5,
            cut in 0usize..400,
        ) {
            // Records are dropped once no retained snapshot holds their edge, in a live state
            // and in one restored from a checkpoint alike, so the reserved map and queue are
            // never outgrown (a dense level set makes edges come and go all the time).
            let mut live = TemporalRicci::new(window, step, keep, 0.01, 0.5).unwrap();
            let mut restored: Option<TemporalRicci> = None;
            let bound = (keep + 1) * (window - 1);
            for (t, &x) in xs.iter().enumerate() {
                let out = live.update(x);
                if let Some(r) = restored.as_mut() {
                    proptest::prop_assert_eq!(format!("{:?}", r.update(x)), format!("{out:?}"));
                }
                if t == cut {
                    let json = serde_json::to_string(&live).unwrap();
                    restored = Some(serde_json::from_str(&json).unwrap());
                }
                for ind in std::iter::once(&live).chain(restored.as_ref()) {
                    let p = &ind.presence;
                    proptest::prop_assert!(p.records.len() <= bound, "{} records", p.records.len());
                    proptest::prop_assert!(p.expiry.len() <= bound, "{} queued", p.expiry.len());
                }
            }
        }

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
