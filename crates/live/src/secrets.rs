//! Secrets: values read from the environment or from `*_FILE` mounts (Kubernetes Secrets),
//! held in a redacting type, behind [`SecretSource`] so another backend (Vault) can be added
//! without touching the callers.

use std::fmt;
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};

/// A secret value. `Debug` and `Display` print `***`; the value is only reachable through
/// [`Secret::expose`], which callers use at the one place that needs it (signing, a header).
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    #[must_use]
    pub fn new(value: String) -> Self {
        Self(SecretString::from(value))
    }

    /// The value.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A secret could not be read. Messages name the variable or file, never the value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Neither `NAME` nor `NAME_FILE` is set.
    #[error("secret {name} is not set (set {name}, or {name}_FILE to a file holding it)")]
    Missing {
        /// The variable.
        name: String,
    },
    /// `NAME_FILE` names a file that cannot be read.
    #[error("cannot read secret file {} (from {name}_FILE)", path.display())]
    File {
        /// The variable (without `_FILE`).
        name: String,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Both `NAME` and `NAME_FILE` are set: which one wins would be a guess.
    #[error("both {name} and {name}_FILE are set; set only one")]
    Ambiguous {
        /// The variable.
        name: String,
    },
    /// The value is empty.
    #[error("secret {name} is empty")]
    Empty {
        /// The variable.
        name: String,
    },
    /// The name is set in two sources: which one wins would be a guess.
    #[error("secret {name} is set both in {first} and in {second}; set it in one place")]
    Conflict {
        /// The name.
        name: String,
        /// The first source (`vault`).
        first: &'static str,
        /// The second source (`the environment`).
        second: &'static str,
    },
    /// A backend failed (the Vault source).
    #[error("secret backend {backend}: {reason}")]
    Backend {
        /// Which backend.
        backend: &'static str,
        /// What failed (never the value).
        reason: String,
    },
}

/// Where secrets come from, by name (`BINANCE_API_KEY`). `Ok(None)` means "not configured
/// here": a caller may try another source or report [`SecretError::Missing`].
pub trait SecretSource: Send + Sync + fmt::Debug {
    /// The secret `name`, if this source has it.
    ///
    /// # Errors
    /// [`SecretError`] if the source has it but cannot read it.
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError>;

    /// The secret `name`, required.
    ///
    /// # Errors
    /// [`SecretError::Missing`] if the source does not have it, or as [`SecretSource::get`].
    fn require(&self, name: &str) -> Result<Secret, SecretError> {
        self.get(name)?.ok_or_else(|| SecretError::Missing {
            name: name.to_owned(),
        })
    }
}

/// `NAME` from the environment, or the content of the file named by `NAME_FILE` (one trailing
/// newline removed, as Kubernetes Secret files and `echo` leave one).
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvSecrets;

impl SecretSource for EnvSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        from_env(name, |var| std::env::var_os(var))
    }
}

/// [`EnvSecrets`]' rule over any environment (`lookup` reads one variable).
fn from_env(
    name: &str,
    lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Option<Secret>, SecretError> {
    let direct = lookup(name).map(|v| v.to_string_lossy().into_owned());
    let file = lookup(&format!("{name}_FILE")).map(PathBuf::from);
    let value = match (direct, file) {
        (Some(_), Some(_)) => {
            return Err(SecretError::Ambiguous {
                name: name.to_owned(),
            });
        }
        (Some(value), None) => value,
        (None, Some(path)) => {
            let mut text = std::fs::read_to_string(&path).map_err(|source| SecretError::File {
                name: name.to_owned(),
                path: path.clone(),
                source,
            })?;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            text
        }
        (None, None) => return Ok(None),
    };
    if value.is_empty() {
        return Err(SecretError::Empty {
            name: name.to_owned(),
        });
    }
    Ok(Some(Secret::new(value)))
}

/// Fixed secrets by name, for tests and for a source layered in front of another.
#[derive(Clone, Default)]
pub struct StaticSecrets(Vec<(String, Secret)>);

impl fmt::Debug for StaticSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_tuple("StaticSecrets").field(&names).finish()
    }
}

impl StaticSecrets {
    /// Adds a secret.
    #[must_use]
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.0
            .push((name.to_owned(), Secret::new(value.to_owned())));
        self
    }
}

impl SecretSource for StaticSecrets {
    fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self
            .0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_their_value() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?} {s}"), "Secret(***) ***");
        assert_eq!(s.expose(), "hunter2");
        let source = StaticSecrets::default().with("K", "hunter2");
        assert!(!format!("{source:?}").contains("hunter2"));
        assert!(matches!(
            source.require("OTHER"),
            Err(SecretError::Missing { .. })
        ));
    }

    #[test]
    fn file_mounts_are_read_without_the_trailing_newline() {
        let dir = tempfile::tempdir().unwrap_or_else(|_| unreachable!());
        let path = dir.path().join("key");
        std::fs::write(&path, "abc123\n").unwrap_or_else(|_| unreachable!());
        let env = |var: &str| (var == "KEY_FILE").then(|| path.clone().into_os_string());
        let secret = from_env("KEY", env).unwrap_or_else(|_| unreachable!());
        assert_eq!(
            secret.map(|s| s.expose().to_owned()).as_deref(),
            Some("abc123")
        );
        std::fs::write(&path, "").unwrap_or_else(|_| unreachable!());
        assert!(matches!(
            from_env("KEY", env),
            Err(SecretError::Empty { .. })
        ));
        let both = |var: &str| Some(std::ffi::OsString::from(var));
        assert!(matches!(
            from_env("KEY", both),
            Err(SecretError::Ambiguous { .. })
        ));
        let missing = from_env("KEY", |_| None).unwrap_or_else(|_| unreachable!());
        assert!(missing.is_none());
        let unreadable = |var: &str| (var == "KEY_FILE").then(|| "/nonexistent/key".into());
        let err = from_env("KEY", unreadable).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("cannot read secret file /nonexistent/key (from KEY_FILE)")
        );
    }
}
