//! Integration tests of the backtester: an independent reference, no look-ahead, determinism.

mod determinism;
mod fixtures;
mod lookahead;
mod reference;
