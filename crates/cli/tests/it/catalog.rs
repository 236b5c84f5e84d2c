//! Issue 5, point 2: the market-data catalog from the command line, and backtests reading it.

use crate::harness::{GOOD_CSV, Scratch, run, stderr};

fn ok(s: &Scratch, args: &[&str]) -> String {
    let out = run(s.dir.path(), args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn import_list_and_backtest_from_the_catalog() {
    let s = Scratch::new();
    let bars = s.path("bars.csv");
    let out = ok(
        &s,
        &[
            "data",
            "import",
            bars.to_str().unwrap(),
            "--instrument",
            "TEST.SIM",
        ],
    );
    assert!(out.contains("imported 5 bars of TEST.SIM"), "{out}");
    let listing = ok(&s, &["data", "ls"]);
    assert!(listing.contains("TEST.SIM"), "{listing}");
    assert!(listing.contains("2024-01-01"), "{listing}");
    // The same backtest from the CSV and from the catalog gives the same summary.
    let from_csv = s.config("bars.csv");
    let from_catalog = from_csv
        .replace(
            &format!("  path: {}\n", s.path("bars.csv").display()),
            &format!(
                "  path: {}\n  format: catalog\n",
                s.path("catalog").display()
            ),
        )
        .replace(
            &s.path("out").display().to_string(),
            &s.path("out2").display().to_string(),
        );
    s.write("catalog.yaml", &from_catalog);
    ok(&s, &["backtest", s.path("config.yaml").to_str().unwrap()]);
    ok(&s, &["backtest", s.path("catalog.yaml").to_str().unwrap()]);
    let a = std::fs::read_to_string(s.path("out/summary.json")).unwrap();
    let b = std::fs::read_to_string(s.path("out2/summary.json")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn validate_reports_errors_with_exit_code_two() {
    let s = Scratch::new();
    let bars = s.path("bars.csv");
    let clean = ok(&s, &["data", "validate", bars.to_str().unwrap()]);
    assert!(
        clean.contains("5 bars, interval 1m: 0 errors, 0 warnings"),
        "{clean}"
    );
    // A gap is a warning (exit 0); a broken file is an error (exit 2).
    let gappy: String = GOOD_CSV
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    s.write("gappy.csv", &gappy);
    let warn = ok(
        &s,
        &[
            "data",
            "validate",
            s.path("gappy.csv").to_str().unwrap(),
            "--interval",
            "1m",
        ],
    );
    assert!(warn.contains("0 errors, 1 warnings"), "{warn}");
    s.write(
        "broken.csv",
        &GOOD_CSV.replace("100.5,102.0,100.0", "100.5,99.0,100.0"),
    );
    let out = run(
        s.dir.path(),
        &["data", "validate", s.path("broken.csv").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("broken.csv:3:"), "{}", stderr(&out));
}

#[test]
fn resample_writes_longer_bars() {
    let s = Scratch::new();
    let bars = s.path("bars.csv");
    let out_path = s.path("5m.csv");
    ok(
        &s,
        &[
            "data",
            "resample",
            bars.to_str().unwrap(),
            "--to",
            "5m",
            "-o",
            out_path.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(out_path).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "ts,open,high,low,close,volume");
    // Five 1-minute bars in one 5-minute bar: first open, max high, min low, last close, sum.
    assert_eq!(rows[1], "2024-01-01T00:00:00Z,100.0,103.0,99.0,101.2,5400");
    assert_eq!(rows.len(), 2);
}

/// Issue 11, point 7: a partition whose footer claims 2^40 rows in its row group (a corrupted
/// or hostile file) is refused before that count sizes any buffer: `data ls` and
/// `data validate` exit 2 and name the file, where they used to list 2^40 bars or abort on a
/// 48 TB allocation.
#[test]
fn a_corrupt_footer_is_bad_input_naming_the_file() {
    use parquet::file::metadata::{ParquetMetaDataBuilder, ParquetMetaDataWriter};
    use parquet::file::reader::{FileReader, SerializedFileReader};

    let s = Scratch::new();
    let bars = s.path("bars.csv");
    ok(
        &s,
        &[
            "data",
            "import",
            bars.to_str().unwrap(),
            "--instrument",
            "TEST.SIM",
        ],
    );
    let file = s.path("catalog/instrument=TEST.SIM/date=2024-01-01/bars.parquet");
    let bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    let meta_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let meta = SerializedFileReader::new(bytes::Bytes::from(bytes.clone()))
        .unwrap()
        .metadata()
        .clone();
    let groups = meta
        .row_groups()
        .iter()
        .map(|g| {
            g.clone()
                .into_builder()
                .set_num_rows(1 << 40)
                .build()
                .unwrap()
        })
        .collect();
    let lying = ParquetMetaDataBuilder::new_from_metadata(meta)
        .set_row_groups(groups)
        .build();
    let mut out = bytes[..n - 8 - meta_len].to_vec();
    ParquetMetaDataWriter::new(&mut out, &lying)
        .finish()
        .unwrap();
    std::fs::write(&file, out).unwrap();

    for args in [
        &["data", "ls"][..],
        &["data", "validate", "--instrument", "TEST.SIM"][..],
    ] {
        let out = run(s.dir.path(), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(
                "date=2024-01-01/bars.parquet: corrupt Parquet footer: \
                 row group 0, column ts: 5 values for 1099511627776 rows"
            ),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
}
