//! One module per subcommand.

pub mod backtest;
pub mod data;
mod research;
pub mod sweep;
pub mod walk_forward;
