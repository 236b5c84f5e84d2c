//! [`IndicatorSpec`]: indicators named by text (`rsi:14`, `macd:12:26:9`), for the CLI.

use std::fmt::Write as _;

use crate::*;

/// One indicator of the catalog: its spec name, parameters (with defaults) and output columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Name used in specs, e.g. `"macd"`.
    pub name: &'static str,
    /// Parameters in spec order with defaults, e.g. `"fast=12 slow=26 signal=9"`.
    pub params: &'static str,
    /// Output suffixes; empty for a single-output indicator.
    pub outputs: &'static [&'static str],
    /// One-line description.
    pub description: &'static str,
}

const CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        name: "sma",
        params: "period=30",
        outputs: &[],
        description: "simple moving average of close (TA-Lib SMA)",
    },
    CatalogEntry {
        name: "ema",
        params: "period=30",
        outputs: &[],
        description: "exponential moving average of close (TA-Lib EMA)",
    },
    CatalogEntry {
        name: "wma",
        params: "period=30",
        outputs: &[],
        description: "weighted moving average of close (TA-Lib WMA)",
    },
    CatalogEntry {
        name: "dema",
        params: "period=30",
        outputs: &[],
        description: "double EMA (TA-Lib DEMA)",
    },
    CatalogEntry {
        name: "tema",
        params: "period=30",
        outputs: &[],
        description: "triple EMA (TA-Lib TEMA)",
    },
    CatalogEntry {
        name: "kama",
        params: "period=30",
        outputs: &[],
        description: "Kaufman adaptive MA (TA-Lib KAMA)",
    },
    CatalogEntry {
        name: "rsi",
        params: "period=14",
        outputs: &[],
        description: "Wilder RSI (TA-Lib RSI)",
    },
    CatalogEntry {
        name: "macd",
        params: "fast=12 slow=26 signal=9",
        outputs: &["macd", "signal", "hist"],
        description: "MACD (TA-Lib MACD)",
    },
    CatalogEntry {
        name: "bbands",
        params: "period=20 nbdev=2",
        outputs: &["upper", "middle", "lower"],
        description: "Bollinger bands, SMA centre (TA-Lib BBANDS)",
    },
    CatalogEntry {
        name: "atr",
        params: "period=14",
        outputs: &[],
        description: "average true range (TA-Lib ATR)",
    },
    CatalogEntry {
        name: "natr",
        params: "period=14",
        outputs: &[],
        description: "normalised ATR in % (TA-Lib NATR)",
    },
    CatalogEntry {
        name: "trange",
        params: "",
        outputs: &[],
        description: "true range (TA-Lib TRANGE)",
    },
    CatalogEntry {
        name: "stoch",
        params: "fastk=5 slowk=3 slowd=3",
        outputs: &["k", "d"],
        description: "slow stochastic, SMA smoothing (TA-Lib STOCH)",
    },
    CatalogEntry {
        name: "stochrsi",
        params: "period=14 fastk=5 fastd=3",
        outputs: &["k", "d"],
        description: "stochastic RSI (TA-Lib STOCHRSI)",
    },
    CatalogEntry {
        name: "adx",
        params: "period=14",
        outputs: &["adx", "plus_di", "minus_di"],
        description: "ADX with +DI/−DI (TA-Lib ADX)",
    },
    CatalogEntry {
        name: "dmi",
        params: "period=14",
        outputs: &["plus_di", "minus_di"],
        description: "+DI/−DI (TA-Lib PLUS_DI/MINUS_DI)",
    },
    CatalogEntry {
        name: "cci",
        params: "period=14",
        outputs: &[],
        description: "commodity channel index (TA-Lib CCI)",
    },
    CatalogEntry {
        name: "obv",
        params: "",
        outputs: &[],
        description: "on-balance volume (TA-Lib OBV)",
    },
    CatalogEntry {
        name: "mfi",
        params: "period=14",
        outputs: &[],
        description: "money flow index (TA-Lib MFI)",
    },
    CatalogEntry {
        name: "willr",
        params: "period=14",
        outputs: &[],
        description: "Williams %R (TA-Lib WILLR)",
    },
    CatalogEntry {
        name: "roc",
        params: "period=10",
        outputs: &[],
        description: "rate of change in % (TA-Lib ROC)",
    },
    CatalogEntry {
        name: "mom",
        params: "period=10",
        outputs: &[],
        description: "momentum (TA-Lib MOM)",
    },
    CatalogEntry {
        name: "stddev",
        params: "period=5 nbdev=1",
        outputs: &[],
        description: "population standard deviation (TA-Lib STDDEV)",
    },
    CatalogEntry {
        name: "vwap",
        params: "period=20",
        outputs: &[],
        description: "rolling volume-weighted average price",
    },
    CatalogEntry {
        name: "session_vwap",
        params: "offset_hours=0",
        outputs: &[],
        description: "VWAP since the start of each UTC day (shifted by offset_hours)",
    },
    CatalogEntry {
        name: "donchian",
        params: "period=20",
        outputs: &["upper", "middle", "lower"],
        description: "Donchian channel",
    },
    CatalogEntry {
        name: "keltner",
        params: "period=20 mult=2 atr_period=10",
        outputs: &["upper", "middle", "lower"],
        description: "Keltner channel (EMA ± mult·ATR)",
    },
    CatalogEntry {
        name: "kuramoto",
        params: "window=64 half_taps=15 [z]",
        outputs: &[],
        description: "Kuramoto order parameter R of the causal phase of price changes",
    },
    CatalogEntry {
        name: "multiscale_kuramoto",
        params: "window=64 half_taps=15 (scales 1,5,15,60 bars) [z]",
        outputs: &["consensus", "coherence", "dominant_scale"],
        description: "Kuramoto R over resampled timeframes",
    },
    CatalogEntry {
        name: "ollivier_ricci",
        params: "window=200 level_step=0.005 alpha=0 [z]",
        outputs: &[],
        description: "mean Ollivier–Ricci curvature of the price-level transition graph",
    },
    CatalogEntry {
        name: "forman_ricci",
        params: "window=200 level_step=0.005 [z]",
        outputs: &[],
        description: "mean augmented Forman–Ricci curvature of the transition graph",
    },
    CatalogEntry {
        name: "temporal_ricci",
        params: "window=200 step=20 snapshots=8 level_step=0.005 alpha=0 [z]",
        outputs: &[
            "curvature",
            "curvature_change",
            "edge_stability",
            "persistence",
            "transition",
        ],
        description: "curvature and structure change between graph snapshots",
    },
    CatalogEntry {
        name: "entropy",
        params: "window=100 bins=30 [z]",
        outputs: &[],
        description: "Shannon entropy (nats) of log returns",
    },
    CatalogEntry {
        name: "delta_entropy",
        params: "window=100 bins=30 [z]",
        outputs: &[],
        description: "entropy change between consecutive windows of log returns",
    },
    CatalogEntry {
        name: "hurst_rs",
        params: "window=256 [z]",
        outputs: &[],
        description: "Hurst exponent of log returns, R/S with Anis–Lloyd correction",
    },
    CatalogEntry {
        name: "hurst_dfa",
        params: "window=256 [z]",
        outputs: &[],
        description: "Hurst exponent of log returns, DFA-1",
    },
    CatalogEntry {
        name: "vpin",
        params: "bucket_volume=auto buckets=50 sigma_window=50 [z]",
        outputs: &[],
        description: "VPIN with bulk-volume classification (auto bucket = 10 × mean volume of the first 50 bars)",
    },
];

/// Every indicator the catalog knows, in display order.
#[must_use]
pub fn list_indicators() -> &'static [CatalogEntry] {
    CATALOG
}

/// The catalog as a text table for `tradepulse indicators --list`: spec name, parameters with
/// defaults, output columns and description.
#[must_use]
pub fn catalog_table() -> String {
    let mut out = String::from(
        "name                  parameters (defaults)                          outputs / description\n",
    );
    for e in CATALOG {
        let outputs = if e.outputs.is_empty() {
            String::new()
        } else {
            format!("[{}] ", e.outputs.join(", "))
        };
        let params = if e.params.is_empty() { "-" } else { e.params };
        let _ = writeln!(
            out,
            "{:<22}{:<47}{outputs}{}",
            e.name, params, e.description
        );
    }
    out
}

/// A parsed spec: a catalog name and its (possibly partial) parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSpec {
    name: String,
    params: Vec<String>,
    text: String,
    /// A trailing `z` (geometric indicators): report the deviation from the shuffle null.
    null: bool,
}

impl std::str::FromStr for IndicatorSpec {
    type Err = Error;

    /// Parses `name[:p1[:p2…]]`, e.g. `rsi:14`, `macd:12:26:9`, `bbands:20:2`, `obv`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut parts = s.trim().split(':');
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut params: Vec<String> = parts.map(|p| p.trim().to_owned()).collect();
        let null = takes_null(&name) && params.last().is_some_and(|p| p.eq_ignore_ascii_case("z"));
        if null {
            params.pop();
        }
        let spec = Self {
            name,
            params,
            text: s.to_owned(),
            null,
        };
        let Some(entry) = CATALOG.iter().find(|e| e.name == spec.name) else {
            return Err(spec.invalid(format!("unknown indicator {:?}", spec.name)));
        };
        let accepted = entry
            .params
            .split_whitespace()
            .filter(|p| p.contains('='))
            .count();
        if spec.params.len() > accepted {
            let z = if takes_null(entry.name) {
                ", then optionally z"
            } else {
                ""
            };
            return Err(spec.invalid(format!(
                "{} takes at most {accepted} parameters ({}){z}",
                entry.name, entry.params
            )));
        }
        Ok(spec)
    }
}

/// Output columns of [`compute_table`], aligned with the input bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OutputTable {
    /// `(column name, one cell per bar; None during warm-up)`.
    pub columns: Vec<(String, Vec<Option<f64>>)>,
}

impl OutputTable {
    /// CSV text: a header `index_name,col…` and one line per bar, `index[i]` first; warm-up
    /// cells are empty; numbers use the shortest representation that reads back exactly.
    #[must_use]
    pub fn to_csv(&self, index_name: &str, index: &[String]) -> String {
        let mut out = String::new();
        out.push_str(index_name);
        for (name, _) in &self.columns {
            out.push(',');
            out.push_str(name);
        }
        out.push('\n');
        for (i, label) in index.iter().enumerate() {
            out.push_str(label);
            for (_, cells) in &self.columns {
                out.push(',');
                if let Some(Some(v)) = cells.get(i) {
                    let _ = write!(out, "{v}");
                }
            }
            out.push('\n');
        }
        out
    }
}

impl IndicatorSpec {
    fn invalid(&self, reason: String) -> Error {
        Error::InvalidSpec {
            spec: self.text.clone(),
            reason,
        }
    }

    fn int(&self, i: usize, default: usize) -> Result<usize, Error> {
        match self.params.get(i) {
            None => Ok(default),
            Some(p) => p.parse().map_err(|_| {
                self.invalid(format!(
                    "parameter {} ({p:?}) must be a whole number",
                    i + 1
                ))
            }),
        }
    }

    fn real(&self, i: usize, default: f64) -> Result<f64, Error> {
        match self.params.get(i) {
            None => Ok(default),
            Some(p) => match p.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(self.invalid(format!(
                    "parameter {} ({p:?}) must be a finite number",
                    i + 1
                ))),
            },
        }
    }

    /// The column prefix: name and effective parameters joined by `_`, e.g. `macd_12_26_9`.
    fn prefix(&self, params: &[String]) -> String {
        let mut s = self.name.clone();
        for p in params {
            s.push('_');
            s.push_str(p);
        }
        s
    }
}

fn aligned<T: Copy>(s: &Series<T>, len: usize, f: impl Fn(T) -> f64) -> Vec<Option<f64>> {
    let mut out = vec![None; len];
    for (j, &v) in s.values.iter().enumerate() {
        if let Some(slot) = out.get_mut(s.start + j) {
            *slot = Some(f(v));
        }
    }
    out
}

/// Log return `ln(b/a)`, NaN when a price is not positive.
fn log_return(a: f64, b: f64) -> f64 {
    if a > 0.0 && b > 0.0 {
        (b / a).ln()
    } else {
        f64::NAN
    }
}

/// Runs an indicator over returns (one fewer than bars) and aligns it back to the bars.
fn on_returns<I: Indicator<Input = f64, Output = f64>>(
    mut ind: I,
    closes: &[f64],
) -> Vec<Option<f64>> {
    let rets: Vec<f64> = closes.windows(2).map(|w| log_return(w[0], w[1])).collect();
    let mut s = ind.batch(&rets);
    s.start += 1;
    aligned(&s, closes.len(), |v| v)
}

/// Computes the indicators in `specs` over `bars`, one column per output, named
/// `<name>_<params…>[_<output>]` (e.g. `rsi_14`, `macd_12_26_9_signal`).
///
/// # Errors
/// [`Error::InvalidSpec`] for a parameter that does not parse, and the indicator's own error
/// for a parameter it rejects.
pub fn compute_table(specs: &[IndicatorSpec], bars: &[Candle]) -> Result<OutputTable, Error> {
    let closes: Vec<f64> = bars.iter().map(|c| c.close).collect();
    let n = bars.len();
    let mut table = OutputTable::default();
    for spec in specs {
        if spec.null {
            table
                .columns
                .extend(null_deviation(spec, bars, &closes)?.columns);
            continue;
        }
        let mut push = |params: Vec<String>, cols: Vec<(&str, Vec<Option<f64>>)>| {
            let prefix = spec.prefix(&params);
            for (suffix, cells) in cols {
                let name = if suffix.is_empty() {
                    prefix.clone()
                } else {
                    format!("{prefix}_{suffix}")
                };
                table.columns.push((name, cells));
            }
        };
        let one = |v: Vec<Option<f64>>| vec![("", v)];
        match spec.name.as_str() {
            "sma" | "ema" | "wma" | "dema" | "tema" | "kama" | "rsi" | "roc" | "mom" => {
                let p = spec.int(
                    0,
                    match spec.name.as_str() {
                        "rsi" => 14,
                        "roc" | "mom" => 10,
                        _ => 30,
                    },
                )?;
                let s = match spec.name.as_str() {
                    "sma" => Sma::new(p)?.batch(&closes),
                    "ema" => Ema::new(p)?.batch(&closes),
                    "wma" => Wma::new(p)?.batch(&closes),
                    "dema" => Dema::new(p)?.batch(&closes),
                    "tema" => Tema::new(p)?.batch(&closes),
                    "kama" => Kama::new(p)?.batch(&closes),
                    "rsi" => Rsi::new(p)?.batch(&closes),
                    "roc" => RateOfChange::new(p)?.batch(&closes),
                    _ => Momentum::new(p)?.batch(&closes),
                };
                push(vec![p.to_string()], one(aligned(&s, n, |v| v)));
            }
            "stddev" => {
                let (p, k) = (spec.int(0, 5)?, spec.real(1, 1.0)?);
                push(
                    vec![p.to_string(), k.to_string()],
                    one(aligned(&StdDev::new(p, k)?.batch(&closes), n, |v| v)),
                );
            }
            "macd" => {
                let (f, s, g) = (spec.int(0, 12)?, spec.int(1, 26)?, spec.int(2, 9)?);
                let out = Macd::new(f, s, g)?.batch(&closes);
                push(
                    vec![f.to_string(), s.to_string(), g.to_string()],
                    vec![
                        ("macd", aligned(&out, n, |o| o.macd)),
                        ("signal", aligned(&out, n, |o| o.signal)),
                        ("hist", aligned(&out, n, |o| o.hist)),
                    ],
                );
            }
            "bbands" | "donchian" | "keltner" => {
                let (params, out) = match spec.name.as_str() {
                    "bbands" => {
                        let (p, k) = (spec.int(0, 20)?, spec.real(1, 2.0)?);
                        (
                            vec![p.to_string(), k.to_string()],
                            Bollinger::new(p, k, k)?.batch(&closes),
                        )
                    }
                    "donchian" => {
                        let p = spec.int(0, 20)?;
                        (vec![p.to_string()], Donchian::new(p)?.batch(bars))
                    }
                    _ => {
                        let (p, k, a) = (spec.int(0, 20)?, spec.real(1, 2.0)?, spec.int(2, 10)?);
                        (
                            vec![p.to_string(), k.to_string(), a.to_string()],
                            Keltner::new(p, k, a)?.batch(bars),
                        )
                    }
                };
                push(
                    params,
                    vec![
                        ("upper", aligned(&out, n, |o| o.upper)),
                        ("middle", aligned(&out, n, |o| o.middle)),
                        ("lower", aligned(&out, n, |o| o.lower)),
                    ],
                );
            }
            "atr" | "natr" | "cci" | "mfi" | "willr" | "vwap" => {
                let p = spec.int(0, if spec.name == "vwap" { 20 } else { 14 })?;
                let s = match spec.name.as_str() {
                    "atr" => Atr::new(p)?.batch(bars),
                    "natr" => Natr::new(p)?.batch(bars),
                    "cci" => Cci::new(p)?.batch(bars),
                    "mfi" => Mfi::new(p)?.batch(bars),
                    "willr" => WilliamsR::new(p)?.batch(bars),
                    _ => RollingVwap::new(p)?.batch(bars),
                };
                push(vec![p.to_string()], one(aligned(&s, n, |v| v)));
            }
            "trange" => push(
                vec![],
                one(aligned(&TrueRange::new().batch(bars), n, |v| v)),
            ),
            "obv" => push(vec![], one(aligned(&Obv::new().batch(bars), n, |v| v))),
            "session_vwap" => {
                let h = spec.int(0, 0)?;
                let offset = i64::try_from(h)
                    .ok()
                    .and_then(|h| h.checked_mul(3_600_000_000_000))
                    .ok_or_else(|| spec.invalid("offset_hours too large".to_owned()))?;
                let s = SessionVwap::new(86_400_000_000_000, offset)?.batch(bars);
                push(vec![h.to_string()], one(aligned(&s, n, |v| v)));
            }
            "stoch" => {
                let (k, sk, sd) = (spec.int(0, 5)?, spec.int(1, 3)?, spec.int(2, 3)?);
                let out = Stochastic::new(k, sk, sd)?.batch(bars);
                push(
                    vec![k.to_string(), sk.to_string(), sd.to_string()],
                    vec![
                        ("k", aligned(&out, n, |o| o.k)),
                        ("d", aligned(&out, n, |o| o.d)),
                    ],
                );
            }
            "stochrsi" => {
                let (p, k, d) = (spec.int(0, 14)?, spec.int(1, 5)?, spec.int(2, 3)?);
                let out = StochRsi::new(p, k, d)?.batch(&closes);
                push(
                    vec![p.to_string(), k.to_string(), d.to_string()],
                    vec![
                        ("k", aligned(&out, n, |o| o.k)),
                        ("d", aligned(&out, n, |o| o.d)),
                    ],
                );
            }
            "adx" => {
                let p = spec.int(0, 14)?;
                let out = Adx::new(p)?.batch(bars);
                push(
                    vec![p.to_string()],
                    vec![
                        ("adx", aligned(&out, n, |o| o.adx)),
                        ("plus_di", aligned(&out, n, |o| o.plus_di)),
                        ("minus_di", aligned(&out, n, |o| o.minus_di)),
                    ],
                );
            }
            "dmi" => {
                let p = spec.int(0, 14)?;
                let out = Dmi::new(p)?.batch(bars);
                push(
                    vec![p.to_string()],
                    vec![
                        ("plus_di", aligned(&out, n, |o| o.plus_di)),
                        ("minus_di", aligned(&out, n, |o| o.minus_di)),
                    ],
                );
            }
            "kuramoto" => {
                let (w, m) = (spec.int(0, 64)?, spec.int(1, 15)?);
                push(
                    vec![w.to_string(), m.to_string()],
                    one(aligned(&Kuramoto::new(w, m)?.batch(&closes), n, |v| v)),
                );
            }
            "multiscale_kuramoto" => {
                let (w, m) = (spec.int(0, 64)?, spec.int(1, 15)?);
                let out = MultiscaleKuramoto::new(&[1, 5, 15, 60], w, m)?.batch(&closes);
                push(
                    vec![w.to_string(), m.to_string()],
                    vec![
                        ("consensus", aligned(&out, n, |o| o.consensus)),
                        ("coherence", aligned(&out, n, |o| o.coherence)),
                        (
                            "dominant_scale",
                            aligned(&out, n, |o| o.dominant_scale as f64),
                        ),
                    ],
                );
            }
            "ollivier_ricci" => {
                let (w, d, a) = (spec.int(0, 200)?, spec.real(1, 0.005)?, spec.real(2, 0.0)?);
                let out = OllivierRicci::new(w, d, a)?.batch(&closes);
                push(
                    vec![w.to_string(), d.to_string(), a.to_string()],
                    one(aligned(&out, n, |v| v)),
                );
            }
            "forman_ricci" => {
                let (w, d) = (spec.int(0, 200)?, spec.real(1, 0.005)?);
                // The Ollivier indicator's streaming graph (and its parameter checks); only
                // its Forman mean is read, so no transport problem is solved.
                let mut graph = OllivierRicci::new(w, d, 0.5)?;
                let cells = closes
                    .iter()
                    .map(|&p| {
                        graph.push(p);
                        graph.is_full().then(|| graph.forman())
                    })
                    .collect();
                push(vec![w.to_string(), d.to_string()], one(cells));
            }
            "temporal_ricci" => {
                let (w, st, sn, d, a) = (
                    spec.int(0, 200)?,
                    spec.int(1, 20)?,
                    spec.int(2, 8)?,
                    spec.real(3, 0.005)?,
                    spec.real(4, 0.0)?,
                );
                let out = TemporalRicci::new(w, st, sn, d, a)?.batch(&closes);
                push(
                    vec![
                        w.to_string(),
                        st.to_string(),
                        sn.to_string(),
                        d.to_string(),
                        a.to_string(),
                    ],
                    vec![
                        ("curvature", aligned(&out, n, |o| o.curvature)),
                        ("curvature_change", aligned(&out, n, |o| o.curvature_change)),
                        ("edge_stability", aligned(&out, n, |o| o.edge_stability)),
                        ("persistence", aligned(&out, n, |o| o.persistence)),
                        ("transition", aligned(&out, n, |o| o.transition)),
                    ],
                );
            }
            "entropy" | "delta_entropy" => {
                let (w, b) = (spec.int(0, 100)?, spec.int(1, 30)?);
                let cells = if spec.name == "entropy" {
                    on_returns(Entropy::new(w, b)?, &closes)
                } else {
                    on_returns(DeltaEntropy::new(w, b)?, &closes)
                };
                push(vec![w.to_string(), b.to_string()], one(cells));
            }
            "hurst_rs" | "hurst_dfa" => {
                let w = spec.int(0, 256)?;
                let cells = if spec.name == "hurst_rs" {
                    on_returns(HurstRs::new(w)?, &closes)
                } else {
                    on_returns(HurstDfa::new(w)?, &closes)
                };
                push(vec![w.to_string()], one(cells));
            }
            "vpin" => {
                let auto = matches!(spec.params.first().map(String::as_str), None | Some("auto"));
                let bucket = if auto {
                    auto_bucket_volume(bars)
                } else {
                    spec.real(0, 0.0)?
                };
                let (k, s) = (spec.int(1, 50)?, spec.int(2, 50)?);
                let out = Vpin::new(bucket, k, s)?.batch(bars);
                let mut cells = aligned(&out, n, |v| v);
                if auto {
                    // The bucket size was read from the first bars: no value before them.
                    for c in cells.iter_mut().take(AUTO_BUCKET_BARS - 1) {
                        *c = None;
                    }
                }
                push(
                    vec![bucket.to_string(), k.to_string(), s.to_string()],
                    one(cells),
                );
            }
            other => return Err(spec.invalid(format!("unknown indicator {other:?}"))),
        }
    }
    Ok(table)
}

/// The geometric entries, which accept a trailing `z`.
fn takes_null(name: &str) -> bool {
    matches!(
        name,
        "kuramoto"
            | "multiscale_kuramoto"
            | "ollivier_ricci"
            | "forman_ricci"
            | "temporal_ricci"
            | "entropy"
            | "delta_entropy"
            | "hurst_rs"
            | "hurst_dfa"
            | "vpin"
    )
}

/// Shuffle surrogates behind a `z` spec, and the seed of the first (the others follow it).
pub(crate) const NULL_COPIES: usize = 4;
pub(crate) const NULL_SEED: u64 = 0x5EED_0001;

/// The columns of a `…:z` spec: each value of the indicator as `(x − μ₀)/σ₀`, where μ₀ and σ₀
/// are the mean and standard deviation of the same indicator over [`NULL_COPIES`] seeded
/// shuffles of the series' log returns (all their values pooled). Named `<column>_z`;
/// `dominant_scale`, a timeframe, is passed through as it is.
fn null_deviation(
    spec: &IndicatorSpec,
    bars: &[Candle],
    closes: &[f64],
) -> Result<OutputTable, Error> {
    let raw = IndicatorSpec {
        null: false,
        ..spec.clone()
    };
    let specs = std::slice::from_ref(&raw);
    let table = compute_table(specs, bars)?;
    let mut pooled: Vec<Vec<f64>> = vec![Vec::new(); table.columns.len()];
    for prices in shuffled_price_surrogates(closes, NULL_COPIES, NULL_SEED) {
        // The bars' own volumes in their own order (VPIN reads them); prices shuffled.
        let surrogate: Vec<Candle> = prices
            .iter()
            .zip(bars)
            .map(|(&p, b)| Candle::new(p, p, p, p, b.volume))
            .collect();
        let columns = compute_table(specs, &surrogate)?.columns;
        for (pool, (_, cells)) in pooled.iter_mut().zip(columns) {
            pool.extend(cells.into_iter().flatten());
        }
    }
    let columns = table
        .columns
        .into_iter()
        .zip(pooled)
        .map(|((name, cells), pool)| {
            if name.ends_with("_dominant_scale") {
                return (name, cells);
            }
            let null = NullBaseline::from_values(pool);
            let cells = cells.into_iter().map(|c| c.map(|v| null.z(v))).collect();
            (format!("{name}_z"), cells)
        })
        .collect();
    Ok(OutputTable { columns })
}

/// Bars whose volume sets the automatic VPIN bucket size.
pub(crate) const AUTO_BUCKET_BARS: usize = 50;

/// Ten times the mean finite, positive volume of the first [`AUTO_BUCKET_BARS`] bars (1 when
/// there is none): buckets of about ten bars, the usual VPIN granularity. Only those first bars
/// are read, so the choice uses no later data; callers report VPIN from bar
/// `AUTO_BUCKET_BARS − 1` on.
pub(crate) fn auto_bucket_volume(bars: &[Candle]) -> f64 {
    let head = &bars[..bars.len().min(AUTO_BUCKET_BARS)];
    let (sum, count) = head
        .iter()
        .filter(|c| c.volume.is_finite() && c.volume > 0.0)
        .fold((0.0, 0usize), |(s, n), c| (s + c.volume, n + 1));
    let v = if count == 0 {
        1.0
    } else {
        10.0 * sum / count as f64
    };
    if v.is_finite() && v > 0.0 { v } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bars(n: usize) -> Vec<Candle> {
        (0..n)
            .map(|i| {
                let p = 100.0 + (i as f64 * 0.3).sin() * 3.0 + i as f64 * 0.01;
                Candle::new(p, p + 0.5, p - 0.5, p, 1000.0 + i as f64)
            })
            .collect()
    }

    #[test]
    fn every_catalog_entry_computes_with_defaults() {
        let b = bars(400);
        for e in list_indicators() {
            let spec: IndicatorSpec = e.name.parse().unwrap();
            let t = compute_table(&[spec], &b).unwrap();
            let want = e.outputs.len().max(1);
            assert_eq!(t.columns.len(), want, "{}", e.name);
            assert!(t.columns.iter().all(|(_, c)| c.len() == 400), "{}", e.name);
        }
    }

    #[test]
    fn column_names_carry_parameters_and_outputs() {
        let specs: Vec<IndicatorSpec> = ["rsi:14", "macd:12:26:9", "bbands:20:2"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let t = compute_table(&specs, &bars(100)).unwrap();
        let names: Vec<&str> = t.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "rsi_14",
                "macd_12_26_9_macd",
                "macd_12_26_9_signal",
                "macd_12_26_9_hist",
                "bbands_20_2_upper",
                "bbands_20_2_middle",
                "bbands_20_2_lower"
            ]
        );
        assert_eq!(t.columns[0].1[13], None);
        assert!(t.columns[0].1[14].is_some());
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        let err = "rsx:14".parse::<IndicatorSpec>().unwrap_err().to_string();
        assert!(
            err.contains("unknown indicator") && err.contains("--list"),
            "{err}"
        );
        let err = "rsi:1:2".parse::<IndicatorSpec>().unwrap_err().to_string();
        assert!(err.contains("at most 1"), "{err}");
        let spec: IndicatorSpec = "rsi:abc".parse().unwrap();
        assert!(matches!(
            compute_table(&[spec], &bars(10)),
            Err(Error::InvalidSpec { .. })
        ));
    }

    #[test]
    fn z_specs_are_deviations_from_the_shuffle_null() {
        let b = bars(400);
        let closes: Vec<f64> = b.iter().map(|c| c.close).collect();
        let z = compute_table(&["kuramoto:32:4:z".parse().unwrap()], &b).unwrap();
        let raw = compute_table(&["kuramoto:32:4".parse().unwrap()], &b).unwrap();
        assert_eq!(z.columns[0].0, "kuramoto_32_4_z");
        let pool = shuffled_price_surrogates(&closes, NULL_COPIES, NULL_SEED)
            .iter()
            .flat_map(|p| Kuramoto::new(32, 4).unwrap().batch(p).values)
            .collect::<Vec<_>>();
        let null = NullBaseline::from_values(pool);
        assert!(null.samples > 1000 && null.std > 0.0, "{null:?}");
        for (zc, rc) in z.columns[0].1.iter().zip(&raw.columns[0].1) {
            assert_eq!(zc.is_some(), rc.is_some());
            if let (Some(zv), Some(rv)) = (zc, rc) {
                assert!((zv - null.z(*rv)).abs() < 1e-12, "{zv} vs {rv}");
            }
        }
        // The timeframe column is not a deviation and keeps its name and values.
        let ms = compute_table(&["multiscale_kuramoto:8:3:z".parse().unwrap()], &b).unwrap();
        let names: Vec<&str> = ms.columns.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "multiscale_kuramoto_8_3_consensus_z",
                "multiscale_kuramoto_8_3_coherence_z",
                "multiscale_kuramoto_8_3_dominant_scale"
            ]
        );
        let err = "rsi:14:z".parse::<IndicatorSpec>().unwrap_err().to_string();
        assert!(err.contains("at most 1"), "{err}");
        let err = "hurst_rs:256:1"
            .parse::<IndicatorSpec>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("optionally z"), "{err}");
        assert!("vpin:z".parse::<IndicatorSpec>().is_ok());
    }

    #[test]
    fn catalog_table_lists_every_entry() {
        let t = catalog_table();
        assert_eq!(t.lines().count(), list_indicators().len() + 1);
        assert!(t.contains("macd") && t.contains("fast=12 slow=26 signal=9"));
    }

    #[test]
    fn csv_has_empty_warm_up_cells() {
        let spec: IndicatorSpec = "sma:2".parse().unwrap();
        let t = compute_table(&[spec], &bars(3)).unwrap();
        let idx: Vec<String> = (0..3).map(|i| i.to_string()).collect();
        let csv = t.to_csv("ts", &idx);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "ts,sma_2");
        assert_eq!(lines[1], "0,");
        assert!(lines[2].starts_with("1,1"));
    }
}
