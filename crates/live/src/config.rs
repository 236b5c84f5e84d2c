//! Reading YAML configs of live services: typed structs with `deny_unknown_fields`, errors
//! that name the file, line, column and dotted key.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not valid YAML for the schema (unknown key, wrong type, missing key).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 if unknown).
        line: usize,
        /// 1-based column (0 if unknown).
        column: usize,
        /// What is wrong, starting with the dotted key.
        message: String,
    },
    /// Well-formed but inconsistent values.
    #[error("{}: {field}: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key.
        field: String,
        /// What is wrong.
        reason: String,
    },
}

/// Largest accepted config file.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Reads and parses a YAML config file.
///
/// # Errors
/// [`ConfigError`] naming the file (and line, column and key for schema errors).
pub fn load_yaml<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_CONFIG_BYTES {
        return Err(ConfigError::Invalid {
            path: path.to_owned(),
            field: "(file)".into(),
            reason: format!("{size} bytes is larger than the {MAX_CONFIG_BYTES}-byte limit"),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    parse_yaml(&text, path)
}

/// Parses YAML config text; `path` is only used in messages.
///
/// # Errors
/// [`ConfigError::Yaml`] with the line, column and dotted key of the first problem.
pub fn parse_yaml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, ConfigError> {
    // serde_path_to_error adds the dotted key (`venue.binance.recv_window_ms`) that
    // serde-saphyr's message lacks; serde-saphyr gives the location.
    let mut key_path = String::new();
    let parsed = serde_saphyr::with_deserializer_from_str(text, |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            key_path = e.path().to_string();
            e.into_inner()
        })
    });
    parsed.map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        let mut message: String = e
            .without_snippet()
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        if !key_path.is_empty() && key_path != "." {
            message = format!("{key_path}: {message}");
        }
        ConfigError::Yaml {
            path: path.to_owned(),
            line: line as usize,
            column: column as usize,
            message,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "fields are read through Debug in the test")]
    struct Demo {
        name: String,
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code, reason = "fields are read through Debug in the test")]
    struct Inner {
        port: u16,
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let text = "name: x\ninner:\n  port: 80\n  prot: 1\n";
        let err = parse_yaml::<Demo>(text, Path::new("exec.yaml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.starts_with("exec.yaml:4:3: inner"), "{err}");
        assert!(err.contains("unknown field `prot`"), "{err}");
        let ok: Demo = parse_yaml("name: x\ninner:\n  port: 80\n", Path::new("exec.yaml"))
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(ok.inner.port, 80);
    }
}
