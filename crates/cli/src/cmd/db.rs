//! `tradepulse db …`: database administration. The logic lives in `tradepulse-store`.

use tradepulse_store::{Action, migrate_database};

/// Database subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Apply the embedded schema migrations (idempotent). Exit code 1 if the database is
    /// unreachable, 2 if the URL is invalid.
    Migrate(MigrateArgs),
}

/// Arguments of `db migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// `postgres://…`, `sqlite://PATH` or a SQLite file path. Default: the environment
    /// variable TRADEPULSE_DATABASE_URL, else the file named by TRADEPULSE_DATABASE_URL_FILE,
    /// else the SQLite file `tradepulse.db`.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Runs a database subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Migrate(args) => migrate(&args),
    }
}

fn migrate(args: &MigrateArgs) -> anyhow::Result<()> {
    match migrate_database(args.database_url.as_deref()) {
        Ok(outcome) => {
            eprintln!("{outcome}");
            Ok(())
        }
        // Messages never contain the password: the store redacts URLs.
        Err(err) if err.action() == Action::FixInput => {
            Err(crate::exit::InputError(err.to_string()).into())
        }
        Err(err) => Err(err.into()),
    }
}
