//! [`TransitionGraph`]: the price-level transition graph the Ricci curvatures are computed on,
//! and [`WindowGraph`], the same graph over a sliding window, maintained edge by edge.

use super::ollivier_ricci::KappaSum;
use crate::window::Ring;

/// The graph's hash maps: keys are price levels, not attacker-chosen strings, and SipHash
/// (the standard library's) cost a fifth of a curvature update here.
type HashMap<K, V> = foldhash::HashMap<K, V>;

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

/// Read access to a graph's adjacency, shared by the per-edge curvature code so that a
/// [`TransitionGraph`] (nodes `0..n` in level order) and a [`WindowGraph`] (nodes are the
/// levels themselves) go through the same arithmetic in the same order.
pub(crate) trait Adjacency {
    /// Node key; its order is the order neighbours are visited in.
    type Node: Copy + Ord;
    /// Appends the `(neighbour, weight)` pairs of `x` to `out`, sorted by node (none for an
    /// unknown node).
    fn neighbours_into(&self, x: Self::Node, out: &mut Vec<(Self::Node, f64)>);
}

impl Adjacency for TransitionGraph {
    type Node = usize;
    fn neighbours_into(&self, x: usize, out: &mut Vec<(usize, f64)>) {
        out.extend_from_slice(self.neighbours(x));
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

    /// Neighbours of `v` with weights, sorted by neighbour (none for an unknown node).
    #[must_use]
    pub fn neighbours(&self, v: usize) -> &[(usize, f64)] {
        match (self.offsets.get(v), self.offsets.get(v + 1)) {
            (Some(&lo), Some(&hi)) => &self.arcs[lo..hi],
            _ => &[],
        }
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
/// with a cached value per edge (the Ollivier–Ricci κ), the list of edges whose value may have
/// changed since it was last computed, and the counts behind the mean Forman curvature.
///
/// Storage, all reserved in [`WindowGraph::new`] (a window of w prices has at most w − 1 edges),
/// so updates do not allocate:
/// - an arena of edges, each with its two arcs (`2e` out of the lower level, `2e + 1` out of
///   the higher), and a free list of edge slots;
/// - per node (level), a doubly linked list of its arcs sorted by neighbour, and its degree,
///   in a hash map;
/// - a hash map from `(lower, higher)` level to the edge slot.
///
/// Every operation of an update — finding an edge, inserting or removing one (its arcs go to
/// their place in the two sorted lists), visiting a node's neighbours in order — is O(1)
/// expected or O(degree): nothing is proportional to the number of edges.
///
/// The edges, their weights (exact counts) and the Forman counts are a function of the
/// window's prices alone; the κ sum is exact (fixed point, see [`KappaSum`]), so the mean does
/// not depend on the order edges were added or refreshed in. Serialise the prices and rebuild.
#[derive(Debug)]
pub(crate) struct WindowGraph {
    step: f64,
    prices: Ring<f64>,
    /// Number of prices pushed since the last reset (wrapping; only differences matter).
    seq: u64,
    /// `(seq, level)` of the prices in the window that have a level, oldest first.
    levels: Ring<(u64, i64)>,
    /// Nodes with at least one edge.
    nodes: HashMap<i64, Node>,
    /// Edge slot of each `(lower, higher)` level pair.
    index: HashMap<(i64, i64), u32>,
    edges: Vec<Edge>,
    arcs: Vec<Arc>,
    /// Edge slots not in use.
    free: Vec<u32>,
    /// Edge slots whose value may be out of date (each at most once: see [`Edge::stale`]).
    stale: Vec<u32>,
    /// The edges the last [`WindowGraph::push`] added (`true`) or removed, at most two.
    changes: Vec<((i64, i64), bool)>,
    /// Sum of the cached values of the live edges that have one.
    kappa: KappaSum,
    /// Σ deg(v)² over nodes, and the number of triangles: with the edge count they give the
    /// Forman sum (see [`WindowGraph::forman_mean`]).
    degree_squares: u64,
    triangles: u64,
}

/// "No arc" in the linked lists.
const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// First arc of the node's list.
    head: u32,
    degree: u32,
}

/// One arc of a node's list: the neighbour and the list links.
#[derive(Debug, Clone, Copy)]
struct Arc {
    to: i64,
    next: u32,
    prev: u32,
}

#[derive(Debug, Clone, Copy)]
struct Edge {
    lo: i64,
    hi: i64,
    weight: f64,
    /// The cached value, counted in [`WindowGraph::kappa`] when `counted`.
    value: f64,
    live: bool,
    counted: bool,
    /// In the stale list. Left set when the edge is removed before its refresh, so that a new
    /// edge in the same slot is not listed twice.
    stale: bool,
}

impl Edge {
    const FREE: Self = Self {
        lo: 0,
        hi: 0,
        weight: 0.0,
        value: 0.0,
        live: false,
        counted: false,
        stale: false,
    };
}

impl WindowGraph {
    /// An empty graph over windows of `window` prices with log-level spacing `step`.
    pub(crate) fn new(window: usize, step: f64) -> Self {
        Self::with_prices(Ring::new(window), step)
    }

    /// The graph of the prices in `prices` (e.g. a ring restored from a checkpoint).
    pub(crate) fn with_prices(prices: Ring<f64>, step: f64) -> Self {
        let window = prices.capacity();
        // At most w − 1 edges and w nodes; hash maps at twice that never reallocate (with
        // at most half their capacity in use, tombstones are cleared in place).
        let slots = window.min((NIL / 2) as usize);
        let mut g = Self {
            step,
            levels: Ring::new(window),
            prices,
            seq: 0,
            nodes: HashMap::with_capacity_and_hasher(2 * window, Default::default()),
            index: HashMap::with_capacity_and_hasher(2 * window, Default::default()),
            edges: vec![Edge::FREE; slots],
            arcs: vec![
                Arc {
                    to: 0,
                    next: NIL,
                    prev: NIL,
                };
                2 * slots
            ],
            free: Vec::with_capacity(slots),
            stale: Vec::with_capacity(slots),
            changes: Vec::with_capacity(2),
            kappa: KappaSum::default(),
            degree_squares: 0,
            triangles: 0,
        };
        g.rebuild();
        g
    }

    /// Recomputes the levels and the edges from the price ring; every edge is stale.
    fn rebuild(&mut self) {
        self.clear();
        for i in 0..self.prices.len() {
            if let Some(p) = self.prices.get(i) {
                self.add_price(p);
                self.changes.clear();
            }
        }
    }

    fn clear(&mut self) {
        self.seq = 0;
        self.levels.clear();
        self.nodes.clear();
        self.index.clear();
        self.edges.fill(Edge::FREE);
        self.free.clear();
        // Lowest slot first, so a rebuilt graph numbers its edges as a fresh one does.
        self.free.extend((0..self.edges.len() as u32).rev());
        self.stale.clear();
        self.changes.clear();
        self.kappa = KappaSum::default();
        self.degree_squares = 0;
        self.triangles = 0;
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
        self.changes.clear();
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

    /// The edge slot of `a–b`, if it is an edge.
    fn edge(&self, a: i64, b: i64) -> Option<u32> {
        self.index.get(&(a.min(b), a.max(b))).copied()
    }

    /// Where a walk over the arcs out of `x` starts (see [`WindowGraph::next_arc`]).
    fn first_arc(&self, x: i64) -> u32 {
        self.nodes.get(&x).map_or(NIL, |n| n.head)
    }

    /// The arc at `at` as `(neighbour, edge slot)`, moving `at` on to the next one, in
    /// neighbour order; `None` past the last. A cursor rather than an iterator, so that a walk
    /// can list edges as stale (`&mut self`) as it goes.
    fn next_arc(&self, at: &mut u32) -> Option<(i64, u32)> {
        if *at == NIL {
            return None;
        }
        let arc = self.arcs[*at as usize];
        let slot = *at / 2;
        *at = arc.next;
        Some((arc.to, slot))
    }

    fn degree(&self, x: i64) -> u32 {
        self.nodes.get(&x).map_or(0, |n| n.degree)
    }

    /// How many neighbours of `a`, other than `skip`, are also neighbours of `b`, counted up to
    /// `limit`: the smaller list is walked, the other probed through the index.
    fn common_neighbours(&self, a: i64, b: i64, skip: Option<i64>, limit: u64) -> u64 {
        let (walk, probe) = if self.degree(a) <= self.degree(b) {
            (a, b)
        } else {
            (b, a)
        };
        let (mut at, mut n) = (self.first_arc(walk), 0);
        while n < limit
            && let Some((v, _)) = self.next_arc(&mut at)
        {
            if Some(v) != skip && v != probe && self.edge(v, probe).is_some() {
                n += 1;
            }
        }
        n
    }

    /// Adds `delta` (±1) to the weight of edge `a–b`, inserting or removing it, and lists the
    /// edges whose curvature can change as stale.
    fn change(&mut self, a: i64, b: i64, delta: f64) {
        if a == b {
            return;
        }
        let topology = match self.edge(a, b) {
            Some(e) => {
                let edge = &mut self.edges[e as usize];
                edge.weight += delta;
                let gone = edge.weight <= 0.0;
                if gone {
                    self.remove_edge(e);
                }
                gone
            }
            None if delta > 0.0 => self.insert_edge(a.min(b), a.max(b), delta),
            // Removing a transition that is not there cannot happen; nothing to undo.
            None => return,
        };
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
                let mut at = self.first_arc(end);
                while let Some((x, _)) = self.next_arc(&mut at) {
                    if x != other {
                        self.mark_near(x, other, end);
                    }
                }
            }
        }
    }

    /// Inserts the edge `lo–hi` (`lo < hi`) with weight `w`; false if no slot is left (cannot
    /// happen: a window has fewer edges than slots).
    fn insert_edge(&mut self, lo: i64, hi: i64, w: f64) -> bool {
        let Some(e) = self.free.pop() else {
            return false;
        };
        self.triangles += self.common_neighbours(lo, hi, None, u64::MAX);
        self.link(2 * e, lo, hi);
        self.link(2 * e + 1, hi, lo);
        self.index.insert((lo, hi), e);
        self.changes.push(((lo, hi), true));
        let edge = &mut self.edges[e as usize];
        let listed = edge.stale;
        *edge = Edge {
            lo,
            hi,
            weight: w,
            value: 0.0,
            live: true,
            counted: false,
            stale: true,
        };
        if !listed {
            self.stale.push(e);
        }
        true
    }

    fn remove_edge(&mut self, e: u32) {
        let edge = self.edges[e as usize];
        self.unlink(2 * e, edge.lo);
        self.unlink(2 * e + 1, edge.hi);
        self.index.remove(&(edge.lo, edge.hi));
        self.changes.push(((edge.lo, edge.hi), false));
        self.triangles -= self.common_neighbours(edge.lo, edge.hi, None, u64::MAX);
        if edge.counted {
            self.kappa.remove(edge.value);
        }
        let slot = &mut self.edges[e as usize];
        slot.live = false;
        slot.counted = false;
        self.free.push(e);
    }

    /// Puts arc `a` (`from → to`) into `from`'s list, which is kept sorted by neighbour
    /// (O(degree)) so that reading it needs no sort.
    fn link(&mut self, a: u32, from: i64, to: i64) {
        let node = self.nodes.entry(from).or_insert(Node {
            head: NIL,
            degree: 0,
        });
        let (mut prev, mut next) = (NIL, node.head);
        while next != NIL && self.arcs[next as usize].to < to {
            prev = next;
            next = self.arcs[next as usize].next;
        }
        self.arcs[a as usize] = Arc { to, next, prev };
        if next != NIL {
            self.arcs[next as usize].prev = a;
        }
        if prev == NIL {
            node.head = a;
        } else {
            self.arcs[prev as usize].next = a;
        }
        // (d + 1)² − d² = 2d + 1.
        self.degree_squares += 2 * u64::from(node.degree) + 1;
        node.degree += 1;
    }

    /// Takes arc `a` out of `from`'s list, dropping the node when it has no arc left.
    fn unlink(&mut self, a: u32, from: i64) {
        let Arc { next, prev, .. } = self.arcs[a as usize];
        if next != NIL {
            self.arcs[next as usize].prev = prev;
        }
        if prev != NIL {
            self.arcs[prev as usize].next = next;
        }
        if let Some(node) = self.nodes.get_mut(&from) {
            if prev == NIL {
                node.head = next;
            }
            node.degree -= 1;
            // d² − (d − 1)² = 2(d − 1) + 1.
            self.degree_squares -= 2 * u64::from(node.degree) + 1;
            if node.degree == 0 {
                self.nodes.remove(&from);
            }
        }
    }

    fn mark(&mut self, e: u32) {
        let edge = &mut self.edges[e as usize];
        if !edge.stale {
            edge.stale = true;
            self.stale.push(e);
        }
    }

    /// Lists the edges `x–y` with `N[y] ∩ (N[b] ∖ {a}) ≠ ∅` as stale.
    fn mark_near(&mut self, x: i64, b: i64, a: i64) {
        let mut at = self.first_arc(x);
        while let Some((y, e)) = self.next_arc(&mut at) {
            // An edge already listed needs no test; y ~ b puts b in N[y] (and y in N[b]).
            if !self.edges[e as usize].stale
                && (y == b
                    || self.edge(y, b).is_some()
                    || self.common_neighbours(y, b, Some(a), 1) > 0)
            {
                self.mark(e);
            }
        }
    }

    /// Lists every edge at `z` as stale.
    fn mark_around(&mut self, z: i64) {
        let mut at = self.first_arc(z);
        while let Some((_, e)) = self.next_arc(&mut at) {
            self.mark(e);
        }
    }

    /// Recomputes the value of every stale edge with `f(graph, a, b)` (`a < b`); the order
    /// does not matter (each value depends on the graph only, and their sum is exact).
    pub(crate) fn refresh(&mut self, mut f: impl FnMut(&Self, i64, i64) -> f64) {
        // Taken out so that `f` can read the graph; put back with its capacity.
        let mut stale = std::mem::take(&mut self.stale);
        for &e in &stale {
            let edge = self.edges[e as usize];
            self.edges[e as usize].stale = false;
            if !edge.live {
                continue;
            }
            let value = f(self, edge.lo, edge.hi);
            if edge.counted {
                self.kappa.remove(edge.value);
            }
            self.kappa.add(value);
            let slot = &mut self.edges[e as usize];
            slot.value = value;
            slot.counted = true;
        }
        stale.clear();
        self.stale = stale;
    }

    /// The edges the last [`WindowGraph::push`] added (`true`) or removed, as `(a, b)` level
    /// pairs with `a < b`, in order.
    pub(crate) fn changes(&self) -> &[((i64, i64), bool)] {
        &self.changes
    }

    /// Number of edges.
    pub(crate) fn edge_count(&self) -> usize {
        self.index.len()
    }

    /// Mean cached value over the edges, 0 for none (meaningful after
    /// [`WindowGraph::refresh`]: it is then `mean_curvature` of the edges' values).
    pub(crate) fn mean_value(&self) -> f64 {
        self.kappa.mean()
    }

    /// Mean augmented Forman curvature, 0 for an edgeless graph: `Σ_e (4 − deg x − deg y +
    /// 3·t(e))` is `4E − Σ_v deg(v)² + 9T` (a node of degree d is an end of d edges, a
    /// triangle lies on three), an exact integer, so this is bit for bit the mean of
    /// [`super::forman_ricci`]'s values, in O(1).
    pub(crate) fn forman_mean(&self) -> f64 {
        let edges = self.edge_count() as u64;
        if edges == 0 {
            return 0.0;
        }
        let sum = (4 * edges + 9 * self.triangles) as i64 - self.degree_squares as i64;
        sum as f64 / edges as f64
    }

    /// Appends the edges as sorted level pairs `(a, b)`, `a < b` (O(window log window)).
    pub(crate) fn level_edges_into(&self, out: &mut Vec<(i64, i64)>) {
        let start = out.len();
        out.extend(self.edges.iter().filter(|e| e.live).map(|e| (e.lo, e.hi)));
        out[start..].sort_unstable();
    }
}

impl Clone for WindowGraph {
    fn clone(&self) -> Self {
        // A derived clone would shrink the lists to their length; keep the reserve.
        fn reserved<T: Copy>(v: &[T], capacity: usize) -> Vec<T> {
            let mut out = Vec::with_capacity(capacity.max(v.len()));
            out.extend_from_slice(v);
            out
        }
        let slots = self.edges.len();
        Self {
            step: self.step,
            prices: self.prices.clone(),
            seq: self.seq,
            levels: self.levels.clone(),
            nodes: self.nodes.clone(),
            index: self.index.clone(),
            edges: self.edges.clone(),
            arcs: self.arcs.clone(),
            free: reserved(&self.free, slots),
            stale: reserved(&self.stale, slots),
            changes: reserved(&self.changes, 2),
            kappa: self.kappa,
            degree_squares: self.degree_squares,
            triangles: self.triangles,
        }
    }
}

impl Adjacency for WindowGraph {
    type Node = i64;
    fn neighbours_into(&self, x: i64, out: &mut Vec<(i64, f64)>) {
        let mut at = self.first_arc(x);
        while let Some((v, e)) = self.next_arc(&mut at) {
            out.push((v, self.edges[e as usize].weight));
        }
    }
}
