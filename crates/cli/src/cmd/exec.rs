//! `tradepulse exec --config FILE`: the execution engine service. The logic lives in
//! `tradepulse-server` and `tradepulse-live`.

use std::path::PathBuf;

use tradepulse_server::{ExecConfig, RunningExec};

use crate::exit::InputError;

/// Arguments of `exec`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service config (YAML), e.g. configs/exec/sim.yaml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Listen here instead of the config's `listen` (e.g. 127.0.0.1:0 for any free port).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Log lines as JSON (one object per line) instead of text.
    #[arg(long)]
    pub json_logs: bool,
}

/// Runs the service until SIGTERM or Ctrl-C, then shuts down gracefully (exit 0).
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut config = ExecConfig::load(&args.config).map_err(|e| InputError(e.to_string()))?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let _telemetry = init_logs(args.json_logs, "tradepulse-exec");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let service = RunningExec::start(&config, listener).await.map_err(|e| {
            if e.is_bad_input() {
                anyhow::Error::new(InputError(e.to_string()))
            } else {
                anyhow::Error::new(e)
            }
        })?;
        // Scripts and tests read the address from this line (the port may be chosen by the OS).
        println!("tradepulse exec listening on http://{}", service.addr);
        let report = service.run_until(terminated()).await?;
        tracing::info!(
            cancels = report.engine.cancels_requested,
            still_open = report.engine.still_open,
            drained = report.requests_drained,
            took_ms = report.took.as_millis() as u64,
            "stopped"
        );
        Ok(())
    })
}

/// SIGTERM (Kubernetes) or SIGINT (Ctrl-C).
pub(crate) async fn terminated() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = term => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Logs to stderr (JSON with `--json-logs`), filtered by `TRADEPULSE_LOG`; with the `otel`
/// feature and a collector configured, spans go to it too. Keep the returned guard for the
/// command's life: dropping it flushes the spans still buffered.
pub(crate) fn init_logs(json: bool, service: &str) -> crate::telemetry::Telemetry {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = tracing_subscriber::EnvFilter::try_from_env("TRADEPULSE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let (otel, telemetry) = crate::telemetry::layer(service);
    // The filter applies to every layer: what is counted (and exported) is what is written.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(CountLevels)
        .with(otel)
        .try_init();
    telemetry
}

/// Counts every event written, by level, for `tradepulse_log_messages_total{level}` (the
/// error-log spike alert).
struct CountLevels;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountLevels {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        tradepulse_server::LOG_MESSAGES.record(event.metadata().level());
    }
}
