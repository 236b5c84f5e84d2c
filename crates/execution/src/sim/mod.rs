//! The simulated venue.

mod config;
mod venue;

pub use config::{FillModel, SimConfig};
pub use venue::{SimVenue, VenueEvent};
