//! The core service, `tradepulse serve`: builds the store, the venue, the strategies and the
//! in-process execution engine from a [`CoreConfig`], feeds market data, records the equity
//! series and the core metrics, serves the API, and shuts down in order on a signal.
//!
//! # Order of a start
//! Environment rules first (production: both live-trading switches, else nothing is touched),
//! then the store (a production store must be reachable: there is no fallback), tokens from
//! secrets, the venue, the engine (journal replayed, strategy checkpoints restored,
//! reconciliation), the API, and last the market-data feeds, which wait for readiness and
//! resume after each strategy's checkpoint.
//!
//! # Shutdown
//! As the exec service's: `/readyz` turns 503, the feeds stop, in-flight requests finish
//! (within half the grace period), the engine flushes its journal and the strategies' last
//! checkpoints are already in the store (written after every bar).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tradepulse_execution::{Clock, SimVenue, WallClock, reconcile::ReconcilePolicy};
use tradepulse_live::{
    Engine, EngineConfig, EngineHandle, ReconcileSettings, Registry, ReplayReport, SecretSource,
    SimSnapshots, StrategySetup, VenueSetup, binance_credentials, binance_venue, replay_bars,
    stream_bars,
};
use tradepulse_model::{Asset, Bar, InstrumentId, Money};
use tradepulse_store::{EquitySnapshot, Store, StoreOptions};

use crate::api::{ApiLimits, AppState};
use crate::auth::{Authenticator, register_token};
use crate::core_api::CoreInfo;
use crate::core_config::{CoreConfig, Environment, ExecutionConfig, LIVE_TRADING_ENV};
use crate::exec::{ServiceError, StopReport, database_url};

/// The account name of the core's equity series.
pub const CORE_ACCOUNT: &str = "core";

/// The banner a production start prints before anything else.
#[must_use]
pub fn production_banner(config: &CoreConfig) -> String {
    let line = "!".repeat(72);
    format!(
        "{line}\n!!  PRODUCTION — LIVE TRADING WITH REAL MONEY\n!!  strategies: {}\n!!  \
         max_order_notional: {}, max_position: {}\n{line}",
        config
            .strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        config
            .risk
            .max_order_notional
            .map_or_else(|| "-".into(), |m| m.to_string()),
        config
            .risk
            .max_position
            .map_or_else(|| "-".into(), |q| q.to_string()),
    )
}

/// Checks the rules of the environment that need the process environment (the config's own
/// rules were checked when it was read).
///
/// # Errors
/// [`ServiceError::Config`] when production is not switched on twice.
pub fn check_environment(
    config: &CoreConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ServiceError> {
    if config.environment == Environment::Production
        && env(LIVE_TRADING_ENV).as_deref() != Some("yes")
    {
        return Err(ServiceError::Config(format!(
            "production: live trading needs {LIVE_TRADING_ENV}=yes in the environment as well as \
             `live_trading: true` in the config"
        )));
    }
    Ok(())
}

/// A running core service.
#[derive(Debug)]
pub struct RunningCore {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The engine.
    pub engine: EngineHandle,
    /// Its metrics.
    pub registry: Registry,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    feeds: Vec<tokio::task::JoinHandle<()>>,
    recorder: tokio::task::JoinHandle<()>,
    follower: tokio::task::JoinHandle<()>,
    grace: Duration,
    cancel_open: bool,
    audit: crate::limits::AuditLog,
    /// Kept for the process's life: a Vault source renews its token lease while it lives.
    secrets: Option<Box<dyn SecretSource>>,
}

impl RunningCore {
    /// Builds everything from `config` (secrets from the environment) and serves on `listener`.
    ///
    /// # Errors
    /// [`ServiceError`].
    pub async fn start(config: &CoreConfig, listener: TcpListener) -> Result<Self, ServiceError> {
        check_environment(config, &|name| std::env::var(name).ok())?;
        let secrets = config.secrets.source().await?;
        let mut core = Self::start_with(config, listener, secrets.as_ref()).await?;
        core.secrets = Some(secrets);
        Ok(core)
    }

    /// As [`RunningCore::start`] with secrets from `secrets` and without the process
    /// environment check (tests call [`check_environment`] themselves).
    ///
    /// # Errors
    /// [`ServiceError`].
    pub async fn start_with(
        config: &CoreConfig,
        listener: TcpListener,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ServiceError> {
        let bad = |e: &dyn std::fmt::Display| ServiceError::Config(e.to_string());
        // Bars first: a bad data file is an input error found before anything is touched.
        let mut feeds_data: Vec<(InstrumentId, Vec<Bar>, tradepulse_live::ReplaySpeed)> =
            Vec::new();
        for feed in &config.market_data.replay {
            let instrument: InstrumentId = feed.instrument.parse().map_err(|e| bad(&e))?;
            let path = feed.path.clone();
            let options = tradepulse_data::CsvOptions {
                timestamp: feed.timestamp,
                ..tradepulse_data::CsvOptions::default()
            };
            let format = feed.format;
            let stored: InstrumentId = match &feed.catalog_instrument {
                Some(id) => id.parse().map_err(|e| bad(&e))?,
                None => instrument.clone(),
            };
            let bars = tokio::task::spawn_blocking(move || match format {
                tradepulse_backtest::DataFormat::Csv => {
                    tradepulse_data::load_bars_csv(&path, &options).map_err(|e| e.to_string())
                }
                tradepulse_backtest::DataFormat::Catalog => {
                    let bars = tradepulse_data::Catalog::new(&path)
                        .load(&stored)
                        .map_err(|e| format!("catalog {}: {e}", path.display()))?;
                    if bars.is_empty() {
                        return Err(format!(
                            "catalog {} has no bars of {stored}",
                            path.display()
                        ));
                    }
                    Ok(bars)
                }
            })
            .await
            .map_err(|e| ServiceError::Config(format!("loading bars: {e}")))?
            .map_err(|e| ServiceError::Config(format!("market_data.replay: {e}")))?;
            feeds_data.push((instrument, bars, feed.speed));
        }

        if let Some(web) = &config.web
            && !web.directory.join("index.html").is_file()
        {
            return Err(ServiceError::Config(format!(
                "web.directory: {} has no index.html (build the dashboard: cd web && npm ci && npm run build)",
                web.directory.display()
            )));
        }
        let redis = redis_feed(config).await?;
        let url = database_url(config.database_url.as_deref(), secrets)?;
        let store = Store::connect_with(
            &url,
            StoreOptions {
                pg_schema: config.database_schema.clone(),
                application_name: Some("tradepulse-core".into()),
                max_connections: 8,
                sqlite_sync: config.database_sync,
                ..StoreOptions::default()
            },
        )
        .await?;
        if config.environment == Environment::Production {
            store.ping().await?;
        }
        for token in &config.auth.tokens {
            let value = secrets.require(&token.secret)?;
            register_token(&store, &token.name, token.role, value.expose()).await?;
        }
        let registry = Registry::new();
        let (setup, mut engine_config) = venue(config, secrets).await?;
        engine_config.checkpoints = config.checkpoints;
        let currency = engine_config.currency;
        let mut strategies = Vec::new();
        let mut infos = Vec::new();
        for s in &config.strategies {
            // A canary trades the venue's minimum size whatever its config says.
            let spec = if s.canary {
                s.strategy
                    .clone()
                    .with_size(tradepulse_strategy::Size::VenueMinimum)
            } else {
                s.strategy.clone()
            };
            strategies.push(StrategySetup {
                name: s.name.clone(),
                instrument: s.instrument.parse().map_err(|e| bad(&e))?,
                strategy: spec
                    .build()
                    .map_err(|e| ServiceError::Config(format!("strategies: {}: {e}", s.name)))?,
                canary: s.canary,
            });
            infos.push((
                s.name.clone(),
                serde_json::to_value(&spec).unwrap_or(serde_json::Value::Null),
            ));
        }
        let engine =
            Engine::start(engine_config, store.clone(), setup, strategies, &registry).await?;

        let (stop, stopping) = watch::channel(false);
        let (recent, follower) =
            crate::recent::start(&engine, CORE_ACCOUNT, stopping.clone()).await?;
        let limits = ApiLimits {
            request_timeout: Duration::from_millis(config.http.request_timeout_ms),
            submit_wait: Duration::from_millis(config.http.submit_wait_ms),
            max_body_bytes: config.http.max_body_bytes,
            rate_limit: config.api.rate_limit.map(|r| (r.per_second, r.burst)),
        };
        let state = AppState::for_service(
            "core",
            engine.clone(),
            Authenticator::new(store),
            registry.clone(),
            limits,
            stopping.clone(),
        );
        let audit = state.audit().clone();
        let app = crate::core_api::router(
            state,
            CoreInfo {
                strategies: infos,
                recent: Arc::clone(&recent),
                backtests: config
                    .backtests
                    .as_ref()
                    .map(|b| Arc::new(crate::backtests::Launcher::new(b))),
                charts: Arc::default(),
                sweep_details: Arc::default(),
            },
            &config.api.cors_origins,
            config.web.as_ref(),
        );
        let addr = listener.local_addr()?;
        let mut signal = stopping.clone();
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|s| *s).await;
                })
                .await
        });

        let views = engine.strategies().await?;
        let mut feeds = Vec::new();
        for (instrument, bars, speed) in feeds_data {
            // Resume after the oldest checkpoint of the instrument's strategies; a strategy
            // without one starts the feed from the beginning.
            let mine: Vec<_> = views
                .iter()
                .filter(|v| v.instrument == instrument)
                .collect();
            let resume = if mine.iter().all(|v| v.restored) {
                mine.iter().filter_map(|v| v.last_bar).min()
            } else {
                None
            };
            if let Some(t) = resume {
                tracing::info!(%instrument, after_ns = t.as_nanos(), "market data resumes after the checkpoint");
            }
            let replay = replay_bars(
                engine.clone(),
                instrument,
                bars,
                speed,
                resume,
                stopping.clone(),
            );
            feeds.push(tokio::spawn(async move {
                match replay.await {
                    Ok(r) => log_replay(r),
                    Err(e) => tracing::warn!(error = %e, "market data feed failed"),
                }
            }));
        }
        if let Some(redis) = redis {
            let resume = resume_points(&views);
            let feed = stream_bars(engine.clone(), redis, resume, stopping.clone());
            feeds.push(tokio::spawn(async move {
                match feed.await {
                    Ok(r) => tracing::info!(
                        sent = r.sent,
                        skipped = r.skipped,
                        poison = r.poison,
                        "market data stream ended"
                    ),
                    Err(e) => tracing::error!(error = %e, "market data stream failed"),
                }
            }));
        }
        let source = if config.market_data.redis.is_some() {
            "redis"
        } else if config.market_data.binance.is_some() {
            "binance"
        } else {
            "replay"
        };
        // Gaps are found by the Binance feed (a replay has none, and a Redis consumer re-reads
        // what it missed); every source shows its zero series so alert rules see them.
        let gaps = tradepulse_live::metrics::market_data_gaps(&registry);
        for s in &config.strategies {
            gaps.touch(&[source, &s.instrument]);
        }
        if let Some(feed) = &config.market_data.binance {
            feeds.push(binance_feed(
                config,
                feed,
                &engine,
                &views,
                gaps,
                stopping.clone(),
            )?);
        }
        let recorder = tokio::spawn(record(
            engine.clone(),
            recent,
            currency,
            source,
            registry.clone(),
            Duration::from_millis(config.equity_interval_ms),
            stopping,
        ));
        tracing::info!(
            %addr,
            environment = config.environment.as_str(),
            venue = engine.venue(),
            session = engine.session(),
            "core listening"
        );
        Ok(Self {
            addr,
            engine,
            registry,
            stop,
            server,
            feeds,
            recorder,
            follower,
            grace: config.grace(),
            cancel_open: config.shutdown.cancel_open_orders,
            audit,
            secrets: None,
        })
    }

    /// True once every market-data feed has handed over its last bar.
    #[must_use]
    pub fn feeds_done(&self) -> bool {
        self.feeds.iter().all(tokio::task::JoinHandle::is_finished)
    }

    /// Shuts down (see the module docs) within the configured grace period.
    ///
    /// # Errors
    /// [`ServiceError::Engine`] if the engine had stopped already.
    pub async fn stop(self) -> Result<StopReport, ServiceError> {
        let started = Instant::now();
        let _ = self.stop.send(true);
        for feed in self.feeds {
            let _ = tokio::time::timeout(Duration::from_secs(2), feed).await;
        }
        self.recorder.abort();
        self.follower.abort();
        crate::exec::drain_and_shut_down(
            started,
            self.grace,
            self.server,
            &self.engine,
            &self.audit,
            self.cancel_open,
        )
        .await
    }

    /// Serves until `shutdown` resolves, then stops.
    ///
    /// # Errors
    /// As [`RunningCore::stop`].
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<StopReport, ServiceError> {
        shutdown.await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

/// Starts the `market_data.binance` feed, resuming each instrument after its restored
/// strategies' last bar.
fn binance_feed(
    config: &CoreConfig,
    feed: &crate::core_config::BinanceFeedConfig,
    engine: &EngineHandle,
    views: &[tradepulse_live::StrategyView],
    gaps: Arc<tradepulse_live::metrics::Counter>,
    stopping: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, ServiceError> {
    let bad = |e: &dyn std::fmt::Display| ServiceError::Config(format!("market_data.binance: {e}"));
    let connection = config
        .market_data_connection()
        .ok_or_else(|| bad(&"no connection"))?;
    // Public streams and klines: no credentials.
    let rest = tradepulse_venue_binance::RestClient::new(connection, None).map_err(|e| bad(&e))?;
    let mut bars = Vec::new();
    for k in &feed.klines {
        bars.push(tradepulse_live::BinanceBars {
            instrument: k.instrument.parse().map_err(|e| bad(&e))?,
            symbol: k.symbol().to_ascii_uppercase(),
            interval: k.interval.clone(),
        });
    }
    let resume = resume_points(views);
    let options = tradepulse_live::BinanceFeedOptions {
        trades: feed.trades,
        book_ticker: feed.book_ticker,
        gaps,
    };
    let run = tradepulse_live::binance_bars(engine.clone(), rest, bars, options, resume, stopping);
    Ok(tokio::spawn(async move {
        match run.await {
            Ok(r) => tracing::info!(
                bars = r.bars,
                backfilled = r.backfilled,
                skipped = r.skipped,
                prices = r.prices,
                gaps = r.gaps,
                disconnects = r.disconnects,
                "market data (binance) ended"
            ),
            Err(e) => tracing::error!(error = %e, "market data (binance) failed"),
        }
    }))
}

/// Per instrument of a strategy, the last bar its restored checkpoint includes (none for a
/// strategy that starts fresh).
fn resume_points(
    views: &[tradepulse_live::StrategyView],
) -> Vec<(InstrumentId, Option<tradepulse_model::UnixNanos>)> {
    views
        .iter()
        .map(|v| (v.instrument.clone(), v.last_bar.filter(|_| v.restored)))
        .collect()
}

fn log_replay(r: ReplayReport) {
    tracing::info!(
        sent = r.sent,
        skipped = r.skipped,
        stopped = r.stopped,
        "market data replay ended"
    );
}

/// Joins the configured Redis stream's consumer group (before anything else starts, so an
/// unreachable Redis fails the start).
async fn redis_feed(
    config: &CoreConfig,
) -> Result<Option<tradepulse_store::StreamConsumer>, ServiceError> {
    let Some(feed) = &config.market_data.redis else {
        return Ok(None);
    };
    let Some(mut redis) = tradepulse_store::RedisConfig::resolve(feed.url.as_deref())? else {
        return Err(ServiceError::Config(format!(
            "market_data.redis: no Redis URL (set market_data.redis.url or {})",
            tradepulse_store::REDIS_URL_ENV
        )));
    };
    if let Some(prefix) = &feed.key_prefix {
        redis = redis.with_prefix(prefix);
    }
    let consumer = feed.consumer.clone().unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "core".into());
        format!("{host}-{}", std::process::id())
    });
    let joined =
        tradepulse_store::StreamConsumer::join(&redis, &feed.stream, &feed.group, &consumer)
            .await?;
    Ok(Some(joined))
}

async fn venue(
    config: &CoreConfig,
    secrets: &dyn SecretSource,
) -> Result<(VenueSetup, EngineConfig), ServiceError> {
    let bad = |e: &dyn std::fmt::Display| ServiceError::Config(e.to_string());
    let settings = |lost_default_ms: u64| ReconcileSettings {
        interval: Duration::from_millis(config.reconciliation.interval_ms),
        retry: Duration::from_millis(config.reconciliation.retry_ms),
        policy: ReconcilePolicy {
            unknown_orders: config.reconciliation.unknown_orders,
            lost_after_nanos: i64::try_from(
                config
                    .reconciliation
                    .lost_after_ms
                    .unwrap_or(lost_default_ms),
            )
            .unwrap_or(i64::MAX / 1_000_000)
                * 1_000_000,
        },
        adjust_balances: config.reconciliation.adjust_balances,
    };
    let engine_config = |currency: Asset, reconcile: ReconcileSettings| {
        let mut c = EngineConfig::new("core", currency);
        c.id_prefix.clone_from(&config.id_prefix);
        c.risk = config.risk.clone();
        c.poll_interval = Duration::from_micros(config.engine.poll_interval_us);
        c.report_flush = Duration::from_millis(config.engine.report_flush_ms);
        c.reconcile = reconcile;
        c
    };
    let in_process = match &config.execution {
        ExecutionConfig::InProcess(p) => p,
        ExecutionConfig::Remote(remote) => {
            let currency = Asset::new(&remote.currency).map_err(|e| bad(&e))?;
            let instruments = remote
                .instruments
                .iter()
                .map(|s| s.build().map_err(|e| bad(&e)))
                .collect::<Result<Vec<_>, _>>()?;
            let token = secrets.require(&remote.token)?;
            let (venue, snapshots) = crate::remote::RemoteExec::connect(
                &remote.url,
                token.expose(),
                &config.id_prefix,
                Duration::from_millis(remote.submit_deadline_ms),
            )
            .await
            .map_err(|e| ServiceError::Config(e.to_string()))?;
            // A local order the exec does not know is lost only once its submit can no longer
            // be in flight (the submit loop retries the same id until the deadline).
            let mut c = engine_config(currency, settings(remote.submit_deadline_ms + 1_000));
            c.opening_cash = Some(remote.opening_cash);
            // The core's book starts from its own journal and is reconciled with the exec's
            // view of the core's orders (not of the exec's whole account).
            let setup = VenueSetup {
                venue: Box::new(venue),
                instruments,
                snapshots: Arc::new(snapshots),
                prices: None,
            };
            return Ok((setup, c));
        }
    };
    if let Some(sim) = &in_process.venue.sim {
        let currency = Asset::new(&sim.currency).map_err(|e| bad(&e))?;
        let instruments = sim
            .instruments
            .iter()
            .map(|s| s.build().map_err(|e| bad(&e)))
            .collect::<Result<Vec<_>, _>>()?;
        let mut c = engine_config(currency, settings(0));
        c.opening_cash = Some(sim.opening_cash);
        let setup = VenueSetup {
            venue: Box::new(SimVenue::new(sim.execution)),
            instruments,
            snapshots: Arc::new(SimSnapshots::default()),
            prices: None,
        };
        return Ok((setup, c));
    }
    let Some(binance) = &in_process.venue.binance else {
        return Err(ServiceError::Config(
            "execution.in_process.venue: set `sim` or `binance`".into(),
        ));
    };
    let currency = Asset::new(&binance.currency).map_err(|e| bad(&e))?;
    let credentials = binance_credentials(secrets, &binance.credentials)?;
    let symbols: Vec<&str> = binance.symbols.iter().map(String::as_str).collect();
    let lost = u64::from(binance.connection.recv_window_ms) + 5_000;
    let setup = binance_venue(&binance.connection, credentials, "BINANCE", &symbols).await?;
    Ok((setup, engine_config(currency, settings(lost))))
}

/// Every `interval`: the equity series point (store), and the core gauges — equity, gross
/// exposure, each strategy's position and unrealised + realised PnL of its instrument, the age
/// of the last bar (market-data lag), orders by state, and the event loop's lag (how late this
/// task wakes).
async fn record(
    engine: EngineHandle,
    recent: Arc<crate::recent::Recent>,
    currency: Asset,
    source: &'static str,
    registry: Registry,
    interval: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let equity = registry.gauge(
        "tradepulse_equity",
        "Account equity (cash plus positions at their marks), in the account currency.",
        &["account"],
    );
    let exposure = registry.gauge(
        "tradepulse_exposure",
        "Gross exposure (sum of |market value|), in the account currency.",
        &["account"],
    );
    let pnl = registry.gauge(
        "tradepulse_strategy_pnl",
        "Realised plus unrealised PnL of the strategy's instrument, in its quote currency.",
        &["strategy"],
    );
    let position = registry.gauge(
        "tradepulse_strategy_position",
        "Position of the strategy's instrument.",
        &["strategy"],
    );
    let md_lag = registry.gauge(
        "tradepulse_market_data_lag_seconds",
        "Wall time since the instrument's last bar reached its strategies (a replay's bars carry \
         historic times, so the arrival is what counts).",
        &["source", "instrument"],
    );
    let strategy_exposure = registry.gauge(
        "tradepulse_strategy_exposure",
        "Signed position value (quantity x mark price) of the strategy's instrument, in its quote \
         currency.",
        &["strategy", "instrument"],
    );
    let loop_lag = registry.gauge(
        "tradepulse_event_loop_lag_seconds",
        "How late the core's periodic task woke up (a busy or blocked runtime).",
        &[],
    );
    let strategy_equity = registry.gauge(
        "tradepulse_strategy_equity",
        "Equity attributed to the strategy: an equal share of the account's equity net of every \
         strategy's PnL, plus its own PnL (the strategies' equities sum to the account's).",
        &["strategy"],
    );
    let strategy_drawdown = registry.gauge(
        "tradepulse_strategy_drawdown_ratio",
        "The strategy's attributed equity below its peak since start, as a ratio (0..1).",
        &["strategy"],
    );
    let mut peaks: Vec<(String, f64)> = Vec::new();
    let by_state = registry.gauge(
        "tradepulse_orders_by_state",
        "Orders this session knows, by state (the newest 1000).",
        &["state"],
    );
    let mut last_seen: Vec<(String, i64, Instant)> = Vec::new();
    let mut due = Instant::now() + interval;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(due.into()) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        loop_lag.set(
            &[],
            Instant::now().saturating_duration_since(due).as_secs_f64(),
        );
        due = Instant::now() + interval;
        let Ok(status) = engine.status().await else {
            return;
        };
        let cash = engine
            .balances()
            .await
            .ok()
            .and_then(|b| b.into_iter().find(|b| b.asset == currency).map(|b| b.total))
            .unwrap_or(Money::ZERO);
        equity.set(&[CORE_ACCOUNT], status.equity.as_f64());
        exposure.set(&[CORE_ACCOUNT], status.gross_exposure.as_f64());
        let point = EquitySnapshot {
            ts: WallClock.now(),
            equity: status.equity,
            cash,
        };
        match engine.store().record_equity(CORE_ACCOUNT, &point).await {
            Ok(()) => recent.push_equity(point),
            Err(e) => tracing::warn!(error = %e, "equity point not recorded"),
        }
        let positions = engine.positions().await.unwrap_or_default();
        if let Ok(views) = engine.strategies().await {
            let pnl_of = |v: &tradepulse_live::StrategyView| {
                positions
                    .iter()
                    .find(|p| p.instrument == v.instrument)
                    .map_or(0.0, |p| {
                        p.realized_pnl.as_f64() + p.unrealized_pnl.map_or(0.0, |u| u.as_f64())
                    })
            };
            let total_pnl: f64 = views.iter().map(pnl_of).sum();
            let share = (status.equity.as_f64() - total_pnl) / views.len().max(1) as f64;
            for v in &views {
                let attributed = share + pnl_of(v);
                strategy_equity.set(&[&v.name], attributed);
                let peak = match peaks.iter_mut().find(|(n, _)| *n == v.name) {
                    Some((_, p)) => {
                        *p = p.max(attributed);
                        *p
                    }
                    None => {
                        peaks.push((v.name.clone(), attributed));
                        attributed
                    }
                };
                let drawdown = if peak > 0.0 {
                    ((peak - attributed) / peak).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                strategy_drawdown.set(&[&v.name], drawdown);
            }
            for v in views {
                position.set(&[&v.name], v.position.as_f64());
                let instrument = v.instrument.to_string();
                if let Some(p) = positions.iter().find(|p| p.instrument == v.instrument) {
                    let value = p.mark.map_or(0.0, |m| m.as_f64() * p.quantity.as_f64());
                    strategy_exposure.set(&[&v.name, &instrument], value);
                    let total =
                        p.realized_pnl.as_f64() + p.unrealized_pnl.map_or(0.0, |u| u.as_f64());
                    pnl.set(&[&v.name], total);
                }
                let now = Instant::now();
                match last_seen.iter_mut().find(|(n, _, _)| *n == v.name) {
                    Some(seen) if seen.1 == v.bars => {}
                    Some(seen) => {
                        seen.1 = v.bars;
                        seen.2 = now;
                    }
                    None => last_seen.push((v.name.clone(), v.bars, now)),
                }
                if let Some((_, _, at)) = last_seen.iter().find(|(n, _, _)| *n == v.name) {
                    md_lag.set(
                        &[source, &instrument],
                        now.saturating_duration_since(*at).as_secs_f64(),
                    );
                }
            }
        }
        if let Ok(orders) = engine
            .orders(tradepulse_live::OrderFilter {
                limit: Some(tradepulse_live::OrderFilter::MAX_LIMIT),
                ..tradepulse_live::OrderFilter::default()
            })
            .await
        {
            let mut counts: Vec<(&'static str, usize)> = Vec::new();
            for o in &orders {
                let s = o.status();
                match counts.iter_mut().find(|(n, _)| *n == s) {
                    Some(c) => c.1 += 1,
                    None => counts.push((s, 1)),
                }
            }
            for (s, n) in counts {
                by_state.set(&[s], n as f64);
            }
        }
    }
}
