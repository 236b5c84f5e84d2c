//! [`Indicator`]: the streaming contract every indicator implements, and [`Series`], the
//! result of a batch run.

use serde::{Deserialize, Serialize};

/// A streaming indicator: feed one input at a time, get an output once warmed up.
///
/// Contract, relied on by [`Indicator::batch`] and checked by property tests:
/// - `update` allocates nothing and never panics, whatever the `f64` values (NaN and
///   infinities propagate through the arithmetic as documented per indicator);
/// - readiness is monotone: once `update` has returned `Some`, every later call returns `Some`
///   until [`Indicator::reset`];
/// - `reset` returns the indicator to the state it had when built, keeping its buffers (it
///   allocates nothing either; both are checked by a counting allocator in `tests/it/alloc.rs`).
///
/// Inputs are `f64` (a price) or [`crate::Candle`] (OHLCV); outputs are `f64` or a small struct
/// with named fields (e.g. [`crate::MacdOutput`]).
pub trait Indicator {
    /// What one update consumes.
    type Input: Copy;
    /// What one update produces once warmed up.
    type Output: Copy;

    /// Consumes one input; returns the output for it, or `None` during warm-up.
    fn update(&mut self, input: Self::Input) -> Option<Self::Output>;

    /// Forgets all inputs seen so far.
    fn reset(&mut self);

    /// Whether the last update produced an output.
    fn is_ready(&self) -> bool;

    /// Runs the indicator from a fresh state over `inputs` and returns the outputs with the
    /// index of the input the first one belongs to.
    ///
    /// The result equals calling [`Indicator::reset`] and then [`Indicator::update`] on each
    /// input in turn, keeping the `Some` values (property-tested).
    fn batch(&mut self, inputs: &[Self::Input]) -> Series<Self::Output> {
        let mut values = Vec::new();
        let start = self.batch_into(inputs, &mut values);
        Series { start, values }
    }

    /// [`Indicator::batch`] into a caller-owned buffer: `out` is cleared and filled, and the
    /// index of the input that produced `out[0]` is returned (`inputs.len()` if none did).
    /// Reusing `out` across runs avoids allocating and page-faulting a fresh output buffer.
    ///
    /// Indicators with a hot batch loop override this with a slice form that gives
    /// bit-identical values and leaves the same state behind.
    fn batch_into(&mut self, inputs: &[Self::Input], out: &mut Vec<Self::Output>) -> usize {
        self.reset();
        out.clear();
        out.reserve(inputs.len());
        let mut start = inputs.len();
        for (i, &x) in inputs.iter().enumerate() {
            if let Some(y) = self.update(x) {
                if out.is_empty() {
                    start = i;
                }
                out.push(y);
            }
        }
        start
    }
}

/// The outputs of a batch run: `values[j]` belongs to input `start + j`.
///
/// Warm-up inputs have no value instead of a NaN placeholder. When the inputs never warm the
/// indicator up, `values` is empty and `start` equals the input length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series<T> {
    /// Index of the input that produced `values[0]`.
    pub start: usize,
    /// One output per input from `start` on.
    pub values: Vec<T>,
}

impl<T: Copy> Series<T> {
    /// The output for input `index`, if there is one.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<T> {
        index
            .checked_sub(self.start)
            .and_then(|j| self.values.get(j).copied())
    }

    /// The outputs aligned with the inputs: `None` during warm-up.
    #[must_use]
    pub fn aligned(&self) -> Vec<Option<T>> {
        let mut out = vec![None; self.start];
        out.extend(self.values.iter().copied().map(Some));
        out
    }
}
