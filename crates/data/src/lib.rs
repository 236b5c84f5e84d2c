//! TradePulse market data: load bar files, validate them, generate synthetic ones.
//!
//! Sits above `tradepulse-model` (whose [`Bar`](tradepulse_model::Bar) it produces) and below
//! strategy, backtest and the CLI. Bad input is never skipped: the first broken row stops the
//! load with a [`DataError`] naming the file, the line and the column.
//!
//! Main items: [`load_bars_csv`] with [`CsvOptions`] ([`TimestampFormat`], [`Columns`]);
//! [`RandomWalk`] for deterministic benchmark files.
//!
//! ```
//! use std::path::Path;
//! use tradepulse_data::{read_bars, CsvOptions};
//!
//! let csv = "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,100,101,99.5,100.5,1200\n";
//! let bars = read_bars(csv.as_bytes(), Path::new("inline.csv"), &CsvOptions::default(), 1)?;
//! assert_eq!(bars[0].close.to_string(), "100.5");
//! # Ok::<(), tradepulse_data::DataError>(())
//! ```
//!
//! Features: `parquet` (on by default) adds the Parquet market-data [`Catalog`] (bars per
//! instrument and UTC day, exact prices) with [`validate_bars`] and [`resample`].

#[cfg(feature = "parquet")]
mod catalog;
mod csv_bars;
mod error;
mod synthetic;
mod timestamp;

#[cfg(feature = "parquet")]
pub use catalog::{
    BarInterval, Catalog, CatalogCompression, CatalogError, ImportReport, Partition, QualityIssue,
    QualityReport, resample, validate_bars,
};
pub use csv_bars::{Columns, CsvOptions, load_bars_csv, read_bars};
pub use error::DataError;
pub use synthetic::{RandomWalk, SplitMix64};
pub use timestamp::TimestampFormat;
