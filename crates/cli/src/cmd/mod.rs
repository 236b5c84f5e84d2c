//! One module per subcommand.

pub mod analyze;
pub mod backtest;
pub mod data;
pub mod db;
pub mod exec;
pub mod indicators;
pub mod openapi;
mod research;
pub mod serve;
pub mod sweep;
pub mod token;
pub mod verify;
pub mod walk_forward;

/// The wall clock as the store records it.
pub(crate) fn wall_clock() -> tradepulse_model::UnixNanos {
    tradepulse_model::UnixNanos::new(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
    )
}
