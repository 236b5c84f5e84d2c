//! TradePulse strategy API: the [`Strategy`] trait, the [`Context`] a strategy acts through, and
//! the built-in strategies.
//!
//! Sits above `tradepulse-model` and below execution/backtest: the engine (backtest, paper or
//! live) feeds a strategy events and runs the [`Command`]s it queues. A strategy is a sync state
//! machine with no I/O and no view of future data: it sees one event at a time, and the
//! [`Context`] offers only the present (time, position, cash, equity) and order commands.
//!
//! Built-ins: [`SmaCross`] and [`BuyAndHold`], chosen in config through [`StrategySpec`].
//!
//! ```
//! use tradepulse_strategy::StrategySpec;
//!
//! let spec: StrategySpec = serde_json::from_str(
//!     r#"{"kind": "sma_cross", "params": {"fast": 10, "slow": 50, "size": {"units": 1}}}"#,
//! )?;
//! let strategy = spec.build()?;
//! assert_eq!(strategy.name(), "sma_cross");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! No cargo features.

mod builtin;
mod context;
mod strategy;

pub use builtin::{
    BuyAndHold, BuyAndHoldParams, CloseSums, Direction, Entry, InvalidParams, Size, SmaCross,
    SmaCrossParams, StrategySpec,
};
pub use context::{BracketIds, Command, Context, Snapshot};
pub use strategy::{RestoreError, Strategy, StrategyState};
