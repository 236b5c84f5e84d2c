//! The `tradepulse exec` service: builds the store, the venue and the engine from an
//! [`ExecConfig`], serves the API, and shuts down in order on a signal.
//!
//! # Shutdown
//!
//! When the shutdown future resolves (SIGTERM in the binary): `/readyz` turns 503 and the
//! stream sockets close; the listener stops accepting and in-flight requests finish (within
//! half the grace period); then the engine stops taking orders, cancels the open ones if
//! `shutdown.cancel_open_orders` is set and waits for their outcome, flushes the journal and
//! stops; the store is closed. All of it within `shutdown.grace_ms`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tradepulse_execution::{SimVenue, WallClock, reconcile::ReconcilePolicy};
use tradepulse_live::{
    Engine, EngineConfig, EngineHandle, ReconcileSettings, Registry, SecretSource, ShutdownReport,
    SimSnapshots, VenueSetup, binance_credentials, binance_venue,
};
use tradepulse_model::{Asset, Bar, Instrument, Price, UnixNanos};
use tradepulse_store::{DatabaseUrl, Store, StoreOptions};

use crate::api::{ApiLimits, AppState, router};
use crate::auth::{Authenticator, register_token};
use crate::config::{ExecConfig, SimMarketConfig};

/// The service could not start (or stop cleanly).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The config is unusable (beyond what its parser checks).
    #[error("config: {0}")]
    Config(String),
    /// The store cannot be used.
    #[error(transparent)]
    Store(#[from] tradepulse_store::Error),
    /// A secret cannot be read.
    #[error(transparent)]
    Secret(#[from] tradepulse_live::SecretError),
    /// The engine cannot start.
    #[error(transparent)]
    Engine(#[from] tradepulse_live::EngineError),
    /// The listener failed.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
}

impl ServiceError {
    /// True when the input (config, secrets, URL) is at fault: the CLI exits with 2.
    #[must_use]
    pub fn is_bad_input(&self) -> bool {
        match self {
            Self::Config(_) | Self::Secret(_) => true,
            Self::Store(e) => e.action() == tradepulse_store::Action::FixInput,
            Self::Engine(_) | Self::Io(_) => false,
        }
    }
}

/// The store's URL: the config's value, else the `TRADEPULSE_DATABASE_URL` secret (Vault, the
/// environment or its `_FILE` mount), else the SQLite default.
pub(crate) fn database_url(
    explicit: Option<&str>,
    secrets: &dyn SecretSource,
) -> Result<DatabaseUrl, ServiceError> {
    if explicit.is_none()
        && let Some(url) = secrets.get(tradepulse_store::DATABASE_URL_ENV)?
    {
        return Ok(DatabaseUrl::resolve(Some(url.expose()))?);
    }
    Ok(DatabaseUrl::resolve(explicit)?)
}

/// A running exec service.
#[derive(Debug)]
pub struct RunningExec {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The engine.
    pub engine: EngineHandle,
    /// Its metrics.
    pub registry: Registry,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    market: Option<tokio::task::JoinHandle<()>>,
    grace: Duration,
    cancel_open: bool,
    audit: crate::limits::AuditLog,
    /// Kept for the process's life: a Vault source renews its token lease while it lives.
    secrets: Option<Box<dyn SecretSource>>,
}

/// What a shutdown did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopReport {
    /// The engine's part.
    pub engine: ShutdownReport,
    /// Whether every in-flight request finished within the grace period.
    pub requests_drained: bool,
    /// Time from the signal to the end.
    pub took: Duration,
}

impl RunningExec {
    /// Builds everything from `config` and serves on `listener`.
    ///
    /// # Errors
    /// [`ServiceError`].
    pub async fn start(config: &ExecConfig, listener: TcpListener) -> Result<Self, ServiceError> {
        let secrets = config.secrets.source().await?;
        let mut exec = Self::start_with(config, listener, secrets.as_ref()).await?;
        exec.secrets = Some(secrets);
        Ok(exec)
    }

    /// As [`RunningExec::start`] with secrets from `secrets`.
    ///
    /// # Errors
    /// [`ServiceError`].
    pub async fn start_with(
        config: &ExecConfig,
        listener: TcpListener,
        secrets: &dyn SecretSource,
    ) -> Result<Self, ServiceError> {
        let url = database_url(config.database_url.as_deref(), secrets)?;
        let store = Store::connect_with(
            &url,
            StoreOptions {
                pg_schema: config.database_schema.clone(),
                application_name: Some("tradepulse-exec".into()),
                max_connections: 8,
                sqlite_sync: config.database_sync,
                ..StoreOptions::default()
            },
        )
        .await?;
        for token in &config.auth.tokens {
            let value = secrets.require(&token.secret)?;
            register_token(&store, &token.name, token.role, value.expose()).await?;
        }
        let registry = Registry::new();
        let (setup, engine_config, market) = venue(config, secrets).await?;
        let engine =
            Engine::start(engine_config, store.clone(), setup, Vec::new(), &registry).await?;
        let market =
            market.map(|(m, instruments)| tokio::spawn(sim_market(engine.clone(), instruments, m)));
        let (stop, stopping) = watch::channel(false);
        let limits = ApiLimits {
            request_timeout: Duration::from_millis(config.http.request_timeout_ms),
            submit_wait: Duration::from_millis(config.http.submit_wait_ms),
            max_body_bytes: config.http.max_body_bytes,
            rate_limit: None,
        };
        let state = AppState::new(
            engine.clone(),
            Authenticator::new(store),
            registry.clone(),
            limits,
            stopping.clone(),
        );
        let audit = state.audit().clone();
        let app = router(state);
        let addr = listener.local_addr()?;
        let mut signal = stopping;
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|s| *s).await;
                })
                .await
        });
        tracing::info!(%addr, venue = engine.venue(), session = engine.session(), "exec listening");
        Ok(Self {
            addr,
            engine,
            registry,
            stop,
            server,
            market,
            grace: config.grace(),
            cancel_open: config.shutdown.cancel_open_orders,
            audit,
            secrets: None,
        })
    }

    /// Shuts down (see the module docs) within the configured grace period.
    ///
    /// # Errors
    /// [`ServiceError::Engine`] if the engine had stopped already.
    pub async fn stop(self) -> Result<StopReport, ServiceError> {
        let started = Instant::now();
        let _ = self.stop.send(true);
        if let Some(market) = &self.market {
            market.abort();
        }
        drain_and_shut_down(
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
    /// As [`RunningExec::stop`].
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<StopReport, ServiceError> {
        shutdown.await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

type SimMarket = (SimMarketConfig, Vec<Instrument>);

async fn venue(
    config: &ExecConfig,
    secrets: &dyn SecretSource,
) -> Result<(VenueSetup, EngineConfig, Option<SimMarket>), ServiceError> {
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
        let mut c = EngineConfig::new("exec", currency);
        c.id_prefix.clone_from(&config.id_prefix);
        c.risk = config.risk.clone();
        c.poll_interval = Duration::from_micros(config.engine.poll_interval_us);
        c.report_flush = Duration::from_millis(config.engine.report_flush_ms);
        c.reconcile = reconcile;
        c
    };
    if let Some(sim) = &config.venue.sim {
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
            instruments: instruments.clone(),
            snapshots: Arc::new(SimSnapshots::default()),
            prices: None,
        };
        return Ok((setup, c, Some((sim.market.clone(), instruments))));
    }
    let Some(binance) = &config.venue.binance else {
        return Err(ServiceError::Config("venue: set `sim` or `binance`".into()));
    };
    let currency = Asset::new(&binance.currency).map_err(|e| bad(&e))?;
    let credentials = binance_credentials(secrets, &binance.credentials)?;
    let symbols: Vec<&str> = binance.symbols.iter().map(String::as_str).collect();
    // An order older than the receive window cannot execute any more: past it, an order the
    // venue does not know is lost.
    let lost = u64::from(binance.connection.recv_window_ms) + 5_000;
    let setup = binance_venue(&binance.connection, credentials, "BINANCE", &symbols).await?;
    Ok((setup, engine_config(currency, settings(lost)), None))
}

/// A seeded random walk: one bar per instrument every `interval_ms`, so the sim's orders fill
/// and its marks move.
/// The second half of a graceful stop, shared by the exec and core services: half the grace
/// period for the requests in flight, then the engine's shutdown (cancels if asked, last
/// flush) in what is left, then the audit log's last entries, then the store.
pub(crate) async fn drain_and_shut_down(
    started: Instant,
    grace: Duration,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    engine: &EngineHandle,
    audit: &crate::limits::AuditLog,
    cancel_open: bool,
) -> Result<StopReport, ServiceError> {
    let requests_drained = tokio::time::timeout(grace / 2, server).await.is_ok();
    let left = grace.saturating_sub(started.elapsed());
    let report = engine
        .shutdown(cancel_open, left.saturating_sub(Duration::from_millis(200)))
        .await?;
    let left = grace.saturating_sub(started.elapsed());
    if tokio::time::timeout(left, audit.close()).await.is_err() {
        tracing::warn!("audit entries still queued at the end of the grace period");
    }
    engine.store().close().await;
    Ok(StopReport {
        engine: report,
        requests_drained,
        took: started.elapsed(),
    })
}

async fn sim_market(engine: EngineHandle, instruments: Vec<Instrument>, config: SimMarketConfig) {
    let mut state = config.seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64*: small, seeded, no dependency.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut prices: Vec<f64> = instruments
        .iter()
        .map(|i| {
            config
                .start_prices
                .get(i.id().as_str())
                .map_or(1.0, |p| p.as_f64())
        })
        .collect();
    let sigma = config.volatility_bps.as_f64() / 10_000.0;
    let mut ticker = tokio::time::interval(Duration::from_millis(config.interval_ms));
    loop {
        ticker.tick().await;
        let now = tradepulse_execution::Clock::now(&WallClock);
        for (instrument, price) in instruments.iter().zip(prices.iter_mut()) {
            // Sum of 12 uniforms − 6: approximately standard normal.
            let z: f64 = (0..12).map(|_| next()).sum::<f64>() - 6.0;
            let open = *price;
            let close = (open * (1.0 + sigma * z)).max(instrument.tick_size().as_f64());
            *price = close;
            let tick = |x: f64| -> Price {
                let ticks = (x / instrument.tick_size().as_f64()).round().max(1.0);
                Price::from_raw(instrument.tick_size().raw().saturating_mul(ticks as i64))
            };
            let bar = Bar {
                ts: UnixNanos::new(now.as_nanos()),
                open: tick(open),
                high: tick(open.max(close)),
                low: tick(open.min(close)),
                close: tick(close),
                volume: 1e9,
            };
            if engine.on_bar(instrument.id().clone(), bar).is_err() {
                return;
            }
        }
    }
}
