//! `tradepulse serve`'s config file (`configs/environments/{paper,staging,production}.yaml`).
//! Unknown keys are errors naming file, line and key; values are checked after parsing (the
//! error names the key), and each environment adds its own rules (see [`Environment`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use tradepulse_execution::SimConfig;
use tradepulse_live::{ConfigError, ReplaySpeed};
use tradepulse_model::{InstrumentSpec, Money};
use tradepulse_risk::RiskConfig;
use tradepulse_strategy::StrategySpec;

use crate::config::{
    AuthConfig, BinanceVenueConfig, EngineLoopConfig, HttpConfig, ReconciliationConfig,
    ShutdownConfig,
};

/// The environment variable that must be `yes` (besides `live_trading: true`) before a
/// production config may trade.
pub const LIVE_TRADING_ENV: &str = "TRADEPULSE_LIVE_TRADING";

/// Where a deployment runs; each adds rules to the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Simulated venue only (no keys, no venue connection).
    Paper,
    /// A venue's testnet/sandbox: production endpoints are refused.
    Staging,
    /// Live money: `live_trading: true` and `TRADEPULSE_LIVE_TRADING=yes`, risk limits and a
    /// reachable store are required, and a banner says so.
    Production,
}

impl Environment {
    /// `paper`, `staging`, `production`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Paper => "paper",
            Self::Staging => "staging",
            Self::Production => "production",
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreConfig {
    /// `paper`, `staging` or `production`.
    pub environment: Environment,
    /// Production only: the first of the two switches that allow live trading.
    #[serde(default)]
    pub live_trading: bool,
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
    /// Where orders go.
    pub execution: ExecutionConfig,
    /// Market data.
    pub market_data: MarketDataConfig,
    /// The strategies to run.
    pub strategies: Vec<StrategyConfig>,
    /// Checkpoint strategy state after every bar (and restore it at start).
    #[serde(default = "yes")]
    pub checkpoints: bool,
    /// Pre-trade limits (the `risk:` section of backtests).
    #[serde(default)]
    pub risk: RiskConfig,
    /// Reconciliation with the venue.
    #[serde(default)]
    pub reconciliation: ReconciliationConfig,
    /// Engine loop.
    #[serde(default)]
    pub engine: EngineLoopConfig,
    /// API tokens registered at start from secrets (more with `tradepulse token create`).
    #[serde(default)]
    pub auth: AuthConfig,
    /// HTTP limits and deadlines.
    #[serde(default)]
    pub http: HttpConfig,
    /// CORS and rate limiting.
    #[serde(default)]
    pub api: ApiConfig,
    /// What SIGTERM does.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
    /// Where secrets come from besides the environment (HashiCorp Vault KV v2).
    #[serde(default)]
    pub secrets: tradepulse_live::SecretsConfig,
    /// How often the account's equity is recorded for `/v1/equity`.
    #[serde(default = "default_equity_ms")]
    pub equity_interval_ms: u64,
    /// Backtests launched over the API (`POST /v1/backtests`); without it the stored runs are
    /// still listed, but none can be launched.
    #[serde(default)]
    pub backtests: Option<BacktestsConfig>,
    /// The dashboard's static files (`npm run build` in `web/`), served beside the API.
    #[serde(default)]
    pub web: Option<WebConfig>,
}

/// `web:`: the dashboard (`tradepulse-web`) served by `tradepulse serve` itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// The built dashboard (`web/dist`): `index.html` and its assets.
    pub directory: PathBuf,
    /// The URL path it is served at (default `/`); it may not be under `/v1/`.
    #[serde(default = "root_path")]
    pub path: String,
}

fn root_path() -> String {
    "/".into()
}

/// `backtests:`: what `POST /v1/backtests` may run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BacktestsConfig {
    /// The backtest configs a launch may name (by file name, e.g. `sample.yaml`; nothing
    /// outside this directory), relative to the working directory. The data files they name
    /// are read relative to the working directory too, as `tradepulse backtest` reads them.
    pub directory: PathBuf,
    /// Backtests and sweeps run at once; later launches wait their turn.
    #[serde(default = "one")]
    pub max_concurrent: usize,
    /// The sweep configs (with a `sweep:` section) a `POST /v1/sweeps` may name, as
    /// `directory` for backtests. None: no sweep can be launched.
    #[serde(default)]
    pub sweep_directory: Option<PathBuf>,
    /// Threads one launched sweep runs its trials on (default 1: a sweep beside a trading
    /// engine does not take every core from it).
    #[serde(default = "one")]
    pub sweep_threads: usize,
}

fn one() -> usize {
    1
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_id_prefix() -> String {
    "core".into()
}

fn default_equity_ms() -> u64 {
    1_000
}

fn yes() -> bool {
    true
}

/// `execution:`: exactly one of `in_process` and `remote`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ExecutionConfig {
    /// The execution engine inside this process (one-process deployment).
    InProcess(Box<InProcessConfig>),
    /// A `tradepulse exec` service, over its HTTP API.
    Remote(RemoteExecConfig),
}

/// `execution.in_process`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InProcessConfig {
    /// The venue: exactly one of `sim` and `binance`.
    pub venue: CoreVenueConfig,
}

/// `execution.in_process.venue`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreVenueConfig {
    /// The simulated venue (fills against the market data this service replays).
    #[serde(default)]
    pub sim: Option<CoreSimConfig>,
    /// Binance Spot (testnet in staging, production only in production).
    #[serde(default)]
    pub binance: Option<BinanceVenueConfig>,
}

/// `execution.in_process.venue.sim`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoreSimConfig {
    /// The account currency.
    pub currency: String,
    /// Cash on a new journal.
    pub opening_cash: Money,
    /// The instruments.
    pub instruments: Vec<InstrumentSpec>,
    /// Fill model and costs (as a backtest's `execution:`).
    #[serde(default)]
    pub execution: SimConfig,
}

/// `execution.remote`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteExecConfig {
    /// The exec service's base URL, e.g. `http://exec:8081`.
    pub url: String,
    /// Name of the secret holding core's (trader) token for it.
    pub token: String,
    /// The account currency (the core keeps its own book of its strategies' orders).
    pub currency: String,
    /// Cash of the core's book on a new journal (what its strategies may use).
    pub opening_cash: Money,
    /// The instruments the strategies trade, with the venue's rules.
    pub instruments: Vec<InstrumentSpec>,
    /// How long an order is retried (same client order id) while the exec cannot be reached
    /// before it is rejected locally with `VENUE_UNAVAILABLE`.
    #[serde(default = "default_submit_deadline_ms")]
    pub submit_deadline_ms: u64,
}

fn default_submit_deadline_ms() -> u64 {
    5_000
}

/// `market_data:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketDataConfig {
    /// Recorded bars replayed at a chosen speed, one feed per instrument.
    #[serde(default)]
    pub replay: Vec<ReplayConfig>,
    /// Completed bars from a Redis stream, read through a consumer group.
    #[serde(default)]
    pub redis: Option<RedisFeedConfig>,
    /// Closed klines (and optionally trades and book tickers) from Binance's public WebSocket.
    #[serde(default)]
    pub binance: Option<BinanceFeedConfig>,
}

/// `market_data.binance`: Binance's public market streams (no keys needed). After a
/// disconnect, the closed klines of the gap are fetched over REST and reach the strategies
/// first, in order; each gap is logged and counted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinanceFeedConfig {
    /// Endpoints and client settings (`docs/venues.md`); default: the Binance venue's
    /// `connection` (required when the venue is not Binance). Only production may name
    /// production endpoints.
    #[serde(default)]
    pub connection: Option<tradepulse_venue_binance::BinanceConfig>,
    /// One kline stream per instrument: its closed klines are the instrument's bars.
    pub klines: Vec<BinanceKlinesConfig>,
    /// Also forward trade prices (the Binance venue streams them for its marks already).
    #[serde(default)]
    pub trades: bool,
    /// Also forward book-ticker mids (as above).
    #[serde(default)]
    pub book_ticker: bool,
}

/// One `market_data.binance.klines` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinanceKlinesConfig {
    /// The instrument (`SYMBOL.VENUE`) whose bars these are.
    pub instrument: String,
    /// Binance symbol (default: the instrument's symbol).
    #[serde(default)]
    pub symbol: Option<String>,
    /// Kline interval as Binance names it: `1s`, `1m`, `3m`, `5m`, `15m`, `30m`, `1h`, `2h`,
    /// `4h`, `6h`, `8h`, `12h`, `1d`, `3d`, `1w`, `1M`.
    pub interval: String,
}

/// The kline intervals of Binance Spot's market streams (`web-socket-streams.md`).
const BINANCE_INTERVALS: [&str; 16] = [
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
    "1M",
];

impl BinanceKlinesConfig {
    /// The Binance symbol: as given, else the instrument's symbol part.
    #[must_use]
    pub fn symbol(&self) -> String {
        self.symbol.clone().unwrap_or_else(|| {
            self.instrument
                .split_once('.')
                .map_or(self.instrument.as_str(), |(symbol, _)| symbol)
                .to_owned()
        })
    }
}

impl CoreConfig {
    /// The connection `market_data.binance` uses: its own, else the Binance venue's.
    #[must_use]
    pub fn market_data_connection(&self) -> Option<&tradepulse_venue_binance::BinanceConfig> {
        let feed = self.market_data.binance.as_ref()?;
        feed.connection.as_ref().or(match &self.execution {
            ExecutionConfig::InProcess(p) => p.venue.binance.as_ref().map(|b| &b.connection),
            ExecutionConfig::Remote(_) => None,
        })
    }
}

/// `market_data.redis`: the stream `{key_prefix}:stream:{stream}` of bar messages
/// (`{instrument, ts_ns, open, high, low, close, volume}`, prices as decimal strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisFeedConfig {
    /// Redis URL without a password (a password-bearing URL belongs in
    /// `TRADEPULSE_REDIS_URL` or its `_FILE` mount, the default).
    #[serde(default)]
    pub url: Option<String>,
    /// Key prefix (default `tradepulse`).
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Stream name (default `bars`).
    #[serde(default = "default_stream")]
    pub stream: String,
    /// Consumer group: runners in one group share the entries (default `core`).
    #[serde(default = "default_group")]
    pub group: String,
    /// This runner's consumer name (default: host name and process id).
    #[serde(default)]
    pub consumer: Option<String>,
}

fn default_stream() -> String {
    "bars".into()
}

fn default_group() -> String {
    "core".into()
}

/// One `market_data.replay` feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// The instrument (`SYMBOL.VENUE`) the bars are of.
    pub instrument: String,
    /// `csv` (default): `path` is a bar CSV file (`ts,open,high,low,close,volume`); `catalog`:
    /// `path` is the root of a Parquet market-data catalog (`tradepulse data import`).
    /// Relative to the working directory.
    pub path: PathBuf,
    /// `csv` or `catalog`, as a backtest's `data.format`.
    #[serde(default)]
    pub format: tradepulse_backtest::DataFormat,
    /// With `format: catalog`: the catalog's instrument to replay (`SYMBOL.VENUE`), if not
    /// `instrument`.
    #[serde(default)]
    pub catalog_instrument: Option<String>,
    /// Timestamp format of the `ts` column.
    #[serde(default)]
    pub timestamp: tradepulse_data::TimestampFormat,
    /// `max`, `{bars_per_second: N}` or `{multiplier: N}`.
    pub speed: ReplaySpeed,
}

/// One `strategies` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategyConfig {
    /// Unique name (kill switches, orders, checkpoints are by name).
    pub name: String,
    /// The instrument it trades (`SYMBOL.VENUE`).
    pub instrument: String,
    /// Which strategy and its parameters (as in a backtest's `strategy:`).
    pub strategy: StrategySpec,
    /// A canary: trades the venue's minimum size, and its first risk-limit refusal engages
    /// its kill switch and counts in `tradepulse_canary_limit_breaches_total`.
    #[serde(default)]
    pub canary: bool,
}

/// `api:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Origins a browser may call the API from (CORS); none by default.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Requests per token (or per client address without one).
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
}

/// `api.rate_limit`: a token bucket.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed in a burst.
    pub burst: u32,
}

impl CoreConfig {
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
    /// As [`CoreConfig::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Self = tradepulse_live::parse_yaml(text, path)?;
        config.validate(path)?;
        Ok(config)
    }

    /// The instruments of the in-process sim venue (empty otherwise).
    #[must_use]
    pub fn sim(&self) -> Option<&CoreSimConfig> {
        match &self.execution {
            ExecutionConfig::InProcess(p) => p.venue.sim.as_ref(),
            ExecutionConfig::Remote(_) => None,
        }
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
        // The directory is looked at when the service starts (a config is also checked from
        // other working directories).
        if let Some(b) = &self.backtests {
            for (field, value) in [
                ("backtests.max_concurrent", b.max_concurrent),
                ("backtests.sweep_threads", b.sweep_threads),
            ] {
                if value == 0 {
                    return Err(invalid(field, "must be at least 1".into()));
                }
            }
        }
        if let Some(web) = &self.web {
            let reserved = ["/v1", "/healthz", "/readyz", "/metrics"];
            let trimmed = web.path.trim_end_matches('/');
            if !web.path.starts_with('/')
                || reserved
                    .iter()
                    .any(|r| trimmed == *r || trimmed.starts_with(&format!("{r}/")))
            {
                return Err(invalid(
                    "web.path",
                    format!(
                        "`{}` must start with `/` and not be under /v1, /healthz, /readyz or /metrics",
                        web.path
                    ),
                ));
            }
        }
        let mut instruments: Vec<String> = Vec::new();
        match &self.execution {
            ExecutionConfig::InProcess(p) => match (&p.venue.sim, &p.venue.binance) {
                (Some(_), Some(_)) | (None, None) => {
                    return Err(invalid(
                        "execution.in_process.venue",
                        "set exactly one of `sim` and `binance`".into(),
                    ));
                }
                (Some(sim), None) => {
                    if sim.instruments.is_empty() {
                        return Err(invalid(
                            "execution.in_process.venue.sim.instruments",
                            "list at least one".into(),
                        ));
                    }
                    for (i, spec) in sim.instruments.iter().enumerate() {
                        let field = format!("execution.in_process.venue.sim.instruments[{i}]");
                        let instrument =
                            spec.build().map_err(|e| invalid(&field, e.to_string()))?;
                        if instrument.quote_currency().as_str() != sim.currency.to_ascii_uppercase()
                        {
                            return Err(invalid(
                                &format!("{field}.quote_currency"),
                                format!("must be the account currency {}", sim.currency),
                            ));
                        }
                        instruments.push(instrument.id().to_string());
                    }
                    if sim.opening_cash.raw() <= 0 {
                        return Err(invalid(
                            "execution.in_process.venue.sim.opening_cash",
                            "must be positive".into(),
                        ));
                    }
                }
                (None, Some(binance)) => {
                    if self.environment == Environment::Paper {
                        return Err(invalid(
                            "execution.in_process.venue.binance",
                            "the paper environment trades on the sim venue only".into(),
                        ));
                    }
                    let production = binance.connection.is_production().map_err(|e| {
                        invalid(
                            "execution.in_process.venue.binance.connection",
                            e.to_string(),
                        )
                    })?;
                    if production && self.environment != Environment::Production {
                        return Err(invalid(
                            "execution.in_process.venue.binance.connection",
                            format!(
                                "points at Binance production (live money), which the {} \
                                 environment refuses; use the testnet endpoints",
                                self.environment.as_str()
                            ),
                        ));
                    }
                    instruments.extend(binance.symbols.iter().map(|s| format!("{s}.BINANCE")));
                }
            },
            ExecutionConfig::Remote(remote) => {
                let url = url::Url::parse(&remote.url)
                    .map_err(|e| invalid("execution.remote.url", e.to_string()))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(invalid(
                        "execution.remote.url",
                        "must be an http:// or https:// URL".into(),
                    ));
                }
                if remote.instruments.is_empty() {
                    return Err(invalid(
                        "execution.remote.instruments",
                        "list at least one".into(),
                    ));
                }
                for (i, spec) in remote.instruments.iter().enumerate() {
                    let field = format!("execution.remote.instruments[{i}]");
                    let instrument = spec.build().map_err(|e| invalid(&field, e.to_string()))?;
                    instruments.push(instrument.id().to_string());
                }
                if remote.opening_cash.raw() <= 0 {
                    return Err(invalid(
                        "execution.remote.opening_cash",
                        "must be positive".into(),
                    ));
                }
            }
        }
        if self.environment == Environment::Paper && self.live_trading {
            return Err(invalid(
                "live_trading",
                "only the production environment trades live".into(),
            ));
        }
        if self.environment == Environment::Production {
            if !self.live_trading {
                return Err(invalid(
                    "live_trading",
                    format!(
                        "production needs `live_trading: true` here and {LIVE_TRADING_ENV}=yes \
                         in the environment"
                    ),
                ));
            }
            let r = &self.risk;
            if r.max_order_notional.is_none() || r.max_position.is_none() {
                return Err(invalid(
                    "risk",
                    "production needs at least `max_order_notional` and `max_position`".into(),
                ));
            }
            if r.daily_loss_limit.is_none() && r.max_drawdown.is_none() {
                return Err(invalid(
                    "risk",
                    "production needs a loss guard: `daily_loss_limit` or `max_drawdown`".into(),
                ));
            }
        }
        self.risk
            .validate()
            .map_err(|e| invalid("risk", e.to_string()))?;
        if self.strategies.is_empty() {
            return Err(invalid("strategies", "list at least one".into()));
        }
        for (i, s) in self.strategies.iter().enumerate() {
            let field = format!("strategies[{i}]");
            if s.name.is_empty()
                || s.name.len() > 64
                || !s
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(invalid(
                    &format!("{field}.name"),
                    "1-64 letters, digits, '-', '_' or '.'".into(),
                ));
            }
            if self.strategies[..i].iter().any(|o| o.name == s.name) {
                return Err(invalid(
                    &format!("{field}.name"),
                    format!("{} is used twice", s.name),
                ));
            }
            if !instruments.is_empty() && !instruments.contains(&s.instrument) {
                return Err(invalid(
                    &format!("{field}.instrument"),
                    format!(
                        "{} is not traded (have: {})",
                        s.instrument,
                        instruments.join(", ")
                    ),
                ));
            }
            s.strategy
                .build()
                .map_err(|e| invalid(&format!("{field}.strategy"), e.reason))?;
        }
        for (i, feed) in self.market_data.replay.iter().enumerate() {
            let field = format!("market_data.replay[{i}]");
            if !self
                .strategies
                .iter()
                .any(|s| s.instrument == feed.instrument)
            {
                return Err(invalid(
                    &format!("{field}.instrument"),
                    format!("no strategy trades {}", feed.instrument),
                ));
            }
            if self.market_data.replay[..i]
                .iter()
                .any(|o| o.instrument == feed.instrument)
            {
                return Err(invalid(
                    &format!("{field}.instrument"),
                    "one feed per instrument".into(),
                ));
            }
            feed.speed
                .validate()
                .map_err(|e| invalid(&format!("{field}.speed"), e))?;
            if let Some(id) = &feed.catalog_instrument {
                if feed.format != tradepulse_backtest::DataFormat::Catalog {
                    return Err(invalid(
                        &format!("{field}.catalog_instrument"),
                        "only with `format: catalog`".into(),
                    ));
                }
                id.parse::<tradepulse_model::InstrumentId>()
                    .map_err(|e| invalid(&format!("{field}.catalog_instrument"), e.to_string()))?;
            }
        }
        let md = &self.market_data;
        let sources = usize::from(!md.replay.is_empty())
            + usize::from(md.redis.is_some())
            + usize::from(md.binance.is_some());
        if sources != 1 {
            return Err(invalid(
                "market_data",
                "configure exactly one feed: `replay`, `redis` or `binance`".into(),
            ));
        }
        if let Some(feed) = &md.binance {
            self.validate_binance_feed(feed)
                .map_err(|(field, reason)| invalid(&field, reason))?;
        }
        if let Some(redis) = &self.market_data.redis
            && redis.url.as_deref().is_some_and(|u| u.contains('@'))
        {
            return Err(invalid(
                "market_data.redis.url",
                "a URL with credentials belongs in TRADEPULSE_REDIS_URL or its _FILE mount".into(),
            ));
        }
        if let Some(limit) = self.api.rate_limit
            && (!(limit.per_second.is_finite() && limit.per_second > 0.0) || limit.burst == 0)
        {
            return Err(invalid(
                "api.rate_limit",
                "per_second and burst must be positive".into(),
            ));
        }
        for (i, origin) in self.api.cors_origins.iter().enumerate() {
            let ok = origin == "*"
                || url::Url::parse(origin).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.path() == "/"
                        && !origin.ends_with('/')
                });
            if !ok {
                return Err(invalid(
                    &format!("api.cors_origins[{i}]"),
                    format!("{origin:?} is not an origin like https://dash.example.com or *"),
                ));
            }
        }
        if self.http.request_timeout_ms == 0
            || self.http.submit_wait_ms >= self.http.request_timeout_ms
        {
            return Err(invalid(
                "http.submit_wait_ms",
                "must be shorter than http.request_timeout_ms (which must be positive)".into(),
            ));
        }
        if self.equity_interval_ms == 0 {
            return Err(invalid("equity_interval_ms", "must be positive".into()));
        }
        Ok(())
    }

    fn validate_binance_feed(&self, feed: &BinanceFeedConfig) -> Result<(), (String, String)> {
        let field = "market_data.binance";
        let Some(connection) = self.market_data_connection() else {
            return Err((
                format!("{field}.connection"),
                "required when the venue is not Binance".into(),
            ));
        };
        let production = connection
            .is_production()
            .map_err(|e| (format!("{field}.connection"), e.to_string()))?;
        if production && self.environment != Environment::Production {
            return Err((
                format!("{field}.connection"),
                format!(
                    "points at Binance production, which the {} environment refuses; use the \
                     testnet endpoints",
                    self.environment.as_str()
                ),
            ));
        }
        // Orders on the live venue priced off the testnet's market (or the reverse) would trade
        // on another market's prices.
        if let ExecutionConfig::InProcess(p) = &self.execution
            && let Some(venue) = &p.venue.binance
            && feed.connection.is_some()
            && venue.connection.is_production().unwrap_or(false) != production
        {
            return Err((
                format!("{field}.connection"),
                "must be the venue's Binance (production or testnet) as the venue's connection \
                 is"
                .into(),
            ));
        }
        if feed.klines.is_empty() {
            return Err((format!("{field}.klines"), "list at least one".into()));
        }
        for (i, k) in feed.klines.iter().enumerate() {
            let entry = format!("{field}.klines[{i}]");
            if !self.strategies.iter().any(|s| s.instrument == k.instrument) {
                return Err((
                    format!("{entry}.instrument"),
                    format!("no strategy trades {}", k.instrument),
                ));
            }
            if feed.klines[..i]
                .iter()
                .any(|o| o.instrument == k.instrument)
            {
                return Err((
                    format!("{entry}.instrument"),
                    "one kline stream per instrument".into(),
                ));
            }
            let symbol = k.symbol();
            if symbol.is_empty() || !symbol.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err((
                    format!("{entry}.symbol"),
                    format!(
                        "{symbol:?} is not a Binance symbol (letters and digits, e.g. BTCUSDT)"
                    ),
                ));
            }
            if feed.klines[..i]
                .iter()
                .any(|o| o.symbol().eq_ignore_ascii_case(&symbol))
            {
                return Err((
                    format!("{entry}.symbol"),
                    format!("{symbol} is streamed for another instrument already"),
                ));
            }
            if !BINANCE_INTERVALS.contains(&k.interval.as_str()) {
                return Err((
                    format!("{entry}.interval"),
                    format!(
                        "{:?} is not a Binance kline interval (one of {})",
                        k.interval,
                        BINANCE_INTERVALS.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The grace period of a shutdown.
    #[must_use]
    pub fn grace(&self) -> Duration {
        Duration::from_millis(self.shutdown.grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAPER: &str = r#"
environment: paper
execution:
  in_process:
    venue:
      sim:
        currency: USD
        opening_cash: "1000"
        instruments:
          - { symbol: SPX, venue: SIM, quote_currency: USD, tick_size: "0.01", lot_size: "1" }
market_data:
  replay:
    - { instrument: SPX.SIM, path: data/spx_1d.csv, speed: max }
strategies:
  - name: sma
    instrument: SPX.SIM
    strategy: { kind: sma_cross, params: { fast: 2, slow: 5, size: { units: 1 } } }
"#;

    fn binance(environment: &str, endpoint: &str, extra: &str) -> String {
        format!(
            r#"
environment: {environment}
{extra}
execution:
  in_process:
    venue:
      binance:
        connection: {{ environment: {endpoint} }}
        symbols: [BTCUSDT]
        currency: USDT
        allow_production: true
market_data:
  replay:
    - {{ instrument: BTCUSDT.BINANCE, path: x.csv, speed: max }}
strategies:
  - name: sma
    instrument: BTCUSDT.BINANCE
    strategy: {{ kind: sma_cross, params: {{ fast: 2, slow: 5, size: {{ units: 1 }} }} }}
"#
        )
    }

    fn error(text: &str) -> String {
        CoreConfig::parse(text, Path::new("env.yaml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn the_dashboard_path_stays_clear_of_the_api() {
        let with = |web: &str| binance("staging", "testnet", web);
        assert_eq!(error(&with("web: { directory: web/dist }")), "");
        assert_eq!(
            error(&with("web: { directory: web/dist, path: /dash/ }")),
            ""
        );
        for path in ["/v1", "/v1/ui", "/metrics", "dash"] {
            let err = error(&with(&format!(
                "web: {{ directory: web/dist, path: \"{path}\" }}"
            )));
            assert!(err.contains("web.path"), "{path}: {err}");
        }
        let err = error(&with("web: { directory: web/dist, root: / }"));
        assert!(err.contains("unknown field `root`"), "{err}");
    }

    #[test]
    fn backtest_and_sweep_launches_need_a_thread_and_a_slot() {
        let with = |section: &str| format!("{PAPER}backtests: {section}\n");
        let ok = with("{ directory: configs/backtests, sweep_directory: configs/sweeps }");
        assert_eq!(error(&ok), "");
        let config = CoreConfig::parse(&ok, Path::new("env.yaml")).unwrap();
        let b = config.backtests.unwrap();
        assert_eq!((b.max_concurrent, b.sweep_threads), (1, 1));
        assert_eq!(
            b.sweep_directory.as_deref(),
            Some(Path::new("configs/sweeps"))
        );
        for key in ["max_concurrent", "sweep_threads"] {
            let err = error(&with(&format!("{{ directory: d, {key}: 0 }}")));
            assert!(
                err.contains(&format!("backtests.{key}")) && err.contains("at least 1"),
                "{err}"
            );
        }
        let err = error(&with("{ directory: d, sweeps: s }"));
        assert!(err.contains("unknown field `sweeps`"), "{err}");
    }

    #[test]
    fn a_binance_feed_is_checked_like_the_venue() {
        let feed = |connection: &str, klines: &str| {
            binance("staging", "testnet", "").replace(
                "market_data:\n  replay:\n    - { instrument: BTCUSDT.BINANCE, path: x.csv, speed: max }",
                &format!("market_data:\n  binance:\n{connection}    klines: {klines}"),
            )
        };
        let ok = feed("", "[{ instrument: BTCUSDT.BINANCE, interval: 1m }]");
        assert_eq!(error(&ok), "");
        let config = CoreConfig::parse(&ok, Path::new("env.yaml")).unwrap();
        let k = &config.market_data.binance.as_ref().unwrap().klines[0];
        assert_eq!(k.symbol(), "BTCUSDT");
        // The venue's testnet connection is the default.
        assert!(
            !config
                .market_data_connection()
                .unwrap()
                .is_production()
                .unwrap()
        );

        let prod = feed(
            "    connection: { environment: production }\n",
            "[{ instrument: BTCUSDT.BINANCE, interval: 1m }]",
        );
        let err = error(&prod);
        assert!(err.contains("market_data.binance.connection"), "{err}");
        assert!(err.contains("staging environment refuses"), "{err}");

        let mixed = binance("production", "production", "live_trading: true\nrisk: { max_order_notional: \"100\", max_position: \"1\", daily_loss_limit: \"50\" }")
            .replace(
                "market_data:\n  replay:\n    - { instrument: BTCUSDT.BINANCE, path: x.csv, speed: max }",
                "market_data:\n  binance:\n    connection: { environment: testnet }\n    klines: [{ instrument: BTCUSDT.BINANCE, interval: 1m }]",
            );
        let err = error(&mixed);
        assert!(err.contains("must be the venue's Binance"), "{err}");
        let err = error(&feed("", "[{ instrument: BTCUSDT.BINANCE, interval: 2m }]"));
        assert!(
            err.contains("market_data.binance.klines[0].interval"),
            "{err}"
        );
        assert!(err.contains("not a Binance kline interval"), "{err}");
        let err = error(&feed("", "[{ instrument: ETHUSDT.BINANCE, interval: 1m }]"));
        assert!(err.contains("no strategy trades ETHUSDT.BINANCE"), "{err}");
        let err = error(&feed("", "[]"));
        assert!(
            err.contains("market_data.binance.klines: list at least one"),
            "{err}"
        );
        let err = error(&feed(
            "",
            "[{ instrument: BTCUSDT.BINANCE, symbol: \"BTC-USDT\", interval: 1m }]",
        ));
        assert!(err.contains("klines[0].symbol"), "{err}");

        // Without a Binance venue the feed names its own connection.
        let paper = PAPER.replace(
            "  replay:\n    - { instrument: SPX.SIM, path: data/spx_1d.csv, speed: max }",
            "  binance:\n    klines: [{ instrument: SPX.SIM, symbol: BTCUSDT, interval: 1m }]",
        );
        let err = error(&paper);
        assert!(
            err.contains("market_data.binance.connection: required when the venue is not Binance"),
            "{err}"
        );
        // One source at a time.
        let err = error(&ok.replace(
            "market_data:\n",
            "market_data:\n  replay:\n    - { instrument: BTCUSDT.BINANCE, path: x.csv, speed: max }\n",
        ));
        assert!(err.contains("configure exactly one feed"), "{err}");
    }

    #[test]
    fn the_shipped_environments_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/environments");
        for name in ["paper", "staging", "production"] {
            let config = CoreConfig::load(&dir.join(format!("{name}.yaml")))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(config.environment.as_str(), name);
        }
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let text = PAPER
            .replace("checkpoints", "x")
            .replace("environment: paper", "environment: paper\nlisten_on: 1");
        let err = error(&text);
        assert!(err.starts_with("env.yaml:3:1: "), "{err}");
        assert!(err.contains("unknown field `listen_on`"), "{err}");
        let bad_param = PAPER.replace("fast: 2", "fats: 2");
        let err = error(&bad_param);
        assert!(err.contains("strategies[0].strategy"), "{err}");
        assert!(err.contains("fats"), "{err}");
    }

    #[test]
    fn paper_runs_the_sim_only_and_never_live() {
        assert_eq!(error(PAPER), "");
        let err = error(&binance("paper", "testnet", ""));
        assert!(
            err.contains("paper environment trades on the sim venue only"),
            "{err}"
        );
        let err = error(&format!("{PAPER}live_trading: true\n"));
        assert!(err.contains("live_trading: only the production"), "{err}");
    }

    #[test]
    fn staging_refuses_production_endpoints() {
        assert_eq!(error(&binance("staging", "testnet", "")), "");
        let err = error(&binance("staging", "production", ""));
        assert!(
            err.contains("execution.in_process.venue.binance.connection")
                && err.contains("staging environment refuses"),
            "{err}"
        );
    }

    #[test]
    fn production_needs_both_switches_and_risk_limits() {
        let limits =
            "risk: { max_order_notional: \"100\", max_position: \"1\", daily_loss_limit: \"50\" }";
        let err = error(&binance("production", "production", limits));
        assert!(err.contains("live_trading: production needs"), "{err}");
        let err = error(&binance("production", "production", "live_trading: true"));
        assert!(err.contains("risk: production needs at least"), "{err}");
        let no_guard =
            "live_trading: true\nrisk: { max_order_notional: \"100\", max_position: \"1\" }";
        let err = error(&binance("production", "production", no_guard));
        assert!(err.contains("loss guard"), "{err}");
        let text = binance(
            "production",
            "production",
            &format!("live_trading: true\n{limits}"),
        );
        let config = CoreConfig::parse(&text, Path::new("env.yaml")).unwrap();
        // The second switch is the process environment's.
        let none = |_: &str| None;
        let no = |_: &str| Some("no".to_owned());
        let yes = |name: &str| (name == LIVE_TRADING_ENV).then(|| "yes".to_owned());
        for env in [&none as &dyn Fn(&str) -> Option<String>, &no] {
            let err = crate::check_environment(&config, env)
                .unwrap_err()
                .to_string();
            assert!(err.contains("TRADEPULSE_LIVE_TRADING=yes"), "{err}");
        }
        assert!(crate::check_environment(&config, &yes).is_ok());
        let banner = crate::production_banner(&config);
        assert!(banner.contains("PRODUCTION") && banner.contains("max_order_notional: 100"));
    }

    #[test]
    fn values_are_checked() {
        let twice = PAPER.replace(
            "strategies:\n",
            "strategies:\n  - name: sma\n    instrument: SPX.SIM\n    strategy: { kind: buy_and_hold, params: { size: { units: 1 } } }\n",
        );
        assert!(error(&twice).contains("strategies[1].name: sma is used twice"));
        let elsewhere = PAPER.replace(
            "instrument: SPX.SIM\n    strategy",
            "instrument: ES.SIM\n    strategy",
        );
        assert!(error(&elsewhere).contains("strategies[0].instrument: ES.SIM is not traded"));
        let slow = PAPER.replace("speed: max", "speed: { bars_per_second: 0 }");
        assert!(error(&slow).contains("market_data.replay[0].speed"));
        let cors = format!("{PAPER}api: {{ cors_origins: [\"localhost:5173/\"] }}\n");
        assert!(error(&cors).contains("api.cors_origins[0]"));
        let windows = PAPER.replace("fast: 2, slow: 5", "fast: 5, slow: 5");
        assert!(error(&windows).contains("strategies[0].strategy"));
    }
}
