//! The streaming path of [`load_bars_csv`](super::load_bars_csv): the file is read in pieces of
//! [`PIECE_BYTES`] by offset, a few pieces at a time on rayon's pool, each split into lines and
//! fields by hand and parsed with the same [`parse_row`](super::parse_row) as the csv reader's
//! path. Memory is the bars plus a few pieces, never the whole file, and no csv record is built
//! per row.
//!
//! It only ever accepts: it returns `None` for anything unusual (quotes, a lone carriage return,
//! a blank line, a bad row, rows out of order, too many rows, an I/O error), and the caller then
//! loads the file with the csv reader, which gives the same bars or the error with its line
//! number. So every message, and every file the csv path accepts or refuses, stays as it was.

use std::io;
use std::path::Path;

use rayon::prelude::*;
use tradepulse_model::Bar;

use super::{CsvOptions, Fields, Layout, layout, parse_row};
use crate::timestamp::Resolved;

/// Bytes read per piece. Small enough that the pieces in flight are a few MB, large enough that
/// a piece's setup (a read, a buffer) is noise.
const PIECE_BYTES: u64 = 512 << 10;
/// The header and first row must fit in this many bytes (else the csv path reads the file).
const HEAD_BYTES: u64 = 64 << 10;
/// Read step when a piece's last line runs past its end.
const EXTEND_BYTES: u64 = 16 << 10;
/// Widest row the streaming path splits (wider files take the csv path).
const MAX_FIELDS: usize = 16;

/// Bytes by offset, shared by the threads parsing pieces.
pub(crate) trait Source: Sync {
    /// Total length.
    fn len(&self) -> u64;
    /// Fills `buf` from `offset`; fewer bytes only at the end.
    ///
    /// # Errors
    /// The OS error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
}

impl Source for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

/// An open file and its length.
pub(crate) struct FileSource {
    pub(crate) file: std::fs::File,
    pub(crate) len: u64,
}

impl Source for FileSource {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0;
        while done < buf.len() {
            #[cfg(unix)]
            let n = std::os::unix::fs::FileExt::read_at(
                &self.file,
                &mut buf[done..],
                offset + done as u64,
            );
            #[cfg(windows)]
            let n = std::os::windows::fs::FileExt::seek_read(
                &self.file,
                &mut buf[done..],
                offset + done as u64,
            );
            match n {
                Ok(0) => break,
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    }
}

/// Appends bytes `start..end` of `src` to `buf`; `None` if they cannot all be read.
fn append(src: &(impl Source + ?Sized), start: u64, end: u64, buf: &mut Vec<u8>) -> Option<()> {
    let n = usize::try_from(end.checked_sub(start)?).ok()?;
    let old = buf.len();
    buf.resize(old + n, 0);
    (src.read_at(start, &mut buf[old..]).ok()? == n).then_some(())
}

/// One line cut at its commas, reused from row to row.
struct Split<'a> {
    fields: [&'a str; MAX_FIELDS],
    count: usize,
}

impl Fields for Split<'_> {
    fn count(&self) -> usize {
        self.count
    }
    fn field(&self, i: usize) -> &str {
        self.fields[i]
    }
}

impl<'a> Split<'a> {
    fn new() -> Self {
        Self {
            fields: [""; MAX_FIELDS],
            count: 0,
        }
    }

    /// Cuts `line` (without its line break, from text without quotes or lone carriage returns)
    /// at commas; false if it has more than [`MAX_FIELDS`] fields.
    fn cut(&mut self, line: &'a str) -> bool {
        let line = line.strip_suffix('\r').unwrap_or(line);
        self.count = 0;
        let mut start = 0;
        for (i, &b) in line.as_bytes().iter().enumerate() {
            if b == b',' {
                let Some(slot) = self.fields.get_mut(self.count) else {
                    return false;
                };
                *slot = line.get(start..i).unwrap_or_default();
                self.count += 1;
                start = i + 1;
            }
        }
        let Some(slot) = self.fields.get_mut(self.count) else {
            return false;
        };
        *slot = line.get(start..).unwrap_or_default();
        self.count += 1;
        true
    }
}

/// False if `text` has what the csv reader would read differently from a plain cut at commas
/// and line breaks: quotes, or a carriage return that does not end a line (it ends a record
/// there).
fn plain(text: &[u8]) -> bool {
    if text.contains(&b'"') {
        return false;
    }
    let mut rest = text;
    while let Some(i) = rest.iter().position(|&b| b == b'\r') {
        match rest.get(i + 1) {
            Some(b'\n') | None => rest = &rest[i + 1..],
            Some(_) => return false,
        }
    }
    true
}

/// What every piece needs to parse its rows.
struct Plan<'a> {
    layout: Layout,
    format: Resolved,
    options: &'a CsvOptions,
    /// Offset of the first data row.
    body: u64,
    len: u64,
    /// Bytes per piece.
    piece: u64,
}

/// The bars of the rows that start in piece `k`, in order, or `None` to give up.
fn parse_piece(src: &(impl Source + ?Sized), plan: &Plan<'_>, k: u64) -> Option<Vec<Bar>> {
    let start = plan.body + k * plan.piece;
    let end = (start + plan.piece).min(plan.len);
    // A piece owns the lines that start inside it: after the first line break at or after the
    // byte before its start (the first piece's first line starts at the body).
    let from = if k == 0 { start } else { start - 1 };
    let mut buf = Vec::with_capacity((end - from) as usize + EXTEND_BYTES as usize);
    append(src, from, end, &mut buf)?;
    let first = if k == 0 {
        0
    } else {
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => return Some(Vec::new()),
        }
    };
    if first >= buf.len() {
        return Some(Vec::new());
    }
    // The last line it owns may run into the next piece.
    let mut at = end;
    while buf.last() != Some(&b'\n') && at < plan.len {
        let to = (at + EXTEND_BYTES).min(plan.len);
        let before = buf.len();
        append(src, at, to, &mut buf)?;
        if let Some(i) = buf[before..].iter().position(|&b| b == b'\n') {
            buf.truncate(before + i + 1);
            break;
        }
        at = to;
    }
    if !plain(&buf[first..]) {
        return None;
    }
    let text = std::str::from_utf8(&buf[first..]).ok()?;
    // ≈ 55 bytes per row in the usual layout; a wrong guess only costs a regrowth.
    let mut bars = Vec::with_capacity(text.len() / 40 + 1);
    let path = Path::new("");
    let mut previous = None;
    let mut fields = Split::new();
    for line in text.split_terminator('\n') {
        if !fields.cut(line) {
            return None;
        }
        let bar = parse_row(
            &fields,
            0,
            &plan.layout,
            plan.format,
            path,
            &plan.options.columns,
        )
        .ok()?;
        if previous.is_some_and(|p| bar.ts <= p) {
            return None;
        }
        previous = Some(bar.ts);
        bars.push(bar);
    }
    Some(bars)
}

/// Every bar of `src`, or `None` when the csv path must read it (see the module docs).
pub(crate) fn load(src: &(impl Source + ?Sized), options: &CsvOptions) -> Option<Vec<Bar>> {
    load_in_pieces(src, options, PIECE_BYTES)
}

/// [`load`] with pieces of `piece` bytes (tests cut small files into many pieces).
fn load_in_pieces(
    src: &(impl Source + ?Sized),
    options: &CsvOptions,
    piece: u64,
) -> Option<Vec<Bar>> {
    let len = src.len();
    let mut head = Vec::new();
    append(src, 0, len.min(HEAD_BYTES), &mut head)?;
    let header_end = head.iter().position(|&b| b == b'\n')? + 1;
    let header = &head[..header_end];
    let header_text = header[..header_end - 1]
        .strip_suffix(b"\r")
        .unwrap_or(&header[..header_end - 1]);
    if header_text.iter().any(|&b| b == b'"' || b == b'\r') {
        return None;
    }
    let headers = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(header)
        .byte_headers()
        .ok()?
        .clone();
    let layout = layout(&headers, Path::new(""), &options.columns).ok()?;
    if layout.width > MAX_FIELDS {
        return None;
    }
    // The timestamp format is decided once, from the first row, as in the csv path.
    let rest = &head[header_end..];
    let first_end = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => i,
        None if head.len() as u64 == len => rest.len(),
        None => return None,
    };
    let first_line = &rest[..first_end];
    let mut first = Split::new();
    if !plain(first_line) || !first.cut(std::str::from_utf8(first_line).ok()?) {
        return None;
    }
    if first.count != layout.width {
        return None;
    }
    let format = options.timestamp.resolve(first.field(layout.idx[0]));

    let plan = Plan {
        layout,
        format,
        options,
        body: header_end as u64,
        len,
        piece: piece.max(1),
    };
    let pieces = (len - plan.body).div_ceil(plan.piece);
    // A few pieces per thread at a time, so uneven pieces balance out and memory stays small.
    let wave = (rayon::current_num_threads() * 3).max(1) as u64;
    let mut bars: Vec<Bar> = Vec::new();
    let mut k = 0;
    while k < pieces {
        let next = (k + wave).min(pieces);
        let parsed: Vec<Option<Vec<Bar>>> = (k..next)
            .into_par_iter()
            .map(|k| parse_piece(src, &plan, k))
            .collect();
        if k == 0 {
            // Size the result once from the first pieces' rows per byte, so it never regrows
            // (a regrowth would hold the bars twice). Unused capacity is never touched.
            let rows: usize = parsed.iter().flatten().map(Vec::len).sum();
            let read = (next * plan.piece).min(len - plan.body).max(1);
            let estimate = (rows as u128 * u128::from(len - plan.body) / u128::from(read)) as usize;
            bars.reserve_exact(estimate + estimate / 32 + 64);
        }
        for piece in parsed {
            let piece = piece?;
            if let (Some(last), Some(first)) = (bars.last(), piece.first())
                && first.ts <= last.ts
            {
                return None;
            }
            bars.extend_from_slice(&piece);
        }
        if options.max_rows.is_some_and(|limit| bars.len() > limit) {
            return None;
        }
        k = next;
    }
    (!bars.is_empty()).then_some(bars)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::csv_bars::read_bars;
    use crate::csv_bars::tests::walk;

    fn csv_path(bytes: &[u8], options: &CsvOptions) -> Result<Vec<Bar>, crate::DataError> {
        read_bars(bytes, Path::new("t.csv"), options, 0)
    }

    #[test]
    fn streamed_bars_equal_the_csv_readers_for_any_piece_size() {
        let csv = walk(3_000);
        let options = CsvOptions::default();
        let expected = csv_path(&csv, &options).unwrap();
        for piece in [1, 2, 7, 55, 56, 57, 1_000, 4_096, 1 << 20] {
            assert_eq!(
                load_in_pieces(csv.as_slice(), &options, piece).as_ref(),
                Some(&expected),
                "piece {piece}"
            );
        }
        // Without the final line break, and with CRLF line ends.
        let trimmed = &csv[..csv.len() - 1];
        assert_eq!(
            load_in_pieces(trimmed, &options, 100),
            Some(expected.clone())
        );
        let crlf = String::from_utf8(csv.clone())
            .unwrap()
            .replace('\n', "\r\n");
        assert_eq!(
            load_in_pieces(crlf.as_bytes(), &options, 100),
            Some(expected)
        );
    }

    #[test]
    fn leaves_unusual_or_bad_files_to_the_csv_reader() {
        let options = CsvOptions::default();
        let ok = "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n";
        assert!(load(ok.as_bytes(), &options).is_some());
        for text in [
            // quotes, a lone CR, a blank line, a bad price, time going back, no rows
            "ts,open,high,low,close,volume\n\"2024-01-01T00:00:00Z\",1,2,0.5,1.5,10\n",
            "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\r2024-01-01T00:01:00Z,1,2,0.5,1.5,10\n",
            "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n\n2024-01-01T00:01:00Z,1,2,0.5,1.5,10\n",
            "ts,open,high,low,close,volume\n2024-01-01T00:00:00Z,x,2,0.5,1.5,10\n",
            "ts,open,high,low,close,volume\n2024-01-01T00:01:00Z,1,2,0.5,1.5,10\n2024-01-01T00:00:00Z,1,2,0.5,1.5,10\n",
            "ts,open,high,low,close,volume\n",
            "ts,open,high,low,close\n2024-01-01T00:00:00Z,1,2,0.5,1.5\n",
        ] {
            assert_eq!(load(text.as_bytes(), &options), None, "{text:?}");
        }
        let limited = CsvOptions {
            max_rows: Some(1),
            ..CsvOptions::default()
        };
        let two = format!("{ok}2024-01-01T00:01:00Z,1,2,0.5,1.5,10\n");
        assert_eq!(load(two.as_bytes(), &limited), None);
        assert!(load(ok.as_bytes(), &limited).is_some());
    }

    /// Row fragments that mix valid rows (`@` stands for the next timestamp) with everything the
    /// streaming path must not misread.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => (1u32..900, 0u32..200).prop_map(|(low, volume)| {
                format!("@,{low}.5,{}.75,{low},{low}.25,{volume}\n", low + 1)
            }),
            1 => Just("\n".to_owned()),
            1 => Just("\r\n".to_owned()),
            1 => Just("\r".to_owned()),
            1 => Just("\"".to_owned()),
            1 => Just(",".to_owned()),
            1 => Just(" ".to_owned()),
            1 => Just("1704067200,1,1,1,1,1\n".to_owned()),
            1 => Just("@,1,1,1,1,1e3\n".to_owned()),
            1 => Just("@,1,1,1,1, 7 \n".to_owned()),
            1 => Just("2024-01-01T00:00:00Z,1,1,1,1,1\n".to_owned()),
            1 => Just("\u{e9}".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn accepts_only_what_the_csv_reader_reads_the_same(
            header in prop_oneof![
                Just("ts,open,high,low,close,volume\n"),
                Just("ts,open,high,low,close,volume\r\n"),
                Just("TS,Open,High,Low,Close,Volume\n"),
                Just("ts,open,high,low,close\n"),
            ],
            rows in proptest::collection::vec(fragment(), 0..40),
            piece in 1u64..300,
        ) {
            let mut text = String::from(header);
            for (i, row) in rows.iter().enumerate() {
                let ts = format!("2024-01-02T{:02}:{:02}:00Z", i / 60, i % 60);
                text.push_str(&row.replace('@', &ts));
            }
            let options = CsvOptions::default();
            let streamed = load_in_pieces(text.as_bytes(), &options, piece);
            if let Some(bars) = &streamed {
                let read = csv_path(text.as_bytes(), &options).ok();
                prop_assert_eq!(read.as_ref(), Some(bars));
            }
            // A plain file (valid rows only) is never left to the csv reader.
            let plain = rows.iter().all(|r| r.starts_with("@,") && !r.contains('e'));
            if plain && !rows.is_empty() && header.to_ascii_lowercase().contains("volume") {
                prop_assert!(streamed.is_some());
            }
        }
    }
}
