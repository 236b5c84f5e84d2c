//! Forman–Ricci curvature: [`forman_ricci`] on a graph.

use super::{EdgeCurvature, TransitionGraph};

/// Augmented Forman–Ricci curvature of every edge (Samal et al. 2018, unweighted form):
/// `F(x, y) = 4 − deg(x) − deg(y) + 3·t(x, y)`, `t` the number of triangles on the edge.
///
/// The fast combinatorial alternative to [`super::ollivier_ricci`] (O(deg) per edge with sorted
/// adjacency): positive in dense, clustered parts (a clique `K_n` gives `n`), negative on
/// bridges between hubs. Its scale is degrees, not `[−2, 1]`.
#[must_use]
pub fn forman_ricci(graph: &TransitionGraph) -> Vec<EdgeCurvature> {
    graph
        .edges()
        .map(|(x, y, weight)| EdgeCurvature {
            from: x,
            to: y,
            weight,
            kappa: forman_edge(graph, x, y),
        })
        .collect()
}

/// `F(x, y)` of one edge.
fn forman_edge(graph: &TransitionGraph, x: usize, y: usize) -> f64 {
    let nx = graph.neighbours(x);
    let ny = graph.neighbours(y);
    // Both lists are sorted by node: count common neighbours by merging.
    let (mut i, mut j, mut triangles) = (0, 0, 0usize);
    while i < nx.len() && j < ny.len() {
        match nx[i].0.cmp(&ny[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                triangles += 1;
                i += 1;
                j += 1;
            }
        }
    }
    4.0 - nx.len() as f64 - ny.len() as f64 + 3.0 * triangles as f64
}
