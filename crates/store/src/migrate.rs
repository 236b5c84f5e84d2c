//! [`migrate_database`]: what `tradepulse db migrate` does, as one blocking call.

use std::fmt;

use crate::db::{Store, StoreOptions};
use crate::error::{Error, Result};
use crate::url::{BackendKind, DatabaseUrl, RedactedUrl};

/// What [`migrate_database`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationOutcome {
    /// The database, password redacted.
    pub url: RedactedUrl,
    /// Its backend.
    pub backend: BackendKind,
    /// Versions applied by this call (empty if it was up to date).
    pub applied: Vec<i64>,
    /// Schema version now.
    pub current: Option<i64>,
}

impl fmt::Display for MigrationOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = self
            .current
            .map_or_else(|| "none".to_owned(), |v| v.to_string());
        if self.applied.is_empty() {
            write!(
                f,
                "{} database {} is up to date (schema version {version})",
                self.backend, self.url
            )
        } else {
            let list: Vec<String> = self.applied.iter().map(i64::to_string).collect();
            write!(
                f,
                "applied {} migration(s) [{}] to {} database {} (schema version {version})",
                self.applied.len(),
                list.join(", "),
                self.backend,
                self.url
            )
        }
    }
}

/// Resolves the database URL ([`DatabaseUrl::resolve`]: `explicit_url`, then
/// `TRADEPULSE_DATABASE_URL`, then `TRADEPULSE_DATABASE_URL_FILE`, then the SQLite default),
/// connects (failing fast when the server is unreachable) and applies the embedded
/// migrations. Blocking: it runs its own single-threaded runtime, so the CLI needs no tokio.
///
/// # Errors
/// [`Error::InvalidUrl`], [`Error::SecretFile`], [`Error::Unreachable`],
/// [`Error::ConnectTimeout`], [`Error::Migration`], [`Error::Runtime`].
pub fn migrate_database(explicit_url: Option<&str>) -> Result<MigrationOutcome> {
    let url = DatabaseUrl::resolve(explicit_url)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Runtime { source })?;
    runtime.block_on(async {
        let options = StoreOptions {
            migrate_on_start: false,
            max_connections: 1,
            ..StoreOptions::default()
        };
        let store = Store::connect_with(&url, options).await?;
        let before = store.applied_migrations().await?;
        store.migrate().await?;
        let after = store.applied_migrations().await?;
        store.close().await;
        Ok(MigrationOutcome {
            url: url.redacted(),
            backend: url.backend(),
            applied: after
                .iter()
                .filter(|v| !before.contains(v))
                .copied()
                .collect(),
            current: after.last().copied(),
        })
    })
}
