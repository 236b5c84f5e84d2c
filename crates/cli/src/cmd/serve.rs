//! `tradepulse serve --config FILE`: the core service (strategies, API). The logic lives in
//! `tradepulse-server` and `tradepulse-live`.

use std::path::PathBuf;

use tradepulse_server::{CoreConfig, Environment, RunningCore, WebConfig, production_banner};

use crate::cmd::exec::{init_logs, terminated};
use crate::exit::InputError;

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The environment config (YAML), e.g. configs/environments/paper.yaml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Listen here instead of the config's `listen` (e.g. 127.0.0.1:0 for any free port).
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Use this database instead of the config's (`sqlite://PATH`, a path, `postgres://…`).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Serve the dashboard built in DIR (`cd web && npm ci && npm run build` writes web/dist)
    /// instead of the config's `web.directory`, at the config's `web.path` (default `/`).
    #[arg(long, value_name = "DIR")]
    pub web: Option<PathBuf>,
    /// Log lines as JSON (one object per line) instead of text.
    #[arg(long)]
    pub json_logs: bool,
}

/// Runs the service until SIGTERM or Ctrl-C, then shuts down gracefully (exit 0).
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut config = CoreConfig::load(&args.config).map_err(|e| InputError(e.to_string()))?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(url) = &args.database_url {
        config.database_url = Some(url.clone());
    }
    if let Some(directory) = &args.web {
        match &mut config.web {
            Some(web) => web.directory.clone_from(directory),
            None => {
                config.web = Some(WebConfig {
                    directory: directory.clone(),
                    path: "/".into(),
                });
            }
        }
    }
    if config.environment == Environment::Production {
        // Before anything else, on the terminal and in the logs' stream.
        eprintln!("{}", production_banner(&config));
    }
    let _telemetry = init_logs(args.json_logs, "tradepulse-core");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let service = RunningCore::start(&config, listener).await.map_err(|e| {
            if e.is_bad_input() {
                anyhow::Error::new(InputError(e.to_string()))
            } else {
                anyhow::Error::new(e)
            }
        })?;
        // Scripts and tests read the address from this line (the port may be chosen by the OS).
        println!("tradepulse serve listening on http://{}", service.addr);
        let report = service.run_until(terminated()).await?;
        tracing::info!(
            still_open = report.engine.still_open,
            drained = report.requests_drained,
            took_ms = report.took.as_millis() as u64,
            "stopped"
        );
        Ok(())
    })
}
