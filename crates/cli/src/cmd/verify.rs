//! `tradepulse verify --core URL --exec URL [--slo-p99-ms N]`: the post-deploy smoke test. The
//! checks live in `tradepulse-server`.

use tradepulse_server::{VerifyOptions, verify};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The core service's base URL, e.g. http://core:8080.
    #[arg(long)]
    pub core: Option<String>,
    /// The exec service's base URL, e.g. http://exec:8081.
    #[arg(long)]
    pub exec: Option<String>,
    /// Order latency SLO: p99 of decision → acknowledgement, in milliseconds.
    #[arg(long, default_value_t = 250.0)]
    pub slo_p99_ms: f64,
    /// Largest accepted share of refused/rejected orders and of 5xx answers.
    #[arg(long, default_value_t = 0.05)]
    pub max_error_ratio: f64,
}

/// Prints one line per check; fails (exit 1) if any check failed.
pub fn run(args: &Args) -> anyhow::Result<()> {
    if args.core.is_none() && args.exec.is_none() {
        return Err(crate::exit::InputError("give --core URL, --exec URL or both".into()).into());
    }
    if !(args.slo_p99_ms.is_finite() && args.slo_p99_ms > 0.0) {
        return Err(crate::exit::InputError("--slo-p99-ms must be positive".into()).into());
    }
    let options = VerifyOptions {
        core: args.core.clone(),
        exec: args.exec.clone(),
        slo_p99_ms: args.slo_p99_ms,
        max_error_ratio: args.max_error_ratio,
        ..VerifyOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let checks = runtime.block_on(verify(&options));
    let failed = checks.iter().filter(|c| !c.ok).count();
    for c in &checks {
        println!(
            "{}  {:<5} {:<18} {}",
            if c.ok { "PASS" } else { "FAIL" },
            c.service,
            c.name,
            c.detail
        );
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} checks failed", checks.len());
    }
    println!("all {} checks passed", checks.len());
    Ok(())
}
