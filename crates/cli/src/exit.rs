//! Mapping errors to the documented exit codes.

use std::process::ExitCode;

use tradepulse_backtest::BacktestError;
use tradepulse_data::DataError;

/// Exit code for bad input (command line, config, data).
pub const BAD_INPUT: u8 = 2;
/// Exit code for every other failure.
pub const FAILURE: u8 = 1;

/// `2` when the error is the input's fault, `1` otherwise.
pub fn code_for(err: &anyhow::Error) -> ExitCode {
    let bad_input = err.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<BacktestError>() {
            return matches!(
                e,
                BacktestError::Config(_) | BacktestError::Data(_) | BacktestError::Engine(_)
            );
        }
        if let Some(e) = cause.downcast_ref::<DataError>() {
            return !matches!(e, DataError::Io { .. }) || is_not_found(e);
        }
        if let Some(e) = cause.downcast_ref::<tradepulse_research::sweep::SweepError>() {
            return !matches!(e, tradepulse_research::sweep::SweepError::File { .. });
        }
        cause.downcast_ref::<InputError>().is_some()
    });
    ExitCode::from(if bad_input { BAD_INPUT } else { FAILURE })
}

fn is_not_found(e: &DataError) -> bool {
    matches!(e, DataError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
}

/// A command-line value that is well-formed for clap but unusable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);
