//! The [`Strategy`] trait.

use tradepulse_model::{Bar, Fill, OrderEvent};

use crate::Context;

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
}
