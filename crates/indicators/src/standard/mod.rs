//! The standard technical-analysis set, each matching TA-Lib's conventions.

mod adx;
mod atr;
mod bollinger;
mod cci;
mod dema;
mod dmi;
mod donchian;
mod ema;
mod kama;
mod keltner;
mod macd;
mod mfi;
mod momentum;
mod natr;
mod obv;
mod rate_of_change;
mod rolling_vwap;
mod rsi;
mod session_vwap;
mod sma;
mod stddev;
mod stoch_rsi;
mod stochastic;
mod tema;
mod true_range;
mod williams_r;
mod wma;

pub use adx::{Adx, AdxOutput};
pub use atr::Atr;
pub use bollinger::{BandsOutput, Bollinger};
pub use cci::Cci;
pub use dema::Dema;
pub use dmi::{Dmi, DmiOutput};
pub use donchian::Donchian;
pub use ema::Ema;
pub use kama::Kama;
pub use keltner::Keltner;
pub use macd::{Macd, MacdOutput};
pub use mfi::Mfi;
pub use momentum::Momentum;
pub use natr::Natr;
pub use obv::Obv;
pub use rate_of_change::RateOfChange;
pub use rolling_vwap::RollingVwap;
pub use rsi::Rsi;
pub use session_vwap::SessionVwap;
pub use sma::Sma;
pub use stddev::StdDev;
pub use stoch_rsi::StochRsi;
pub use stochastic::{StochOutput, Stochastic};
pub use tema::Tema;
pub use true_range::TrueRange;
pub use williams_r::WilliamsR;
pub use wma::Wma;

/// TA-Lib 0.8's tie test `TA_IS_ZERO_SCALED(v, scale)`: `v`, a difference of operands whose
/// magnitudes sum to `scale`, counts as zero when `|v| ≤ 1e-14·scale` (about 90 ulps).
///
/// Prices that are equal on paper often differ in their last bits once they pass through
/// arithmetic (`(h + l + c)/3` of two bars with the same sum, a rounded window mean): an exact
/// `== 0.0` or sign test then calls a tie a move, where TA-Lib does not. Kept in TA-Lib's
/// multiply-then-compare form so no fused multiply-add changes the verdict.
#[inline]
pub(crate) fn is_zero_scaled(v: f64, scale: f64) -> bool {
    v.abs() <= 1e-14 * scale
}
