//! The Parquet market-data catalog (feature `parquet`): bars stored per instrument and UTC day,
//! exact prices, loadable as one sorted series.
//!
//! Layout (Hive-style, readable by DuckDB, Polars, Spark, pandas):
//! `ROOT/instrument=BTCUSDT.BINANCE/date=2024-01-01/bars.parquet`, where `/` and `^` in an
//! instrument id are written `%2F` and `%5E`. Each file holds one day of bars sorted by time:
//! `ts` (timestamp, ns, UTC; the bar's open time), `open`/`high`/`low`/`close`
//! (`Decimal128(18, 9)`: the exact [`Price`] mantissa, so values up to 999 999 999.999999999)
//! and `volume` (`Float64`); plain encoding, uncompressed by default ([`CatalogCompression`]).
//!
//! Importing merges with what is stored (a bar at an existing timestamp replaces it) and
//! rewrites each touched day atomically (temporary file + rename), so a crash never leaves a
//! half-written partition.

mod quality;
mod resample;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Float64Array, RecordBatch, TimestampNanosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use tradepulse_model::{Bar, InstrumentId, Price, UnixNanos};

pub use quality::{QualityIssue, QualityReport, validate_bars};
pub use resample::{BarInterval, resample};

const NANOS_PER_DAY: i64 = 86_400_000_000_000;
/// Largest mantissa a `Decimal128(18, 9)` column holds.
const MAX_RAW: i64 = 999_999_999_999_999_999;
const FILE_NAME: &str = "bars.parquet";

/// A catalog operation failed. Fix the input ([`CatalogError::OutOfRange`],
/// [`CatalogError::InvalidInterval`]) or the files ([`CatalogError::Corrupt`]); retry only
/// [`CatalogError::Io`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Reading or writing a file failed.
    #[error("{}: cannot read or write catalog file", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A Parquet file could not be written or read.
    #[error("{}: invalid Parquet file", path.display())]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The parquet error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A file is not a TradePulse bar partition (wrong columns or types, nulls).
    #[error("{}: not a TradePulse bar file: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: &'static str,
    },
    /// A file's footer makes claims its bytes cannot back (row counts, value counts, byte
    /// ranges): refused before anything it would size is allocated.
    #[error("{}: corrupt Parquet footer: {detail}", path.display())]
    CorruptFooter {
        /// The file.
        path: PathBuf,
        /// Which field, and what it claims against what the file holds.
        detail: String,
    },
    /// A price does not fit the catalog's `Decimal128(18, 9)` columns.
    #[error("bar at {ts}: {field} {value} is outside the catalog range (|price| < 1e9)")]
    OutOfRange {
        /// The bar's time.
        ts: UnixNanos,
        /// The column.
        field: &'static str,
        /// The value.
        value: Price,
    },
    /// Bars are not in strictly increasing time order.
    #[error("bar at {ts} is not after the previous bar at {previous}; sort and deduplicate first")]
    Unsorted {
        /// This bar's time.
        ts: UnixNanos,
        /// The previous bar's time.
        previous: UnixNanos,
    },
    /// An interval such as `5m` could not be parsed or is not usable.
    #[error("invalid interval {text:?}: {reason}")]
    InvalidInterval {
        /// The text given.
        text: String,
        /// Why.
        reason: &'static str,
    },
}

type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// One stored partition: an instrument's bars of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The UTC day as `YYYY-MM-DD`.
    pub date: String,
    /// Number of bars.
    pub rows: u64,
    /// The file.
    pub path: PathBuf,
    /// The file's size in bytes.
    pub file_len: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Bars given.
    pub bars: usize,
    /// Day partitions written.
    pub partitions: usize,
    /// Stored bars replaced by a bar with the same timestamp.
    pub replaced: usize,
}

/// How partition files are compressed (dictionary encoding is always off: timestamps and
/// prices are nearly all distinct, and plain pages decode fastest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogCompression {
    /// No compression: the fastest load (≈ 48 bytes per bar on disk).
    #[default]
    None,
    /// Snappy: smaller files, slower load.
    Snappy,
    /// Zstandard (level 3): smallest files, slowest load.
    Zstd,
}

/// A Parquet catalog rooted at a directory.
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
    compression: CatalogCompression,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CatalogError + '_ {
    move |source| CatalogError::Io {
        path: path.to_owned(),
        source,
    }
}

fn pq(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> CatalogError + '_ {
    move |source| CatalogError::Parquet {
        path: path.to_owned(),
        source,
    }
}

fn encode_instrument(id: &InstrumentId) -> String {
    id.to_string().replace('/', "%2F").replace('^', "%5E")
}

fn decode_instrument(dir: &str) -> Option<InstrumentId> {
    dir.strip_prefix("instrument=")?
        .replace("%2F", "/")
        .replace("%5E", "^")
        .parse()
        .ok()
}

fn day_of(ts: UnixNanos) -> i64 {
    ts.as_nanos().div_euclid(NANOS_PER_DAY)
}

/// `YYYY-MM-DD` of a day number since 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// civil-from-days).
fn date_text(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn schema() -> SchemaRef {
    let price = || DataType::Decimal128(18, 9);
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            false,
        ),
        Field::new("open", price(), false),
        Field::new("high", price(), false),
        Field::new("low", price(), false),
        Field::new("close", price(), false),
        Field::new("volume", DataType::Float64, false),
    ]))
}

fn check_range(bar: &Bar) -> Result<()> {
    for (field, value) in [
        ("open", bar.open),
        ("high", bar.high),
        ("low", bar.low),
        ("close", bar.close),
    ] {
        if value.raw().unsigned_abs() > MAX_RAW.unsigned_abs() {
            return Err(CatalogError::OutOfRange {
                ts: bar.ts,
                field,
                value,
            });
        }
    }
    Ok(())
}

fn to_batch(bars: &[Bar], path: &Path) -> Result<RecordBatch> {
    let decimals = |f: fn(&Bar) -> Price| -> Result<ArrayRef> {
        let array = Decimal128Array::from_iter_values(bars.iter().map(|b| i128::from(f(b).raw())))
            .with_precision_and_scale(18, 9)
            .map_err(|_| CatalogError::Corrupt {
                path: path.to_owned(),
                reason: "decimal precision",
            })?;
        Ok(Arc::new(array))
    };
    let ts = TimestampNanosecondArray::from_iter_values(bars.iter().map(|b| b.ts.as_nanos()))
        .with_timezone("UTC");
    let volume = Float64Array::from_iter_values(bars.iter().map(|b| b.volume));
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(ts),
            decimals(|b| b.open)?,
            decimals(|b| b.high)?,
            decimals(|b| b.low)?,
            decimals(|b| b.close)?,
            Arc::new(volume),
        ],
    )
    .map_err(|_| CatalogError::Corrupt {
        path: path.to_owned(),
        reason: "cannot build a record batch",
    })
}

/// Opens a Parquet reader on `input`. parquet 57's footer decoder can panic on a malformed
/// footer (an `unwrap` in its Thrift code, found by `fuzz/fuzz_targets/catalog.rs`): that is
/// a corrupt file, reported as one, not a panic that reaches the user.
fn open_reader<R: parquet::file::reader::ChunkReader + 'static>(
    input: R,
    path: &Path,
) -> Result<parquet::file::serialized_reader::SerializedFileReader<R>> {
    let open = std::panic::AssertUnwindSafe(|| {
        parquet::file::serialized_reader::SerializedFileReader::new(input)
    });
    match std::panic::catch_unwind(open) {
        Ok(reader) => reader.map_err(pq(path)),
        Err(_) => Err(CatalogError::Corrupt {
            path: path.to_owned(),
            reason: "its footer cannot be decoded",
        }),
    }
}

/// Bytes one value of a catalog column takes in a plain-encoded page (INT64 or DOUBLE).
const VALUE_BYTES: u64 = 8;
/// Bars decoded per call into the column readers: the buffers grow with what the pages
/// really hold, never by a count the file merely claims.
const READ_BATCH: usize = 64 * 1024;

/// Checks a footer against the file it sits in, before any of its numbers sizes anything, and
/// returns its row count. Every column chunk's byte range must lie in the file and its value
/// count equal its group's rows (the catalog's columns are required and flat; which columns a
/// file has is [`read_file`]'s check);
/// the groups' rows must add up to the file's; and a plain-encoded chunk must hold at least
/// 8 bytes per value (uncompressed), so an uncompressed file cannot claim more rows than its
/// size allows. A compressed chunk's row count cannot be bounded by its size, which is why
/// readers also size their buffers by what they decode ([`READ_BATCH`], [`reservable`]).
fn checked_rows(
    meta: &parquet::file::metadata::ParquetMetaData,
    file_len: u64,
    path: &Path,
) -> Result<u64> {
    use parquet::basic::{Compression as Codec, Encoding};

    let bad = |detail: String| CatalogError::CorruptFooter {
        path: path.to_owned(),
        detail,
    };
    let claimed = meta.file_metadata().num_rows();
    let rows = u64::try_from(claimed).map_err(|_| bad(format!("num_rows is {claimed}")))?;
    let mut sum: u64 = 0;
    for (g, group) in meta.row_groups().iter().enumerate() {
        let group_rows = u64::try_from(group.num_rows())
            .map_err(|_| bad(format!("row group {g}: num_rows is {}", group.num_rows())))?;
        sum = sum
            .checked_add(group_rows)
            .ok_or_else(|| bad(format!("row group {g}: row counts overflow")))?;
        for column in group.columns() {
            let name = column.column_path().string();
            let values = column.num_values();
            if u64::try_from(values).ok() != Some(group_rows) {
                return Err(bad(format!(
                    "row group {g}, column {name}: {values} values for {group_rows} rows"
                )));
            }
            let (start, len) = (column.data_page_offset(), column.compressed_size());
            let start = column.dictionary_page_offset().unwrap_or(start).min(start);
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(len).ok())
                .and_then(|(a, b)| a.checked_add(b));
            if end.is_none_or(|end| end > file_len) {
                return Err(bad(format!(
                    "row group {g}, column {name}: {len} bytes at offset {start} \
                     lie outside the file's {file_len} bytes"
                )));
            }
            let uncompressed = u64::try_from(column.uncompressed_size()).unwrap_or(0);
            let plain = column
                .encodings()
                .all(|e| matches!(e, Encoding::PLAIN | Encoding::RLE));
            let held = if column.compression() == Codec::UNCOMPRESSED {
                uncompressed.min(u64::try_from(len).unwrap_or(0))
            } else {
                uncompressed
            };
            if plain && group_rows.saturating_mul(VALUE_BYTES) > held {
                return Err(bad(format!(
                    "row group {g}, column {name}: {group_rows} rows claimed, but its pages \
                     hold {held} bytes ({VALUE_BYTES} per value)"
                )));
            }
        }
    }
    if sum != rows {
        return Err(bad(format!(
            "num_rows is {rows}, but its row groups hold {sum}"
        )));
    }
    Ok(rows)
}

/// How many bars to reserve room for ahead of decoding `rows` bars from `file_len` bytes: the
/// count, but never more than an uncompressed file of that size could hold (six plain columns
/// of 8 bytes), so a compressed file's footer cannot size a buffer; beyond that the buffer
/// grows with what is decoded.
fn reservable(rows: u64, file_len: u64) -> usize {
    usize::try_from(rows.min(file_len / (6 * VALUE_BYTES))).unwrap_or(0)
}

/// Reads one partition file, appending its bars to `out`. Uses Parquet's column readers
/// directly (no Arrow arrays): the INT64 pages decode straight into `i64` buffers.
fn read_file(path: &Path, out: &mut Vec<Bar>) -> Result<()> {
    use parquet::basic::{LogicalType, Type as Physical};
    use parquet::column::reader::ColumnReader;
    use parquet::file::reader::FileReader;

    const NAMES: [&str; 6] = ["ts", "open", "high", "low", "close", "volume"];
    let corrupt = |reason| CatalogError::Corrupt {
        path: path.to_owned(),
        reason,
    };
    // One read of the whole (small, day-sized) file; the reader then slices it without
    // further system calls.
    let bytes = bytes::Bytes::from(std::fs::read(path).map_err(io(path))?);
    let file_len = bytes.len() as u64;
    let reader = open_reader(bytes, path)?;
    let schema = reader.metadata().file_metadata().schema_descr();
    if schema.num_columns() != 6
        || schema
            .columns()
            .iter()
            .zip(NAMES)
            .any(|(c, name)| c.name() != name || c.max_def_level() > 0)
    {
        return Err(corrupt(
            "expected 6 required columns ts, open, high, low, close, volume",
        ));
    }
    for column in &schema.columns()[1..5] {
        let exact = column.physical_type() == Physical::INT64
            && matches!(
                column.logical_type_ref(),
                Some(LogicalType::Decimal { scale: 9, .. })
            );
        if !exact {
            return Err(corrupt(
                "a price column is not an INT64 decimal with scale 9",
            ));
        }
    }
    let rows = checked_rows(reader.metadata(), file_len, path)?;
    out.reserve(reservable(rows, file_len));
    for g in 0..reader.num_row_groups() {
        let group = reader.get_row_group(g).map_err(pq(path))?;
        let n = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        let room = reservable(group.metadata().num_rows().unsigned_abs(), file_len);
        let mut ints: [Vec<i64>; 5] = Default::default();
        for (i, values) in ints.iter_mut().enumerate() {
            values.reserve(room);
            match group.get_column_reader(i).map_err(pq(path))? {
                ColumnReader::Int64ColumnReader(mut r) => {
                    read_batched(n, values, |m, v| r.read_records(m, None, None, v))
                        .map_err(pq(path))?;
                }
                _ => return Err(corrupt("ts and prices must be INT64")),
            }
        }
        let mut volume: Vec<f64> = Vec::with_capacity(room);
        match group.get_column_reader(5).map_err(pq(path))? {
            ColumnReader::DoubleColumnReader(mut r) => {
                read_batched(n, &mut volume, |m, v| r.read_records(m, None, None, v))
                    .map_err(pq(path))?;
            }
            _ => return Err(corrupt("volume must be DOUBLE")),
        }
        let [ts, open, high, low, close] = &ints;
        if [ts, open, high, low, close].iter().any(|v| v.len() != n) || volume.len() != n {
            return Err(corrupt(
                "a column holds fewer or more values than the footer's row count",
            ));
        }
        if !ts.windows(2).all(|w| w[0] < w[1])
            || out
                .last()
                .zip(ts.first())
                .is_some_and(|(last, first)| last.ts.as_nanos() >= *first)
        {
            return Err(corrupt("timestamps are not strictly increasing"));
        }
        out.extend((0..n).map(|i| Bar {
            ts: UnixNanos::new(ts[i]),
            open: Price::from_raw(open[i]),
            high: Price::from_raw(high[i]),
            low: Price::from_raw(low[i]),
            close: Price::from_raw(close[i]),
            volume: volume[i],
        }));
    }
    Ok(())
}

/// Reads up to `n` records into `values` in batches of [`READ_BATCH`], stopping early when the
/// pages run out (the caller compares the count with the footer's).
fn read_batched<T>(
    n: usize,
    values: &mut Vec<T>,
    mut read: impl FnMut(usize, &mut Vec<T>) -> parquet::errors::Result<(usize, usize, usize)>,
) -> parquet::errors::Result<()> {
    let mut done = 0;
    while done < n {
        let (records, _, _) = read(READ_BATCH.min(n - done), values)?;
        if records == 0 {
            break;
        }
        done += records;
    }
    Ok(())
}

impl Catalog {
    /// A catalog in `root` (created on the first import).
    #[must_use]
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            compression: CatalogCompression::default(),
        }
    }

    /// Writes new partitions with `compression` (files already written keep theirs; reading
    /// handles any mix).
    #[must_use]
    pub fn with_compression(mut self, compression: CatalogCompression) -> Self {
        self.compression = compression;
        self
    }

    /// The root directory.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn instrument_dir(&self, instrument: &InstrumentId) -> PathBuf {
        self.root
            .join(format!("instrument={}", encode_instrument(instrument)))
    }

    fn partition_path(&self, instrument: &InstrumentId, day: i64) -> PathBuf {
        self.instrument_dir(instrument)
            .join(format!("date={}", date_text(day)))
            .join(FILE_NAME)
    }

    /// Stores `bars` of `instrument`, merging with stored bars day by day (a bar at an existing
    /// timestamp replaces the stored one). Bars need not be sorted.
    ///
    /// # Errors
    /// [`CatalogError::OutOfRange`] before anything is written; I/O and Parquet errors.
    pub fn import(&self, instrument: &InstrumentId, bars: &[Bar]) -> Result<ImportReport> {
        for bar in bars {
            check_range(bar)?;
        }
        let mut days: BTreeMap<i64, Vec<Bar>> = BTreeMap::new();
        for bar in bars {
            days.entry(day_of(bar.ts)).or_default().push(*bar);
        }
        let mut replaced = 0;
        for (day, new) in &days {
            let path = self.partition_path(instrument, *day);
            let mut merged: BTreeMap<i64, Bar> = BTreeMap::new();
            if path.exists() {
                let mut old = Vec::new();
                read_file(&path, &mut old)?;
                merged.extend(old.into_iter().map(|b| (b.ts.as_nanos(), b)));
            }
            for bar in new {
                if merged.insert(bar.ts.as_nanos(), *bar).is_some() {
                    replaced += 1;
                }
            }
            let sorted: Vec<Bar> = merged.into_values().collect();
            self.write_partition(&path, &sorted)?;
        }
        Ok(ImportReport {
            bars: bars.len(),
            partitions: days.len(),
            replaced,
        })
    }

    fn write_partition(&self, path: &Path, bars: &[Bar]) -> Result<()> {
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = path.with_extension("parquet.tmp");
        let batch = to_batch(bars, path)?;
        let compression = match self.compression {
            CatalogCompression::None => Compression::UNCOMPRESSED,
            CatalogCompression::Snappy => Compression::SNAPPY,
            CatalogCompression::Zstd => Compression::ZSTD(ZstdLevel::default()),
        };
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_dictionary_enabled(false)
            .build();
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let mut writer = ArrowWriter::try_new(file, schema(), Some(props)).map_err(pq(&tmp))?;
        writer.write(&batch).map_err(pq(&tmp))?;
        let file = writer.into_inner().map_err(pq(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))
    }

    /// Every partition, by instrument then date.
    ///
    /// # Errors
    /// I/O errors; Parquet errors reading a footer.
    pub fn partitions(&self) -> Result<Vec<Partition>> {
        let mut out = Vec::new();
        if !self.root.exists() {
            return Ok(out);
        }
        for entry in std::fs::read_dir(&self.root).map_err(io(&self.root))? {
            let entry = entry.map_err(io(&self.root))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(instrument) = decode_instrument(&name) else {
                continue;
            };
            out.extend(self.instrument_partitions(&instrument)?);
        }
        out.sort_by(|a, b| (&a.instrument, &a.date).cmp(&(&b.instrument, &b.date)));
        Ok(out)
    }

    fn instrument_partitions(&self, instrument: &InstrumentId) -> Result<Vec<Partition>> {
        let dir = self.instrument_dir(instrument);
        let mut out = Vec::new();
        if !dir.exists() {
            return Ok(out);
        }
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let entry = entry.map_err(io(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(date) = name.strip_prefix("date=") else {
                continue;
            };
            let path = entry.path().join(FILE_NAME);
            if !path.exists() {
                continue;
            }
            let file = File::open(&path).map_err(io(&path))?;
            let file_len = file.metadata().map_err(io(&path))?.len();
            let reader = open_reader(file, &path)?;
            let meta = parquet::file::reader::FileReader::metadata(&reader);
            let rows = checked_rows(meta, file_len, &path)?;
            out.push(Partition {
                instrument: instrument.clone(),
                date: date.to_owned(),
                rows,
                file_len,
                path,
            });
        }
        out.sort_by(|a, b| a.date.cmp(&b.date));
        Ok(out)
    }

    /// All bars of `instrument`, sorted by time (empty if none are stored). Day files are
    /// decoded in parallel on the available cores.
    ///
    /// # Errors
    /// I/O, Parquet and [`CatalogError::Corrupt`] errors.
    pub fn load(&self, instrument: &InstrumentId) -> Result<Vec<Bar>> {
        let partitions = self.instrument_partitions(instrument)?;
        let threads = std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(1)
            .clamp(1, 8);
        let chunk = partitions.len().div_ceil(threads).max(1);
        // Room for what the files can hold, not for what their footers claim (see `reservable`).
        let room = |group: &[Partition]| -> usize {
            group
                .iter()
                .map(|p| reservable(p.rows, p.file_len))
                .fold(0, usize::saturating_add)
        };
        let total = room(&partitions);
        let parts: Vec<Result<Vec<Bar>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = partitions
                .chunks(chunk)
                .enumerate()
                .map(|(i, group)| {
                    scope.spawn(move || {
                        // The first group's vector becomes the result: size it for everything
                        // so the other groups are appended without reallocating.
                        let rows = if i == 0 { total } else { room(group) };
                        let mut bars = Vec::with_capacity(rows);
                        for p in group {
                            read_file(&p.path, &mut bars)?;
                        }
                        Ok(bars)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(CatalogError::Corrupt {
                            path: self.root.clone(),
                            reason: "a reader thread panicked",
                        })
                    })
                })
                .collect()
        });
        let mut parts = parts.into_iter();
        let mut out = match parts.next() {
            Some(first) => first?,
            None => Vec::new(),
        };
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(date_text(19_723), "2024-01-01");
        assert_eq!(date_text(19_782), "2024-02-29");
        assert_eq!(date_text(-1), "1969-12-31");
    }

    fn bars(start_minute: i64, n: i64) -> Vec<Bar> {
        (0..n)
            .map(|i| {
                let m = start_minute + i;
                let p = Price::from_raw(100_000_000_000 + m * 1_000_001);
                Bar {
                    ts: UnixNanos::new(m * 60_000_000_000),
                    open: p,
                    high: Price::from_raw(p.raw() + 5),
                    low: Price::from_raw(p.raw() - 5),
                    close: Price::from_raw(p.raw() + 1),
                    volume: 0.1 * m as f64,
                }
            })
            .collect()
    }

    #[test]
    fn import_partitions_by_day_and_loads_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path());
        let btc: InstrumentId = "BTCUSDT.BINANCE".parse().unwrap();
        let eth: InstrumentId = "ETH/USDT.SIM".parse().unwrap();
        // Three days of 1-minute bars, imported out of order.
        let all = bars(0, 3 * 1440);
        let mut shuffled = all.clone();
        shuffled.reverse();
        let report = catalog.import(&btc, &shuffled).unwrap();
        assert_eq!(
            (report.bars, report.partitions, report.replaced),
            (4320, 3, 0)
        );
        catalog.import(&eth, &bars(100, 10)).unwrap();
        assert_eq!(catalog.load(&btc).unwrap(), all);
        let parts = catalog.partitions().unwrap();
        let listed: Vec<(String, String, u64)> = parts
            .iter()
            .map(|p| (p.instrument.to_string(), p.date.clone(), p.rows))
            .collect();
        assert_eq!(
            listed,
            [
                ("BTCUSDT.BINANCE".into(), "1970-01-01".into(), 1440),
                ("BTCUSDT.BINANCE".into(), "1970-01-02".into(), 1440),
                ("BTCUSDT.BINANCE".into(), "1970-01-03".into(), 1440),
                ("ETH/USDT.SIM".into(), "1970-01-01".into(), 10),
            ]
        );
        assert!(
            parts[0]
                .path
                .ends_with("instrument=BTCUSDT.BINANCE/date=1970-01-01/bars.parquet")
        );
        let none: InstrumentId = "NONE.SIM".parse().unwrap();
        assert!(catalog.load(&none).unwrap().is_empty());
    }

    #[test]
    fn reimport_merges_and_replaces_by_timestamp() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path());
        let id: InstrumentId = "SPX.SIM".parse().unwrap();
        catalog.import(&id, &bars(0, 100)).unwrap();
        let mut update = bars(50, 100); // overlaps 50..100, extends to 150
        update[0].volume = 12_345.0;
        let report = catalog.import(&id, &update).unwrap();
        assert_eq!(report.replaced, 50);
        let loaded = catalog.load(&id).unwrap();
        assert_eq!(loaded.len(), 150);
        assert_eq!(loaded[50].volume, 12_345.0);
        assert!(loaded.windows(2).all(|w| w[0].ts < w[1].ts));
    }

    #[test]
    fn prices_beyond_the_decimal_range_are_rejected_before_writing() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path().join("cat"));
        let id: InstrumentId = "BIG.SIM".parse().unwrap();
        let mut bad = bars(0, 3);
        bad[2].high = Price::from_raw(MAX_RAW + 1);
        let err = catalog.import(&id, &bad).unwrap_err();
        assert!(
            matches!(err, CatalogError::OutOfRange { field: "high", .. }),
            "{err}"
        );
        assert!(!dir.path().join("cat").exists());
    }

    #[test]
    fn a_foreign_parquet_file_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path());
        let id: InstrumentId = "X.SIM".parse().unwrap();
        let path = catalog.partition_path(&id, 0);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Float64Array::from(vec![1.0])) as ArrayRef],
        )
        .unwrap();
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let err = catalog.load(&id).unwrap_err();
        assert!(matches!(err, CatalogError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("bars.parquet"), "{err}");
    }

    #[test]
    fn an_unsorted_partition_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path());
        let id: InstrumentId = "U.SIM".parse().unwrap();
        let mut unsorted = bars(0, 10);
        unsorted.swap(3, 4);
        catalog
            .write_partition(&catalog.partition_path(&id, 0), &unsorted)
            .unwrap();
        let err = catalog.load(&id).unwrap_err();
        assert!(err.to_string().contains("not strictly increasing"), "{err}");
    }

    #[test]
    fn instrument_dirs_round_trip() {
        let id: InstrumentId = "BTC/USDT^X.SIM".parse().unwrap();
        let dir = format!("instrument={}", encode_instrument(&id));
        assert_eq!(dir, "instrument=BTC%2FUSDT%5EX.SIM");
        assert_eq!(decode_instrument(&dir), Some(id));
    }

    /// Rewrites the footer of the Parquet file at `path` through `edit` (the pages stay as
    /// written), as a corrupted or hostile file would carry it.
    fn rewrite_footer(
        path: &Path,
        edit: impl FnOnce(
            parquet::file::metadata::ParquetMetaData,
        ) -> parquet::file::metadata::ParquetMetaData,
    ) {
        use parquet::file::metadata::ParquetMetaDataWriter;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let bytes = std::fs::read(path).unwrap();
        let n = bytes.len();
        let meta_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
        let pages = &bytes[..n - 8 - meta_len];
        let meta = SerializedFileReader::new(bytes::Bytes::from(bytes.clone()))
            .unwrap()
            .metadata()
            .clone();
        let meta = edit(meta);
        let mut out = pages.to_vec();
        ParquetMetaDataWriter::new(&mut out, &meta)
            .finish()
            .unwrap();
        std::fs::write(path, out).unwrap();
    }

    /// `meta` with each row group replaced by `edit` of it (the writer then sums the groups
    /// into the file's `num_rows`).
    fn map_groups(
        meta: parquet::file::metadata::ParquetMetaData,
        edit: impl Fn(
            parquet::file::metadata::RowGroupMetaData,
        ) -> parquet::file::metadata::RowGroupMetaData,
    ) -> parquet::file::metadata::ParquetMetaData {
        let groups = meta.row_groups().iter().cloned().map(edit).collect();
        parquet::file::metadata::ParquetMetaDataBuilder::new_from_metadata(meta)
            .set_row_groups(groups)
            .build()
    }

    /// `meta` with every row count (row groups, column chunks) set to `rows` and each chunk's
    /// uncompressed size to 8 bytes per row: a footer that lies consistently.
    fn claim_rows(
        meta: parquet::file::metadata::ParquetMetaData,
        rows: i64,
    ) -> parquet::file::metadata::ParquetMetaData {
        map_groups(meta, |g| {
            let columns = g
                .columns()
                .iter()
                .map(|c| {
                    c.clone()
                        .into_builder()
                        .set_num_values(rows)
                        .set_total_uncompressed_size(rows.saturating_mul(8))
                        .build()
                        .unwrap()
                })
                .collect();
            g.into_builder()
                .set_num_rows(rows)
                .set_column_metadata(columns)
                .build()
                .unwrap()
        })
    }

    /// A one-day partition of `compression`, and its catalog, instrument and file.
    fn partition(dir: &Path, compression: CatalogCompression) -> (Catalog, InstrumentId, PathBuf) {
        let catalog = Catalog::new(dir).with_compression(compression);
        let id: InstrumentId = "F.SIM".parse().unwrap();
        catalog.import(&id, &bars(0, 500)).unwrap();
        let path = catalog.partition_path(&id, 0);
        (catalog, id, path)
    }

    /// Loading refuses the file, naming it (and so does listing, which reads only footers,
    /// when `listing` is set), and nothing allocates anything near what the footer claims
    /// (counted on this thread: `read_file` directly, as `load` runs it on worker threads).
    fn assert_refused(
        catalog: &Catalog,
        id: &InstrumentId,
        path: &Path,
        listing: bool,
        what: &str,
    ) {
        let mut bytes_max = 0;
        for run in usize::from(!listing)..3 {
            let info = allocation_counter::measure(|| {
                let err = match run {
                    0 => catalog.partitions().map(|_| ()).unwrap_err(),
                    1 => catalog.load(id).map(|_| ()).unwrap_err(),
                    _ => read_file(path, &mut Vec::new()).unwrap_err(),
                };
                let text = err.to_string();
                assert!(text.contains("bars.parquet"), "{what}: {text}");
                assert!(
                    matches!(
                        err,
                        CatalogError::CorruptFooter { .. } | CatalogError::Corrupt { .. }
                    ),
                    "{what}: {text}"
                );
            });
            bytes_max = bytes_max.max(info.bytes_max);
        }
        assert!(bytes_max < 4 << 20, "{what}: {bytes_max} bytes allocated");
    }

    #[test]
    fn a_row_group_claiming_more_rows_than_its_columns_hold_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (catalog, id, path) = partition(dir.path(), CatalogCompression::None);
        // (The writer sums the groups into the file's num_rows, which then lies too.)
        rewrite_footer(&path, |meta| {
            map_groups(meta, |g| {
                g.into_builder().set_num_rows(1 << 40).build().unwrap()
            })
        });
        assert_refused(&catalog, &id, &path, true, "row group num_rows");
        let err = catalog.partitions().unwrap_err().to_string();
        assert!(
            err.contains("corrupt Parquet footer: row group 0, column ts: 500 values for"),
            "{err}"
        );
    }

    #[test]
    fn an_uncompressed_file_cannot_claim_more_rows_than_its_bytes_hold() {
        // 501 of 500 rows fits the bytes, so only decoding finds it out.
        for (rows, listing) in [(1 << 40, true), (i64::MAX / 8, true), (501, false)] {
            let dir = tempfile::tempdir().unwrap();
            let (catalog, id, path) = partition(dir.path(), CatalogCompression::None);
            rewrite_footer(&path, |meta| claim_rows(meta, rows));
            assert_refused(&catalog, &id, &path, listing, &format!("{rows} rows"));
        }
    }

    #[test]
    fn a_compressed_file_claiming_huge_row_counts_fails_on_its_pages_without_a_huge_buffer() {
        // A compressed chunk's row count cannot be checked against its size, so the footer
        // passes; the buffers grow only with what the pages decode, which runs out.
        for compression in [CatalogCompression::Zstd, CatalogCompression::Snappy] {
            let dir = tempfile::tempdir().unwrap();
            let (catalog, id, path) = partition(dir.path(), compression);
            rewrite_footer(&path, |meta| claim_rows(meta, 1 << 40));
            assert_refused(&catalog, &id, &path, false, &format!("{compression:?}"));
        }
    }

    #[test]
    fn column_chunks_outside_the_file_or_with_wrong_value_counts_are_refused() {
        type Edit = fn(
            parquet::file::metadata::ColumnChunkMetaData,
        ) -> parquet::file::metadata::ColumnChunkMetaData;
        let edits: [(&str, Edit); 4] = [
            ("compressed size", |c| {
                c.into_builder()
                    .set_total_compressed_size(i64::MAX / 2)
                    .build()
                    .unwrap()
            }),
            ("page offset", |c| {
                c.into_builder()
                    .set_data_page_offset(1 << 50)
                    .build()
                    .unwrap()
            }),
            ("negative size", |c| {
                c.into_builder()
                    .set_total_compressed_size(-5)
                    .build()
                    .unwrap()
            }),
            ("value count", |c| {
                c.into_builder().set_num_values(1 << 40).build().unwrap()
            }),
        ];
        for (what, edit) in edits {
            let dir = tempfile::tempdir().unwrap();
            let (catalog, id, path) = partition(dir.path(), CatalogCompression::None);
            rewrite_footer(&path, |meta| {
                map_groups(meta, |g| {
                    let mut columns = g.columns().to_vec();
                    columns[1] = edit(columns[1].clone());
                    g.into_builder()
                        .set_column_metadata(columns)
                        .build()
                        .unwrap()
                })
            });
            assert_refused(&catalog, &id, &path, true, what);
            let err = catalog.partitions().unwrap_err().to_string();
            assert!(err.contains("column open"), "{what}: {err}");
        }
    }

    /// A footer on which parquet's decoder panics (found by the fuzz target) is a corrupt file.
    #[test]
    fn a_footer_that_panics_the_decoder_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(dir.path());
        let id: InstrumentId = "P.SIM".parse().unwrap();
        let path = catalog.partition_path(&id, 0);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            include_bytes!("../../../../fuzz/corpus/catalog/thrift_panic.parquet"),
        )
        .unwrap();
        for err in [
            catalog.partitions().map(|_| ()).unwrap_err(),
            catalog.load(&id).map(|_| ()).unwrap_err(),
        ] {
            assert!(err.to_string().contains("bars.parquet"), "{err}");
        }
    }
}
