//! [`Ring`]: a fixed-capacity double-ended queue, the storage behind every windowed indicator.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Fixed-capacity ring buffer used as a deque. Allocates once, in [`Ring::new`]; pushing onto a
/// full ring evicts the oldest element instead of growing.
///
/// Slots are written in order from slot 0 after construction or [`Ring::clear`], so
/// [`Ring::slots`] visits values in the same storage order as TA-Lib's circular buffers. A value
/// keeps its slot while it is held, so a slot names a value (the order-statistics tree's nodes
/// are ring slots).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RingState<T>", into = "RingState<T>")]
#[serde(bound(
    serialize = "T: Serialize + Copy",
    deserialize = "T: Deserialize<'de> + Copy"
))]
pub(crate) struct Ring<T> {
    buf: Vec<T>,
    /// Slot of the oldest element.
    head: usize,
    len: usize,
}

/// Serialised form of [`Ring`], validated on the way back in.
#[derive(Serialize, Deserialize)]
pub(crate) struct RingState<T> {
    buf: Vec<T>,
    head: usize,
    len: usize,
}

impl<T: Copy> From<Ring<T>> for RingState<T> {
    fn from(r: Ring<T>) -> Self {
        Self {
            buf: r.buf,
            head: r.head,
            len: r.len,
        }
    }
}

impl<T: Copy> TryFrom<RingState<T>> for Ring<T> {
    type Error = Error;
    fn try_from(s: RingState<T>) -> Result<Self, Error> {
        if s.buf.is_empty() || s.head >= s.buf.len() || s.len > s.buf.len() {
            return Err(Error::InvalidState("ring buffer head/len out of range"));
        }
        Ok(Self {
            buf: s.buf,
            head: s.head,
            len: s.len,
        })
    }
}

impl<T: Copy + Default> Ring<T> {
    /// A ring holding at most `capacity` elements (at least one slot is always allocated).
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            buf: vec![T::default(); capacity.max(1)],
            head: 0,
            len: 0,
        }
    }
}

impl<T: Copy> Ring<T> {
    /// Maximum number of elements.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Number of elements held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether no element is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the ring holds `capacity` elements.
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// Drops every element; the next push goes to slot 0 again.
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Storage slot of the `offset`-th oldest element (`offset < capacity`).
    #[inline]
    pub(crate) fn slot(&self, offset: usize) -> usize {
        let s = self.head + offset;
        if s >= self.buf.len() {
            s - self.buf.len()
        } else {
            s
        }
    }

    /// The storage slot the next [`Ring::push_back`] writes (the oldest element's when full).
    #[inline]
    pub(crate) fn next_slot(&self) -> usize {
        if self.len == self.buf.len() {
            self.head
        } else {
            self.slot(self.len)
        }
    }

    /// Appends `x` as the newest element; when full, evicts and returns the oldest.
    #[inline]
    pub(crate) fn push_back(&mut self, x: T) -> Option<T> {
        if self.len == self.buf.len() {
            let old = self.buf[self.head];
            self.buf[self.head] = x;
            // Not `slot(1)`: the head only ever steps by one, so a compare with the capacity
            // and a zero are enough, and written as `<` the compiler sees the new head in
            // bounds, dropping the check on a following `front` (fewer instructions on every
            // windowed update).
            let next = self.head + 1;
            self.head = if next < self.buf.len() { next } else { 0 };
            Some(old)
        } else {
            let s = self.slot(self.len);
            self.buf[s] = x;
            self.len += 1;
            None
        }
    }

    /// Removes and returns the oldest element.
    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let x = self.buf[self.head];
        self.head = self.slot(1);
        self.len -= 1;
        Some(x)
    }

    /// Removes and returns the newest element.
    #[inline]
    pub(crate) fn pop_back(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        Some(self.buf[self.slot(self.len)])
    }

    /// The oldest element.
    #[inline]
    pub(crate) fn front(&self) -> Option<T> {
        (self.len > 0).then(|| self.buf[self.head])
    }

    /// The newest element.
    #[inline]
    pub(crate) fn back(&self) -> Option<T> {
        (self.len > 0).then(|| self.buf[self.slot(self.len - 1)])
    }

    /// The `i`-th oldest element (0 = oldest).
    pub(crate) fn get(&self, i: usize) -> Option<T> {
        (i < self.len).then(|| self.buf[self.slot(i)])
    }

    /// Elements from oldest to newest.
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + Clone + '_ {
        (0..self.len).map(move |i| self.buf[self.slot(i)])
    }

    /// Held elements in storage-slot order: TA-Lib's circular-buffer order, which CCI sums in
    /// (floating-point addition is not associative).
    pub(crate) fn slots(&self) -> &[T] {
        &self.buf[..self.len.min(self.buf.len())]
    }

    /// `(storage slot, element)` from oldest to newest.
    pub(crate) fn iter_slots(&self) -> impl Iterator<Item = (usize, T)> + '_ {
        (0..self.len).map(move |i| {
            let s = self.slot(i);
            (s, self.buf[s])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_evicts_oldest_when_full() {
        let mut r = Ring::new(3);
        assert_eq!(r.push_back(1.0), None);
        r.push_back(2.0);
        r.push_back(3.0);
        assert_eq!(r.push_back(4.0), Some(1.0));
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0]);
        assert_eq!(r.front(), Some(2.0));
        assert_eq!(r.back(), Some(4.0));
    }

    #[test]
    fn deque_operations() {
        let mut r = Ring::new(2);
        r.push_back(1);
        r.push_back(2);
        assert_eq!(r.pop_back(), Some(2));
        assert_eq!(r.pop_front(), Some(1));
        assert_eq!(r.pop_front(), None);
        assert!(r.is_empty());
    }

    #[test]
    fn corrupt_checkpoint_is_rejected() {
        let s = RingState {
            buf: vec![1.0],
            head: 3,
            len: 1,
        };
        assert!(Ring::try_from(s).is_err());
    }
}
