//! `tradepulse verify --core URL --exec URL [--slo-p99-ms N]`: the post-deploy check of running
//! services. The checks live in `tradepulse_server::verify`.

use std::time::Duration;

use tradepulse_server::verify::{VerifyOptions, verify};

use crate::exit::InputError;

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Base URL of the core service, e.g. http://tradepulse-core:8080.
    #[arg(long)]
    pub core: Option<String>,
    /// Base URL of the execution engine, e.g. http://tradepulse-exec:8081.
    #[arg(long)]
    pub exec: Option<String>,
    /// Order-latency SLO: p99 of decision → venue acknowledgement, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    pub slo_p99_ms: f64,
    /// Seconds between the two scrapes the reject and error checks compare.
    #[arg(long, default_value_t = 5.0)]
    pub window_secs: f64,
    /// Largest share of rejected intents over the window (0–1).
    #[arg(long, default_value_t = 0.2)]
    pub max_reject_ratio: f64,
}

/// Prints the report; a failed check is exit 1.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let mut services = Vec::new();
    services.extend(args.core.clone().map(|u| ("core".to_owned(), u)));
    services.extend(args.exec.clone().map(|u| ("exec".to_owned(), u)));
    if services.is_empty() {
        return Err(InputError("verify: give --core URL, --exec URL or both".into()).into());
    }
    let positive = |name: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(InputError(format!(
                "verify: {name} must be a positive number, not {v}"
            )))
        }
    };
    if !(0.0..=1.0).contains(&args.max_reject_ratio) {
        return Err(InputError(format!(
            "verify: --max-reject-ratio must be within 0..=1, not {}",
            args.max_reject_ratio
        ))
        .into());
    }
    let options = VerifyOptions {
        services,
        slo_p99: positive("--slo-p99-ms", args.slo_p99_ms)? / 1000,
        window: positive("--window-secs", args.window_secs)?,
        max_reject_ratio: args.max_reject_ratio,
        ..VerifyOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime
        .block_on(verify(&options))
        .map_err(|e| InputError(e.to_string()))?;
    println!("{report}");
    if report.passed() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("verify: the deployment is not healthy"))
    }
}
