//! [`OrderStats`]: an order-statistics tree over the values of a window — insert, remove,
//! rank, prefix sum, select, min and max in O(log w), no allocation after construction.
//!
//! # Design
//! A treap in an arena of `capacity` nodes plus a sentinel. Node `i` holds the value in slot
//! `i` of the window's ring buffer, so removing the value that leaves the window needs no search
//! (the slot names the node), and the arena is never grown or shrunk.
//!
//! Keys are `(value, slot)` with values ordered by [`f64::total_cmp`] (−NaN < −inf < … < −0.0 <
//! +0.0 < … < +inf < +NaN), so NaN and infinities have a defined place and equal values are
//! ordered by slot. Heap priorities are a fixed bijective hash of the slot. Distinct keys and
//! distinct priorities determine a treap's shape uniquely, so the tree is a pure function of the
//! window's `(slot, value)` pairs, whatever sequence of updates built it: a tree rebuilt from a
//! checkpointed ring is identical node for node to the live one, and so are the sums below,
//! which is what makes a resumed indicator continue bit for bit. (The priorities are predictable:
//! inputs crafted against the hash can unbalance the tree, costing O(w) per update; every
//! operation is iterative, so that is slow, never a stack overflow.)
//!
//! Each node keeps the count and a [`Summary`] (nothing, or a compensated sum) of its
//! subtree, **recomputed from its children and its own value** whenever its subtree changes —
//! never adjusted by `+=`/`−=` deltas — so no rounding error accumulates over any number of
//! updates: the state after an update depends only on the current window.

use super::Ring;
use crate::Error;

/// Node index; the sentinel (`capacity`) stands for "no node".
type Idx = u32;

/// Largest capacity of an [`OrderStats`] (indices are `u32` and one is the sentinel).
pub(crate) const MAX_CAPACITY: usize = (u32::MAX - 1) as usize;

/// What a node aggregates over its subtree besides the count.
pub(crate) trait Summary: Copy + Default + PartialEq + std::fmt::Debug {
    /// The summary of `self`'s values followed by `other`'s.
    fn join(self, other: Self) -> Self;
    /// The summary of `self`'s values followed by `v`.
    fn push(self, v: f64) -> Self;
}

/// Counts only.
impl Summary for () {
    #[inline]
    fn join(self, (): ()) {}
    #[inline]
    fn push(self, _: f64) {}
}

/// A compensated sum `s + c`: `s` is the plain floating-point sum and `c` collects the exact
/// rounding error of every addition that formed it (Ogita, Rump & Oishi's `Sum2`, SIAM J.
/// Sci. Comput. 26, 2005, in tree order). The pair is as accurate as summing in twice the
/// precision — within ~`(depth·ε)²·Σ|v|` of the exact sum, ~1e-29·Σ|v| here — while each
/// addition puts only one rounding on the `s` chain, so recomputing sums up a tree path is
/// cheap. With a non-finite term the sum is NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CompSum {
    s: f64,
    c: f64,
}

/// `a + b` as an unevaluated sum `s + e` exactly (Knuth's TwoSum).
#[inline]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

impl CompSum {
    /// The exact product `a·b` (a fused multiply-add gives the rounding error).
    pub(crate) fn product(a: f64, b: f64) -> Self {
        let p = a * b;
        Self {
            s: p,
            c: a.mul_add(b, -p),
        }
    }

    /// `self·k` for `k` a power of two (exact barring overflow).
    pub(crate) fn scale2(self, k: f64) -> Self {
        Self {
            s: self.s * k,
            c: self.c * k,
        }
    }

    /// The nearest `f64` (to within an ulp).
    pub(crate) fn to_f64(self) -> f64 {
        self.s + self.c
    }

    /// `self/n` rounded to an `f64`: within an ulp of the exact quotient, and exact when the
    /// quotient is an `f64` and the sum is exact (the mean of a constant window).
    pub(crate) fn div_f64(self, n: f64) -> f64 {
        let (hi, lo) = two_sum(self.s, self.c);
        let q = hi / n;
        let r = (-q).mul_add(n, hi) + lo;
        q + r / n
    }
}

impl Summary for CompSum {
    #[inline]
    fn join(self, o: Self) -> Self {
        let (s, e) = two_sum(self.s, o.s);
        Self {
            s,
            c: (self.c + o.c) + e,
        }
    }

    #[inline]
    fn push(self, v: f64) -> Self {
        let (s, e) = two_sum(self.s, v);
        Self { s, c: self.c + e }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Node<S> {
    value: f64,
    /// Left and right child.
    child: [Idx; 2],
    parent: Idx,
    /// Values in the subtree; 0 for a free node and the sentinel.
    count: Idx,
    sum: S,
}

/// Treap priority of slot `i`: a bijective integer hash (Wellons' `lowbias32`), so distinct
/// slots have distinct priorities.
#[inline]
fn priority(i: Idx) -> u32 {
    let mut x = i;
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// `v`'s rank in [`f64::total_cmp`] order as an integer (what `total_cmp` compares).
#[inline]
fn order_key(v: f64) -> i64 {
    let b = v.to_bits() as i64;
    b ^ ((((b >> 63) as u64) >> 1) as i64)
}

/// The multiset of values held in the slots of a window, ordered (see the module docs).
///
/// Not serialised: an indicator checkpoints its [`Ring`] and rebuilds the tree with
/// [`OrderStats::from_ring`], which gives the identical tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OrderStats<S: Summary> {
    /// `capacity` nodes, then the sentinel (its fields are never written after construction).
    nodes: Vec<Node<S>>,
    root: Idx,
}

impl<S: Summary> OrderStats<S> {
    /// An empty tree for slots `0..capacity` (at most [`MAX_CAPACITY`]; larger capacities are
    /// clamped, as no window that large can be allocated anyway).
    pub(crate) fn new(capacity: usize) -> Self {
        let cap = capacity.min(MAX_CAPACITY);
        let nil = cap as Idx;
        Self {
            nodes: vec![Self::free_node(nil); cap + 1],
            root: nil,
        }
    }

    /// The tree of the values held in `ring`, node `i` for slot `i`.
    ///
    /// # Errors
    /// [`Error::InvalidState`] if the ring's capacity exceeds [`MAX_CAPACITY`].
    pub(crate) fn from_ring(ring: &Ring<f64>) -> Result<Self, Error> {
        if ring.capacity() > MAX_CAPACITY {
            return Err(Error::InvalidState(
                "window too large for an order-statistics tree",
            ));
        }
        let mut t = Self::new(ring.capacity());
        for (slot, v) in ring.iter_slots() {
            t.insert(slot, v);
        }
        Ok(t)
    }

    fn free_node(nil: Idx) -> Node<S> {
        Node {
            value: 0.0,
            child: [nil, nil],
            parent: nil,
            count: 0,
            sum: S::default(),
        }
    }

    #[inline]
    fn nil(&self) -> Idx {
        (self.nodes.len() - 1) as Idx
    }

    #[inline]
    fn node(&self, i: Idx) -> &Node<S> {
        &self.nodes[i as usize]
    }

    #[inline]
    fn node_mut(&mut self, i: Idx) -> &mut Node<S> {
        &mut self.nodes[i as usize]
    }

    /// Empties the tree (O(capacity)).
    pub(crate) fn clear(&mut self) {
        let nil = self.nil();
        self.nodes.fill(Self::free_node(nil));
        self.root = nil;
    }

    /// Number of values held.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.node(self.root).count as usize
    }

    /// Summary of every value held.
    #[inline]
    pub(crate) fn total(&self) -> S {
        self.node(self.root).sum
    }

    /// Whether node `a`'s key `(value, slot)` is above node `b`'s (branch-free).
    #[inline]
    fn key_greater(&self, a: Idx, b: Idx) -> bool {
        let (ka, kb) = (order_key(self.node(a).value), order_key(self.node(b).value));
        (ka > kb) | ((ka == kb) & (a > b))
    }

    /// Recomputes `x`'s count and summary from its children (`x` must be a real node).
    #[inline]
    fn pull(&mut self, x: Idx) {
        let n = self.node(x);
        let (l, r) = (self.node(n.child[0]), self.node(n.child[1]));
        let count = l.count + 1 + r.count;
        let sum = l.sum.push(n.value).join(r.sum);
        let n = self.node_mut(x);
        n.count = count;
        n.sum = sum;
    }

    /// Rotates `x` above its parent `p` (no recomputation: the caller pulls).
    #[inline]
    fn rotate_up(&mut self, x: Idx) {
        let nil = self.nil();
        let p = self.node(x).parent;
        let g = self.node(p).parent;
        let d = usize::from(self.node(p).child[1] == x);
        let b = self.node(x).child[1 - d];
        self.node_mut(p).child[d] = b;
        if b != nil {
            self.node_mut(b).parent = p;
        }
        self.node_mut(x).child[1 - d] = p;
        self.node_mut(p).parent = x;
        self.node_mut(x).parent = g;
        if g == nil {
            self.root = x;
        } else {
            let gd = usize::from(self.node(g).child[1] == p);
            self.node_mut(g).child[gd] = x;
        }
    }

    /// Recomputes every node from `x` up to the root.
    #[inline]
    fn pull_up(&mut self, mut x: Idx) {
        let nil = self.nil();
        while x != nil {
            self.pull(x);
            x = self.node(x).parent;
        }
    }

    /// Adds `v` in slot `slot`, which must be free (`slot < capacity`).
    pub(crate) fn insert(&mut self, slot: usize, v: f64) {
        let nil = self.nil();
        debug_assert!(slot < nil as usize, "slot out of range");
        let x = slot as Idx;
        debug_assert_eq!(self.node(x).count, 0, "slot already holds a value");
        *self.node_mut(x) = Node {
            value: v,
            child: [nil, nil],
            parent: nil,
            count: 1,
            sum: S::default().push(v),
        };
        if self.root == nil {
            self.root = x;
            return;
        }
        // Descend to the leaf position (the direction is a value, not a branch).
        let mut cur = self.root;
        let mut d;
        loop {
            d = usize::from(self.key_greater(x, cur));
            let next = self.node(cur).child[d];
            if next == nil {
                break;
            }
            cur = next;
        }
        self.node_mut(cur).child[d] = x;
        self.node_mut(x).parent = cur;
        // Restore the heap order; each parent passed is final once x is above it.
        let px = priority(x);
        loop {
            let p = self.node(x).parent;
            if p == nil || priority(p) > px {
                break;
            }
            self.rotate_up(x);
            self.pull(p);
        }
        self.pull(x);
        let p = self.node(x).parent;
        self.pull_up(p);
    }

    /// Removes and returns the value in slot `slot`, which must hold one.
    pub(crate) fn remove(&mut self, slot: usize) -> f64 {
        let nil = self.nil();
        debug_assert!(slot < nil as usize, "slot out of range");
        let x = slot as Idx;
        debug_assert!(self.node(x).count > 0, "slot holds no value");
        // Rotate x down to a leaf, always lifting the child with the higher priority. Every
        // node whose subtree changes ends up an ancestor of x's last position, so one pass up
        // from there recomputes them all.
        loop {
            let [l, r] = self.node(x).child;
            let c = if l == nil {
                if r == nil {
                    break;
                }
                r
            } else if r == nil || priority(l) > priority(r) {
                l
            } else {
                r
            };
            self.rotate_up(c);
        }
        let p = self.node(x).parent;
        if p == nil {
            self.root = nil;
        } else {
            let d = usize::from(self.node(p).child[1] == x);
            self.node_mut(p).child[d] = nil;
        }
        let v = self.node(x).value;
        *self.node_mut(x) = Self::free_node(nil);
        self.pull_up(p);
        v
    }

    /// Splits the values at the boundary of a predicate that holds for a prefix of them (in
    /// tree order) and fails for the rest — `pred` must be monotone: once false, false for
    /// every larger value. Returns how many values satisfy it, their summary, the largest
    /// value that does and the smallest that does not.
    #[inline]
    pub(crate) fn partition(&self, mut pred: impl FnMut(f64) -> bool) -> Partition<S> {
        let nil = self.nil();
        let mut count = 0;
        let mut sum = S::default();
        let mut last_in = nil;
        let mut first_out = nil;
        let mut cur = self.root;
        while cur != nil {
            let n = self.node(cur);
            let l = self.node(n.child[0]);
            let t = pred(n.value);
            // Both outcomes are computed and one is kept: no branch to mispredict.
            let with = sum.join(l.sum).push(n.value);
            count += usize::from(t) * (l.count as usize + 1);
            sum = if t { with } else { sum };
            if t {
                last_in = cur;
            } else {
                first_out = cur;
            }
            cur = n.child[usize::from(t)];
        }
        let value = |i: Idx| (i != nil).then(|| self.node(i).value);
        Partition {
            count,
            sum,
            last_in: value(last_in),
            first_out: value(first_out),
        }
    }

    /// How many values satisfy the monotone predicate `pred` (see [`OrderStats::partition`]).
    #[inline]
    pub(crate) fn count_while(&self, mut pred: impl FnMut(f64) -> bool) -> usize {
        let nil = self.nil();
        let mut count = 0;
        let mut cur = self.root;
        while cur != nil {
            let n = self.node(cur);
            let t = pred(n.value);
            count += usize::from(t) * (self.node(n.child[0]).count as usize + 1);
            cur = n.child[usize::from(t)];
        }
        count
    }

    /// The `k`-th smallest value (0-based), if `k < len`.
    #[cfg(test)]
    pub(crate) fn select(&self, mut k: usize) -> Option<f64> {
        let nil = self.nil();
        let mut cur = self.root;
        while cur != nil {
            let n = self.node(cur);
            let lc = self.node(n.child[0]).count as usize;
            match k.cmp(&lc) {
                std::cmp::Ordering::Less => cur = n.child[0],
                std::cmp::Ordering::Equal => return Some(n.value),
                std::cmp::Ordering::Greater => {
                    k -= lc + 1;
                    cur = n.child[1];
                }
            }
        }
        None
    }

    /// The value at the end of the tree: the smallest (`side = 0`) or the largest (`side = 1`)
    /// in [`f64::total_cmp`] order.
    fn extreme(&self, side: usize) -> Option<f64> {
        let nil = self.nil();
        let mut cur = self.root;
        if cur == nil {
            return None;
        }
        loop {
            let next = self.node(cur).child[side];
            if next == nil {
                return Some(self.node(cur).value);
            }
            cur = next;
        }
    }

    /// The smallest value in [`f64::total_cmp`] order.
    pub(crate) fn min(&self) -> Option<f64> {
        self.extreme(0)
    }

    /// The largest value in [`f64::total_cmp`] order.
    pub(crate) fn max(&self) -> Option<f64> {
        self.extreme(1)
    }
}

/// Result of [`OrderStats::partition`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Partition<S> {
    /// Values satisfying the predicate.
    pub(crate) count: usize,
    /// Their summary.
    pub(crate) sum: S,
    /// The largest of them.
    pub(crate) last_in: Option<f64>,
    /// The smallest value not satisfying it.
    pub(crate) first_out: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Checks every structural invariant: parent links, BST order on (value, slot), heap order
    /// on priorities, counts and sums recomputed from scratch; returns the in-order values.
    fn check<S: Summary>(t: &OrderStats<S>) -> Vec<f64> {
        let nil = t.nil();
        let mut out = Vec::new();
        if t.root != nil {
            assert_eq!(t.node(t.root).parent, nil);
        }
        fn walk<S: Summary>(t: &OrderStats<S>, x: Idx, out: &mut Vec<f64>) -> (Idx, S) {
            let nil = t.nil();
            if x == nil {
                return (0, S::default());
            }
            let n = t.node(x);
            for c in n.child {
                if c != nil {
                    assert_eq!(t.node(c).parent, x, "parent link");
                    assert!(priority(c) < priority(x), "heap order");
                }
            }
            if n.child[0] != nil {
                assert!(t.key_greater(x, n.child[0]), "BST order");
            }
            if n.child[1] != nil {
                assert!(t.key_greater(n.child[1], x), "BST order");
            }
            let (lc, ls) = walk(t, n.child[0], out);
            out.push(n.value);
            let (rc, rs) = walk(t, n.child[1], out);
            let sum = ls.push(n.value).join(rs);
            assert_eq!(n.count, lc + 1 + rc, "count");
            assert_eq!(format!("{:?}", n.sum), format!("{sum:?}"), "sum");
            (n.count, sum)
        }
        walk(t, t.root, &mut out);
        out
    }

    fn sorted(vals: &[Option<f64>]) -> Vec<f64> {
        let mut v: Vec<f64> = vals.iter().flatten().copied().collect();
        v.sort_by(f64::total_cmp);
        v
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => (-20i32..20).prop_map(|i| f64::from(i) * 0.5),
            1 => Just(f64::NAN),
            1 => Just(-f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => Just(0.0),
            1 => Just(-0.0),
            2 => -1.0e6f64..1.0e6,
            1 => prop::num::f64::ANY,
        ]
    }

    /// Distance of a double-double sum from an independent one (terms added by increasing
    /// magnitude), relative to the sum of magnitudes.
    fn sum_error(vals: &[f64], got: CompSum) -> f64 {
        let mut v: Vec<f64> = vals.to_vec();
        v.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
        let mut acc = CompSum::default();
        for x in v {
            acc = acc.push(x);
        }
        let scale: f64 = vals
            .iter()
            .map(|x| x.abs())
            .sum::<f64>()
            .max(f64::MIN_POSITIVE);
        ((got.s - acc.s) + (got.c - acc.c)).abs() / scale
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn matches_a_sorted_vec(
            cap in 1usize..24,
            ops in prop::collection::vec((0usize..24, value(), any::<bool>()), 0..200),
        ) {
            let mut t = OrderStats::<CompSum>::new(cap);
            let mut slots: Vec<Option<f64>> = vec![None; cap];
            for (slot, v, probe) in ops {
                let slot = slot % cap;
                if slots[slot].is_some() {
                    t.remove(slot);
                    slots[slot] = None;
                }
                if !probe {
                    t.insert(slot, v);
                    slots[slot] = Some(v);
                }
                let want = sorted(&slots);
                let got = check(&t);
                prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
                prop_assert_eq!(t.len(), want.len());
                prop_assert_eq!(t.min().map(f64::to_bits), want.first().map(|x| x.to_bits()));
                prop_assert_eq!(t.max().map(f64::to_bits), want.last().map(|x| x.to_bits()));
                for k in 0..=want.len() {
                    prop_assert_eq!(t.select(k).map(f64::to_bits), want.get(k).map(|x| x.to_bits()));
                }
                // Rank, prefix sum and neighbours at every held value and a probe.
                for th in want.iter().copied().chain([v, 0.25, f64::NAN]) {
                    let p = t.partition(|x| x.total_cmp(&th).is_lt());
                    let below: Vec<f64> = want.iter().copied().filter(|x| x.total_cmp(&th).is_lt()).collect();
                    prop_assert_eq!(p.count, below.len());
                    prop_assert_eq!(t.count_while(|x| x.total_cmp(&th).is_lt()), below.len());
                    prop_assert_eq!(p.last_in.map(f64::to_bits), below.last().map(|x| x.to_bits()));
                    prop_assert_eq!(p.first_out.map(f64::to_bits), want.get(below.len()).map(|x| x.to_bits()));
                    if below.iter().all(|x| x.is_finite()) && below.iter().map(|x| x.abs()).sum::<f64>() < 1e300 {
                        prop_assert!(sum_error(&below, p.sum) < 1e-28, "prefix sum {:?} of {:?}", p.sum, below);
                    }
                }
            }
            // A tree rebuilt from scratch with the same (slot, value) pairs is identical.
            let mut fresh = OrderStats::<CompSum>::new(cap);
            for (s, v) in slots.iter().enumerate() {
                if let Some(v) = v {
                    fresh.insert(s, *v);
                }
            }
            prop_assert_eq!(format!("{fresh:?}"), format!("{t:?}"));
        }
    }

    #[test]
    fn rebuilt_from_a_ring_equals_the_live_tree() {
        let mut ring = Ring::new(7);
        let mut live = OrderStats::<CompSum>::new(7);
        for i in 0..100u32 {
            let v = f64::from((i * 37) % 11) * 0.1;
            let s = ring.next_slot();
            if ring.push_back(v).is_some() {
                live.remove(s);
            }
            live.insert(s, v);
            let rebuilt = OrderStats::<CompSum>::from_ring(&ring).unwrap();
            assert_eq!(format!("{rebuilt:?}"), format!("{live:?}"));
        }
        live.clear();
        assert_eq!(live.len(), 0);
        assert_eq!(
            format!("{live:?}"),
            format!("{:?}", OrderStats::<CompSum>::new(7))
        );
    }

    #[test]
    fn sums_do_not_drift() {
        // Millions of updates of wildly different magnitudes: the root sum of the final window
        // equals a fresh tree's bit for bit.
        let mut ring = Ring::new(50);
        let mut t = OrderStats::<CompSum>::new(50);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            let v = (u - 0.5) * 10f64.powi(((state & 0xF) as i32) - 4);
            let s = ring.next_slot();
            if ring.push_back(v).is_some() {
                t.remove(s);
            }
            t.insert(s, v);
        }
        let fresh = OrderStats::<CompSum>::from_ring(&ring).unwrap();
        assert_eq!(fresh.total(), t.total());
    }

    #[test]
    fn mean_of_a_constant_window_is_exact() {
        for v in [0.1, 1640.0833333333333, -3.7e-5, 1.0e300 / 3.0] {
            for n in [2u32, 3, 14, 20, 1000] {
                let mut s = CompSum::default();
                for _ in 0..n {
                    s = s.push(v);
                }
                assert_eq!(s.div_f64(f64::from(n)), v, "{v} × {n}");
            }
        }
    }
}
