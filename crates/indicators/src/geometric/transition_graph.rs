//! [`TransitionGraph`]: the price-level transition graph the Ricci curvatures are computed on.

/// An undirected weighted graph without self-loops: nodes are price levels, an edge joins two
/// levels the price moved between on consecutive bars, and its weight counts those moves
/// (repeats accumulate instead of overwriting, and staying on a level adds nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionGraph {
    /// `adjacency[v]` = `(neighbour, weight)`, sorted by neighbour.
    adjacency: Vec<Vec<(usize, f64)>>,
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

impl TransitionGraph {
    /// A graph on `nodes` nodes from `(a, b, weight)` edges; self-loops, out-of-range nodes and
    /// non-positive or non-finite weights are ignored, parallel edges add up.
    #[must_use]
    pub fn from_edges(nodes: usize, edges: &[(usize, usize, f64)]) -> Self {
        let mut g = Self {
            adjacency: vec![Vec::new(); nodes],
            levels: (0..nodes as i64).collect(),
        };
        for &(a, b, w) in edges {
            g.add(a, b, w);
        }
        g
    }

    /// The transition graph of `prices`: level `round((p − reference)/(step·|reference|))`
    /// (an absolute step of `step` when the reference is 0). Non-finite prices are skipped,
    /// so the prices on either side of a gap are treated as consecutive.
    #[must_use]
    pub fn from_prices(prices: &[f64], reference: f64, step: f64) -> Self {
        let scale = if reference != 0.0 && reference.is_finite() {
            step * reference.abs()
        } else {
            step
        };
        let reference = if reference.is_finite() {
            reference
        } else {
            0.0
        };
        let level = |p: f64| -> Option<i64> {
            let l = ((p - reference) / scale).round();
            // Levels beyond ±2^53 carry no meaning (and would not convert exactly).
            (l.is_finite() && l.abs() < 9.0e15).then_some(l as i64)
        };
        let mut levels: Vec<i64> = prices.iter().filter_map(|&p| level(p)).collect();
        let path = levels.clone();
        levels.sort_unstable();
        levels.dedup();
        let mut g = Self {
            adjacency: vec![Vec::new(); levels.len()],
            levels,
        };
        let index = |l: i64, levels: &[i64]| levels.binary_search(&l).ok();
        for pair in path.windows(2) {
            if let (Some(a), Some(b)) = (index(pair[0], &g.levels), index(pair[1], &g.levels)) {
                g.add(a, b, 1.0);
            }
        }
        g
    }

    fn add(&mut self, a: usize, b: usize, w: f64) {
        if a == b
            || a >= self.adjacency.len()
            || b >= self.adjacency.len()
            || !(w > 0.0 && w.is_finite())
        {
            return;
        }
        for (x, y) in [(a, b), (b, a)] {
            let list = &mut self.adjacency[x];
            match list.binary_search_by_key(&y, |&(n, _)| n) {
                Ok(i) => list[i].1 += w,
                Err(i) => list.insert(i, (y, w)),
            }
        }
    }

    /// Number of nodes.
    #[must_use]
    pub fn node_count(&self) -> usize {
        self.adjacency.len()
    }

    /// Edges as `(a, b, weight)` with `a < b`.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.adjacency.iter().enumerate().flat_map(|(a, list)| {
            list.iter()
                .filter(move |&&(b, _)| a < b)
                .map(move |&(b, w)| (a, b, w))
        })
    }

    /// Edges as pairs of price levels, for comparing graphs built on the same reference.
    pub fn level_edges(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.edges()
            .map(|(a, b, _)| (self.levels[a], self.levels[b]))
    }

    /// Neighbours of `v` with weights.
    #[must_use]
    pub fn neighbours(&self, v: usize) -> &[(usize, f64)] {
        self.adjacency.get(v).map_or(&[], Vec::as_slice)
    }
}
