//! Orders inside the execution engine: the lifecycle and the order manager.

mod manager;
mod state;

pub use manager::{
    Applied, DuplicateOrder, OrderEntry, OrderManager, Origin, ReportError, SlotId, value_price,
};
pub use state::{InvalidTransition, OrderState, OrderTransition};
