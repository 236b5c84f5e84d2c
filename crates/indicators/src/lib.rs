//! TradePulse indicators: a TA-Lib-exact standard set and the TradePulse geometric family
//! (Kuramoto synchronisation, Ricci curvature, entropy, Hurst, VPIN), each usable bar by bar in
//! live trading and in batch over history.
//!
//! # Where this crate sits
//! It depends only on `tradepulse-model` (for the [`Candle`] adapter over `Bar`) and is used by
//! `tradepulse-strategy` (signals), `tradepulse-backtest` and the `tradepulse` CLI
//! (`analyze`, `indicators`). It is sync and has no I/O. Updates allocate nothing, the
//! curvature indicators ([`OllivierRicci`], [`TemporalRicci`]) included: they maintain their
//! window's graph edge by edge; costs per update are listed in `docs/indicators.md`.
//!
//! # Main types
//! - [`Indicator`]: the streaming contract (`update`, `reset`, `is_ready`) with provided
//!   [`Indicator::batch`] (returning a [`Series`]) and [`Indicator::batch_into`] (into a reused
//!   buffer); batch and streaming give bit-identical values.
//! - Inputs are `f64` prices or [`Candle`] (OHLCV as `f64`); multi-output indicators return
//!   named structs ([`MacdOutput`], [`BandsOutput`], [`StochOutput`], [`AdxOutput`] …).
//! - Standard set (TA-Lib 0.8 conventions): [`Sma`], [`Ema`], [`Wma`], [`Dema`], [`Tema`],
//!   [`Kama`], [`Rsi`], [`Macd`], [`Bollinger`], [`Atr`], [`Natr`], [`TrueRange`],
//!   [`Stochastic`], [`StochRsi`], [`Adx`], [`Dmi`], [`Cci`], [`Obv`], [`Mfi`], [`WilliamsR`],
//!   [`RateOfChange`], [`Momentum`], [`StdDev`], plus [`RollingVwap`], [`SessionVwap`],
//!   [`Donchian`] and [`Keltner`].
//! - Geometric family: [`CausalPhase`], [`Kuramoto`], [`CrossKuramoto`],
//!   [`MultiscaleKuramoto`], [`TransitionGraph`] with [`ollivier_ricci`] and
//!   [`forman_ricci`], [`OllivierRicci`], [`TemporalRicci`], [`Entropy`], [`DeltaEntropy`],
//!   [`HurstRs`], [`HurstDfa`], [`Vpin`], [`TradeVpin`] and [`RegimeClassifier`].
//! - [`NullBaseline`] with [`shuffled_price_surrogates`]: an indicator's values on seeded
//!   shuffle surrogates, to report it as a deviation from noise (`…:z` specs).
//! - [`IndicatorSpec`] parses specs such as `rsi:14` for the CLI; [`analyze`] computes the
//!   geometric family and the regime over a bar series.
//!
//! Formulas, warm-ups, edge-case conventions and references are in `docs/indicators.md`.
//!
//! # Example
//! ```
//! use tradepulse_indicators::{Indicator, Rsi};
//!
//! let closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08,
//!               45.89, 46.03, 45.61, 46.28, 46.28, 46.00];
//! let mut rsi = Rsi::new(14)?;
//! // Streaming: None during the 14-bar warm-up, then a value per bar.
//! let live: Vec<_> = closes.iter().filter_map(|&c| rsi.update(c)).collect();
//! // Batch gives the same values, starting at input 14.
//! let batch = rsi.batch(&closes);
//! assert_eq!(batch.start, 14);
//! assert_eq!(batch.values, live);
//! # Ok::<(), tradepulse_indicators::Error>(())
//! ```
//!
//! # Features
//! None: the crate has no optional parts.

mod analysis;
mod candle;
mod catalog;
mod dispatch;
mod error;
mod geometric;
mod indicator;
mod standard;
mod window;

pub use analysis::{Analysis, AnalysisConfig, AnalysisRow, analyze};
pub use candle::Candle;
pub use catalog::{
    CatalogEntry, IndicatorSpec, OutputTable, catalog_table, compute_table, list_indicators,
};
pub use error::Error;
pub use geometric::*;
pub use indicator::{Indicator, Series};
pub use standard::*;
