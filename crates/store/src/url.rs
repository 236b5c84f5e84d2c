//! [`DatabaseUrl`]: where the store lives, held as a secret; [`RedactedUrl`]: its printable form.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// Environment variable naming the database URL.
pub const DATABASE_URL_ENV: &str = "TRADEPULSE_DATABASE_URL";
/// Environment variable naming a file (e.g. a Kubernetes Secret mount) that holds the URL.
pub const DATABASE_URL_FILE_ENV: &str = "TRADEPULSE_DATABASE_URL_FILE";
/// The SQLite file used when nothing is configured.
pub const DEFAULT_SQLITE_PATH: &str = "tradepulse.db";

/// The two database backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// SQLite file (the zero-setup default).
    Sqlite,
    /// PostgreSQL 14+ (the system of record in deployments).
    Postgres,
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        })
    }
}

/// A URL with any password replaced by `***`; safe to print and log.
#[derive(Clone, PartialEq, Eq)]
pub struct RedactedUrl(String);

impl RedactedUrl {
    /// Redacts `url`: the userinfo password (`scheme://user:PASSWORD@host`) and any
    /// `password=` query parameter are replaced by `***`.
    #[must_use]
    pub fn new(url: &str) -> Self {
        let mut out = url.to_owned();
        if let Some(scheme_end) = out.find("://") {
            let rest_start = scheme_end + 3;
            let authority_end = out[rest_start..]
                .find(['/', '?', '#'])
                .map_or(out.len(), |i| rest_start + i);
            if let Some(at) = out[rest_start..authority_end].rfind('@') {
                let userinfo = &out[rest_start..rest_start + at];
                if let Some(colon) = userinfo.find(':') {
                    out.replace_range(rest_start + colon + 1..rest_start + at, "***");
                }
            }
        }
        if let Some(q) = out.find('?') {
            let (head, query) = out.split_at(q + 1);
            let redacted: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            out = format!("{head}{}", redacted.join("&"));
        }
        Self(out)
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A database URL: `sqlite://PATH`, `sqlite:PATH`, a plain file path (SQLite), or
/// `postgres://…` / `postgresql://…`. Held as a secret: `Debug` and `Display` show it redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: BackendKind,
}

impl DatabaseUrl {
    /// Parses a configured URL or path.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an empty value or an unknown scheme (e.g. `mysql://`).
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = |reason| Error::InvalidUrl {
            what: "database",
            url: RedactedUrl::new(text),
            reason,
        };
        if text.is_empty() {
            return Err(invalid(
                "empty; give a SQLite file path or a postgres:// URL",
            ));
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return Ok(Self {
                url: text.to_owned(),
                backend: BackendKind::Postgres,
            });
        }
        if let Some(path) = lower.strip_prefix("sqlite:") {
            if path.trim_start_matches('/').is_empty() {
                return Err(invalid("sqlite URL without a file path"));
            }
            return Ok(Self {
                url: text.to_owned(),
                backend: BackendKind::Sqlite,
            });
        }
        if let Some((scheme, _)) = text.split_once("://") {
            let _ = scheme;
            return Err(invalid(
                "unsupported scheme; use sqlite://PATH, a file path, or postgres://",
            ));
        }
        Ok(Self {
            url: format!("sqlite://{text}"),
            backend: BackendKind::Sqlite,
        })
    }

    /// A SQLite database in the file `path`.
    #[must_use]
    pub fn sqlite_file(path: &std::path::Path) -> Self {
        Self {
            url: format!("sqlite://{}", path.display()),
            backend: BackendKind::Sqlite,
        }
    }

    /// Resolves the URL from, in order: `explicit` (a CLI flag or config value), the
    /// environment variable [`DATABASE_URL_ENV`], the file named by [`DATABASE_URL_FILE_ENV`]
    /// (trimmed), and finally the SQLite file [`DEFAULT_SQLITE_PATH`].
    ///
    /// # Errors
    /// [`Error::SecretFile`] if the `_FILE` variable names an unreadable file;
    /// [`Error::InvalidUrl`] if the value found is not a usable URL.
    pub fn resolve(explicit: Option<&str>) -> Result<Self> {
        Self::resolve_from(explicit, |name| std::env::var_os(name))
    }

    /// [`DatabaseUrl::resolve`] with the environment given as a lookup function (for tests and
    /// for callers with their own configuration source).
    ///
    /// # Errors
    /// As [`DatabaseUrl::resolve`].
    pub fn resolve_from(
        explicit: Option<&str>,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self> {
        if let Some(text) = explicit {
            return Self::parse(text);
        }
        if let Some(text) = env(DATABASE_URL_ENV).and_then(|v| v.into_string().ok())
            && !text.trim().is_empty()
        {
            return Self::parse(&text);
        }
        if let Some(path) = env(DATABASE_URL_FILE_ENV) {
            let path = PathBuf::from(path);
            let text = std::fs::read_to_string(&path).map_err(|source| Error::SecretFile {
                var: DATABASE_URL_FILE_ENV,
                path: path.clone(),
                source,
            })?;
            return Self::parse(&text);
        }
        Self::parse(DEFAULT_SQLITE_PATH)
    }

    /// Which backend this URL selects.
    #[must_use]
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// The printable, redacted form.
    #[must_use]
    pub fn redacted(&self) -> RedactedUrl {
        RedactedUrl::new(&self.url)
    }

    /// The URL with its password. Only for handing to a driver; never log it.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.url
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.redacted(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_userinfo_password() {
        let url = RedactedUrl::new("postgres://app:s3cr3t@db.internal:5432/trade?sslmode=require");
        assert_eq!(
            url.to_string(),
            "postgres://app:***@db.internal:5432/trade?sslmode=require"
        );
    }

    #[test]
    fn redacts_password_query_parameter() {
        let url = RedactedUrl::new("postgres://db/trade?user=app&password=s3cr3t");
        assert_eq!(url.to_string(), "postgres://db/trade?user=app&password=***");
    }

    #[test]
    fn url_without_password_is_unchanged() {
        let url = RedactedUrl::new("postgres://postgres@127.0.0.1:5432/test");
        assert_eq!(url.to_string(), "postgres://postgres@127.0.0.1:5432/test");
    }

    #[test]
    fn debug_of_database_url_hides_password() {
        let url = DatabaseUrl::parse("postgresql://u:hunter2@h/db").unwrap();
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(url.backend(), BackendKind::Postgres);
    }

    #[test]
    fn resolution_order_is_flag_env_file_default() {
        let dir = std::env::temp_dir().join(format!("tp-url-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("db-url");
        std::fs::write(&secret, "postgres://app:fromfile@db/trade\n").unwrap();
        let env = |url: Option<&str>, file: Option<&std::path::Path>| {
            let url = url.map(std::ffi::OsString::from);
            let file = file.map(|p| p.as_os_str().to_owned());
            move |name: &str| match name {
                DATABASE_URL_ENV => url.clone(),
                DATABASE_URL_FILE_ENV => file.clone(),
                _ => None,
            }
        };
        let flag = DatabaseUrl::resolve_from(Some("x.db"), env(Some("postgres://e/db"), None));
        assert_eq!(flag.unwrap().expose_secret(), "sqlite://x.db");
        let from_env = DatabaseUrl::resolve_from(None, env(Some("postgres://e/db"), Some(&secret)));
        assert_eq!(from_env.unwrap().expose_secret(), "postgres://e/db");
        let from_file = DatabaseUrl::resolve_from(None, env(None, Some(&secret))).unwrap();
        assert_eq!(
            from_file.expose_secret(),
            "postgres://app:fromfile@db/trade"
        );
        assert!(!from_file.to_string().contains("fromfile"));
        let default = DatabaseUrl::resolve_from(None, env(None, None)).unwrap();
        assert_eq!(default.expose_secret(), "sqlite://tradepulse.db");
        let missing = dir.join("missing");
        let err = DatabaseUrl::resolve_from(None, env(None, Some(&missing))).unwrap_err();
        assert!(matches!(err, Error::SecretFile { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn plain_path_is_sqlite() {
        let url = DatabaseUrl::parse("data/tp.db").unwrap();
        assert_eq!(url.backend(), BackendKind::Sqlite);
        assert_eq!(url.expose_secret(), "sqlite://data/tp.db");
    }

    #[test]
    fn unknown_scheme_is_rejected_without_leaking() {
        let err = DatabaseUrl::parse("mysql://root:topsecret@h/db").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unsupported scheme"), "{text}");
        assert!(!text.contains("topsecret"), "{text}");
    }
}
