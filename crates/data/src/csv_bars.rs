//! Loading OHLCV bars from CSV, validating every row.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;
use tradepulse_model::{Bar, Price, UnixNanos};

use crate::error::DataError;
use crate::timestamp::{Resolved, TimestampFormat};

mod stream;

/// Column names of a bar file. Defaults: `ts,open,high,low,close,volume`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Columns {
    /// Timestamp column (the bar's open time).
    pub ts: String,
    /// Open price column.
    pub open: String,
    /// High price column.
    pub high: String,
    /// Low price column.
    pub low: String,
    /// Close price column.
    pub close: String,
    /// Volume column.
    pub volume: String,
}

impl Default for Columns {
    fn default() -> Self {
        Self {
            ts: "ts".into(),
            open: "open".into(),
            high: "high".into(),
            low: "low".into(),
            close: "close".into(),
            volume: "volume".into(),
        }
    }
}

/// How to read a bar CSV.
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// Timestamp format.
    pub timestamp: TimestampFormat,
    /// Column names.
    pub columns: Columns,
    /// Refuse files with more rows than this (`None` = no limit).
    pub max_rows: Option<usize>,
}

/// Files at least this large are parsed on all cores; smaller ones stream through one reader.
const PARALLEL_MIN_BYTES: u64 = 8 << 20;
/// Files larger than this stream through one reader so memory stays bounded (the parallel path
/// holds the whole file in memory).
const PARALLEL_MAX_BYTES: u64 = 1 << 30;

/// Reads and validates every bar of a CSV file.
///
/// Each row must have positive prices, `low <= open, close <= high`, a finite volume `>= 0`, and
/// a timestamp strictly after the previous row's. The first broken rule (in file order) stops
/// loading with an error naming the file, the line and the column; no row is skipped silently.
/// The file is streamed in pieces of 512 KiB, parsed a few at a time on rayon's pool, so memory
/// is the bars plus a few MiB whatever the file's size. A file that path does not take (quoted
/// fields, carriage returns other than in CRLF line ends, blank lines, rows wider than 16
/// fields) or that has an error is read again with the csv reader, which names the first error
/// (in file order); files of 8 MiB to 1 GiB without quoted fields are then parsed in parallel,
/// with the same result and the same first error as a sequential read.
///
/// # Errors
/// [`DataError`] for an unreadable file, a missing column, a malformed or invalid row, an empty
/// file, or too many rows.
pub fn load_bars_csv(path: &Path, options: &CsvOptions) -> Result<Vec<Bar>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let source = stream::FileSource { file, len };
    if let Some(bars) = stream::load(&source, options) {
        return Ok(bars);
    }
    // The streaming path gave up: the csv reader reads the file again, from the start, and
    // reports what is wrong with it.
    let file = File::open(path).map_err(io)?;
    if (PARALLEL_MIN_BYTES..=PARALLEL_MAX_BYTES).contains(&len) && rayon::current_num_threads() > 1
    {
        let bytes = std::fs::read(path).map_err(io)?;
        return read_bars_parallel(&bytes, path, options);
    }
    // Pre-size from the file length (≈ 55 bytes per row in the usual layout) to avoid regrowth.
    let estimate = ((len / 48) as usize).min(options.max_rows.unwrap_or(usize::MAX));
    let reader = BufReader::with_capacity(1 << 20, file);
    read_bars(reader, path, options, estimate)
}

/// Where each column is, from the header row.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// Indices of ts, open, high, low, close, volume.
    idx: [usize; 6],
    /// Fields per row.
    width: usize,
}

fn row_error(path: &Path, line: u64, field: &str, reason: String) -> DataError {
    DataError::Row {
        path: path.to_owned(),
        line,
        field: field.to_owned(),
        reason,
    }
}

fn layout(headers: &csv::ByteRecord, path: &Path, c: &Columns) -> Result<Layout, DataError> {
    let header_text = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_owned())
        .collect::<Vec<_>>();
    let find = |name: &str| -> Result<usize, DataError> {
        header_text
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_owned(),
                column: name.to_owned(),
                header: header_text.join(","),
            })
    };
    Ok(Layout {
        idx: [
            find(&c.ts)?,
            find(&c.open)?,
            find(&c.high)?,
            find(&c.low)?,
            find(&c.close)?,
            find(&c.volume)?,
        ],
        width: headers.len(),
    })
}

/// The fields of one row: a csv record, or a line split by the streaming path.
pub(crate) trait Fields {
    /// Number of fields.
    fn count(&self) -> usize;
    /// Field `i` (`i < count()`).
    fn field(&self, i: usize) -> &str;
}

impl Fields for csv::StringRecord {
    fn count(&self) -> usize {
        self.len()
    }
    fn field(&self, i: usize) -> &str {
        &self[i]
    }
}

/// Parses and validates one record (not its order relative to the previous one).
fn parse_row(
    record: &impl Fields,
    line: u64,
    layout: &Layout,
    format: Resolved,
    path: &Path,
    c: &Columns,
) -> Result<Bar, DataError> {
    if record.count() != layout.width {
        return Err(row_error(
            path,
            line,
            "row",
            format!("expected {} fields, found {}", layout.width, record.count()),
        ));
    }
    let idx = &layout.idx;
    let ts = format
        .parse(record.field(idx[0]))
        .map_err(|reason| row_error(path, line, &c.ts, reason))?;
    let price = |i: usize, name: &str| -> Result<Price, DataError> {
        let t = record.field(i);
        let p: Price = match plain_price(t) {
            Some(p) => p,
            None => t
                .parse()
                .map_err(|e| row_error(path, line, name, format!("{e}")))?,
        };
        if !p.is_positive() {
            return Err(row_error(
                path,
                line,
                name,
                format!("price must be positive, got {t}"),
            ));
        }
        Ok(p)
    };
    let open = price(idx[1], &c.open)?;
    let high = price(idx[2], &c.high)?;
    let low = price(idx[3], &c.low)?;
    let close = price(idx[4], &c.close)?;
    let vol_text = record.field(idx[5]);
    let volume: f64 = match whole_volume(vol_text) {
        Some(v) => v,
        None => vol_text.trim().parse().map_err(|_| {
            row_error(
                path,
                line,
                &c.volume,
                format!("'{vol_text}' is not a number"),
            )
        })?,
    };
    let bar = Bar {
        ts,
        open,
        high,
        low,
        close,
        volume,
    };
    bar.validate()
        .map_err(|e| row_error(path, line, "row", e.to_string()))?;
    Ok(bar)
}

/// `text` as a price when it is plain `digits[.digits]` (at most 18 digits, at most nine
/// decimals, no sign or spaces), the form of nearly every bar file: the value `Price::from_str`
/// gives, without its trimming and general parser (a third of a row's parsing time). `None`
/// leaves anything else, including values out of range, to `Price::from_str`.
fn plain_price(text: &str) -> Option<Price> {
    let bytes = text.as_bytes();
    // 18 digits and a point at most, so the mantissa fits 64 bits.
    if bytes.len() > 19 {
        return None;
    }
    let mut mantissa = 0i64;
    let mut digits = 0usize;
    let mut decimals = None;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + i64::from(b - b'0');
                digits += 1;
            }
            b'.' if decimals.is_none() => decimals = Some(digits),
            _ => return None,
        }
    }
    let decimals = decimals.map_or(0, |at| digits - at);
    if digits == 0 || digits > 18 || decimals > 9 {
        return None;
    }
    mantissa
        .checked_mul(10i64.pow(9 - decimals as u32))
        .map(Price::from_raw)
}

/// `text` as a volume when it is a whole number of at most 15 digits (below 2^53, so exact as
/// `f64`, the value `str::parse` gives); `None` leaves anything else to `str::parse`.
fn whole_volume(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 15 {
        return None;
    }
    let mut v = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    Some(v as f64)
}

/// Reads records of `csv` into `bars` until the end or the first error, which it returns.
/// `first_line` is the file line of the reader's first record; `format` is resolved from the
/// first record if not given; `limit` caps the rows.
#[allow(
    clippy::too_many_arguments,
    reason = "one private helper of the two read paths"
)]
fn read_rows<R: std::io::Read>(
    csv: &mut csv::Reader<R>,
    first_line: u64,
    layout: &Layout,
    format: &mut Option<Resolved>,
    options: &CsvOptions,
    path: &Path,
    bars: &mut impl RowSink,
) -> Option<DataError> {
    // A StringRecord checks UTF-8 once per record instead of once per field.
    let mut record = csv::StringRecord::new();
    let mut previous: Option<UnixNanos> = bars.last_ts();
    let c = &options.columns;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() + first_line - 1);
                return Some(row_error(path, line, "row", csv_reason(&e)));
            }
        }
        let line = record.position().map_or(0, |p| p.line() + first_line - 1);
        if let Some(limit) = options.max_rows
            && RowSink::len(bars) >= limit
        {
            return Some(DataError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        let resolved = *format.get_or_insert_with(|| {
            options
                .timestamp
                .resolve(record.get(layout.idx[0]).unwrap_or_default())
        });
        let bar = match parse_row(&record, line, layout, resolved, path, c) {
            Ok(bar) => bar,
            Err(e) => return Some(e),
        };
        if let Some(prev) = previous
            && bar.ts <= prev
        {
            return Some(DataError::NotIncreasing {
                path: path.to_owned(),
                line,
                ts: bar.ts,
                previous: prev,
            });
        }
        previous = Some(bar.ts);
        if !bars.push(bar) {
            return Some(row_error(path, line, "row", "more rows than lines".into()));
        }
    }
}

/// Where [`read_rows`] puts bars: a growing `Vec`, or a chunk's slot of a pre-sized one.
trait RowSink {
    /// Stores a bar; false if there is no room.
    fn push(&mut self, bar: Bar) -> bool;
    /// Bars stored.
    fn len(&self) -> usize;
    /// Time of the last bar stored.
    fn last_ts(&self) -> Option<UnixNanos>;
}

impl RowSink for Vec<Bar> {
    fn push(&mut self, bar: Bar) -> bool {
        Vec::push(self, bar);
        true
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn last_ts(&self) -> Option<UnixNanos> {
        self.last().map(|b| b.ts)
    }
}

/// A chunk's part of the result, filled in place so the parallel path never holds the bars
/// twice (its peak memory is the file plus the bars).
struct SliceSink<'a> {
    slots: &'a mut [Bar],
    len: usize,
}

impl RowSink for SliceSink<'_> {
    fn push(&mut self, bar: Bar) -> bool {
        match self.slots.get_mut(self.len) {
            Some(slot) => {
                *slot = bar;
                self.len += 1;
                true
            }
            None => false,
        }
    }
    fn len(&self) -> usize {
        self.len
    }
    fn last_ts(&self) -> Option<UnixNanos> {
        self.len.checked_sub(1).map(|i| self.slots[i].ts)
    }
}

/// Reads bars from any reader; `path` is only used in error messages.
///
/// # Errors
/// As [`load_bars_csv`].
pub fn read_bars<R: std::io::Read>(
    reader: R,
    path: &Path,
    options: &CsvOptions,
    capacity: usize,
) -> Result<Vec<Bar>, DataError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let headers = csv
        .byte_headers()
        .map_err(|e| row_error(path, 1, "header", csv_reason(&e)))?
        .clone();
    let layout = layout(&headers, path, &options.columns)?;
    let mut bars = Vec::with_capacity(capacity);
    // The reader counts lines from the start of the file, header included.
    if let Some(e) = read_rows(&mut csv, 1, &layout, &mut None, options, path, &mut bars) {
        return Err(e);
    }
    if bars.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(bars)
}

/// The parallel path of [`load_bars_csv`]: the body is cut at line ends into chunks that are
/// parsed on rayon's pool, then checked in file order so the first error is the same one a
/// sequential read reports.
fn read_bars_parallel(
    bytes: &[u8],
    path: &Path,
    options: &CsvOptions,
) -> Result<Vec<Bar>, DataError> {
    use rayon::prelude::*;
    // Quoted fields may hold line breaks, so cutting at line ends would be wrong.
    if bytes.contains(&b'"') {
        return read_bars(bytes, path, options, bytes.len() / 48);
    }
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    let mut header_reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&bytes[..header_end]);
    let headers = header_reader
        .byte_headers()
        .map_err(|e| row_error(path, 1, "header", csv_reason(&e)))?
        .clone();
    let layout = layout(&headers, path, &options.columns)?;
    let body = &bytes[header_end..];

    // Chunk boundaries at line ends, several per thread so uneven rows balance out.
    let pieces = (rayon::current_num_threads() * 4).max(1);
    let mut bounds = vec![0usize];
    for k in 1..pieces {
        let guess = body.len() * k / pieces;
        let start = *bounds.last().unwrap_or(&0);
        if guess <= start {
            continue;
        }
        match body[guess..].iter().position(|&b| b == b'\n') {
            Some(i) if guess + i + 1 < body.len() => bounds.push(guess + i + 1),
            _ => break,
        }
    }
    bounds.push(body.len());
    let chunks: Vec<&[u8]> = bounds.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    // File line of each chunk's first row: the header is line 1.
    let newlines: Vec<u64> = chunks
        .par_iter()
        .map(|c| c.iter().filter(|&&b| b == b'\n').count() as u64)
        .collect();
    let mut first_lines = Vec::with_capacity(chunks.len());
    let mut line = 2u64;
    for n in &newlines {
        first_lines.push(line);
        line += n;
    }
    // The timestamp format is decided once, from the first row, as in a sequential read.
    let mut format = None;
    {
        let mut first = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(chunks.first().copied().unwrap_or_default());
        let mut record = csv::StringRecord::new();
        if let Ok(true) = first.read_record(&mut record) {
            format = Some(
                options
                    .timestamp
                    .resolve(record.get(layout.idx[0]).unwrap_or_default()),
            );
        }
    }
    // One slot per line (the last chunk may end without a line break), filled in place.
    let mut capacities: Vec<usize> = newlines.iter().map(|&n| n as usize).collect();
    if let Some(last) = capacities.last_mut()
        && body.last().is_some_and(|&b| b != b'\n')
    {
        *last += 1;
    }
    let placeholder = Bar {
        ts: UnixNanos::EPOCH,
        open: Price::ZERO,
        high: Price::ZERO,
        low: Price::ZERO,
        close: Price::ZERO,
        volume: 0.0,
    };
    let mut bars = vec![placeholder; capacities.iter().sum()];
    let mut slots: Vec<&mut [Bar]> = Vec::with_capacity(chunks.len());
    let mut rest: &mut [Bar] = &mut bars;
    for &n in &capacities {
        let (head, tail) = rest.split_at_mut(n);
        slots.push(head);
        rest = tail;
    }
    // Row limits are checked on the total below.
    let unlimited = CsvOptions {
        max_rows: None,
        ..options.clone()
    };
    let parsed: Vec<(usize, Option<DataError>)> = chunks
        .par_iter()
        .zip(first_lines.par_iter())
        .zip(slots.into_par_iter())
        .map(|((chunk, &first_line), slots)| {
            let mut csv = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(*chunk);
            let mut sink = SliceSink { slots, len: 0 };
            let mut chunk_format = format;
            let error = read_rows(
                &mut csv,
                first_line,
                &layout,
                &mut chunk_format,
                &unlimited,
                path,
                &mut sink,
            );
            (sink.len, error)
        })
        .collect();
    // In file order: the boundary between chunks, then the chunk's own first error; and the
    // rows of each chunk moved down over the unused slots of the chunks before it.
    let mut kept = 0usize;
    let mut start = 0usize;
    for (((rows, error), &first_line), &capacity) in
        parsed.into_iter().zip(&first_lines).zip(&capacities)
    {
        if rows > 0 && kept > 0 && bars[start].ts <= bars[kept - 1].ts {
            return Err(DataError::NotIncreasing {
                path: path.to_owned(),
                line: first_line,
                ts: bars[start].ts,
                previous: bars[kept - 1].ts,
            });
        }
        if let Some(limit) = options.max_rows
            && kept + rows > limit
        {
            return Err(DataError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        if start != kept {
            bars.copy_within(start..start + rows, kept);
        }
        kept += rows;
        start += capacity;
        if let Some(e) = error {
            return Err(e);
        }
    }
    bars.truncate(kept);
    if bars.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(bars)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len}"),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Vec<Bar>, DataError> {
        read_bars(
            text.as_bytes(),
            Path::new("t.csv"),
            &CsvOptions::default(),
            0,
        )
    }

    #[test]
    fn reads_iso_and_unix_timestamps() {
        let iso = "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,1.5,2,1,1,0\n";
        let bars = load(iso).unwrap();
        assert_eq!(bars.len(), 2);
        assert_eq!(
            bars[1].ts.as_nanos() - bars[0].ts.as_nanos(),
            60_000_000_000
        );
        let ms = "ts,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,10\n";
        assert_eq!(load(ms).unwrap()[0].ts, bars[0].ts);
        let s = "ts,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,10\n";
        assert_eq!(load(s).unwrap()[0].ts, bars[0].ts);
        let ns = "ts,open,high,low,close,volume\n1704067200000000000,1,2,0.5,1.5,10\n";
        assert_eq!(load(ns).unwrap()[0].ts, bars[0].ts);
    }

    /// A random-walk bar file of `bars` rows.
    pub(super) fn walk(bars: usize) -> Vec<u8> {
        let mut csv = Vec::new();
        crate::RandomWalk {
            bars,
            ..crate::RandomWalk::default()
        }
        .write_csv(&mut csv)
        .unwrap();
        csv
    }

    #[test]
    fn parallel_read_equals_sequential_read() {
        let csv = walk(20_000);
        let path = Path::new("walk.csv");
        let options = CsvOptions::default();
        let sequential = read_bars(csv.as_slice(), path, &options, 0).unwrap();
        let parallel = read_bars_parallel(&csv, path, &options).unwrap();
        assert_eq!(sequential, parallel);
        // Without a final line break the last row still counts.
        let trimmed = &csv[..csv.len() - 1];
        assert_eq!(
            read_bars_parallel(trimmed, path, &options).unwrap(),
            sequential
        );
    }

    #[test]
    fn parallel_read_reports_the_first_error_in_file_order() {
        let mut text = String::from_utf8(walk(20_000)).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        // Line 15 001: a bad price; line 7 001 takes the timestamp of line 7 002, which then does
        // not move forward (the earlier error wins).
        lines[15_000] = lines[15_000].replacen(",", ",x", 2);
        let earlier = lines[7_001].split(',').next().unwrap().to_owned();
        let row = lines[7_000].split_once(',').unwrap().1.to_owned();
        lines[7_000] = format!("{earlier},{row}");
        text = lines.join("\n") + "\n";
        let path = Path::new("walk.csv");
        let options = CsvOptions::default();
        let sequential = read_bars(text.as_bytes(), path, &options, 0)
            .unwrap_err()
            .to_string();
        let parallel = read_bars_parallel(text.as_bytes(), path, &options)
            .unwrap_err()
            .to_string();
        assert_eq!(sequential, parallel);
        assert!(parallel.starts_with("walk.csv:7002: ts:"), "{parallel}");
        // A row limit is enforced on the whole file.
        let limited = CsvOptions {
            max_rows: Some(100),
            ..CsvOptions::default()
        };
        let csv = walk(20_000);
        assert!(matches!(
            read_bars_parallel(&csv, path, &limited),
            Err(DataError::TooLarge { limit: 100, .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn plain_numbers_parse_as_the_general_parsers_do(
            text in "[0-9]{0,12}(\\.[0-9]{0,11})?|[0-9. +-]{1,21}",
        ) {
            if let Some(p) = plain_price(&text) {
                proptest::prop_assert_eq!(text.parse::<Price>().ok(), Some(p));
            }
            if let Some(v) = whole_volume(&text) {
                proptest::prop_assert_eq!(text.trim().parse::<f64>().ok(), Some(v));
            }
        }
    }

    #[test]
    fn plain_forms_cover_the_usual_and_refuse_the_rest() {
        assert_eq!(
            plain_price("101.25"),
            Some(Price::from_raw(101_250_000_000))
        );
        assert_eq!(plain_price("5."), "5.".parse().ok());
        assert_eq!(plain_price(".5"), ".5".parse().ok());
        for text in [
            "",
            ".",
            "-1",
            "+1",
            " 1",
            "1e3",
            "1.0000000001",
            "1.2.3",
            "9223372036.9",
        ] {
            assert_eq!(plain_price(text), None, "{text:?}");
        }
        assert_eq!(whole_volume("877000000"), Some(877_000_000.0));
        for text in ["", "1.5", " 7", "1234567890123456", "-1"] {
            assert_eq!(whole_volume(text), None, "{text:?}");
        }
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n2024-01-01T00:01:00Z,NaN,2,1,1,0\n";
        let err = load(bad).unwrap_err().to_string();
        assert_eq!(err, "t.csv:3: open: 'NaN' is not a decimal number");
        let missing = "ts,open,high,low,close\n";
        assert!(
            load(missing)
                .unwrap_err()
                .to_string()
                .contains("missing column 'volume'")
        );
        let empty = "ts,open,high,low,close,volume\n";
        assert_eq!(load(empty).unwrap_err().to_string(), "t.csv: no data rows");
    }
}
