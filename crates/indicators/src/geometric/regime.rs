//! [`RegimeClassifier`]: market regime from synchronisation, entropy change and curvature.

use serde::{Deserialize, Serialize};

/// A market regime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Regime {
    /// Structure breaking up: negative curvature and a jump in entropy.
    Transition,
    /// Strong synchronisation, falling entropy and negative curvature: a new collective move
    /// is forming on a fragile (bridge-like) structure.
    Emergent,
    /// Strong synchronisation while entropy rises: a move that is losing order.
    PostEmergent,
    /// Partial synchronisation with falling entropy: order building up.
    ProtoEmergent,
    /// Weak synchronisation: noise-dominated.
    Chaotic,
    /// None of the above (e.g. synchronised and ordering on a well-connected structure).
    Neutral,
    /// An input was NaN or infinite.
    Unknown,
}

impl Regime {
    /// Lower-case name, as printed by the CLI.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Transition => "transition",
            Self::Emergent => "emergent",
            Self::PostEmergent => "post_emergent",
            Self::ProtoEmergent => "proto_emergent",
            Self::Chaotic => "chaotic",
            Self::Neutral => "neutral",
            Self::Unknown => "unknown",
        }
    }
}

/// Classifier thresholds, calibrated on the repo's data with the [`crate::analyze`] defaults
/// (window 200, α = 0), where [`super::Kuramoto`] R has median ≈ 0.56 and 99th percentile
/// ≈ 0.64–0.66 (a clean cycle gives 1), [`super::DeltaEntropy`] has 5th/95th percentiles of
/// about ∓0.3 nats, and mean Ollivier–Ricci κ̄ has a 5th percentile of −0.08 on the S&P 500
/// (see `docs/indicators.md`). So `Chaotic` is the common state of a near-random-walk market
/// and the other regimes flag its unusual windows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeClassifier {
    /// R at or above which the market is synchronised (default 0.7, above noise's 99th
    /// percentile).
    pub r_sync: f64,
    /// R at or above which it is partially synchronised (default 0.6, about noise's 90th
    /// percentile).
    pub r_partial: f64,
    /// κ̄ below which the structure is fragile (default −0.05).
    pub kappa_negative: f64,
    /// ΔH at or above which entropy has jumped (default 0.3 nats).
    pub entropy_shock: f64,
}

impl Default for RegimeClassifier {
    fn default() -> Self {
        Self {
            r_sync: 0.7,
            r_partial: 0.6,
            kappa_negative: -0.05,
            entropy_shock: 0.3,
        }
    }
}

impl RegimeClassifier {
    /// Classifies one observation; the first matching rule wins:
    /// 1. `κ̄ < κ⁻ ∧ ΔH ≥ shock` → Transition;
    /// 2. `R ≥ R_sync ∧ ΔH < 0 ∧ κ̄ < κ⁻` → Emergent;
    /// 3. `R ≥ R_sync ∧ ΔH ≥ 0` → PostEmergent;
    /// 4. `R_partial ≤ R < R_sync ∧ ΔH < 0` → ProtoEmergent;
    /// 5. `R < R_partial` → Chaotic;
    /// 6. otherwise Neutral. Any non-finite input gives Unknown.
    #[must_use]
    pub fn classify(&self, r: f64, delta_entropy: f64, curvature: f64) -> Regime {
        if !(r.is_finite() && delta_entropy.is_finite() && curvature.is_finite()) {
            return Regime::Unknown;
        }
        let fragile = curvature < self.kappa_negative;
        if fragile && delta_entropy >= self.entropy_shock {
            Regime::Transition
        } else if r >= self.r_sync && delta_entropy < 0.0 && fragile {
            Regime::Emergent
        } else if r >= self.r_sync && delta_entropy >= 0.0 {
            Regime::PostEmergent
        } else if r >= self.r_partial && r < self.r_sync && delta_entropy < 0.0 {
            Regime::ProtoEmergent
        } else if r < self.r_partial {
            Regime::Chaotic
        } else {
            Regime::Neutral
        }
    }
}
