//! `tradepulse token create|list|revoke`: API tokens of the core and exec services, stored as
//! SHA-256 hashes (a new token is printed once and never stored).

use tradepulse_server::auth::{Role, hash_token, new_token};
use tradepulse_store::{Action, DatabaseUrl, NewApiToken, Store};

use crate::exit::InputError;

/// Token subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a token with a role; prints it once (only its hash is stored).
    Create(CreateArgs),
    /// List tokens: name, role, created, expiry, revocation (never the tokens).
    List(DbArgs),
    /// Revoke the token NAME (it stops working within seconds).
    Revoke(RevokeArgs),
}

/// Where the tokens are.
#[derive(Debug, clap::Args)]
pub struct DbArgs {
    /// `postgres://…`, `sqlite://PATH` or a SQLite file path. Default: TRADEPULSE_DATABASE_URL,
    /// its `_FILE` mount, else the SQLite file `tradepulse.db`.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

/// Arguments of `token create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Unique name (the audit log's actor).
    #[arg(long)]
    pub name: String,
    /// `viewer` (read), `trader` (also orders, start/stop strategies) or `admin` (also the kill
    /// switch).
    #[arg(long, value_parser = parse_role)]
    pub role: Role,
    /// Days until it expires (default: never).
    #[arg(long)]
    pub expires_in_days: Option<u32>,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Arguments of `token revoke`.
#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    /// The token's name.
    pub name: String,
    #[command(flatten)]
    pub db: DbArgs,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::from_scopes(text)
        .filter(|_| !text.contains(char::is_whitespace))
        .ok_or_else(|| format!("'{text}' is not a role (viewer, trader, admin)"))
}

pub(crate) fn store_error(e: tradepulse_store::Error) -> anyhow::Error {
    if e.action() == Action::FixInput {
        InputError(e.to_string()).into()
    } else {
        e.into()
    }
}

/// Runs a token subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let db = match &command {
            Command::Create(a) => &a.db,
            Command::List(a) => a,
            Command::Revoke(a) => &a.db,
        };
        let url = DatabaseUrl::resolve(db.database_url.as_deref()).map_err(store_error)?;
        let store = Store::connect(&url).await.map_err(store_error)?;
        let now = super::wall_clock();
        let result = match command {
            Command::Create(args) => create(&store, &args, now).await,
            Command::List(_) => list(&store, now).await,
            Command::Revoke(args) => {
                if store
                    .revoke_api_token(&args.name, now)
                    .await
                    .map_err(store_error)?
                {
                    eprintln!("revoked {}", args.name);
                    Ok(())
                } else {
                    Err(InputError(format!("no active token named {}", args.name)).into())
                }
            }
        };
        store.close().await;
        result
    })
}

async fn create(
    store: &Store,
    args: &CreateArgs,
    now: tradepulse_model::UnixNanos,
) -> anyhow::Result<()> {
    let name = args.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
        return Err(InputError("--name: 1-64 characters without control characters".into()).into());
    }
    let token = new_token().map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    let expires_at = args.expires_in_days.map(|d| {
        tradepulse_model::UnixNanos::new(now.as_nanos() + i64::from(d) * 86_400_000_000_000)
    });
    store
        .create_api_token(&NewApiToken {
            name: name.to_owned(),
            hash: hash_token(&token),
            scopes: args.role.as_str().to_owned(),
            created_at: now,
            expires_at,
        })
        .await
        .map_err(|e| match e {
            tradepulse_store::Error::Conflict { .. } => {
                InputError(format!("a token named {name} exists already")).into()
            }
            other => store_error(other),
        })?;
    // The token on stdout alone (scripts capture it); the note on stderr.
    println!("{token}");
    eprintln!(
        "created token {name} ({}); it is shown only now — store it in your secret manager",
        args.role.as_str()
    );
    Ok(())
}

async fn list(store: &Store, now: tradepulse_model::UnixNanos) -> anyhow::Result<()> {
    let tokens = store.api_tokens().await.map_err(store_error)?;
    println!(
        "{:<24} {:<8} {:<8} {:>20}",
        "name", "role", "state", "created_ns"
    );
    for t in tokens {
        let role = Role::from_scopes(&t.scopes).map_or("?", Role::as_str);
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.is_active(now) {
            "active"
        } else {
            "expired"
        };
        println!(
            "{:<24} {:<8} {:<8} {:>20}",
            t.name,
            role,
            state,
            t.created_at.as_nanos()
        );
    }
    Ok(())
}
