//! The TradePulse geometric family: phase synchronisation, curvature, entropy, memory and
//! order-flow toxicity, plus the regime classifier built on them.

mod cross_kuramoto;
mod delta_entropy;
mod entropy;
mod forman_ricci;
mod hurst_blocks;
mod hurst_dfa;
mod hurst_rs;
mod kuramoto;
mod multiscale_kuramoto;
mod null;
mod ollivier_ricci;
mod phase;
mod regime;
mod temporal_ricci;
mod trade_vpin;
mod transition_graph;
mod transport;
mod volume_buckets;
mod vpin;

pub use cross_kuramoto::CrossKuramoto;
pub use delta_entropy::DeltaEntropy;
pub use entropy::Entropy;
pub use forman_ricci::forman_ricci;
pub use hurst_dfa::HurstDfa;
pub use hurst_rs::HurstRs;
pub use kuramoto::Kuramoto;
pub use multiscale_kuramoto::{MultiscaleKuramoto, MultiscaleOutput};
pub use null::{NullBaseline, shuffled, shuffled_price_surrogates};
pub use ollivier_ricci::{OllivierRicci, mean_curvature, ollivier_ricci};
pub use phase::{CausalPhase, PhaseOutput};
pub use regime::{Regime, RegimeClassifier};
pub use temporal_ricci::{TemporalRicci, TemporalRicciOutput};
pub use trade_vpin::{Trade, TradeVpin};
pub use transition_graph::{EdgeCurvature, TransitionGraph};
pub use vpin::Vpin;
