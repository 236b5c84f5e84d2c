//! Orders inside the execution engine.

mod state;

pub use state::{InvalidTransition, OrderState, OrderTransition};
