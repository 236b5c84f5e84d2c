//! Loading OHLCV bars from CSV, validating every row.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use serde::Deserialize;
use tradepulse_model::{Bar, Price, UnixNanos};

use crate::error::DataError;
use crate::timestamp::TimestampFormat;

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

/// Reads and validates every bar of a CSV file.
///
/// Each row must have positive prices, `low <= open, close <= high`, a finite volume `>= 0`, and
/// a timestamp strictly after the previous row's. The first broken rule stops loading with an
/// error naming the file, the line and the column; no row is skipped silently.
///
/// # Errors
/// [`DataError`] for an unreadable file, a missing column, a malformed or invalid row, an empty
/// file, or too many rows.
pub fn load_bars_csv(path: &Path, options: &CsvOptions) -> Result<Vec<Bar>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    // Pre-size from the file length (≈ 55 bytes per row in the usual layout) to avoid regrowth.
    let estimate = file
        .metadata()
        .map(|m| (m.len() / 48) as usize)
        .unwrap_or(0)
        .min(options.max_rows.unwrap_or(usize::MAX));
    let reader = BufReader::with_capacity(1 << 20, file);
    read_bars(reader, path, options, estimate)
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
    let row_error = |line: u64, field: &str, reason: String| DataError::Row {
        path: path.to_owned(),
        line,
        field: field.to_owned(),
        reason,
    };
    let headers = csv
        .byte_headers()
        .map_err(|e| row_error(1, "header", csv_reason(&e)))?
        .clone();
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
    let c = &options.columns;
    let idx = [
        find(&c.ts)?,
        find(&c.open)?,
        find(&c.high)?,
        find(&c.low)?,
        find(&c.close)?,
        find(&c.volume)?,
    ];
    let width = headers.len();
    let mut bars = Vec::with_capacity(capacity);
    // A StringRecord checks UTF-8 once per record instead of once per field.
    let mut record = csv::StringRecord::new();
    let mut format = None;
    let mut previous: Option<UnixNanos> = None;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(row_error(line, "row", csv_reason(&e)));
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() != width {
            return Err(row_error(
                line,
                "row",
                format!("expected {width} fields, found {}", record.len()),
            ));
        }
        if let Some(limit) = options.max_rows
            && bars.len() >= limit
        {
            return Err(DataError::TooLarge {
                path: path.to_owned(),
                limit,
            });
        }
        let text = |i: usize, _name: &str| -> Result<&str, DataError> { Ok(&record[i]) };
        let ts_text = text(idx[0], &c.ts)?;
        let resolved = *format.get_or_insert_with(|| options.timestamp.resolve(ts_text));
        let ts = resolved
            .parse(ts_text)
            .map_err(|reason| row_error(line, &c.ts, reason))?;
        let price = |i: usize, name: &str| -> Result<Price, DataError> {
            let t = text(i, name)?;
            let p: Price = t
                .parse()
                .map_err(|e| row_error(line, name, format!("{e}")))?;
            if !p.is_positive() {
                return Err(row_error(
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
        let vol_text = text(idx[5], &c.volume)?;
        let volume: f64 = vol_text
            .trim()
            .parse()
            .map_err(|_| row_error(line, &c.volume, format!("'{vol_text}' is not a number")))?;
        let bar = Bar {
            ts,
            open,
            high,
            low,
            close,
            volume,
        };
        bar.validate()
            .map_err(|e| row_error(line, "row", e.to_string()))?;
        if let Some(prev) = previous
            && ts <= prev
        {
            return Err(DataError::NotIncreasing {
                path: path.to_owned(),
                line,
                ts,
                previous: prev,
            });
        }
        previous = Some(ts);
        bars.push(bar);
    }
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
