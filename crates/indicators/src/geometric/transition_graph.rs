//! [`TransitionGraph`]: the price-level transition graph the Ricci curvatures are computed on,
//! and [`WindowGraph`], the same graph over a sliding window, maintained edge by edge.

use crate::window::Ring;

/// An undirected weighted graph without self-loops: nodes are price levels, an edge joins two
/// levels the price moved between on consecutive bars, and its weight counts those moves
/// (repeats accumulate instead of overwriting, and staying on a level adds nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionGraph {
    /// Node `v`'s `(neighbour, weight)` pairs are `arcs[offsets[v]..offsets[v + 1]]`, sorted
    /// by neighbour.
    offsets: Vec<usize>,
    arcs: Vec<(usize, f64)>,
    /// Level (in units of the level step) of each node, ascending.
    levels: Vec<i64>,
}

/// Curvature of one edge.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EdgeCurvature {
    /// One end (node index, the smaller).
    pub from: usize,
    /// The other end.
    pub to: usize,
    /// Edge weight (number of transitions).
    pub weight: f64,
    /// Curvature.
    pub kappa: f64,
}

/// Read access to a graph whose adjacency lists are sorted by node, shared by the
/// per-edge curvature code so that a [`TransitionGraph`] (nodes `0..n` in level order) and a
/// [`WindowGraph`] (nodes are the levels themselves) go through the same arithmetic in the
/// same order.
pub(crate) trait Adjacency {
    /// Node key; its order is the order neighbours are visited in.
    type Node: Copy + Ord;
    /// Every node's `(neighbour, weight)` pairs, node after node, each run sorted.
    fn arcs(&self) -> &[(Self::Node, f64)];
    /// The run of `arcs()` holding `x`'s neighbours (empty for an unknown node).
    fn range(&self, x: Self::Node) -> (usize, usize);
    /// Neighbours of `x` with weights, sorted by node.
    fn neighbours(&self, x: Self::Node) -> &[(Self::Node, f64)] {
        let (lo, hi) = self.range(x);
        &self.arcs()[lo..hi]
    }
}

impl Adjacency for TransitionGraph {
    type Node = usize;
    fn arcs(&self) -> &[(usize, f64)] {
        &self.arcs
    }
    fn range(&self, x: usize) -> (usize, usize) {
        match (self.offsets.get(x), self.offsets.get(x + 1)) {
            (Some(&lo), Some(&hi)) => (lo, hi),
            _ => (0, 0),
        }
    }
}

/// Largest level magnitude kept: beyond ±2^53 a level carries no meaning (and would not
/// convert exactly).
const MAX_LEVEL: f64 = 9.0e15;

impl TransitionGraph {
    /// A graph on `nodes` nodes from `(a, b, weight)` edges; self-loops, out-of-range nodes and
    /// non-positive or non-finite weights are ignored, parallel edges add up.
    #[must_use]
    pub fn from_edges(nodes: usize, edges: &[(usize, usize, f64)]) -> Self {
        let mut adjacency = vec![Vec::new(); nodes];
        for &(a, b, w) in edges {
            add(&mut adjacency, a, b, w);
        }
        Self::from_adjacency(&adjacency, (0..nodes as i64).collect())
    }

    fn from_adjacency(adjacency: &[Vec<(usize, f64)>], levels: Vec<i64>) -> Self {
        let mut offsets = Vec::with_capacity(adjacency.len() + 1);
        offsets.push(0);
        let mut arcs = Vec::with_capacity(adjacency.iter().map(Vec::len).sum());
        for list in adjacency {
            arcs.extend_from_slice(list);
            offsets.push(arcs.len());
        }
        Self {
            offsets,
            arcs,
            levels,
        }
    }

    /// The price level of `price` on the log grid of spacing `step`:
    /// `round(ln(price)/step)`, so consecutive levels are a factor `e^step ≈ 1 + step` apart
    /// and the grid is the same for every window (and every instrument). `None` for a price
    /// that is not positive and finite, or whose level is beyond ±9·10^15.
    #[must_use]
    pub fn level(price: f64, step: f64) -> Option<i64> {
        if !(price > 0.0 && price.is_finite()) {
            return None;
        }
        let l = (price.ln() / step).round();
        // The cast is exact: `l` is a whole number of magnitude below 2^53.
        (l.is_finite() && l.abs() < MAX_LEVEL).then_some(l as i64)
    }

    /// The transition graph of `prices` on the log levels of [`TransitionGraph::level`].
    /// Prices without a level (zero, negative, non-finite) are skipped, so the prices on
    /// either side of such a gap are treated as consecutive. Nodes are numbered in level
    /// order.
    #[must_use]
    pub fn from_prices(prices: &[f64], step: f64) -> Self {
        let path: Vec<i64> = prices
            .iter()
            .filter_map(|&p| Self::level(p, step))
            .collect();
        let mut levels = path.clone();
        levels.sort_unstable();
        levels.dedup();
        let mut adjacency = vec![Vec::new(); levels.len()];
        let index = |l: i64| levels.binary_search(&l).ok();
        for pair in path.windows(2) {
            if let (Some(a), Some(b)) = (index(pair[0]), index(pair[1])) {
                add(&mut adjacency, a, b, 1.0);
            }
        }
        Self::from_adjacency(&adjacency, levels)
    }

    /// Number of nodes.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.levels.len()
    }

    /// Edges as `(a, b, weight)` with `a < b`, in lexicographic order.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        (0..self.node_count()).flat_map(move |a| {
            self.neighbours(a)
                .iter()
                .filter(move |&&(b, _)| a < b)
                .map(move |&(b, w)| (a, b, w))
        })
    }

    /// Edges as pairs of price levels, for comparing graphs built with the same step.
    pub fn level_edges(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.edges()
            .map(|(a, b, _)| (self.levels[a], self.levels[b]))
    }

    /// Neighbours of `v` with weights, sorted by neighbour.
    #[must_use]
    pub fn neighbours(&self, v: usize) -> &[(usize, f64)] {
        Adjacency::neighbours(self, v)
    }
}

/// Adds weight `w` to the undirected edge `a–b` of sorted adjacency lists; self-loops,
/// out-of-range nodes and non-positive or non-finite weights are ignored.
fn add(adjacency: &mut [Vec<(usize, f64)>], a: usize, b: usize, w: f64) {
    if a == b || a >= adjacency.len() || b >= adjacency.len() || !(w > 0.0 && w.is_finite()) {
        return;
    }
    for (x, y) in [(a, b), (b, a)] {
        let list = &mut adjacency[x];
        match list.binary_search_by_key(&y, |&(n, _)| n) {
            Ok(i) => list[i].1 += w,
            Err(i) => list.insert(i, (y, w)),
        }
    }
}

/// The [`TransitionGraph`] of the last `window` prices, maintained one transition at a time,
/// with a cached value per edge (the curvature) and a flag for edges whose value may have
/// changed since it was last computed.
///
/// Storage: the directed arcs `(from, to, weight)` — two per edge — in one array sorted by
/// `(from, to)`, so a node's neighbours are a contiguous, level-sorted slice found by binary
/// search, and the edges `from < to` come out in the same lexicographic order as
/// [`TransitionGraph::edges`]. An update adds the newest transition and removes the one that
/// left the window: a weight change in place, or one insertion/removal (a memmove of at most
/// `2·window` entries) when an edge appears or disappears. Every buffer is reserved in
/// [`WindowGraph::new`] (a window of w prices has at most w − 1 edges), so updates do not
/// allocate.
///
/// The state is a function of the window's prices alone (the arcs are kept sorted, and the
/// weights are exact counts), whatever the history: serialise the prices and rebuild.
#[derive(Debug)]
pub(crate) struct WindowGraph {
    step: f64,
    prices: Ring<f64>,
    /// Number of prices pushed since the last reset (wrapping; only differences matter).
    seq: u64,
    /// `(seq, level)` of the prices in the window that have a level, oldest first.
    levels: Ring<(u64, i64)>,
    /// Arc tails, sorted; `arcs[i]` is the head and weight of arc `i`.
    from: Vec<i64>,
    arcs: Vec<(i64, f64)>,
    /// Per arc with `from < to`: the cached edge value and whether it is stale.
    value: Vec<f64>,
    stale: Vec<bool>,
}

impl WindowGraph {
    /// An empty graph over windows of `window` prices with log-level spacing `step`.
    pub(crate) fn new(window: usize, step: f64) -> Self {
        Self::with_prices(Ring::new(window), step)
    }

    /// The graph of the prices in `prices` (e.g. a ring restored from a checkpoint).
    pub(crate) fn with_prices(prices: Ring<f64>, step: f64) -> Self {
        let window = prices.capacity();
        let arcs = 2 * window;
        let mut g = Self {
            step,
            levels: Ring::new(window),
            prices,
            seq: 0,
            from: Vec::with_capacity(arcs),
            arcs: Vec::with_capacity(arcs),
            value: Vec::with_capacity(arcs),
            stale: Vec::with_capacity(arcs),
        };
        g.rebuild();
        g
    }

    /// Recomputes the levels and the arcs from the price ring; every edge is stale.
    fn rebuild(&mut self) {
        self.clear();
        for i in 0..self.prices.len() {
            if let Some(p) = self.prices.get(i) {
                self.add_price(p);
            }
        }
    }

    fn clear(&mut self) {
        self.seq = 0;
        self.levels.clear();
        self.from.clear();
        self.arcs.clear();
        self.value.clear();
        self.stale.clear();
    }

    /// Forgets every price.
    pub(crate) fn reset(&mut self) {
        self.prices.clear();
        self.clear();
    }

    /// The level spacing.
    pub(crate) fn step(&self) -> f64 {
        self.step
    }

    /// The price window (oldest first), for serialisation.
    pub(crate) fn prices(&self) -> &Ring<f64> {
        &self.prices
    }

    /// Window length.
    pub(crate) fn window(&self) -> usize {
        self.prices.capacity()
    }

    /// Whether the window holds `window` prices.
    pub(crate) fn is_full(&self) -> bool {
        self.prices.is_full()
    }

    /// Appends `price` to the window: the transition from the oldest leveled price to the
    /// next one leaves if the oldest price leaves, and the transition from the newest leveled
    /// price to this one (if it has a level) arrives.
    pub(crate) fn push(&mut self, price: f64) {
        let seq = self.seq;
        if self.prices.push_back(price).is_some() {
            let leaving = seq.wrapping_sub(self.prices.capacity() as u64);
            if self.levels.front().is_some_and(|(s, _)| s == leaving)
                && let Some((_, a)) = self.levels.pop_front()
                && let Some((_, b)) = self.levels.front()
            {
                self.change(a, b, -1.0);
            }
        }
        self.add_price(price);
    }

    /// The level bookkeeping of a price entering the window.
    fn add_price(&mut self, price: f64) {
        let seq = self.seq;
        self.seq = seq.wrapping_add(1);
        if let Some(level) = TransitionGraph::level(price, self.step) {
            if let Some((_, prev)) = self.levels.back() {
                self.change(prev, level, 1.0);
            }
            // Never evicts: the ring holds at most the window's other prices.
            self.levels.push_back((seq, level));
        }
    }

    /// Position of arc `x → y`: `Ok` if present, else where it would be inserted.
    fn find(&self, x: i64, y: i64) -> Result<usize, usize> {
        let (lo, hi) = self.span(x);
        self.arcs[lo..hi]
            .binary_search_by_key(&y, |&(v, _)| v)
            .map(|i| lo + i)
            .map_err(|i| lo + i)
    }

    /// The arcs out of `x`, as an index range: one binary search, then a scan over the
    /// (few) arcs of `x`.
    fn span(&self, x: i64) -> (usize, usize) {
        let lo = self.from.partition_point(|&f| f < x);
        let hi = lo + self.from[lo..].iter().take_while(|&&f| f == x).count();
        (lo, hi)
    }

    /// Adds `delta` (±1) to the weight of edge `a–b`, inserting or removing it, and marks the
    /// edges whose curvature can change as stale.
    fn change(&mut self, a: i64, b: i64, delta: f64) {
        if a == b {
            return;
        }
        let mut topology = false;
        for (x, y) in [(a, b), (b, a)] {
            match self.find(x, y) {
                Ok(i) => {
                    self.arcs[i].1 += delta;
                    if self.arcs[i].1 <= 0.0 {
                        self.from.remove(i);
                        self.arcs.remove(i);
                        self.value.remove(i);
                        self.stale.remove(i);
                        topology = true;
                    }
                }
                Err(i) if delta > 0.0 => {
                    self.from.insert(i, x);
                    self.arcs.insert(i, (y, delta));
                    self.value.insert(i, 0.0);
                    self.stale.insert(i, true);
                    topology = true;
                }
                // Removing a transition that is not there cannot happen; nothing to undo.
                Err(_) => {}
            }
        }
        // κ(x, y) reads μ_x, μ_y (the weights around x and y) and the hop distances d(u, v),
        // u ∈ N[x], v ∈ N[y], each 0–3 and decided by adjacency alone. A weight change at
        // a–b moves μ_a and μ_b only: the edges at a or b. Adding or removing a–b also
        // changes d(a, b) and d(a, v) for v ∈ N[b] ∖ {a} (b is or stops being a common
        // neighbour), and symmetrically d(b, v) for v ∈ N[a] ∖ {b}, and no other distance.
        // So beyond the edges at a or b, an edge x–y changes only if one end, say x, is a
        // neighbour of a (so a ∈ N[x]) and the other reaches N[b] ∖ {a} in at most one hop,
        // or the same with a and b swapped. Neighbourhoods of nodes other than a and b are the
        // same before and after, and N(a) ∖ {b}, N(b) ∖ {a} too, so this can be read off the
        // graph after the change.
        self.mark_around(a);
        self.mark_around(b);
        if topology {
            for (end, other) in [(a, b), (b, a)] {
                let (lo, hi) = self.span(end);
                for i in lo..hi {
                    let x = self.arcs[i].0;
                    if x != other {
                        self.mark_near(x, other, end);
                    }
                }
            }
        }
    }

    /// Marks the edges `x–y` with `N[y] ∩ (N[b] ∖ {a}) ≠ ∅` stale.
    fn mark_near(&mut self, x: i64, b: i64, a: i64) {
        let (lo, hi) = self.span(x);
        for i in lo..hi {
            let y = self.arcs[i].0;
            if self.meets(y, b, a) {
                if x < y {
                    self.stale[i] = true;
                } else if let Ok(j) = self.find(y, x) {
                    self.stale[j] = true;
                }
            }
        }
    }

    /// Whether `N[y]` and `N[b] ∖ {a}` meet.
    fn meets(&self, y: i64, b: i64, a: i64) -> bool {
        if y == b {
            return true;
        }
        let ny = self.neighbours(y);
        let nb = self.neighbours(b);
        // y ~ b puts b in N[y] (and y in N[b]).
        if nb.binary_search_by_key(&y, |&(v, _)| v).is_ok() {
            return true;
        }
        let (mut i, mut j) = (0, 0);
        while i < ny.len() && j < nb.len() {
            match ny[i].0.cmp(&nb[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal if ny[i].0 == a => {
                    i += 1;
                    j += 1;
                }
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    /// Marks every edge at `z` stale.
    fn mark_around(&mut self, z: i64) {
        let (lo, hi) = self.span(z);
        for i in lo..hi {
            let v = self.arcs[i].0;
            if z < v {
                self.stale[i] = true;
            } else if let Ok(j) = self.find(v, z) {
                self.stale[j] = true;
            }
        }
    }

    /// Recomputes the value of every stale edge with `f(graph, a, b)` (`a < b`), in edge
    /// order.
    pub(crate) fn refresh(&mut self, mut f: impl FnMut(&Self, i64, i64) -> f64) {
        for i in 0..self.arcs.len() {
            let (a, b) = (self.from[i], self.arcs[i].0);
            if a < b && self.stale[i] {
                self.value[i] = f(self, a, b);
                self.stale[i] = false;
            }
        }
    }

    /// Edges `(a, b)` with `a < b` as levels, in lexicographic order, with their cached
    /// values (meaningful after [`WindowGraph::refresh`]).
    pub(crate) fn edges(&self) -> impl Iterator<Item = (i64, i64, f64)> + '_ {
        self.from
            .iter()
            .zip(&self.arcs)
            .zip(&self.value)
            .filter(|((a, (b, _)), _)| **a < *b)
            .map(|((&a, &(b, _)), &v)| (a, b, v))
    }
}

impl Clone for WindowGraph {
    fn clone(&self) -> Self {
        // A derived clone would shrink the arc buffers to their length; keep the reserve.
        fn reserved<T: Copy>(v: &[T], capacity: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(capacity.max(v.len()));
            out.extend_from_slice(v);
            out
        }
        let arcs = 2 * self.window();
        Self {
            step: self.step,
            prices: self.prices.clone(),
            seq: self.seq,
            levels: self.levels.clone(),
            from: reserved(&self.from, arcs),
            arcs: reserved(&self.arcs, arcs),
            value: reserved(&self.value, arcs),
            stale: reserved(&self.stale, arcs),
        }
    }
}

impl Adjacency for WindowGraph {
    type Node = i64;
    fn arcs(&self) -> &[(i64, f64)] {
        &self.arcs
    }
    fn range(&self, x: i64) -> (usize, usize) {
        self.span(x)
    }
}
