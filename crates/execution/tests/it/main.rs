//! SimVenue behaviour, one focused test per rule of its fill table.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]

mod sim_venue;
