//! One module per subcommand.

pub mod backtest;
pub mod data;
