//! [`RiskConfig`]: the `risk:` section, shared by backtests and live trading.

use std::collections::BTreeMap;

use serde::Deserialize;
use tradepulse_model::{Bps, Money, Quantity, Ratio};

/// Pre-trade limits. Every limit is optional and off by default, except the instrument rules
/// (tick, lot, minimum notional) and buying power, which always apply: a cash account never
/// spends cash it does not have. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest quantity of one order.
    #[serde(default)]
    pub max_order_quantity: Option<Quantity>,
    /// Largest notional of one order (a market order is valued at the reference price).
    #[serde(default)]
    pub max_order_notional: Option<Money>,
    /// Largest absolute position per instrument, counting working orders on the same side.
    #[serde(default)]
    pub max_position: Option<Quantity>,
    /// Largest Σ |position value| over instruments, counting working orders.
    #[serde(default)]
    pub max_gross_exposure: Option<Money>,
    /// Largest |Σ position value| over instruments, counting working orders.
    #[serde(default)]
    pub max_net_exposure: Option<Money>,
    /// Most orders working at once (all strategies).
    #[serde(default)]
    pub max_open_orders: Option<usize>,
    /// Order-rate limits, counted on the mode's clock (event time in a backtest).
    #[serde(default)]
    pub order_rate: OrderRateConfig,
    /// Limit and trigger prices must lie within a band around the reference price.
    #[serde(default)]
    pub price_band: Option<PriceBandConfig>,
    /// What to do with an order the account cannot pay for.
    #[serde(default)]
    pub buying_power: BuyingPowerConfig,
    /// Once the day's loss (UTC day, against equity at its first event) reaches this amount,
    /// only orders that reduce positions are accepted until the next day.
    #[serde(default)]
    pub daily_loss_limit: Option<Money>,
    /// Once equity falls this fraction below its peak (0.2 = 20 %), only orders that reduce
    /// positions are accepted, for the rest of the run (an operator resets it in live trading).
    #[serde(default)]
    pub max_drawdown: Option<Ratio>,
    /// Kill switches on at start (they can also be set while running; in live trading they are
    /// persisted and survive restarts).
    #[serde(default)]
    pub kill_switch: KillSwitchConfig,
    /// Per-instrument overrides of the order and position limits, keyed `SYMBOL.VENUE`.
    #[serde(default)]
    pub instruments: BTreeMap<String, InstrumentLimits>,
}

/// Limits that one instrument may override.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentLimits {
    /// Overrides `risk.max_order_quantity`.
    #[serde(default)]
    pub max_order_quantity: Option<Quantity>,
    /// Overrides `risk.max_order_notional`.
    #[serde(default)]
    pub max_order_notional: Option<Money>,
    /// Overrides `risk.max_position`.
    #[serde(default)]
    pub max_position: Option<Quantity>,
}

/// `risk.order_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRateConfig {
    /// Per strategy.
    #[serde(default)]
    pub per_strategy: Option<RateLimit>,
    /// Over all strategies.
    #[serde(default)]
    pub global: Option<RateLimit>,
}

/// At most `orders` orders in any window of `seconds` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Orders allowed per window (≥ 1).
    pub orders: u32,
    /// Window length in seconds (≥ 1).
    pub seconds: u32,
}

/// `risk.price_band`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBandConfig {
    /// Largest distance of a limit or trigger price from the reference, in bp of the reference.
    pub max_deviation_bps: Bps,
    /// Which price is the reference.
    #[serde(default)]
    pub reference: ReferencePrice,
}

/// The price orders are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferencePrice {
    /// The last trade, or the last bar's close where the data is bars (backtests).
    #[default]
    Last,
    /// The mid of the best bid and ask (quotes needed; without them, the last price).
    Mid,
}

/// `risk.buying_power`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuyingPowerConfig {
    /// What happens to an order (or a fill, when the price gapped) the account cannot pay for.
    #[serde(default)]
    pub on_shortfall: Shortfall,
    /// Extra cost assumed per unit of notional when checking an order before it is sent (fees,
    /// slippage), in bp. The hard check happens again at the fill's real price and fee.
    #[serde(default)]
    pub cost_buffer_bps: Bps,
}

/// `risk.buying_power.on_shortfall`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shortfall {
    /// Refuse the order (`INSUFFICIENT_BUYING_POWER`); a fill that would overspend is not
    /// executed and the order is cancelled.
    #[default]
    Reject,
    /// Shrink the order (or the fill) to what the account can pay for, in whole lots.
    Shrink,
}

/// `risk.kill_switch`: switches that are on at start.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchConfig {
    /// Halt every new order.
    #[serde(default)]
    pub global: bool,
    /// Halt these strategies' orders (by strategy name).
    #[serde(default)]
    pub strategies: Vec<String>,
    /// Halt orders for these instruments (`SYMBOL.VENUE`).
    #[serde(default)]
    pub instruments: Vec<String>,
}

/// A `risk:` section that parses but makes no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("risk.{field}: {reason}")]
pub struct InvalidRiskConfig {
    /// Dotted key below `risk`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl RiskConfig {
    /// Checks values that the types allow but the engine cannot use.
    ///
    /// # Errors
    /// [`InvalidRiskConfig`] naming the key.
    pub fn validate(&self) -> Result<(), InvalidRiskConfig> {
        let fail = |field: &str, reason: String| InvalidRiskConfig {
            field: field.to_owned(),
            reason,
        };
        let positive_q = |field: &str, q: Option<Quantity>| match q {
            Some(q) if !q.is_positive() => Err(fail(field, format!("must be positive, got {q}"))),
            _ => Ok(()),
        };
        let positive_m = |field: &str, m: Option<Money>| match m {
            Some(m) if m.raw() <= 0 => Err(fail(field, format!("must be positive, got {m}"))),
            _ => Ok(()),
        };
        positive_q("max_order_quantity", self.max_order_quantity)?;
        positive_m("max_order_notional", self.max_order_notional)?;
        positive_q("max_position", self.max_position)?;
        positive_m("max_gross_exposure", self.max_gross_exposure)?;
        positive_m("max_net_exposure", self.max_net_exposure)?;
        positive_m("daily_loss_limit", self.daily_loss_limit)?;
        if self.max_open_orders == Some(0) {
            return Err(fail("max_open_orders", "must be at least 1".into()));
        }
        for (name, rate) in [
            ("order_rate.per_strategy", self.order_rate.per_strategy),
            ("order_rate.global", self.order_rate.global),
        ] {
            if let Some(r) = rate
                && (r.orders == 0 || r.seconds == 0)
            {
                return Err(fail(
                    name,
                    format!(
                        "orders and seconds must be at least 1, got {} per {} s",
                        r.orders, r.seconds
                    ),
                ));
            }
            if let Some(r) = rate
                && r.orders > 1_000_000
            {
                return Err(fail(
                    name,
                    format!("at most 1000000 orders per window, got {}", r.orders),
                ));
            }
        }
        if let Some(band) = self.price_band
            && band.max_deviation_bps.raw() <= 0
        {
            return Err(fail(
                "price_band.max_deviation_bps",
                format!("must be positive, got {}", band.max_deviation_bps),
            ));
        }
        if self.buying_power.cost_buffer_bps.is_negative() {
            return Err(fail(
                "buying_power.cost_buffer_bps",
                format!(
                    "must not be negative, got {}",
                    self.buying_power.cost_buffer_bps
                ),
            ));
        }
        if let Some(dd) = self.max_drawdown
            && (dd.raw() <= 0 || dd.raw() >= 1_000_000_000)
        {
            return Err(fail("max_drawdown", format!("must be in (0, 1), got {dd}")));
        }
        for (id, limits) in &self.instruments {
            if id.parse::<tradepulse_model::InstrumentId>().is_err() {
                return Err(fail(
                    &format!("instruments.{id}"),
                    "keys are instrument ids SYMBOL.VENUE".into(),
                ));
            }
            positive_q(
                &format!("instruments.{id}.max_order_quantity"),
                limits.max_order_quantity,
            )?;
            positive_m(
                &format!("instruments.{id}.max_order_notional"),
                limits.max_order_notional,
            )?;
            positive_q(
                &format!("instruments.{id}.max_position"),
                limits.max_position,
            )?;
        }
        for id in &self.kill_switch.instruments {
            if id.parse::<tradepulse_model::InstrumentId>().is_err() {
                return Err(fail(
                    "kill_switch.instruments",
                    format!("'{id}' is not an instrument id SYMBOL.VENUE"),
                ));
            }
        }
        Ok(())
    }
}
