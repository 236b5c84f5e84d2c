//! [`analyze`]: the geometric family and the regime over a bar series, for `tradepulse analyze`.

use serde::{Deserialize, Serialize};

use crate::catalog::{AUTO_BUCKET_BARS, auto_bucket_volume};
use crate::*;

/// Parameters of [`analyze`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisConfig {
    /// Window (bars) of the curvature graph, of R and of each entropy half (default 200).
    pub window: usize,
    /// Histogram bins of the entropies (default 30).
    pub bins: usize,
    /// Half-length `M` of the causal Hilbert kernel (default 15).
    pub half_taps: usize,
    /// Log-price level step of the transition graph: levels `round(ln p / step)`, a factor
    /// `e^step ≈ 1 + step` apart (default 0.005, i.e. ≈ 0.5 % levels).
    pub level_step: f64,
    /// Idleness α of the lazy random walk (default 0: Ollivier's original walk. On price-level
    /// graphs, which are close to paths, laziness pushes κ̄ up: with α = 0.5 no 200-bar window
    /// of the repo's data has κ̄ below −0.03, with α = 0 the most fragile 5 % of S&P 500
    /// windows are below −0.08).
    pub alpha: f64,
    /// Buckets in the VPIN window (default 50).
    pub vpin_buckets: usize,
    /// VPIN bucket volume; `None` = ten times the mean volume of the first 50 bars (VPIN is
    /// then reported from bar 49 on, so no value depends on later bars).
    pub vpin_bucket_volume: Option<f64>,
    /// Regime thresholds.
    pub regime: RegimeClassifier,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            window: 200,
            bins: 30,
            half_taps: 15,
            level_step: 0.005,
            alpha: 0.0,
            vpin_buckets: 50,
            vpin_bucket_volume: None,
            regime: RegimeClassifier::default(),
        }
    }
}

/// The geometric family at one bar; `None` while an indicator warms up.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisRow {
    /// Kuramoto R of price changes over `window` bars.
    pub kuramoto_r: Option<f64>,
    /// Shannon entropy of the last `window` log returns (nats).
    pub entropy: Option<f64>,
    /// Entropy change between the last two `window`-return halves.
    pub delta_entropy: Option<f64>,
    /// Mean Ollivier–Ricci curvature of the last `window` prices' transition graph.
    pub ollivier_ricci: Option<f64>,
    /// Mean Forman–Ricci curvature of the same graph.
    pub forman_ricci: Option<f64>,
    /// Hurst exponent of log returns, corrected R/S, over `max(window, 64)` returns.
    pub hurst_rs: Option<f64>,
    /// Hurst exponent of log returns, DFA, over `max(window, 64)` returns.
    pub hurst_dfa: Option<f64>,
    /// VPIN.
    pub vpin: Option<f64>,
    /// Regime from R, ΔH and the Ollivier curvature, once all three exist.
    pub regime: Option<Regime>,
}

/// One [`AnalysisRow`] per input bar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// Rows aligned with the bars.
    pub rows: Vec<AnalysisRow>,
}

impl Analysis {
    /// The last row, where every value is the latest (empty rows if there are no bars).
    #[must_use]
    pub fn latest(&self) -> Option<&AnalysisRow> {
        self.rows.last()
    }

    /// Column names of [`Analysis::to_csv`] after the index.
    pub const COLUMNS: [&'static str; 9] = [
        "kuramoto_r",
        "entropy",
        "delta_entropy",
        "ollivier_ricci",
        "forman_ricci",
        "hurst_rs",
        "hurst_dfa",
        "vpin",
        "regime",
    ];

    /// CSV with `index_name` and the [`Analysis::COLUMNS`]; warm-up cells are empty.
    #[must_use]
    pub fn to_csv(&self, index_name: &str, index: &[String]) -> String {
        use std::fmt::Write as _;
        let mut out = String::from(index_name);
        for c in Self::COLUMNS {
            out.push(',');
            out.push_str(c);
        }
        out.push('\n');
        for (row, label) in self.rows.iter().zip(index) {
            out.push_str(label);
            for v in [
                row.kuramoto_r,
                row.entropy,
                row.delta_entropy,
                row.ollivier_ricci,
                row.forman_ricci,
                row.hurst_rs,
                row.hurst_dfa,
                row.vpin,
            ] {
                out.push(',');
                if let Some(v) = v {
                    let _ = write!(out, "{v}");
                }
            }
            out.push(',');
            if let Some(r) = row.regime {
                out.push_str(r.name());
            }
            out.push('\n');
        }
        out
    }
}

impl AnalysisRow {
    /// `(name, value)` pairs in [`Analysis::COLUMNS`] order (regime excluded).
    fn values(&self) -> [(&'static str, Option<f64>); 8] {
        [
            ("kuramoto_r", self.kuramoto_r),
            ("entropy", self.entropy),
            ("delta_entropy", self.delta_entropy),
            ("ollivier_ricci", self.ollivier_ricci),
            ("forman_ricci", self.forman_ricci),
            ("hurst_rs", self.hurst_rs),
            ("hurst_dfa", self.hurst_dfa),
            ("vpin", self.vpin),
        ]
    }

    /// A two-column text table (`name  value`), `-` for values still warming up.
    #[must_use]
    pub fn to_table(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for (name, v) in self.values() {
            let _ = match v {
                Some(v) => writeln!(out, "{name:<16}{v:>12.6}"),
                None => writeln!(out, "{name:<16}{:>12}", "-"),
            };
        }
        let regime = self.regime.map_or("-", Regime::name);
        let _ = writeln!(out, "{:<16}{regime:>12}", "regime");
        out
    }

    /// A JSON object with one key per value (`null` while warming up or not finite) and
    /// `"regime"` as a string.
    #[must_use]
    pub fn to_json(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::from("{");
        for (name, v) in self.values() {
            let _ = match v.filter(|v| v.is_finite()) {
                Some(v) => write!(out, "\"{name}\":{v},"),
                None => write!(out, "\"{name}\":null,"),
            };
        }
        let _ = match self.regime {
            Some(r) => write!(out, "\"regime\":\"{}\"}}", r.name()),
            None => write!(out, "\"regime\":null}}"),
        };
        out
    }
}

/// Computes the geometric family bar by bar over `bars` (each value uses only bars up to its
/// own), and the regime.
///
/// # Errors
/// The indicators' parameter errors (e.g. a window below 3, a bucket volume that is not
/// positive).
pub fn analyze(bars: &[Candle], config: &AnalysisConfig) -> Result<Analysis, Error> {
    let w = config.window;
    let hurst_window = w.max(64);
    let mut kuramoto = Kuramoto::new(w, config.half_taps)?;
    let mut entropy = Entropy::new(w, config.bins)?;
    let mut delta = DeltaEntropy::new(w, config.bins)?;
    let mut hurst_rs = HurstRs::new(hurst_window)?;
    let mut hurst_dfa = HurstDfa::new(hurst_window)?;
    let bucket = config
        .vpin_bucket_volume
        .unwrap_or_else(|| auto_bucket_volume(bars));
    let mut vpin = Vpin::new(bucket, config.vpin_buckets, 50)?;
    // The streaming curvature state; its graph also gives the Forman curvature.
    let mut ricci = OllivierRicci::new(w, config.level_step, config.alpha)?;
    let closes: Vec<f64> = bars.iter().map(|c| c.close).collect();
    let mut rows = Vec::with_capacity(bars.len());
    for (t, bar) in bars.iter().enumerate() {
        let r = kuramoto.update(bar.close);
        let ret = t.checked_sub(1).map(|p| {
            let (a, b) = (closes[p], bar.close);
            if a > 0.0 && b > 0.0 {
                (b / a).ln()
            } else {
                f64::NAN
            }
        });
        let (h, dh, hrs, hdfa) = match ret {
            Some(x) => (
                entropy.update(x),
                delta.update(x),
                hurst_rs.update(x),
                hurst_dfa.update(x),
            ),
            None => (None, None, None, None),
        };
        ricci.push(bar.close);
        let (ollivier, forman) = if ricci.is_full() {
            (Some(ricci.curvature()), Some(ricci.forman()))
        } else {
            (None, None)
        };
        let regime = match (r, dh, ollivier) {
            (Some(r), Some(dh), Some(k)) => Some(config.regime.classify(r, dh, k)),
            _ => None,
        };
        rows.push(AnalysisRow {
            kuramoto_r: r,
            entropy: h,
            delta_entropy: dh,
            ollivier_ricci: ollivier,
            forman_ricci: forman,
            hurst_rs: hrs,
            hurst_dfa: hdfa,
            vpin: vpin
                .update(*bar)
                .filter(|_| config.vpin_bucket_volume.is_some() || t + 1 >= AUTO_BUCKET_BARS),
            regime,
        });
    }
    Ok(Analysis { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analysis_warms_up_and_classifies() {
        let bars: Vec<Candle> = (0..600)
            .map(|i| {
                let p = 100.0 + (i as f64 * 0.37).sin() * 2.0 + (i as f64 * 0.05).cos();
                Candle::new(p, p + 0.2, p - 0.2, p, 500.0)
            })
            .collect();
        let cfg = AnalysisConfig {
            window: 100,
            ..AnalysisConfig::default()
        };
        let a = analyze(&bars, &cfg).unwrap();
        assert_eq!(a.rows.len(), 600);
        assert!(a.rows[50].ollivier_ricci.is_none());
        let last = a.latest().unwrap();
        assert!(last.kuramoto_r.is_some() && last.regime.is_some() && last.vpin.is_some());
        let idx: Vec<String> = (0..600).map(|i| i.to_string()).collect();
        let csv = a.to_csv("ts", &idx);
        assert_eq!(csv.lines().count(), 601);
        let json = last.to_json();
        assert!(
            json.starts_with("{\"kuramoto_r\":") && json.ends_with('}'),
            "{json}"
        );
        assert!(last.to_table().lines().any(|l| l.starts_with("regime")));
    }

    #[test]
    fn warming_values_are_null_in_json_and_dashes_in_the_table() {
        let row = AnalysisRow {
            kuramoto_r: None,
            entropy: Some(1.5),
            delta_entropy: Some(f64::NAN),
            ollivier_ricci: None,
            forman_ricci: None,
            hurst_rs: None,
            hurst_dfa: None,
            vpin: None,
            regime: None,
        };
        let json = row.to_json();
        assert!(json.contains("\"kuramoto_r\":null") && json.contains("\"entropy\":1.5"));
        assert!(json.contains("\"delta_entropy\":null") && json.ends_with("\"regime\":null}"));
        assert!(row.to_table().starts_with("kuramoto_r"));
    }

    #[test]
    fn analysis_of_no_bars_is_empty() {
        assert!(
            analyze(&[], &AnalysisConfig::default())
                .unwrap()
                .latest()
                .is_none()
        );
    }
}
