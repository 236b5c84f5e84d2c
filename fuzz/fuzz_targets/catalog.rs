//! Parquet catalog partitions: any bytes in a `bars.parquet` list and load as validated bars or
//! give an error naming the file, never a panic or an allocation the footer merely asks for
//! (run with libFuzzer's `-malloc_limit_mb`, e.g. 512, to catch the latter).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tradepulse_data::Catalog;
use tradepulse_model::InstrumentId;

/// One catalog per fuzzing process, whose single partition each input overwrites.
fn partition() -> &'static (Catalog, InstrumentId, PathBuf) {
    static DIR: OnceLock<(Catalog, InstrumentId, PathBuf)> = OnceLock::new();
    DIR.get_or_init(|| {
        // libfuzzer-sys's hook aborts on every panic, even one the catalog catches and
        // reports as a corrupt file (parquet's footer decoder panics on some footers); a panic
        // that escapes this target still aborts, through libfuzzer-sys's catch_unwind.
        std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
        let root = std::env::temp_dir().join(format!("tradepulse-fuzz-catalog-{}", std::process::id()));
        let file = root.join("instrument=FUZZ.SIM/date=2024-01-01/bars.parquet");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        (Catalog::new(&root), "FUZZ.SIM".parse().unwrap(), file)
    })
}

fuzz_target!(|data: &[u8]| {
    let (catalog, id, file) = partition();
    std::fs::write(file, data).unwrap();
    match catalog.partitions() {
        Ok(parts) => assert_eq!(parts.len(), 1),
        Err(e) => assert!(e.to_string().contains("bars.parquet"), "{e}"),
    }
    match catalog.load(id) {
        Ok(bars) => {
            assert!(bars.windows(2).all(|w| w[0].ts < w[1].ts));
        }
        Err(e) => assert!(e.to_string().contains("bars.parquet"), "{e}"),
    }
});
