//! Ollivier–Ricci curvature: [`ollivier_ricci`] on a graph and the windowed [`OllivierRicci`].

use serde::{Deserialize, Serialize};

use super::transition_graph::{Adjacency, WindowGraph};
use super::transport::Transport;
use super::{EdgeCurvature, TransitionGraph};
use crate::window::Ring;
use crate::{Error, Indicator, error::check_period, error::check_range};

/// Ollivier–Ricci curvature of every edge, `κ(x, y) = 1 − W1(μ_x, μ_y)/d(x, y)`.
///
/// `μ_x` is the lazy random walk from `x`: mass `α` stays on `x`, the rest goes to its
/// neighbours in proportion to the edge weights. `d(x, y) = 1` for an edge and `W1` is computed
/// exactly as optimal transport over hop distances (which are at most 3 between the two
/// neighbourhoods of an edge). κ lies in `[−2, 1]`: positive where
/// neighbourhoods overlap (cliques), negative across bridges and on tree-like parts.
#[must_use]
pub fn ollivier_ricci(graph: &TransitionGraph, alpha: f64) -> Vec<EdgeCurvature> {
    let mut solver = EdgeKappa::default();
    graph
        .edges()
        .map(|(x, y, weight)| EdgeCurvature {
            from: x,
            to: y,
            weight,
            kappa: solver.kappa(graph, x, y, alpha),
        })
        .collect()
}

/// The per-edge κ computation and its reusable buffers: the one implementation behind both
/// [`ollivier_ricci`] and the streaming [`OllivierRicci`]. κ(x, y) is a function of the
/// adjacency lists around the edge only, visited in node order, so a [`TransitionGraph`]
/// (nodes numbered in level order) and a [`WindowGraph`] (nodes are levels) holding the same
/// edges give bit-identical values.
#[derive(Debug, Default)]
pub(crate) struct EdgeKappa<N> {
    transport: Transport,
    mx: Vec<(N, f64)>,
    my: Vec<(N, f64)>,
    supply: Vec<f64>,
    demand: Vec<f64>,
    sources: Vec<N>,
    sinks: Vec<N>,
    /// The sorted neighbour lists one edge reads, one after another: `x`'s, `y`'s, then each
    /// source's and sink's, at the ranges below.
    adjacency: Vec<(N, f64)>,
    source_arcs: Vec<(usize, usize)>,
    sink_arcs: Vec<(usize, usize)>,
}

/// Supply–demand pairs reserved for the transport matrices (cost and flow, 16 bytes a pair):
/// the bound `⌈(w + 2)/2⌉²` below, capped at 2^16 pairs (1 MiB).
const MAX_RESERVED_PAIRS: usize = 1 << 16;

impl<N: Copy + Ord> EdgeKappa<N> {
    /// Buffers for every edge of a graph with at most `edges` edges, allocated once.
    ///
    /// Bounds: a node has at most `edges` neighbours, so a measure has at most `edges + 1`
    /// atoms; the edges at `x` or `y` are distinct apart from `x–y`, so
    /// `deg x + deg y ≤ edges + 1` and the transport problem (the excess nodes of
    /// `N[x] ∪ N[y]`, of which there are at most `deg x + deg y`) has `s + t ≤ edges + 1`
    /// nodes and `s·t ≤ ⌈(edges + 1)/2⌉²` pairs. Past the cap of [`MAX_RESERVED_PAIRS`]
    /// (windows above about 510 prices) a pathological edge whose two ends have more than
    /// 512 neighbours between them would grow the matrices once.
    fn with_capacity(edges: usize) -> Self {
        let nodes = edges + 2;
        let half = nodes.div_ceil(2);
        let pairs = half.saturating_mul(half).min(MAX_RESERVED_PAIRS);
        Self {
            transport: Transport::with_capacity(nodes, pairs),
            mx: Vec::with_capacity(nodes),
            my: Vec::with_capacity(nodes),
            supply: Vec::with_capacity(nodes),
            demand: Vec::with_capacity(nodes),
            sources: Vec::with_capacity(nodes),
            sinks: Vec::with_capacity(nodes),
            // x's and y's lists, then distinct sources and sinks, whose degrees sum to at
            // most twice the edge count.
            adjacency: Vec::with_capacity(4 * nodes),
            source_arcs: Vec::with_capacity(nodes),
            sink_arcs: Vec::with_capacity(nodes),
        }
    }

    /// κ of the edge `x–y` of `graph` with idleness `alpha`.
    pub(crate) fn kappa<G: Adjacency<Node = N>>(
        &mut self,
        graph: &G,
        x: N,
        y: N,
        alpha: f64,
    ) -> f64 {
        self.adjacency.clear();
        let at_x = gather(graph, x, &mut self.adjacency);
        lazy_measure(&self.adjacency[at_x.0..at_x.1], x, alpha, &mut self.mx);
        let at_y = gather(graph, y, &mut self.adjacency);
        lazy_measure(&self.adjacency[at_y.0..at_y.1], y, alpha, &mut self.my);
        // With a metric cost, an optimal plan leaves the mass the two measures share in
        // place, so only the excesses travel: (μx − μy)⁺ to (μy − μx)⁺. This shrinks the
        // transport problem (common neighbours in triangles, the lazy mass) at no loss.
        self.supply.clear();
        self.sources.clear();
        self.demand.clear();
        self.sinks.clear();
        let (sources, supply, sinks, demand) = (
            &mut self.sources,
            &mut self.supply,
            &mut self.sinks,
            &mut self.demand,
        );
        merge_measures(&self.mx, &self.my, |v, a, b| {
            if a > b {
                sources.push(v);
                supply.push(a - b);
            } else if b > a {
                sinks.push(v);
                demand.push(b - a);
            }
        });
        // x and y are usually a source and a sink themselves: their lists are already here.
        let run = |u: N, adjacency: &mut Vec<(N, f64)>| match u {
            u if u == x => at_x,
            u if u == y => at_y,
            u => gather(graph, u, adjacency),
        };
        self.source_arcs.clear();
        for &u in &self.sources {
            self.source_arcs.push(run(u, &mut self.adjacency));
        }
        self.sink_arcs.clear();
        for &v in &self.sinks {
            self.sink_arcs.push(run(v, &mut self.adjacency));
        }
        let arcs = &self.adjacency;
        let (sources, sinks) = (&self.sources, &self.sinks);
        let (source_arcs, sink_arcs) = (&self.source_arcs, &self.sink_arcs);
        let w1 = self.transport.solve(&self.supply, &self.demand, |i, j| {
            let ((a, b), (c, d)) = (source_arcs[i], sink_arcs[j]);
            local_distance(sources[i], &arcs[a..b], sinks[j], &arcs[c..d])
        });
        1.0 - w1
    }
}

/// Appends `x`'s sorted neighbour list to `out`; returns where it lies.
fn gather<G: Adjacency>(graph: &G, x: G::Node, out: &mut Vec<(G::Node, f64)>) -> (usize, usize) {
    let start = out.len();
    graph.neighbours_into(x, out);
    (start, out.len())
}

/// The lazy random walk from `x` with sorted neighbours `nb` as `(node, mass)` sorted by node:
/// `alpha` on `x`, the rest spread over the neighbours in proportion to edge weight (all on
/// `x` if it has none).
fn lazy_measure<N: Copy + Ord>(nb: &[(N, f64)], x: N, alpha: f64, out: &mut Vec<(N, f64)>) {
    let total: f64 = nb.iter().map(|&(_, w)| w).sum();
    out.clear();
    if total > 0.0 {
        out.extend(nb.iter().map(|&(v, w)| (v, (1.0 - alpha) * w / total)));
        let at = out.partition_point(|&(v, _)| v < x);
        out.insert(at, (x, alpha));
    } else {
        out.push((x, 1.0));
    }
}

/// Calls `f(node, μ(node), ν(node))` for every node in either sorted support.
fn merge_measures<N: Copy + Ord>(mu: &[(N, f64)], nu: &[(N, f64)], mut f: impl FnMut(N, f64, f64)) {
    let (mut i, mut j) = (0, 0);
    while i < mu.len() || j < nu.len() {
        match (mu.get(i), nu.get(j)) {
            (Some(&(u, a)), Some(&(v, b))) if u == v => {
                f(u, a, b);
                i += 1;
                j += 1;
            }
            (Some(&(u, a)), Some(&(v, _))) if u < v => {
                f(u, a, 0.0);
                i += 1;
            }
            (Some(&(u, a)), None) => {
                f(u, a, 0.0);
                i += 1;
            }
            (_, Some(&(v, b))) => {
                f(v, 0.0, b);
                j += 1;
            }
            (None, None) => break,
        }
    }
}

/// Hop distance between `u ∈ N[x]` and `v ∈ N[y]` for an edge `x ~ y`, given their sorted
/// neighbour lists: at most 3 (the path `u–x–y–v`), so it is 0 (same node), 1 (adjacent),
/// 2 (a common neighbour) or 3. Uses the adjacency lists instead of an all-pairs search.
fn local_distance<N: Copy + Ord>(u: N, nu: &[(N, f64)], v: N, nv: &[(N, f64)]) -> f64 {
    if u == v {
        return 0.0;
    }
    if nu.binary_search_by_key(&v, |&(n, _)| n).is_ok() {
        return 1.0;
    }
    let (mut i, mut j) = (0, 0);
    while i < nu.len() && j < nv.len() {
        match nu[i].0.cmp(&nv[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return 2.0,
        }
    }
    3.0
}

/// Mean κ over `edges`, 0 for none (an edgeless graph), summed exactly in fixed point
/// ([`KappaSum`]), so the order of the edges does not matter. [`OllivierRicci`]'s output is
/// `mean_curvature(&ollivier_ricci(&g, α))` for `g` the [`TransitionGraph::from_prices`] of its
/// window, bit for bit. Values outside the fixed point's range (|κ| > 2⁴⁰, which no
/// Ollivier–Ricci or Forman curvature of a window reaches, or not finite) are summed as
/// floating point in the order given instead, so a NaN or an infinity carries through.
#[must_use]
pub fn mean_curvature(edges: &[EdgeCurvature]) -> f64 {
    if !edges.iter().all(|e| KappaSum::holds(e.kappa)) {
        let sum: f64 = edges.iter().map(|e| e.kappa).sum();
        return sum / edges.len() as f64;
    }
    let mut sum = KappaSum::default();
    for e in edges {
        sum.add(e.kappa);
    }
    sum.mean()
}

/// A sum of curvatures kept exactly: each value is rounded once to a multiple of 2⁻⁸⁰ (κ lies
/// in `[−2, 1]`, so that loses nothing a mean can show) and the multiples add up in an
/// `i128`, with no rounding at all. So values can be added and taken out again in any order,
/// over any number of updates, with no drift: the streaming mean equals the from-scratch one
/// bit for bit, at O(1) per changed edge instead of a re-sum of every edge. (Room: values of
/// magnitude up to 2⁴⁰ ([`KappaSum::holds`]) take 2¹²⁰, so 2⁷ of them, or 2⁴⁶ curvatures of
/// Ollivier–Ricci's `[−2, 1]`, fit in the `i128`.)
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct KappaSum {
    total: i128,
    count: usize,
}

/// 2⁸⁰.
const KAPPA_SCALE: f64 = 1_208_925_819_614_629_174_706_176.0;

impl KappaSum {
    /// Whether `kappa` is in the range the sum is meant for: finite, |κ| ≤ 2⁴⁰. Curvatures of
    /// a window's graph always are. (An Ollivier–Ricci κ, computed as `1 − W1` with
    /// `W1 ∈ [0, 3]`, is a multiple of 2⁻⁵³, so for those the fixed point does not even round:
    /// the sum is the exact sum.)
    pub(crate) fn holds(kappa: f64) -> bool {
        kappa.abs() <= 1_099_511_627_776.0
    }

    fn fixed(kappa: f64) -> i128 {
        // Scaling by a power of two is exact; in range (see `holds`), so is the cast.
        (kappa * KAPPA_SCALE).round() as i128
    }

    pub(crate) fn add(&mut self, kappa: f64) {
        self.total += Self::fixed(kappa);
        self.count += 1;
    }

    /// Takes out a value added before.
    pub(crate) fn remove(&mut self, kappa: f64) {
        self.total -= Self::fixed(kappa);
        self.count -= 1;
    }

    /// The mean, 0 for no value.
    pub(crate) fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total as f64 / KAPPA_SCALE / self.count as f64
        }
    }
}

/// Mean Ollivier–Ricci curvature of the transition graph of the last `window` prices: levels
/// [`TransitionGraph::level`] = `round(ln p / step)` (a factor `e^step ≈ 1 + step` apart, one
/// grid for every window; prices ≤ 0 or not finite are skipped, as gaps), lazy walk idleness
/// `alpha`. A graph with no edge (a flat window) has curvature 0 by convention.
///
/// The output is `mean_curvature(&ollivier_ricci(&TransitionGraph::from_prices(w, step),
/// alpha))` for `w` the window's prices, bit for bit, however long the stream before it
/// (property-tested) — computed incrementally: each update adds the newest transition and
/// removes the one that left the window (a weight change, or one edge inserted or removed),
/// lists as stale the edges whose κ can change (those at either end of the changed edge, and,
/// when an edge appears or disappears, those near it that read a hop distance it changes),
/// re-solves only those (one exact transport problem each) and adjusts an exact fixed-point
/// sum of the κs by their changes (no re-sum, and no drift).
///
/// Warm-up: `window − 1`. Cost per update: O(1) expected for the graph bookkeeping (hash maps
/// and linked adjacency lists, see `WindowGraph`), work polynomial in the local degrees to
/// list the stale edges (O(d) for a weight change at nodes of degree ≤ d; when an edge appears
/// or disappears, each neighbour's neighbours are tested against the other end's list, at most
/// d³ hash probes, far fewer on price graphs), plus one
/// transport problem on the two neighbourhoods of each stale edge; nothing is proportional to
/// the window or the edge count as such. How many edges are stale depends on the degrees
/// around the changed edge, not on w: on the S&P 500 at w = 200 about 14 on average. No exact
/// algorithm can do better in the worst case: a transition at a level with d neighbours moves
/// that level's measure, which changes the κ of all d edges there, and the mean needs every
/// one of them. No allocation per update: every buffer is reserved in `new` (for windows up to
/// 510 prices for any graph; above, the transport matrices are reserved for 2^16 supply–demand
/// pairs).
///
/// Checkpoints hold `step`, `alpha` and the price window only; the graph and the cached
/// curvatures are rebuilt on load (the first update then solves every edge once).
#[derive(Debug, Deserialize)]
#[serde(try_from = "OllivierRicciState")]
pub struct OllivierRicci {
    alpha: f64,
    graph: WindowGraph,
    solver: EdgeKappa<i64>,
}

/// Serialised form of [`OllivierRicci`], validated on the way back in.
#[derive(Deserialize)]
struct OllivierRicciState {
    step: f64,
    alpha: f64,
    prices: Ring<f64>,
}

#[derive(Serialize)]
struct OllivierRicciStateRef<'a> {
    step: f64,
    alpha: f64,
    prices: &'a Ring<f64>,
}

impl Serialize for OllivierRicci {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        OllivierRicciStateRef {
            step: self.graph.step(),
            alpha: self.alpha,
            prices: self.graph.prices(),
        }
        .serialize(s)
    }
}

impl TryFrom<OllivierRicciState> for OllivierRicci {
    type Error = Error;
    fn try_from(s: OllivierRicciState) -> Result<Self, Error> {
        check_parameters(s.prices.capacity(), s.step, s.alpha)?;
        Ok(Self::with_graph(
            s.alpha,
            WindowGraph::with_prices(s.prices, s.step),
        ))
    }
}

impl Clone for OllivierRicci {
    fn clone(&self) -> Self {
        // The solver holds scratch only; a fresh one keeps its reserved capacity.
        Self {
            alpha: self.alpha,
            graph: self.graph.clone(),
            // A window of w prices has fewer than w edges.
            solver: EdgeKappa::with_capacity(self.graph.window()),
        }
    }
}

impl PartialEq for OllivierRicci {
    fn eq(&self, other: &Self) -> bool {
        // Everything else is derived from these.
        self.alpha == other.alpha
            && self.graph.step() == other.graph.step()
            && self.graph.prices() == other.graph.prices()
    }
}

fn check_parameters(window: usize, step: f64, alpha: f64) -> Result<(), Error> {
    check_period("OLLIVIER_RICCI", "window", window, 3)?;
    // Edge slots and arcs are numbered in `u32` (two arcs per edge).
    check_range(
        "OLLIVIER_RICCI",
        "window",
        window as f64,
        3.0,
        f64::from(u32::MAX / 2),
        "[3, 2^31 − 1]",
    )?;
    check_range(
        "OLLIVIER_RICCI",
        "step",
        step,
        f64::MIN_POSITIVE,
        1e300,
        "(0, 1e300]",
    )?;
    check_range("OLLIVIER_RICCI", "alpha", alpha, 0.0, 0.999_999, "[0, 1)")?;
    Ok(())
}

impl OllivierRicci {
    /// Curvature over `window` prices.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 3`; [`Error::ParameterOutOfRange`] if `step` is
    /// not positive and finite or `alpha` is outside `[0, 1)`.
    pub fn new(window: usize, step: f64, alpha: f64) -> Result<Self, Error> {
        check_parameters(window, step, alpha)?;
        Ok(Self::with_graph(alpha, WindowGraph::new(window, step)))
    }

    fn with_graph(alpha: f64, graph: WindowGraph) -> Self {
        Self {
            alpha,
            // A window of w prices has fewer than w edges.
            solver: EdgeKappa::with_capacity(graph.window()),
            graph,
        }
    }

    /// Appends a price to the window (no curvature computed).
    pub(crate) fn push(&mut self, price: f64) {
        self.graph.push(price);
    }

    /// Window length.
    pub(crate) fn window(&self) -> usize {
        self.graph.window()
    }

    /// Whether the window is full.
    pub(crate) fn is_full(&self) -> bool {
        self.graph.is_full()
    }

    /// Mean κ of the current window's graph, recomputing the stale edges.
    pub(crate) fn curvature(&mut self) -> f64 {
        let (alpha, solver) = (self.alpha, &mut self.solver);
        self.graph.refresh(|g, a, b| solver.kappa(g, a, b, alpha));
        self.graph.mean_value()
    }

    /// Mean Forman–Ricci curvature of the current window's graph, O(1) (kept up to date by
    /// every update, see `WindowGraph::forman_mean`).
    pub(crate) fn forman(&self) -> f64 {
        self.graph.forman_mean()
    }

    /// The edges the last [`OllivierRicci::push`] (or update) added (`true`) or removed, as
    /// level pairs `(a, b)`, `a < b`.
    pub(crate) fn edge_changes(&self) -> &[((i64, i64), bool)] {
        self.graph.changes()
    }

    /// Number of edges of the current window's graph.
    pub(crate) fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Appends the current edges as level pairs `(a, b)`, `a < b`, sorted.
    pub(crate) fn level_edges_into(&self, out: &mut Vec<(i64, i64)>) {
        self.graph.level_edges_into(out);
    }
}

impl Indicator for OllivierRicci {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, price: f64) -> Option<f64> {
        self.graph.push(price);
        self.graph.is_full().then(|| self.curvature())
    }

    fn reset(&mut self) {
        self.graph.reset();
    }

    fn is_ready(&self) -> bool {
        self.graph.is_full()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    fn hops(g: &TransitionGraph, from: usize) -> Vec<usize> {
        let mut d = vec![usize::MAX; g.node_count()];
        d[from] = 0;
        let mut q = VecDeque::from([from]);
        while let Some(v) = q.pop_front() {
            for &(u, _) in g.neighbours(v) {
                if d[u] == usize::MAX {
                    d[u] = d[v] + 1;
                    q.push_back(u);
                }
            }
        }
        d
    }

    /// The textbook computation: full measures, all-pairs BFS distances, no cancellation.
    fn reference(g: &TransitionGraph, alpha: f64) -> Vec<f64> {
        let mut t = Transport::default();
        let (mut mx, mut my) = (Vec::new(), Vec::new());
        g.edges()
            .map(|(x, y, _)| {
                lazy_measure(g.neighbours(x), x, alpha, &mut mx);
                lazy_measure(g.neighbours(y), y, alpha, &mut my);
                let (sx, ax): (Vec<usize>, Vec<f64>) = mx.iter().copied().unzip();
                let (sy, ay): (Vec<usize>, Vec<f64>) = my.iter().copied().unzip();
                let dist: Vec<Vec<usize>> = sx.iter().map(|&u| hops(g, u)).collect();
                1.0 - t.solve(&ax, &ay, |i, j| dist[i][sy[j]] as f64)
            })
            .collect()
    }

    /// Prices on the levels 461..=468 of a 0.01 grid (dense graphs, many edges appearing and
    /// disappearing), with gaps (NaN, 0, negative) mixed in.
    fn level_prices() -> impl proptest::strategy::Strategy<Value = Vec<f64>> {
        use proptest::prelude::*;
        let price = prop_oneof![
            12 => (0u8..8).prop_map(|k| 100.0 * (0.01 * f64::from(k)).exp()),
            1 => Just(f64::NAN),
            1 => Just(0.0),
            1 => Just(-3.0),
            2 => 1.0f64..2000.0,
        ];
        proptest::collection::vec(price, 0..150)
    }

    proptest::proptest! {
        #[test]
        fn streaming_equals_from_scratch_bit_for_bit(
            xs in level_prices(),
            window in 3usize..25,
            alpha in proptest::sample::select(vec![0.0, 0.25, 0.5]),
        ) {
            let mut ind = OllivierRicci::new(window, 0.01, alpha).unwrap();
            let mut prices: Vec<f64> = Vec::new();
            for &x in &xs {
                ind.push(x);
                prices.push(x);
                let start = prices.len().saturating_sub(window);
                let g = TransitionGraph::from_prices(&prices[start..], 0.01);
                let scratch = mean_curvature(&ollivier_ricci(&g, alpha));
                let streamed = ind.curvature();
                proptest::prop_assert_eq!(streamed.to_bits(), scratch.to_bits(), "{} vs {}", streamed, scratch);
                let mut edges = Vec::new();
                ind.level_edges_into(&mut edges);
                let expected: Vec<(i64, i64)> = g.level_edges().collect();
                proptest::prop_assert_eq!(edges, expected);
                proptest::prop_assert_eq!(ind.forman().to_bits(), mean_curvature(&crate::forman_ricci(&g)).to_bits());
            }
            // Rebuilt from a checkpoint: the same state, the same value (JSON has no NaN).
            if !ind.graph.prices().iter().all(f64::is_finite) {
                return Ok(());
            }
            let json = serde_json::to_string(&ind).unwrap();
            let mut back: OllivierRicci = serde_json::from_str(&json).unwrap();
            proptest::prop_assert_eq!(back.curvature().to_bits(), ind.curvature().to_bits());
        }

        #[test]
        fn matches_the_textbook_computation(
            edges in proptest::collection::vec((0usize..8, 0usize..8, 1u8..4), 1..20),
            alpha in 0.0f64..0.9,
        ) {
            let edges: Vec<(usize, usize, f64)> = edges.into_iter().map(|(a, b, w)| (a, b, f64::from(w))).collect();
            let g = TransitionGraph::from_edges(8, &edges);
            let fast: Vec<f64> = ollivier_ricci(&g, alpha).iter().map(|e| e.kappa).collect();
            let slow = reference(&g, alpha);
            for (a, b) in fast.iter().zip(&slow) {
                proptest::prop_assert!((a - b).abs() < 1e-9, "{} vs {}", a, b);
            }
        }
    }
}
