//! [`Transport`]: exact optimal transport (Wasserstein-1) between two small discrete measures.

/// Reusable workspace for exact `W1(μ, ν) = min_π Σ π(i, j)·cost(i, j)` over couplings of a
/// supply and a demand vector with equal totals.
///
/// Solved by the primal–dual form of successive shortest paths on the bipartite residual
/// graph (forward arcs `i → j` at `cost(i, j)` with unbounded capacity, backward arcs `j → i`
/// at `−cost(i, j)` while `π(i, j) > 0`): a phase labels every node with its shortest-path
/// distance from the supplies that have mass left (Bellman–Ford), then augments along
/// *admissible* paths — arcs with `dist(u) + cost = dist(v)`, found breadth-first — from a
/// supply at distance 0 to a demand with room at the minimum distance D, each at cost D, until
/// none is left; then the next phase relabels. The labels stay valid potentials through a
/// phase (augmenting on tight arcs only adds tight reverse arcs), so every augmentation is a
/// shortest one and the plan is optimal (the classical SSP argument). Each augmentation
/// empties a supply, fills a demand or closes a backward arc; the loop stops when less than
/// `1e-12` of the mass is left. The number of phases is the number of distinct augmenting
/// costs: at most 3 for Ollivier–Ricci, whose costs are hop distances 1–3 (a direct arc of
/// cost ≤ 3 is always available and the costs are non-decreasing integers). Sizes here are a
/// node's degree plus one, so the dense O((s+t)·s·t) passes are cheap, and the buffers are
/// reused across edges: no allocation per solve once they are large enough
/// ([`Transport::with_capacity`] reserves them up front).
#[derive(Debug, Default)]
pub(crate) struct Transport {
    cost: Vec<f64>,
    flow: Vec<f64>,
    supply: Vec<f64>,
    demand: Vec<f64>,
    dist: Vec<f64>,
    pred: Vec<usize>,
    queue: Vec<usize>,
}

const NONE: usize = usize::MAX;
/// `pred` of a path's first node (a supply at distance 0).
const ROOT: usize = usize::MAX - 1;
/// Slack in the relaxation and tightness tests (costs here are small integers, exact).
const TIGHT: f64 = 1e-12;

impl Transport {
    /// A workspace that solves problems of up to `nodes` supplies plus demands and `pairs`
    /// supply–demand pairs without allocating.
    pub(crate) fn with_capacity(nodes: usize, pairs: usize) -> Self {
        Self {
            cost: Vec::with_capacity(pairs),
            flow: Vec::with_capacity(pairs),
            supply: Vec::with_capacity(nodes),
            demand: Vec::with_capacity(nodes),
            dist: Vec::with_capacity(nodes),
            pred: Vec::with_capacity(nodes),
            queue: Vec::with_capacity(nodes),
        }
    }

    /// Loads a problem into the buffers (costs row-major, zero flow, negative masses as 0);
    /// returns the mass to move and the tolerance below which a mass counts as moved, or
    /// `None` if a cost is not finite.
    fn load(
        &mut self,
        supply: &[f64],
        demand: &[f64],
        cost: impl Fn(usize, usize) -> f64,
    ) -> Option<(f64, f64)> {
        let (s, t) = (supply.len(), demand.len());
        self.cost.clear();
        for i in 0..s {
            for j in 0..t {
                let c = cost(i, j);
                if !c.is_finite() {
                    return None;
                }
                self.cost.push(c);
            }
        }
        self.flow.clear();
        self.flow.resize(s * t, 0.0);
        self.supply.clear();
        self.supply.extend(supply.iter().map(|m| m.max(0.0)));
        self.demand.clear();
        self.demand.extend(demand.iter().map(|m| m.max(0.0)));
        let total: f64 = self.supply.iter().sum();
        let eps = 1e-12 * total.max(1.0);
        Some((total.min(self.demand.iter().sum()), eps))
    }

    /// `W1` between `supply` and `demand` under `cost(i, j)`; NaN if a cost is not finite.
    pub(crate) fn solve(
        &mut self,
        supply: &[f64],
        demand: &[f64],
        cost: impl Fn(usize, usize) -> f64,
    ) -> f64 {
        let (s, t) = (supply.len(), demand.len());
        let Some((mut remaining, eps)) = self.load(supply, demand, cost) else {
            return f64::NAN;
        };
        let mut result = 0.0;
        // Node k < s is supply k, node s + j is demand j. Every augmentation removes a supply,
        // a demand or a backward arc from the admissible graph, and a phase that finds none
        // ends the loop, so this bound is never reached on finite input.
        let nodes = s + t;
        let mut budget = 4 * (nodes + s * t) + 8;
        while remaining > eps && budget > 0 {
            self.label(s, t, eps);
            // The cheapest distance of a demand with room left.
            let d = (0..t)
                .filter(|&j| self.demand[j] > eps)
                .map(|j| self.dist[s + j])
                .fold(f64::INFINITY, f64::min);
            if d == f64::INFINITY {
                break;
            }
            let mut augmented = false;
            while remaining > eps && budget > 0 {
                budget -= 1;
                let Some(end) = self.admissible_path(s, t, eps, d) else {
                    break;
                };
                let push = self.augment(s, t, end, remaining);
                if push.is_nan() || push <= 0.0 {
                    return result;
                }
                result += push * d;
                remaining -= push;
                augmented = true;
            }
            if !augmented {
                break;
            }
        }
        result
    }

    /// Bellman–Ford distances from the supplies with mass left (at 0) over the residual graph.
    fn label(&mut self, s: usize, t: usize, eps: f64) {
        let nodes = s + t;
        self.dist.clear();
        self.dist.extend((0..s).map(|i| {
            if self.supply[i] > eps {
                0.0
            } else {
                f64::INFINITY
            }
        }));
        self.dist.resize(nodes, f64::INFINITY);
        for _ in 0..nodes {
            let mut changed = false;
            for i in 0..s {
                let di = self.dist[i];
                if di == f64::INFINITY {
                    continue;
                }
                for j in 0..t {
                    let nd = di + self.cost[i * t + j];
                    if nd < self.dist[s + j] - TIGHT {
                        self.dist[s + j] = nd;
                        changed = true;
                    }
                }
            }
            for j in 0..t {
                let dj = self.dist[s + j];
                if dj == f64::INFINITY {
                    continue;
                }
                for i in 0..s {
                    if self.flow[i * t + j] > eps {
                        let nd = dj - self.cost[i * t + j];
                        if nd < self.dist[i] - TIGHT {
                            self.dist[i] = nd;
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
    }

    /// Breadth-first search over tight arcs from the supplies with mass left at distance 0 to
    /// a demand with room at distance `d`; fills `pred` and returns that demand.
    fn admissible_path(&mut self, s: usize, t: usize, eps: f64, d: f64) -> Option<usize> {
        let tight = |a: f64, b: f64| (a - b).abs() <= TIGHT;
        self.pred.clear();
        self.pred.resize(s + t, NONE);
        self.queue.clear();
        for i in 0..s {
            if self.supply[i] > eps && tight(self.dist[i], 0.0) {
                self.pred[i] = ROOT;
                self.queue.push(i);
            }
        }
        let mut head = 0;
        while let Some(&u) = self.queue.get(head) {
            head += 1;
            if u < s {
                let du = self.dist[u];
                for j in 0..t {
                    let v = s + j;
                    if self.pred[v] == NONE && tight(du + self.cost[u * t + j], self.dist[v]) {
                        self.pred[v] = u;
                        if self.demand[j] > eps && tight(self.dist[v], d) {
                            return Some(j);
                        }
                        self.queue.push(v);
                    }
                }
            } else {
                let j = u - s;
                let du = self.dist[u];
                for i in 0..s {
                    if self.pred[i] == NONE
                        && self.flow[i * t + j] > eps
                        && tight(du - self.cost[i * t + j], self.dist[i])
                    {
                        self.pred[i] = u;
                        self.queue.push(i);
                    }
                }
            }
        }
        None
    }

    /// Pushes the bottleneck along the `pred` path ending at demand `end`; returns the amount.
    fn augment(&mut self, s: usize, t: usize, end: usize, remaining: f64) -> f64 {
        let mut push = self.demand[end].min(remaining);
        let mut v = s + end;
        while self.pred[v] != ROOT {
            let u = self.pred[v];
            if v < s {
                // Backward arc demand u → supply v: limited by the flow it undoes.
                push = push.min(self.flow[v * t + (u - s)]);
            }
            v = u;
        }
        let source = v;
        push = push.min(self.supply[source]);
        if push.is_nan() || push <= 0.0 {
            return push;
        }
        let mut v = s + end;
        while self.pred[v] != ROOT {
            let u = self.pred[v];
            if v >= s {
                self.flow[u * t + (v - s)] += push;
            } else {
                self.flow[v * t + (u - s)] -= push;
            }
            v = u;
        }
        self.supply[source] -= push;
        self.demand[end] -= push;
        push
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The previous solver: one Bellman–Ford per augmentation.
    fn reference(
        this: &mut Transport,
        supply: &[f64],
        demand: &[f64],
        cost: impl Fn(usize, usize) -> f64,
    ) -> f64 {
        let (s, t) = (supply.len(), demand.len());
        let Some((mut remaining, eps)) = this.load(supply, demand, cost) else {
            return f64::NAN;
        };
        let mut result = 0.0;
        // Node k < s is supply k, node s + j is demand j.
        let nodes = s + t;
        for _ in 0..4 * (nodes + s * t) + 8 {
            if remaining <= eps {
                break;
            }
            this.dist.clear();
            this.dist.extend((0..s).map(|i| {
                if this.supply[i] > eps {
                    0.0
                } else {
                    f64::INFINITY
                }
            }));
            this.dist.resize(nodes, f64::INFINITY);
            this.pred.clear();
            this.pred.resize(nodes, NONE);
            for _ in 0..nodes {
                let mut changed = false;
                for i in 0..s {
                    let di = this.dist[i];
                    if di == f64::INFINITY {
                        continue;
                    }
                    for j in 0..t {
                        let nd = di + this.cost[i * t + j];
                        if nd < this.dist[s + j] - 1e-12 {
                            this.dist[s + j] = nd;
                            this.pred[s + j] = i;
                            changed = true;
                        }
                    }
                }
                for j in 0..t {
                    let dj = this.dist[s + j];
                    if dj == f64::INFINITY {
                        continue;
                    }
                    for i in 0..s {
                        if this.flow[i * t + j] > eps {
                            let nd = dj - this.cost[i * t + j];
                            if nd < this.dist[i] - 1e-12 {
                                this.dist[i] = nd;
                                this.pred[i] = s + j;
                                changed = true;
                            }
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
            // The cheapest reachable demand with room left.
            let Some(end) = (0..t)
                .filter(|&j| this.demand[j] > eps && this.dist[s + j] < f64::INFINITY)
                .min_by(|&a, &b| this.dist[s + a].total_cmp(&this.dist[s + b]))
            else {
                break;
            };
            // Bottleneck along the path back to its source supply.
            let mut push = this.demand[end].min(remaining);
            let mut v = s + end;
            let mut guard = 0;
            while this.pred[v] != NONE && guard <= nodes {
                let u = this.pred[v];
                if v < s {
                    // Backward arc demand u → supply v: limited by the flow it undoes.
                    push = push.min(this.flow[v * t + (u - s)]);
                }
                v = u;
                guard += 1;
            }
            push = push.min(this.supply[v]);
            if push.is_nan() || push <= 0.0 || guard > nodes {
                break;
            }
            let source = v;
            let mut v = s + end;
            while this.pred[v] != NONE {
                let u = this.pred[v];
                if v >= s {
                    this.flow[u * t + (v - s)] += push;
                } else {
                    this.flow[v * t + (u - s)] -= push;
                }
                v = u;
            }
            this.supply[source] -= push;
            this.demand[end] -= push;
            result += push * this.dist[s + end];
            remaining -= push;
        }
        result
    }

    #[test]
    fn moving_a_point_mass_costs_the_distance() {
        let w = Transport::default().solve(&[1.0], &[1.0], |_, _| 3.0);
        assert!((w - 3.0).abs() < 1e-12);
    }

    #[test]
    fn optimal_plan_is_found_not_the_greedy_one() {
        // Supply at 0 and 1, demand at 1 and 2 on a line: greedy sends 1 → 1 (free) and then
        // 0 → 2 (cost 2·½); the optimum is the same total, 1. A case where greedy is worse:
        // supplies a, b; demands c, d with costs a–c 0, a–d 1, b–c 1, b–d 10. Greedy takes a–c
        // first and pays b–d = 10; the optimum sends a–d and b–c for 2.
        let costs = [[0.0, 1.0], [1.0, 10.0]];
        let w = Transport::default().solve(&[1.0, 1.0], &[1.0, 1.0], |i, j| costs[i][j]);
        assert!((w - 2.0).abs() < 1e-12, "{w}");
    }

    #[test]
    fn identical_measures_cost_nothing() {
        let w =
            Transport::default().solve(
                &[0.2, 0.8],
                &[0.2, 0.8],
                |i, j| if i == j { 0.0 } else { 1.0 },
            );
        assert!(w.abs() < 1e-12);
    }

    #[test]
    fn non_finite_cost_is_nan() {
        assert!(
            Transport::default()
                .solve(&[1.0], &[1.0], |_, _| f64::INFINITY)
                .is_nan()
        );
    }

    proptest::proptest! {
        #[test]
        fn two_by_two_matches_the_closed_form(
            a in 0.0f64..1.0, b in 0.0f64..1.0,
            c in proptest::array::uniform4(0u8..4),
        ) {
            // Supplies (a, 1 − a), demands (b, 1 − b): the plan has one free entry
            // p = π(0, 0) in [max(0, a − (1 − b)), min(a, b)] and the cost is linear in p,
            // so the optimum is at an end of that interval.
            let cost = [[f64::from(c[0]), f64::from(c[1])], [f64::from(c[2]), f64::from(c[3])]];
            let plan = |p: f64| {
                p * cost[0][0] + (a - p) * cost[0][1] + (b - p) * cost[1][0] + (1.0 - a - b + p) * cost[1][1]
            };
            let lo = (a + b - 1.0).max(0.0);
            let hi = a.min(b);
            let best = plan(lo).min(plan(hi));
            let w = Transport::default().solve(&[a, 1.0 - a], &[b, 1.0 - b], |i, j| cost[i][j]);
            proptest::prop_assert!((w - best).abs() < 1e-9, "{} vs {}", w, best);
        }
    }

    proptest::proptest! {
        #[test]
        fn phases_match_one_path_per_relabel(
            supply in proptest::collection::vec(0.0f64..1.0, 1..7),
            demand in proptest::collection::vec(0.0f64..1.0, 1..7),
            costs in proptest::collection::vec(0u8..4, 36),
        ) {
            // Equal totals, as for two probability measures.
            let (a, b): (f64, f64) = (supply.iter().sum(), demand.iter().sum());
            proptest::prop_assume!(a > 1e-6 && b > 1e-6);
            let supply: Vec<f64> = supply.iter().map(|x| x / a).collect();
            let demand: Vec<f64> = demand.iter().map(|x| x / b).collect();
            let cost = |i: usize, j: usize| f64::from(costs[i * 6 + j]);
            let fast = Transport::default().solve(&supply, &demand, cost);
            let slow = reference(&mut Transport::default(), &supply, &demand, cost);
            proptest::prop_assert!((fast - slow).abs() < 1e-9, "{} vs {}", fast, slow);
        }
    }
}
