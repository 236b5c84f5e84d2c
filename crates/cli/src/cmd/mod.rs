//! One module per subcommand.

pub mod analyze;
pub mod backtest;
pub mod data;
pub mod db;
pub mod exec;
pub mod indicators;
mod research;
pub mod serve;
pub mod sweep;
pub mod token;
pub mod verify;
pub mod walk_forward;
