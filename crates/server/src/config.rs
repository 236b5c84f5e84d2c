//! `tradepulse exec`'s config file (`configs/exec/*.yaml`). Unknown keys are errors naming
//! file, line and key; values are checked after parsing (the error names the key).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tradepulse_execution::SimConfig;
use tradepulse_execution::reconcile::UnknownOrders;
use tradepulse_live::ConfigError;
use tradepulse_model::{Bps, InstrumentSpec, Money, Price};
use tradepulse_risk::RiskConfig;
use tradepulse_venue_binance::BinanceConfig;

use crate::auth::Role;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecConfig {
    /// Address the API listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// `sqlite://PATH`, a path, or `postgres://…`. Default: `TRADEPULSE_DATABASE_URL`, its
    /// `_FILE` mount, else `./tradepulse.db`.
    #[serde(default)]
    pub database_url: Option<String>,
    /// PostgreSQL only: put the tables in this schema.
    #[serde(default)]
    pub database_schema: Option<String>,
    /// SQLite only: `full` (default; a journaled order survives a power loss) or `normal` (it
    /// survives a crash of the process, not of the machine; commits ~100x cheaper).
    #[serde(default)]
    pub database_sync: tradepulse_store::SqliteSync,
    /// Tag at the start of the client order ids this service assigns.
    #[serde(default = "default_id_prefix")]
    pub id_prefix: String,
    /// The venue: exactly one of `sim` and `binance`.
    pub venue: VenueConfig,
    /// Pre-trade limits (the `risk:` section of backtests).
    #[serde(default)]
    pub risk: RiskConfig,
    /// Reconciliation with the venue.
    #[serde(default)]
    pub reconciliation: ReconciliationConfig,
    /// Engine loop.
    #[serde(default)]
    pub engine: EngineLoopConfig,
    /// API tokens.
    #[serde(default)]
    pub auth: AuthConfig,
    /// HTTP limits and deadlines.
    #[serde(default)]
    pub http: HttpConfig,
    /// What SIGTERM does.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// Where secrets come from besides the environment (HashiCorp Vault KV v2).
    #[serde(default)]
    pub secrets: tradepulse_live::SecretsConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8081))
}

fn default_id_prefix() -> String {
    "tp".into()
}

/// `venue:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueConfig {
    /// The in-process simulated venue.
    #[serde(default)]
    pub sim: Option<SimVenueConfig>,
    /// Binance Spot (testnet or production).
    #[serde(default)]
    pub binance: Option<BinanceVenueConfig>,
}

/// `venue.sim`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimVenueConfig {
    /// The account currency.
    pub currency: String,
    /// Cash on a new journal.
    pub opening_cash: Money,
    /// The instruments.
    pub instruments: Vec<InstrumentSpec>,
    /// Fill model and costs (as a backtest's `execution:`).
    #[serde(default = "close_fills")]
    pub execution: SimConfig,
    /// Synthetic market data that moves the sim's prices.
    pub market: SimMarketConfig,
}

fn close_fills() -> SimConfig {
    SimConfig {
        fill_model: tradepulse_execution::FillModel::Close,
        ..SimConfig::default()
    }
}

/// `venue.sim.market`: a seeded random walk, one bar per instrument every `interval_ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimMarketConfig {
    /// Bar interval.
    #[serde(default = "default_bar_ms")]
    pub interval_ms: u64,
    /// Starting price of each instrument, by `SYMBOL.VENUE`.
    pub start_prices: std::collections::BTreeMap<String, Price>,
    /// Standard deviation of one bar's move, in bp.
    #[serde(default = "default_volatility")]
    pub volatility_bps: Bps,
    /// Seed of the walk.
    #[serde(default)]
    pub seed: u64,
}

fn default_bar_ms() -> u64 {
    1_000
}

fn default_volatility() -> Bps {
    Bps::from_raw(5_000_000_000)
}

/// `venue.binance`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinanceVenueConfig {
    /// Endpoints, deadlines, retries (`docs/venues.md`).
    pub connection: BinanceConfig,
    /// Symbols to trade, e.g. `[BTCUSDT]`.
    pub symbols: Vec<String>,
    /// The account's cash currency (the quote of the symbols), e.g. `USDT`.
    pub currency: String,
    /// Prefix of the secret names: `{PREFIX}_API_KEY` and `{PREFIX}_SECRET_KEY` (HMAC) or
    /// `{PREFIX}_PRIVATE_KEY` (Ed25519 PEM), each from the variable or its `_FILE` mount.
    #[serde(default = "default_credentials")]
    pub credentials: String,
    /// Allow production endpoints (live money). Off by default: a config pointing at
    /// production without it is refused.
    #[serde(default)]
    pub allow_production: bool,
}

fn default_credentials() -> String {
    "BINANCE".into()
}

/// `reconciliation:`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconciliationConfig {
    /// Between periodic runs.
    #[serde(default = "default_reconcile_ms")]
    pub interval_ms: u64,
    /// Between attempts while a run is incomplete.
    #[serde(default = "default_retry_ms")]
    pub retry_ms: u64,
    /// Orders the venue has and we do not: `adopt` or `cancel`.
    #[serde(default)]
    pub unknown_orders: UnknownOrders,
    /// A local order the venue does not know is lost after this long (the venue's receive
    /// window: a request older than it cannot execute any more). Zero for the sim venue.
    #[serde(default)]
    pub lost_after_ms: Option<u64>,
    /// Book balance differences as external changes (else only audit them).
    #[serde(default = "yes")]
    pub adjust_balances: bool,
}

fn default_reconcile_ms() -> u64 {
    60_000
}

fn default_retry_ms() -> u64 {
    1_000
}

fn yes() -> bool {
    true
}

impl Default for ReconciliationConfig {
    fn default() -> Self {
        Self {
            interval_ms: default_reconcile_ms(),
            retry_ms: default_retry_ms(),
            unknown_orders: UnknownOrders::Adopt,
            lost_after_ms: None,
            adjust_balances: true,
        }
    }
}

/// `engine:`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineLoopConfig {
    /// How often the venue is polled for reports while idle, in microseconds.
    #[serde(default = "default_poll_us")]
    pub poll_interval_us: u64,
    /// Reports waiting in the journal are written at least this often.
    #[serde(default = "default_report_flush_ms")]
    pub report_flush_ms: u64,
}

fn default_poll_us() -> u64 {
    1_000
}

fn default_report_flush_ms() -> u64 {
    5
}

impl Default for EngineLoopConfig {
    fn default() -> Self {
        Self {
            poll_interval_us: default_poll_us(),
            report_flush_ms: default_report_flush_ms(),
        }
    }
}

/// `auth:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens registered (by hash) at start, their values read from secrets.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// One token of `auth.tokens`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Unique name (the audit log's actor).
    pub name: String,
    /// `viewer`, `trader` or `admin`.
    pub role: Role,
    /// Name of the secret holding the token (the variable or its `_FILE` mount).
    pub secret: String,
}

/// `http:`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Every request's deadline.
    #[serde(default = "default_request_ms")]
    pub request_timeout_ms: u64,
    /// How long a submit waits for the venue's answer before answering `202` with the order
    /// as it stands.
    #[serde(default = "default_submit_wait_ms")]
    pub submit_wait_ms: u64,
    /// Largest accepted request body.
    #[serde(default = "default_body")]
    pub max_body_bytes: usize,
}

fn default_request_ms() -> u64 {
    5_000
}

fn default_submit_wait_ms() -> u64 {
    2_000
}

fn default_body() -> usize {
    64 * 1024
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            request_timeout_ms: default_request_ms(),
            submit_wait_ms: default_submit_wait_ms(),
            max_body_bytes: default_body(),
        }
    }
}

/// `shutdown:`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// Everything (in-flight requests, cancels, the last flush) must finish within this.
    #[serde(default = "default_grace_ms")]
    pub grace_ms: u64,
    /// Cancel every open order before exiting.
    #[serde(default)]
    pub cancel_open_orders: bool,
}

fn default_grace_ms() -> u64 {
    10_000
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            grace_ms: default_grace_ms(),
            cancel_open_orders: false,
        }
    }
}

impl ExecConfig {
    /// Reads and checks a config file.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file, and the line and key where known.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Self = tradepulse_live::load_yaml(path)?;
        config.validate(path)?;
        Ok(config)
    }

    /// Parses and checks config text (`path` only names it in messages).
    ///
    /// # Errors
    /// As [`ExecConfig::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Self = tradepulse_live::parse_yaml(text, path)?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |field: &str, reason: String| ConfigError::Invalid {
            path: PathBuf::from(path),
            field: field.to_owned(),
            reason,
        };
        if let Err((field, reason)) = self.secrets.validate() {
            return Err(invalid(&field, reason));
        }
        match (&self.venue.sim, &self.venue.binance) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(invalid(
                    "venue",
                    "set exactly one of `venue.sim` and `venue.binance`".into(),
                ));
            }
            (Some(sim), None) => {
                if sim.instruments.is_empty() {
                    return Err(invalid("venue.sim.instruments", "list at least one".into()));
                }
                for (i, spec) in sim.instruments.iter().enumerate() {
                    let instrument = spec.build().map_err(|e| {
                        invalid(&format!("venue.sim.instruments[{i}]"), e.to_string())
                    })?;
                    if !sim
                        .market
                        .start_prices
                        .contains_key(instrument.id().as_str())
                    {
                        return Err(invalid(
                            "venue.sim.market.start_prices",
                            format!("no start price for {}", instrument.id()),
                        ));
                    }
                    if instrument.quote_currency().as_str() != sim.currency.to_ascii_uppercase() {
                        return Err(invalid(
                            &format!("venue.sim.instruments[{i}].quote_currency"),
                            format!("must be the account currency {}", sim.currency),
                        ));
                    }
                }
                if sim.opening_cash.raw() <= 0 {
                    return Err(invalid("venue.sim.opening_cash", "must be positive".into()));
                }
                if sim.market.interval_ms == 0 {
                    return Err(invalid(
                        "venue.sim.market.interval_ms",
                        "must be positive".into(),
                    ));
                }
            }
            (None, Some(binance)) => {
                if binance.symbols.is_empty() {
                    return Err(invalid("venue.binance.symbols", "list at least one".into()));
                }
                let production = binance
                    .connection
                    .is_production()
                    .map_err(|e| invalid("venue.binance.connection", e.to_string()))?;
                if production && !binance.allow_production {
                    return Err(invalid(
                        "venue.binance.connection",
                        "points at Binance production (live money); set \
                         `venue.binance.allow_production: true` to mean it"
                            .into(),
                    ));
                }
            }
        }
        self.risk
            .validate()
            .map_err(|e| invalid("risk", e.to_string()))?;
        let mut names: Vec<&str> = self.auth.tokens.iter().map(|t| t.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err(invalid("auth.tokens", "token names must be unique".into()));
        }
        if self.http.request_timeout_ms == 0
            || self.http.submit_wait_ms >= self.http.request_timeout_ms
        {
            return Err(invalid(
                "http.submit_wait_ms",
                "must be shorter than http.request_timeout_ms (which must be positive)".into(),
            ));
        }
        if self.engine.poll_interval_us == 0 {
            return Err(invalid(
                "engine.poll_interval_us",
                "must be positive".into(),
            ));
        }
        Ok(())
    }

    /// The grace period of a shutdown.
    #[must_use]
    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.shutdown.grace_ms)
    }
}
