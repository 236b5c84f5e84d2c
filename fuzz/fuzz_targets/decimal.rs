//! Exact decimals and timestamps from arbitrary text: an error or a value that prints back to
//! itself, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradepulse_model::{Money, Price, Quantity, UnixNanos};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = text.parse::<Price>() {
        assert_eq!(p.to_string().parse::<Price>().ok(), Some(p));
    }
    if let Ok(q) = text.parse::<Quantity>() {
        assert_eq!(q.to_string().parse::<Quantity>().ok(), Some(q));
    }
    if let Ok(m) = text.parse::<Money>() {
        assert_eq!(m.to_string().parse::<Money>().ok(), Some(m));
    }
    let _ = UnixNanos::parse_iso8601(text).map(|t| t.to_string());
});
