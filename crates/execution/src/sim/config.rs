//! [`SimConfig`]: how the simulated venue fills and charges.

use serde::Deserialize;
use tradepulse_model::{Bps, Ratio};

/// When an order decided on bar *t* can first execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FillModel {
    /// At bar *t+1*: market orders at its open, resting orders against its range. The realistic
    /// default: a decision made on a bar's close cannot trade at that close.
    #[default]
    NextOpen,
    /// At bar *t*'s close for market orders and marketable limits/stops (the "trade at the
    /// close" convention, e.g. a market-on-close order); resting orders then work from bar *t+1*.
    Close,
}

/// Fill model and costs of a [`SimVenue`](crate::SimVenue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// When orders execute.
    #[serde(default)]
    pub fill_model: FillModel,
    /// Fee on fills that added liquidity (resting limit orders), in bp of notional.
    #[serde(default)]
    pub maker_fee_bps: Bps,
    /// Fee on fills that took liquidity (market, stop, marketable limit), in bp of notional.
    #[serde(default)]
    pub taker_fee_bps: Bps,
    /// Adverse price move applied to taker fills, in bp, rounded to the tick against the trader.
    #[serde(default)]
    pub slippage_bps: Bps,
    /// Quoted bid–ask spread in bp of the bar price; a taker fill pays half of it.
    #[serde(default)]
    pub spread_bps: Bps,
    /// Square-root market impact: a taker fill of `q` on a bar of volume `V` moves the price
    /// against the trader by `impact_coefficient × √(q / V)` (a fraction of the price).
    #[serde(default)]
    pub impact_coefficient: Ratio,
    /// Largest fraction of a bar's volume one order may take on that bar; the rest stays working
    /// and fills on later bars (partial fills). `None`: no cap.
    #[serde(default)]
    pub max_participation: Option<Ratio>,
    /// Time between a decision and the order reaching the venue, in milliseconds: an order can
    /// first execute on a bar opening at least this long after the bar where it would otherwise
    /// first execute.
    #[serde(default)]
    pub latency_ms: u64,
}
