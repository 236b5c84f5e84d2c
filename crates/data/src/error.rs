//! [`DataError`]: everything that can be wrong with a data file, with its location.

use std::path::PathBuf;

use tradepulse_model::UnixNanos;

/// A data file could not be loaded. Every variant names the file and, where it applies, the
/// 1-based line, so a user can go straight to the problem. Fix the file; retrying won't help,
/// except for [`DataError::Io`].
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("{}: cannot read data file", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A required column is missing from the header.
    #[error("{}:1: missing column '{column}' (header has: {header})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was expected.
        column: String,
        /// The header as read.
        header: String,
    },
    /// A row is malformed (wrong field count, bad number, bad timestamp, broken OHLC rule).
    #[error("{}:{line}: {field}: {reason}", path.display())]
    Row {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column (or `row`).
        field: String,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// A timestamp is equal to or earlier than the one before it.
    #[error(
        "{}:{line}: ts: {ts} is not after the previous row's {previous} (timestamps must be strictly increasing; duplicates are not allowed)",
        path.display()
    )]
    NotIncreasing {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// This row's timestamp.
        ts: UnixNanos,
        /// The previous row's timestamp.
        previous: UnixNanos,
    },
    /// The file has a header but no rows.
    #[error("{}: no data rows", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The Parquet catalog could not be read or written.
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    /// More rows than the configured limit.
    #[error("{}: more than {limit} rows (raise data.max_rows if this is intended)", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
}
