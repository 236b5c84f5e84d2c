//! Redis: market-data streams ([`MarketStream`], [`StreamConsumer`]), kill-switch broadcast
//! ([`KillSwitchBus`]) and stateful-indicator checkpoints ([`CheckpointStore`]).

mod checkpoint;
mod kill_switch;
mod stream;

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use checkpoint::CheckpointStore;
pub use kill_switch::{KillSwitchBus, KillSwitchSubscription};
pub use stream::{MarketStream, StreamConsumer, StreamEntry};

use crate::error::{Error, Result};
use crate::url::RedactedUrl;

/// Environment variable naming the Redis URL.
pub const REDIS_URL_ENV: &str = "TRADEPULSE_REDIS_URL";
/// Environment variable naming a file (a secret mount) that holds the Redis URL.
pub const REDIS_URL_FILE_ENV: &str = "TRADEPULSE_REDIS_URL_FILE";

/// How to reach Redis and which keys to use.
#[derive(Clone)]
pub struct RedisConfig {
    url: String,
    /// Every key and channel is `{key_prefix}:{name}` (isolates deployments and tests).
    pub key_prefix: String,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Give up on one command after this long (must exceed stream block times).
    pub response_timeout: Duration,
}

impl RedisConfig {
    /// `url` (e.g. `redis://:password@host:6379/0`) with prefix `tradepulse`, 3 s connect
    /// and 5 s response timeouts.
    #[must_use]
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            key_prefix: "tradepulse".to_owned(),
            connect_timeout: Duration::from_secs(3),
            response_timeout: Duration::from_secs(5),
        }
    }

    /// The configured Redis: `explicit`, else [`REDIS_URL_ENV`], else the file named by
    /// [`REDIS_URL_FILE_ENV`]; `None` when none is set (run without Redis: in-process bus).
    ///
    /// # Errors
    /// [`Error::SecretFile`] for an unreadable `_FILE`; [`Error::InvalidUrl`] for a URL that
    /// is not `redis://` or `rediss://`.
    pub fn resolve(explicit: Option<&str>) -> Result<Option<Self>> {
        let text = match explicit {
            Some(text) => Some(text.to_owned()),
            None => match std::env::var(REDIS_URL_ENV) {
                Ok(text) if !text.trim().is_empty() => Some(text),
                _ => match std::env::var_os(REDIS_URL_FILE_ENV) {
                    Some(path) => Some(std::fs::read_to_string(&path).map_err(|source| {
                        Error::SecretFile {
                            var: REDIS_URL_FILE_ENV,
                            path: path.into(),
                            source,
                        }
                    })?),
                    None => None,
                },
            },
        };
        let Some(text) = text else { return Ok(None) };
        let config = Self::new(text.trim());
        let lower = text.trim().to_ascii_lowercase();
        if !(lower.starts_with("redis://") || lower.starts_with("rediss://")) {
            return Err(Error::InvalidUrl {
                what: "redis",
                url: config.redacted_url(),
                reason: "expected redis://[:PASSWORD@]HOST[:PORT][/DB] or rediss://",
            });
        }
        config.client()?;
        Ok(Some(config))
    }

    /// The same server with another key prefix.
    #[must_use]
    pub fn with_prefix(mut self, prefix: &str) -> Self {
        prefix.clone_into(&mut self.key_prefix);
        self
    }

    /// The URL, password redacted.
    #[must_use]
    pub fn redacted_url(&self) -> RedactedUrl {
        RedactedUrl::new(&self.url)
    }

    pub(crate) fn key(&self, name: &str) -> String {
        format!("{}:{name}", self.key_prefix)
    }

    pub(crate) fn client(&self) -> Result<redis::Client> {
        redis::Client::open(self.url.as_str()).map_err(|_| Error::InvalidUrl {
            what: "redis",
            url: self.redacted_url(),
            reason: "not a valid redis:// URL",
        })
    }

    /// A reconnecting connection (the manager re-dials after the connection drops).
    pub(crate) async fn connect(&self) -> Result<ConnectionManager> {
        let client = self.client()?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.response_timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        tokio::time::timeout(
            self.connect_timeout,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        .map_err(|_| self.timeout("connect"))?
        .map_err(|e| Error::redis("connect", e))
    }

    pub(crate) fn timeout(&self, op: &'static str) -> Error {
        Error::RedisTimeout {
            op,
            url: self.redacted_url(),
            after: self.connect_timeout,
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.redacted_url())
            .field("key_prefix", &self.key_prefix)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_errors_hide_the_redis_password() {
        let config = RedisConfig::new("redis://:s3cret@cache:6379/0").with_prefix("p");
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("redis://:***@cache:6379/0"), "{shown}");
        assert_eq!(config.key("stream:x"), "p:stream:x");
        let err = RedisConfig::resolve(Some("http://u:s3cret@h")).unwrap_err();
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(
            RedisConfig::resolve(Some("redis://127.0.0.1:6379"))
                .unwrap()
                .is_some()
        );
    }
}
