//! CLI integration tests: the real binary, real files, exit codes and messages.

mod bad_input;
mod backtest;
mod harness;
