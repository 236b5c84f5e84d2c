//! SimVenue behaviour, one focused test per rule of its fill table, and the pipeline's risk
//! invariants.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test should fail loudly on a broken fixture"
)]

mod restore;
mod risk_limits;
mod sim_venue;
