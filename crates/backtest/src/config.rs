//! [`BacktestConfig`]: the YAML file that describes one backtest.
//!
//! Every section is a typed struct with `deny_unknown_fields`, so a misspelt key is an error
//! with its line, never silently ignored. Relative paths are resolved against the current
//! directory. The reference is `docs/configuration.md`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use tradepulse_data::{Columns, TimestampFormat};
use tradepulse_execution::SimConfig;
use tradepulse_model::{InstrumentSpec, Money};
use tradepulse_portfolio::{AccountConfig, AccountKind};
use tradepulse_risk::{InvalidRiskConfig, RiskConfig};
use tradepulse_strategy::StrategySpec;

mod research;

pub use research::{
    Objective, ParamValues, ReturnPeriod, SearchMethod, SweepConfig, WalkForwardConfig,
    WindowLength,
};

/// One backtest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestConfig {
    /// Where the bars come from.
    pub data: DataConfig,
    /// What is traded.
    pub instrument: InstrumentSpec,
    /// Which strategy and its parameters.
    pub strategy: StrategySpec,
    /// Fill model and costs.
    #[serde(default)]
    pub execution: SimConfig,
    /// Starting capital and the kind of account.
    pub portfolio: PortfolioConfig,
    /// Pre-trade risk limits (the same section live trading uses).
    #[serde(default)]
    pub risk: RiskConfig,
    /// Where the report goes.
    #[serde(default)]
    pub output: OutputConfig,
    /// How metrics are annualised.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// Parameter search, for `tradepulse sweep` and `tradepulse walk-forward` (run by
    /// `tradepulse-research`; a plain backtest ignores it).
    #[serde(default)]
    pub sweep: Option<SweepConfig>,
    /// Window layout, for `tradepulse walk-forward`.
    #[serde(default)]
    pub walk_forward: Option<WalkForwardConfig>,
    /// More instruments traded by the same strategy (one instance each) from the same cash
    /// account, besides `instrument`/`data`. Backtests only, for now.
    #[serde(default)]
    pub universe: Vec<UniverseMember>,
    /// The parsed document in canonical form ([`BacktestConfig::canonical_text`]).
    #[serde(skip)]
    canonical: String,
}

/// One more instrument of a multi-instrument backtest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UniverseMember {
    /// What is traded.
    pub instrument: InstrumentSpec,
    /// Its bars.
    pub data: DataConfig,
}

/// File format of the bar data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DataFormat {
    /// CSV with a header row; `path` is the file.
    #[default]
    Csv,
    /// The Parquet market-data catalog (`tradepulse data import`); `path` is its root directory
    /// and the bars are those of the config's instrument (or `data.instrument`).
    Catalog,
}

/// The `data` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Path of the bar file.
    pub path: PathBuf,
    /// File format.
    #[serde(default)]
    pub format: DataFormat,
    /// Timestamp format of the `ts` column.
    #[serde(default)]
    pub timestamp: TimestampFormat,
    /// Column names, if not `ts,open,high,low,close,volume`.
    #[serde(default)]
    pub columns: Columns,
    /// Refuse files with more rows than this.
    #[serde(default)]
    pub max_rows: Option<usize>,
    /// With `format: catalog`: the catalog instrument to read (`SYMBOL.VENUE`), if not the
    /// config's instrument.
    #[serde(default)]
    pub instrument: Option<String>,
}

impl DataConfig {
    /// Loads and validates the bars this section names; `instrument` is the config's instrument,
    /// read from a catalog unless `data.instrument` names another.
    ///
    /// # Errors
    /// [`tradepulse_data::DataError`] naming the file, line and field of the first problem, or
    /// the catalog's error.
    pub fn load(
        &self,
        instrument: &tradepulse_model::InstrumentSpec,
    ) -> Result<Vec<tradepulse_model::Bar>, tradepulse_data::DataError> {
        match self.format {
            DataFormat::Csv => {
                let options = tradepulse_data::CsvOptions {
                    timestamp: self.timestamp,
                    columns: self.columns.clone(),
                    max_rows: self.max_rows,
                };
                tradepulse_data::load_bars_csv(&self.path, &options)
            }
            DataFormat::Catalog => {
                let id = match &self.instrument {
                    Some(text) => text.parse(),
                    None => {
                        tradepulse_model::InstrumentId::new(&instrument.symbol, &instrument.venue)
                    }
                }
                .map_err(|e| tradepulse_data::DataError::Row {
                    path: self.path.clone(),
                    line: 0,
                    field: "data.instrument".into(),
                    reason: e.to_string(),
                })?;
                let bars = tradepulse_data::Catalog::new(&self.path).load(&id)?;
                if bars.is_empty() {
                    return Err(tradepulse_data::DataError::Empty {
                        path: self.path.join(format!("instrument={id}")),
                    });
                }
                Ok(bars)
            }
        }
    }
}

/// The `portfolio` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioConfig {
    /// Starting cash in the instrument's quote currency.
    pub initial_cash: Money,
    /// `cash` (default: no shorts, no borrowing) or `margin`.
    #[serde(default)]
    pub account: AccountKind,
    /// Margin accounts: the largest gross exposure per unit of equity (≥ 1; default 1).
    #[serde(default)]
    pub leverage: Option<tradepulse_model::Ratio>,
    /// Margin accounts: annual cost of a negative cash balance, in bp, accrued between bars on
    /// calendar time (365.25-day year).
    #[serde(default)]
    pub financing_bps: tradepulse_model::Bps,
    /// Margin accounts: annual cost of borrowing for short positions, in bp of the short market
    /// value, accrued bar by bar on calendar time (365.25-day year).
    #[serde(default)]
    pub short_borrow_bps: tradepulse_model::Bps,
}

impl PortfolioConfig {
    /// The account this section describes.
    #[must_use]
    pub fn account_config(&self) -> AccountConfig {
        match self.account {
            AccountKind::Cash => AccountConfig::cash(),
            AccountKind::Margin => AccountConfig {
                financing_bps: self.financing_bps,
                short_borrow_bps: self.short_borrow_bps,
                ..AccountConfig::margin(
                    self.leverage
                        .unwrap_or(tradepulse_model::Ratio::from_raw(1_000_000_000)),
                )
            },
        }
    }
}

/// The `output` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    /// Directory for `summary.json`, `trades.csv`, `fills.csv` and `equity.csv` (created if
    /// missing; files in it are overwritten).
    #[serde(default = "default_output_dir")]
    pub directory: PathBuf,
}

impl Default for OutputConfig {
    fn default() -> Self {
        Self {
            directory: default_output_dir(),
        }
    }
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("reports/backtest")
}

/// The `metrics` section: how returns are annualised. By default periods per year are measured
/// from the data's calendar (bars per trading day × trading days per year; see
/// [`Annualization`](crate::Annualization)); each figure can be set here instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Periods (bars) per year for volatility, Sharpe and Sortino, overriding the calendar.
    #[serde(default)]
    pub periods_per_year: Option<f64>,
    /// Trading days per year instead of the measured 252 (exchange calendar) or 365 (24/7).
    #[serde(default)]
    pub trading_days_per_year: Option<f64>,
    /// Bars per trading day instead of the measured median over full days.
    #[serde(default)]
    pub bars_per_trading_day: Option<f64>,
    /// Shortest sample, in calendar days, for which CAGR and Calmar are reported; below it they
    /// are `null` with a reason instead of an extrapolation to a year.
    #[serde(default = "default_min_sample_days")]
    pub min_sample_days: f64,
}

fn default_min_sample_days() -> f64 {
    30.0
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            periods_per_year: None,
            trading_days_per_year: None,
            bars_per_trading_day: None,
            min_sample_days: default_min_sample_days(),
        }
    }
}

/// A config file that cannot be used. The message names the file and, for YAML problems, the
/// line and column.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Malformed YAML, an unknown key, a missing key or a value of the wrong type.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 if unknown).
        line: u64,
        /// 1-based column (0 if unknown).
        column: u64,
        /// What is wrong.
        message: String,
    },
    /// A `risk:` value the engine cannot use.
    #[error("{}: {source}", path.display())]
    Risk {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        source: InvalidRiskConfig,
    },
    /// Well-formed but inconsistent values.
    #[error("{}: {field}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted path of the offending key.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Largest accepted config file; a backtest config is a few hundred bytes.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

impl BacktestConfig {
    /// Reads and validates a config file.
    ///
    /// # Errors
    /// [`ConfigError`] if the file cannot be read, is not valid YAML for this schema, or holds
    /// inconsistent values.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = Self::read(path)?;
        Self::parse(&text, path)
    }

    /// [`BacktestConfig::load`], also returning the document as JSON: what a stored run keeps
    /// of the config it ran (every key as written, defaults not filled in).
    ///
    /// # Errors
    /// As [`BacktestConfig::load`].
    pub fn load_with_document(path: &Path) -> Result<(Self, serde_json::Value), ConfigError> {
        let text = Self::read(path)?;
        let config = Self::parse(&text, path)?;
        let document = serde_saphyr::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            field: "(file)",
            reason: format!("not representable as JSON: {}", one_line(&e.to_string())),
        })?;
        Ok((config, document))
    }

    fn read(path: &Path) -> Result<String, ConfigError> {
        let io = |source| ConfigError::Io {
            path: path.to_owned(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io)?.len();
        if size > MAX_CONFIG_BYTES {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                field: "(file)",
                reason: format!("{size} bytes is larger than the {MAX_CONFIG_BYTES}-byte limit"),
            });
        }
        std::fs::read_to_string(path).map_err(io)
    }

    /// Parses config text; `path` is only used in error messages.
    ///
    /// # Errors
    /// As [`BacktestConfig::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        // serde_path_to_error adds the dotted key path (`strategy.params.fast`) that
        // serde-saphyr's own message lacks; the location comes from serde-saphyr.
        let mut key_path = String::new();
        let parsed = serde_saphyr::with_deserializer_from_str(text, |de| {
            serde_path_to_error::deserialize(de).map_err(|e| {
                key_path = e.path().to_string();
                e.into_inner()
            })
        });
        let mut config: Self = parsed.map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            let mut message = one_line(&e.without_snippet().to_string());
            // The location is already in front of the message.
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            if !key_path.is_empty() && key_path != "." {
                message = format!("{key_path}: {message}");
            }
            ConfigError::Yaml {
                path: path.to_owned(),
                line,
                column,
                message,
            }
        })?;
        config.validate(path)?;
        config.canonical = canonical_text(text);
        Ok(config)
    }

    /// The document this config was parsed from in a canonical form: JSON with sorted keys,
    /// without comments, formatting or the `output` section (where the files go changes no
    /// result). Two files that configure the same thing the same way have the same text; a sweep
    /// hashes it into the identity its shards carry. Empty for a config not built by
    /// [`BacktestConfig::parse`].
    #[must_use]
    pub fn canonical_text(&self) -> &str {
        &self.canonical
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field, reason: String| ConfigError::Invalid {
            path: path.to_owned(),
            field,
            reason,
        };
        if self.portfolio.initial_cash.raw() <= 0 {
            return Err(invalid(
                "portfolio.initial_cash",
                format!("must be positive, got {}", self.portfolio.initial_cash),
            ));
        }
        for (field, value) in [
            ("execution.maker_fee_bps", self.execution.maker_fee_bps),
            ("execution.taker_fee_bps", self.execution.taker_fee_bps),
            ("execution.slippage_bps", self.execution.slippage_bps),
            ("execution.spread_bps", self.execution.spread_bps),
            (
                "portfolio.short_borrow_bps",
                self.portfolio.short_borrow_bps,
            ),
        ] {
            if value.is_negative() || value.as_f64() > 10_000.0 {
                return Err(invalid(
                    field,
                    format!("must be in [0, 10000], got {value}"),
                ));
            }
        }
        let margin = self.portfolio.account == AccountKind::Margin;
        for (field, set) in [
            ("portfolio.leverage", self.portfolio.leverage.is_some()),
            (
                "portfolio.financing_bps",
                self.portfolio.financing_bps.raw() != 0,
            ),
            (
                "portfolio.short_borrow_bps",
                self.portfolio.short_borrow_bps.raw() != 0,
            ),
        ] {
            if set && !margin {
                return Err(invalid(
                    field,
                    "applies to margin accounts only (set `portfolio.account: margin`); a cash account never borrows or shorts".into(),
                ));
            }
        }
        if let Some(leverage) = self.portfolio.leverage
            && !(1_000_000_000..=100_000_000_000).contains(&leverage.raw())
        {
            return Err(invalid(
                "portfolio.leverage",
                format!("must be in [1, 100], got {leverage}"),
            ));
        }
        if self.portfolio.financing_bps.is_negative()
            || self.portfolio.financing_bps.as_f64() > 10_000.0
        {
            return Err(invalid(
                "portfolio.financing_bps",
                format!(
                    "must be in [0, 10000], got {}",
                    self.portfolio.financing_bps
                ),
            ));
        }
        self.risk.validate().map_err(|source| ConfigError::Risk {
            path: path.to_owned(),
            source,
        })?;
        if let Some(p) = self.execution.max_participation
            && (p.raw() <= 0 || p.raw() > 1_000_000_000)
        {
            return Err(invalid(
                "execution.max_participation",
                format!("must be in (0, 1], got {p}"),
            ));
        }
        if self.execution.impact_coefficient.is_negative() {
            return Err(invalid(
                "execution.impact_coefficient",
                format!(
                    "must not be negative, got {}",
                    self.execution.impact_coefficient
                ),
            ));
        }
        for (field, value) in [
            ("metrics.periods_per_year", self.metrics.periods_per_year),
            (
                "metrics.trading_days_per_year",
                self.metrics.trading_days_per_year,
            ),
            (
                "metrics.bars_per_trading_day",
                self.metrics.bars_per_trading_day,
            ),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0)
            {
                return Err(invalid(
                    field,
                    format!("must be a positive number, got {v}"),
                ));
            }
        }
        let min_days = self.metrics.min_sample_days;
        if !(min_days.is_finite() && min_days >= 0.0) {
            return Err(invalid(
                "metrics.min_sample_days",
                format!("must be a number of days >= 0, got {min_days}"),
            ));
        }
        let main = self
            .instrument
            .build()
            .map_err(|e| invalid("instrument", e.to_string()))?;
        let mut ids = vec![main.id().clone()];
        for member in &self.universe {
            let id = member
                .instrument
                .build()
                .map_err(|e| invalid("universe[].instrument", e.to_string()))?
                .id()
                .clone();
            if ids.contains(&id) {
                return Err(invalid("universe", format!("{id} is listed twice")));
            }
            ids.push(id);
        }
        self.strategy
            .build()
            .map_err(|e| invalid("strategy.params", e.reason))?;
        Ok(())
    }
}

/// Collapses a possibly multi-line library message into one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `text` (a valid config) as canonical JSON without its `output` section; the raw text if it
/// has no JSON form (e.g. a non-string key).
fn canonical_text(text: &str) -> String {
    match serde_saphyr::from_str::<serde_json::Value>(text) {
        Ok(mut document) => {
            if let Some(map) = document.as_object_mut() {
                map.remove("output");
            }
            let mut out = String::with_capacity(text.len());
            write_canonical(&document, &mut out);
            out
        }
        Err(_) => text.to_owned(),
    }
}

/// JSON with object keys sorted at every level, whatever order the map type keeps.
fn write_canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::from(key.as_str()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "data: {path: d.csv}
instrument: {symbol: X, tick_size: 0.01}
strategy: {kind: sma_cross, params: {fast: 2, slow: 5, size: {units: 1}}}
portfolio: {initial_cash: 1000}
output: {directory: a}
";

    fn canonical(text: &str) -> String {
        BacktestConfig::parse(text, Path::new("t.yaml"))
            .map(|c| c.canonical_text().to_owned())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn canonical_text_ignores_layout_comments_and_output() {
        let reordered = "# the same backtest, written differently
portfolio:
  initial_cash: 1000
strategy:
  params: {slow: 5, size: {units: 1}, fast: 2}
  kind: sma_cross
instrument: {tick_size: 0.01, symbol: X}
data: {path: d.csv}
output: {directory: somewhere/else}
";
        assert_eq!(canonical(BASE), canonical(reordered));
        assert!(!canonical(BASE).contains("output"), "{}", canonical(BASE));
        assert_ne!(
            canonical(BASE),
            canonical(&BASE.replace("slow: 5", "slow: 6"))
        );
    }
}
