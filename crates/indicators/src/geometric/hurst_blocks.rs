//! The block machinery shared by [`super::HurstRs`] and [`super::HurstDfa`]: for each scale `m`
//! the stream is cut into consecutive blocks of `m` inputs counted from the first input after
//! construction or `reset`; a block's statistic is computed once, when the block completes, by
//! an incremental accumulator ([`BlockAcc`]); the estimate at each update uses, at every scale,
//! the last `⌊window/m⌋` complete blocks (as many as a window holds, so every update uses as
//! much data as the window; they may start up to `m − 1` inputs before it), and regresses the
//! log of their mean statistic on `ln m`.
//!
//! Cost per update: O(1) per scale for the accumulators and the window sums (amortised; see
//! [`BlockSums`] and the accumulators for the occasional longer step), plus an OLS over the
//! scales: O(S) with S ≤ 9 scales. Nothing allocates after `new`.

use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::Error;

/// Inputs larger than this in magnitude count as invalid, like non-finite ones: it keeps every
/// running sum finite (a block's squared cumulative sums stay below ~1e230 for blocks of up to
/// 1e10 inputs), so checkpoints never hold an infinity or a NaN. Increments (returns) are many
/// orders of magnitude below it.
pub(crate) const MAX_INPUT: f64 = 1e100;

/// About eight log-spaced integer scales from `lo` to `hi` (inclusive, deduplicated).
pub(crate) fn log_scales(lo: usize, hi: usize) -> Vec<usize> {
    if hi < lo {
        return vec![lo];
    }
    let steps = 8;
    let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
    let mut v: Vec<usize> = (0..=steps)
        .map(|i| (l + (h - l) * i as f64 / steps as f64).exp().round() as usize)
        .collect();
    v.dedup();
    v
}

/// OLS slope of y on x over `points` (iterated twice); `None` with fewer than two points or
/// no spread in x.
pub(crate) fn ols_slope<I>(points: I) -> Option<f64>
where
    I: Iterator<Item = (f64, f64)> + Clone,
{
    let (mut n, mut sx, mut sy) = (0usize, 0.0, 0.0);
    for (x, y) in points.clone() {
        n += 1;
        sx += x;
        sy += y;
    }
    if n < 2 {
        return None;
    }
    let (mx, my) = (sx / n as f64, sy / n as f64);
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, y) in points {
        sxx += (x - mx) * (x - mx);
        sxy += (x - mx) * (y - my);
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

/// An incremental per-block statistic and the estimator it belongs to.
pub(crate) trait BlockAcc: Debug + Clone + PartialEq + Serialize + DeserializeOwned {
    /// Indicator name for errors.
    const NAME: &'static str;
    /// Smallest accepted window.
    const MIN_WINDOW: usize;
    /// `y = Y_SCALE · ln(mean statistic) − offset(m)`.
    const Y_SCALE: f64;
    /// The estimate is `BASE + slope` (0.5 when there is no slope).
    const BASE: f64;

    /// The block sizes for a window.
    fn scales(window: usize) -> Vec<usize>;
    /// Subtracted from the scale's `y` (a small-sample correction; 0 for none).
    fn offset(m: usize) -> f64;
    /// An empty accumulator for blocks of `m` inputs, with its buffers allocated.
    fn new(m: usize) -> Self;
    /// Adds the `k`-th input (0-based) of the current block; `k == 0` starts a new block.
    fn push(&mut self, x: f64, k: usize);
    /// The statistic of the completed block of `m` inputs and its weight (1 if the block
    /// counts towards the mean, 0 if it is degenerate and skipped).
    fn finish(&mut self, m: usize) -> (f64, f64);
    /// Back to the state of `new`.
    fn clear(&mut self);
    /// After deserialising: checks the state against `m` and re-reserves buffers so that later
    /// pushes do not allocate; `false` if the state cannot belong to blocks of `m`.
    fn restore(&mut self, m: usize) -> bool;
}

/// Exact-on-demand sums over a sliding run of the last `count ≤ cap` block values, with no
/// subtraction (so no drift however long the stream).
///
/// Values arrive in chunks of `cap`. The current chunk keeps its values and a running prefix
/// sum; when it fills, the suffix sums of the chunk are computed once (O(cap), i.e. once per
/// `cap` blocks: amortised O(1) per block, a single O(window/m) step) and the chunk becomes the
/// previous one. Because fewer than `cap` values of the current chunk are ever pending, the last
/// `count` values are a suffix of the previous chunk plus the whole current chunk, when
/// `count ≥` the current chunk's length — which holds here (`count` is `cap`, or everything
/// pushed so far during warm-up).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct BlockSums {
    /// Values of the current chunk, `len < cap` (capacity `cap` reserved).
    cur: Vec<[f64; 2]>,
    /// Running sum of `cur`.
    prefix: [f64; 2],
    /// `suf[j]` = sum of the previous chunk's values `j..cap`; `suf[cap] = 0`. Length `cap + 1`.
    suf: Vec<[f64; 2]>,
}

impl Clone for BlockSums {
    fn clone(&self) -> Self {
        let mut cur = Vec::with_capacity(self.cur.capacity());
        cur.extend_from_slice(&self.cur);
        Self {
            cur,
            prefix: self.prefix,
            suf: self.suf.clone(),
        }
    }
}

fn add(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0] + b[0], a[1] + b[1]]
}

impl BlockSums {
    fn new(cap: usize) -> Self {
        Self {
            cur: Vec::with_capacity(cap),
            prefix: [0.0; 2],
            suf: vec![[0.0; 2]; cap + 1],
        }
    }

    fn cap(&self) -> usize {
        self.suf.len() - 1
    }

    fn clear(&mut self) {
        self.cur.clear();
        self.prefix = [0.0; 2];
        self.suf.fill([0.0; 2]);
    }

    fn push(&mut self, v: [f64; 2]) {
        let cap = self.cap();
        self.cur.push(v);
        self.prefix = add(self.prefix, v);
        if self.cur.len() >= cap {
            let mut acc = [0.0; 2];
            self.suf[cap] = acc;
            for (s, &c) in self.suf[..cap].iter_mut().zip(&self.cur).rev() {
                acc = add(c, acc);
                *s = acc;
            }
            self.cur.clear();
            self.prefix = [0.0; 2];
        }
    }

    /// Sum of the last `count` values pushed (`count ≤ cap` and at least the current chunk's
    /// length; otherwise a bounded wrong value, never a panic).
    fn last(&self, count: usize) -> [f64; 2] {
        let cap = self.cap();
        let back = count.saturating_sub(self.cur.len()).min(cap);
        add(self.prefix, self.suf[cap - back])
    }
}

/// Per-scale constants, rebuilt from the window (never serialised).
#[derive(Debug, Clone, PartialEq)]
struct ScaleConst {
    /// Block size.
    m: usize,
    /// `ln m`.
    x: f64,
    /// The estimator's offset for `m`.
    offset: f64,
    /// Blocks used once warmed up: `⌊window/m⌋`.
    cap: usize,
}

/// Per-scale state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scale<A> {
    acc: A,
    /// Inputs in the current (incomplete) block, `< m`.
    fill: usize,
    /// Blocks completed since reset; the last `min(done, cap)` are in use.
    done: u64,
    /// (statistic, weight) of the complete blocks, summed over the ones in use.
    sums: BlockSums,
    /// `Y_SCALE · ln(mean) − offset` for the blocks in use, if defined.
    y: Option<f64>,
}

/// The streaming estimator over `window` inputs (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EngineState<A>")]
#[serde(bound(serialize = "A: BlockAcc", deserialize = "A: BlockAcc"))]
pub(crate) struct Engine<A> {
    window: usize,
    /// Inputs since construction or `reset`.
    n: u64,
    /// Position (0-based) of the latest invalid input: the output is NaN while it is inside
    /// the window or inside a block in use.
    last_bad: Option<u64>,
    scales: Vec<Scale<A>>,
    #[serde(skip)]
    consts: Vec<ScaleConst>,
}

/// The serialised form of [`Engine`]; constants are rebuilt from `window` and the rest checked.
#[derive(Deserialize)]
#[serde(bound(deserialize = "A: BlockAcc"))]
struct EngineState<A> {
    window: usize,
    n: u64,
    last_bad: Option<u64>,
    scales: Vec<Scale<A>>,
}

impl<A: BlockAcc> TryFrom<EngineState<A>> for Engine<A> {
    type Error = Error;

    fn try_from(s: EngineState<A>) -> Result<Self, Error> {
        let bad = Error::InvalidState("Hurst block state does not match its window");
        if s.window < A::MIN_WINDOW {
            return Err(bad);
        }
        let sizes = A::scales(s.window);
        // Lengths first: the smallest scale's `suf` holds ⌊window/8⌋ + 1 entries, so a corrupt
        // window cannot make the constants (`offset` is O(m)) or `restore` cost more than a few
        // times the checkpoint's size.
        let lengths_ok = s.scales.len() == sizes.len()
            && s.scales.iter().zip(&sizes).all(|(sc, &m)| {
                let cap = s.window / m;
                sc.sums.suf.len() == cap + 1 && sc.sums.cur.len() < cap
            });
        if !lengths_ok {
            return Err(bad);
        }
        let consts = scale_consts::<A>(s.window, sizes);
        let mut scales = s.scales;
        for (sc, c) in scales.iter_mut().zip(&consts) {
            if !(sc.fill < c.m && sc.acc.restore(c.m)) {
                return Err(bad);
            }
            sc.sums.cur.reserve_exact(c.cap - sc.sums.cur.len());
        }
        Ok(Self {
            window: s.window,
            n: s.n,
            last_bad: s.last_bad,
            scales,
            consts,
        })
    }
}

fn scale_consts<A: BlockAcc>(window: usize, sizes: Vec<usize>) -> Vec<ScaleConst> {
    sizes
        .into_iter()
        .map(|m| ScaleConst {
            m,
            x: (m as f64).ln(),
            offset: A::offset(m),
            cap: window / m,
        })
        .collect()
}

impl<A: BlockAcc> Engine<A> {
    /// Builds the scales; `window` must already be validated (`≥ A::MIN_WINDOW`).
    pub(crate) fn new(window: usize) -> Self {
        let consts = scale_consts::<A>(window, A::scales(window));
        let scales = consts
            .iter()
            .map(|c| Scale {
                acc: A::new(c.m),
                fill: 0,
                done: 0,
                sums: BlockSums::new(c.cap),
                y: None,
            })
            .collect();
        Self {
            window,
            n: 0,
            last_bad: None,
            scales,
            consts,
        }
    }

    pub(crate) fn checked(window: usize) -> Result<Self, Error> {
        crate::error::check_period(A::NAME, "window", window, A::MIN_WINDOW)?;
        Ok(Self::new(window))
    }

    pub(crate) fn reset(&mut self) {
        self.n = 0;
        self.last_bad = None;
        for s in &mut self.scales {
            s.acc.clear();
            s.fill = 0;
            s.done = 0;
            s.sums.clear();
            s.y = None;
        }
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.n >= self.window as u64
    }

    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        let i = self.n;
        self.n = self.n.saturating_add(1);
        let valid = x.is_finite() && x.abs() <= MAX_INPUT;
        if !valid {
            self.last_bad = Some(i);
        }
        // An invalid input's blocks are garbage but finite; the output is NaN while any of them
        // is in use (see `tainted`).
        let v = if valid { x } else { 0.0 };
        for (s, c) in self.scales.iter_mut().zip(&self.consts) {
            s.acc.push(v, s.fill);
            s.fill += 1;
            if s.fill >= c.m {
                let (stat, weight) = s.acc.finish(c.m);
                let value = if stat.is_finite() && weight.is_finite() {
                    [stat, weight]
                } else {
                    [0.0; 2]
                };
                s.sums.push(value);
                s.fill = 0;
                s.done = s.done.saturating_add(1);
                // The blocks in use are the last `min(done, cap)`: at least the current chunk
                // of `sums` (shorter than cap), so `sums.last` is exact.
                let [sum, weight] = s.sums.last(in_use(s.done, c.cap));
                let mean = sum / weight;
                s.y = (weight > 0.0 && mean > 0.0 && mean.is_finite())
                    .then(|| A::Y_SCALE * mean.ln() - c.offset);
            }
        }
        if !self.is_ready() {
            return None;
        }
        if self.tainted() {
            return Some(f64::NAN);
        }
        let points = self
            .scales
            .iter()
            .zip(&self.consts)
            .filter_map(|(s, c)| s.y.map(|y| (c.x, y)));
        Some(ols_slope(points).map_or(0.5, |b| A::BASE + b))
    }

    /// Whether the latest invalid input is inside the window or inside a block in use (the
    /// blocks in use at scale m start at most m − 1 inputs before the window).
    fn tainted(&self) -> bool {
        let Some(bad) = self.last_bad else {
            return false;
        };
        if bad.saturating_add(self.window as u64) >= self.n {
            return true;
        }
        self.scales.iter().zip(&self.consts).any(|(s, c)| {
            let first = s.done - in_use(s.done, c.cap) as u64;
            bad >= first.saturating_mul(c.m as u64)
        })
    }
}

/// Blocks in use after `done` complete ones: the last `⌊window/m⌋` (fewer only before the first
/// output).
fn in_use(done: u64, cap: usize) -> usize {
    usize::try_from(done).map_or(cap, |d| d.min(cap))
}

/// The definition computed directly (for tests): the estimate after the inputs `xs` (the whole
/// stream since reset), from the last `⌊window/m⌋` complete stream-aligned blocks of each
/// scale. `stat` gives a block's statistic, `None` for a skipped block.
#[cfg(test)]
pub(crate) fn reference<A: BlockAcc>(
    xs: &[f64],
    window: usize,
    stat: impl Fn(&[f64]) -> Option<f64>,
) -> Option<f64> {
    let n = xs.len();
    if n < window {
        return None;
    }
    let invalid = |x: &f64| !(x.is_finite() && x.abs() <= MAX_INPUT);
    if xs[n - window..].iter().any(invalid) {
        return Some(f64::NAN);
    }
    let mut points = Vec::new();
    for m in A::scales(window) {
        let (mut total, mut used) = (0.0, 0usize);
        for b in n / m - window / m..n / m {
            let block = &xs[b * m..(b + 1) * m];
            if block.iter().any(invalid) {
                return Some(f64::NAN);
            }
            if let Some(v) = stat(block) {
                total += v;
                used += 1;
            }
        }
        let mean = total / used as f64;
        if used > 0 && mean > 0.0 {
            points.push(((m as f64).ln(), A::Y_SCALE * mean.ln() - A::offset(m)));
        }
    }
    Some(ols_slope(points.iter().copied()).map_or(0.5, |b| A::BASE + b))
}

/// Streams [`test_stream`]s with invalid inputs planted (NaN, a huge value, an infinity) through
/// the estimator `new(window)` and checks every output against [`reference`]: the same
/// readiness, and values within `tol` (NaN where the definition gives NaN). `cases` are
/// `(window, level, scale, tol)`.
#[cfg(test)]
pub(crate) fn assert_streaming_matches_reference<A, I>(
    new: impl Fn(usize) -> I,
    stat: impl Fn(&[f64]) -> Option<f64> + Copy,
    cases: &[(usize, f64, f64, f64)],
) where
    A: BlockAcc,
    I: crate::Indicator<Input = f64, Output = f64>,
{
    for &(window, level, scale, tol) in cases {
        let mut xs = test_stream(4 * window + 77, level, scale, window as u64);
        // NaN while inside the window or a block in use, then the estimate recovers.
        xs[window + 5] = f64::NAN;
        xs[2 * window + 9] = -1e200;
        xs[2 * window + 10] = f64::INFINITY;
        let mut h = new(window);
        for n in 1..=xs.len() {
            let got = h.update(xs[n - 1]);
            let want = reference::<A>(&xs[..n], window, stat);
            match (got, want) {
                (None, None) => {}
                (Some(a), Some(b)) => assert!(
                    (a - b).abs() < tol || (a.is_nan() && b.is_nan()),
                    "w {window} n {n}: {a} vs {b}"
                ),
                _ => panic!("readiness differs at n {n}: {got:?} vs {want:?}"),
            }
        }
    }
}

/// A deterministic test stream: Gaussian-ish noise around `level` with scale `scale`, with a
/// few constant stretches.
#[cfg(test)]
pub(crate) fn test_stream(n: usize, level: f64, scale: f64, seed: u64) -> Vec<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|i| {
            if i % 211 >= 190 {
                level
            } else {
                let g: f64 = (0..4).map(|_| uniform()).sum::<f64>() - 2.0;
                level + scale * g
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sums_match_direct_sums() {
        for cap in 1..6 {
            let mut s = BlockSums::new(cap);
            let vals: Vec<f64> = (0..40).map(|i| f64::from(i * i % 17) + 0.5).collect();
            for (n, &v) in vals.iter().enumerate() {
                s.push([v, 1.0]);
                let pending = (n + 1) % cap;
                for count in pending.max(1)..=cap.min(n + 1) {
                    let direct: f64 = vals[n + 1 - count..=n].iter().sum();
                    assert_eq!(s.last(count), [direct, count as f64], "cap {cap} n {n}");
                }
            }
        }
    }

    #[test]
    fn ols_slope_of_a_line() {
        let pts = [(1.0, 3.0), (2.0, 5.0), (4.0, 9.0)];
        assert_eq!(ols_slope(pts.iter().copied()), Some(2.0));
        assert_eq!(ols_slope([(1.0, 1.0)].iter().copied()), None);
    }
}
