//! `tradepulse`: the command line. It parses arguments and dispatches to the library crates;
//! no business logic lives here.
//!
//! Exit codes: `0` success; `1` a failure that is not the input's fault (I/O while writing,
//! an internal error); `2` bad input (command line, config, data) — the message names the file,
//! line and field.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
mod exit;

// mimalloc keeps freed pages for reuse; with glibc's allocator every backtest buffer (and, in a
// sweep, every trial's) was page-faulted in afresh, which cost the engine a third of its time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
mod output;
mod telemetry;

/// TradePulse: research, backtest and run trading strategies.
#[derive(Debug, Parser)]
#[command(name = "tradepulse", version = tradepulse_server::VERSION, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a backtest described by a YAML config and write its report.
    Backtest(cmd::backtest::Args),
    /// Search strategy parameters (grid or random) in parallel and rank the results.
    Sweep(cmd::sweep::Args),
    /// Merge the output directories of `sweep --shard i/N` runs into one result.
    SweepMerge(cmd::sweep::MergeArgs),
    /// Optimise on rolling or anchored training windows and test out of sample.
    WalkForward(cmd::walk_forward::Args),
    /// Market-data tools.
    #[command(subcommand)]
    Data(cmd::data::Command),
    /// Database administration: `db migrate`.
    #[command(subcommand)]
    Db(cmd::db::Command),
    /// Geometric indicators (Kuramoto, Ricci, entropy, Hurst, VPIN) and the market regime.
    Analyze(cmd::analyze::Args),
    /// Compute any indicator of the library over a bar file, one CSV column per output.
    Indicators(cmd::indicators::Args),
    /// Run the execution engine service (orders API, reconciliation, venue adapters).
    Exec(cmd::exec::Args),
    /// Run the core service: strategies on live or replayed market data, the operator API.
    Serve(cmd::serve::Args),
    /// API tokens (stored hashed): `token create --name N --role R`, `token list`,
    /// `token revoke NAME`.
    #[command(subcommand)]
    Token(cmd::token::Command),
    /// Check running services after a deployment: health, readiness, metrics, latency SLO,
    /// reject and error spikes, kill switch, reconciliation (exit 1 on any failure).
    Verify(cmd::verify::Args),
    /// Print a service's OpenAPI document (what its `/v1/openapi.json` serves), e.g. for the
    /// dashboard's generated API types.
    Openapi(cmd::openapi::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Backtest(args) => cmd::backtest::run(&args),
        Command::Sweep(args) => cmd::sweep::run(&args),
        Command::SweepMerge(args) => cmd::sweep::merge(&args),
        Command::WalkForward(args) => cmd::walk_forward::run(&args),
        Command::Data(command) => cmd::data::run(command),
        Command::Db(command) => cmd::db::run(command),
        Command::Analyze(args) => cmd::analyze::run(&args),
        Command::Indicators(args) => cmd::indicators::run(&args),
        Command::Exec(args) => cmd::exec::run(&args),
        Command::Serve(args) => cmd::serve::run(&args),
        Command::Token(command) => cmd::token::run(command),
        Command::Verify(args) => cmd::verify::run(&args),
        Command::Openapi(args) => cmd::openapi::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            exit::code_for(&err)
        }
    }
}
