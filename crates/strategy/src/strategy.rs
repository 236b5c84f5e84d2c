//! The [`Strategy`] trait.

use tradepulse_model::{Bar, Fill, OrderEvent};

use crate::Context;

/// A strategy's saved state (a checkpoint): JSON, so it is readable in the store and survives
/// a binary upgrade that keeps the format.
pub type StrategyState = serde_json::Value;

/// A checkpoint that cannot be restored into this strategy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// The strategy keeps no checkpoints (it does not implement [`Strategy::checkpoint`]).
    #[error("strategy {0} does not support checkpoints")]
    Unsupported(String),
    /// The checkpoint is of another strategy, other parameters or an unknown format.
    #[error("checkpoint does not fit strategy {strategy}: {reason}")]
    Mismatch {
        /// The strategy's name.
        strategy: String,
        /// What does not fit.
        reason: String,
    },
}

/// A trading strategy: a sync state machine fed one event at a time by the engine, the same way
/// in backtest, paper and live. It acts only through the [`Context`], whose commands the engine
/// runs through the risk checks and the venue after the call returns.
///
/// Only [`on_bar`](Strategy::on_bar) is required; the other hooks default to doing nothing,
/// which is the correct behaviour for a strategy that has no use for them.
pub trait Strategy {
    /// A short name, used as the client order id prefix and in reports.
    fn name(&self) -> &str;

    /// Called once before the first event.
    fn on_start(&mut self, _ctx: &mut Context<'_>) {}

    /// Called once per bar, after the bar is complete (its close is known) and after every fill
    /// that bar caused.
    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>);

    /// Called for each fill of one of the strategy's orders.
    fn on_fill(&mut self, _fill: &Fill, _ctx: &mut Context<'_>) {}

    /// Called for each order event other than a fill (accepted, rejected, triggered, cancelled,
    /// expired).
    fn on_order_event(&mut self, _event: &OrderEvent, _ctx: &mut Context<'_>) {}

    /// Called once after the last event.
    fn on_stop(&mut self, _ctx: &mut Context<'_>) {}

    /// The state that decides its future actions (indicator windows, the last signal, orders it
    /// waits for), so a live runner can checkpoint it after a bar and a restarted process
    /// continues with the same decisions as one never stopped. Position, cash and open orders
    /// are not part of it: the engine restores those from its journal.
    ///
    /// `None` (the default) means the strategy keeps no checkpoints: a runner restarts it from
    /// nothing (and says so).
    fn checkpoint(&self) -> Option<StrategyState> {
        None
    }

    /// Replaces the state with a [`Strategy::checkpoint`] of the same strategy and parameters.
    ///
    /// # Errors
    /// [`RestoreError::Unsupported`] by default; [`RestoreError::Mismatch`] for a checkpoint
    /// of other parameters or an unknown format (the state is then unchanged).
    fn restore(&mut self, _state: &StrategyState) -> Result<(), RestoreError> {
        Err(RestoreError::Unsupported(self.name().to_owned()))
    }
}

/// A borrowed strategy is a strategy: an engine can run one the caller keeps and inspects after
/// the run.
impl<S: Strategy + ?Sized> Strategy for &mut S {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn on_start(&mut self, ctx: &mut Context<'_>) {
        (**self).on_start(ctx);
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut Context<'_>) {
        (**self).on_bar(bar, ctx);
    }

    fn on_fill(&mut self, fill: &Fill, ctx: &mut Context<'_>) {
        (**self).on_fill(fill, ctx);
    }

    fn on_order_event(&mut self, event: &OrderEvent, ctx: &mut Context<'_>) {
        (**self).on_order_event(event, ctx);
    }

    fn on_stop(&mut self, ctx: &mut Context<'_>) {
        (**self).on_stop(ctx);
    }

    fn checkpoint(&self) -> Option<StrategyState> {
        (**self).checkpoint()
    }

    fn restore(&mut self, state: &StrategyState) -> Result<(), RestoreError> {
        (**self).restore(state)
    }
}
