//! Integration tests of the backtester.
