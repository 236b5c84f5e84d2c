//! `tradepulse openapi --service core|exec`: the OpenAPI document a service serves at
//! `/v1/openapi.json`, without starting it. `web/openapi/core.json` is this output; CI compares
//! the two, so an endpoint that changes regenerates the dashboard's types and breaks its type
//! check instead of its users.

use anyhow::{Context, Result};
use clap::ValueEnum;

/// Which service.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Service {
    /// `tradepulse serve`.
    Core,
    /// `tradepulse exec`.
    Exec,
}

/// Arguments of `tradepulse openapi`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service whose document to print.
    #[arg(long, value_enum)]
    service: Service,
}

/// Prints the document as pretty JSON with a final newline.
///
/// # Errors
/// Serialisation or writing standard output fails.
pub fn run(args: &Args) -> Result<()> {
    let doc = match args.service {
        Service::Core => tradepulse_server::core_api::openapi(),
        Service::Exec => tradepulse_server::api::openapi(),
    };
    let text = serde_json::to_string_pretty(&doc).context("serialising the OpenAPI document")?;
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").context("writing standard output")?;
    Ok(())
}
