//! Ollivier–Ricci curvature: [`ollivier_ricci`] on a graph and the windowed [`OllivierRicci`].

use serde::{Deserialize, Serialize};

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
    let mut transport = Transport::default();
    let (mut mx, mut my) = (Vec::new(), Vec::new());
    let (mut supply, mut demand) = (Vec::new(), Vec::new());
    let (mut sources, mut sinks) = (Vec::new(), Vec::new());
    graph
        .edges()
        .map(|(x, y, weight)| {
            lazy_measure(graph, x, alpha, &mut mx);
            lazy_measure(graph, y, alpha, &mut my);
            // With a metric cost, an optimal plan leaves the mass the two measures share in
            // place, so only the excesses travel: (μx − μy)⁺ to (μy − μx)⁺. This shrinks the
            // transport problem (common neighbours in triangles, the lazy mass) at no loss.
            supply.clear();
            sources.clear();
            demand.clear();
            sinks.clear();
            merge_measures(&mx, &my, |v, a, b| {
                if a > b {
                    sources.push(v);
                    supply.push(a - b);
                } else if b > a {
                    sinks.push(v);
                    demand.push(b - a);
                }
            });
            let w1 = transport.solve(&supply, &demand, |i, j| {
                local_distance(graph, sources[i], sinks[j])
            });
            EdgeCurvature {
                from: x,
                to: y,
                weight,
                kappa: 1.0 - w1,
            }
        })
        .collect()
}

/// The lazy random walk from `x` as `(node, mass)` sorted by node: `alpha` on `x`, the rest
/// spread over the neighbours in proportion to edge weight (all on `x` if it has none).
fn lazy_measure(graph: &TransitionGraph, x: usize, alpha: f64, out: &mut Vec<(usize, f64)>) {
    let nb = graph.neighbours(x);
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
fn merge_measures(mu: &[(usize, f64)], nu: &[(usize, f64)], mut f: impl FnMut(usize, f64, f64)) {
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

/// Hop distance between `u ∈ N[x]` and `v ∈ N[y]` for an edge `x ~ y`: at most 3 (the path
/// `u–x–y–v`), so it is 0 (same node), 1 (adjacent), 2 (a common neighbour) or 3. Uses the
/// sorted adjacency lists instead of an all-pairs search.
fn local_distance(graph: &TransitionGraph, u: usize, v: usize) -> f64 {
    if u == v {
        return 0.0;
    }
    let (nu, nv) = (graph.neighbours(u), graph.neighbours(v));
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

/// Mean Ollivier–Ricci curvature of the transition graph of the last `window` prices
/// (levels `step·|p_first|` apart, `p_first` the window's first price), lazy walk idleness
/// `alpha`. A graph with no edge (a flat window) has curvature 0 by convention.
///
/// Warm-up: `window − 1`. Cost per update: the graph is rebuilt and every edge solved, about
/// O(window + E·d³) with d the typical degree — this is a window statistic, not an O(1)
/// recursion, and it allocates its graph per update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OllivierRicci {
    step: f64,
    alpha: f64,
    prices: Ring<f64>,
    #[serde(skip)]
    scratch: Vec<f64>,
}

impl OllivierRicci {
    /// Curvature over `window` prices.
    ///
    /// # Errors
    /// [`Error::PeriodTooSmall`] if `window < 3`; [`Error::ParameterOutOfRange`] if `step` is
    /// not positive and finite or `alpha` is outside `[0, 1)`.
    pub fn new(window: usize, step: f64, alpha: f64) -> Result<Self, Error> {
        check_period("OLLIVIER_RICCI", "window", window, 3)?;
        check_range(
            "OLLIVIER_RICCI",
            "step",
            step,
            f64::MIN_POSITIVE,
            1e300,
            "(0, 1e300]",
        )?;
        check_range("OLLIVIER_RICCI", "alpha", alpha, 0.0, 0.999_999, "[0, 1)")?;
        Ok(Self {
            step,
            alpha,
            prices: Ring::new(window),
            scratch: Vec::with_capacity(window),
        })
    }

    /// The transition graph of the current window.
    pub(crate) fn graph(&mut self) -> TransitionGraph {
        self.scratch.clear();
        self.scratch.extend(self.prices.iter());
        let reference = self
            .scratch
            .iter()
            .copied()
            .find(|p| p.is_finite())
            .unwrap_or(0.0);
        TransitionGraph::from_prices(&self.scratch, reference, self.step)
    }
}

/// Mean κ over the edges, 0 for an edgeless graph.
pub(crate) fn mean_curvature(edges: &[EdgeCurvature]) -> f64 {
    if edges.is_empty() {
        return 0.0;
    }
    edges.iter().map(|e| e.kappa).sum::<f64>() / edges.len() as f64
}

impl Indicator for OllivierRicci {
    type Input = f64;
    type Output = f64;

    fn update(&mut self, price: f64) -> Option<f64> {
        self.prices.push_back(price);
        if !self.prices.is_full() {
            return None;
        }
        let g = self.graph();
        Some(mean_curvature(&ollivier_ricci(&g, self.alpha)))
    }

    fn reset(&mut self) {
        self.prices.clear();
    }

    fn is_ready(&self) -> bool {
        self.prices.is_full()
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
                lazy_measure(g, x, alpha, &mut mx);
                lazy_measure(g, y, alpha, &mut my);
                let (sx, ax): (Vec<usize>, Vec<f64>) = mx.iter().copied().unzip();
                let (sy, ay): (Vec<usize>, Vec<f64>) = my.iter().copied().unzip();
                let dist: Vec<Vec<usize>> = sx.iter().map(|&u| hops(g, u)).collect();
                1.0 - t.solve(&ax, &ay, |i, j| dist[i][sy[j]] as f64)
            })
            .collect()
    }

    proptest::proptest! {
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
