//! The simulated venue.

mod book;
mod config;
mod venue;

pub use config::{FillModel, SimConfig};
pub use venue::SimVenue;
