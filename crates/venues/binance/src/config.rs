//! [`BinanceConfig`]: which Binance (testnet, production, or a local fake) and how to talk to it.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::Error;

/// Which Binance deployment the endpoints belong to. Staging configs use `testnet`; a config that
/// names `production` is refused by environments that do not allow live trading (the caller
/// checks [`BinanceConfig::is_production`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinanceEnvironment {
    /// `testnet.binance.vision`: sandbox keys, fake money.
    Testnet,
    /// `api.binance.com`: live keys, real money.
    Production,
    /// Explicit URLs (a local fake Binance); all three URLs must be given.
    Custom,
}

/// Endpoints and client settings. Every field but `environment` has a default; URLs default to the
/// environment's documented base endpoints.
///
/// ```
/// let yaml = "environment: testnet\nrecv_window_ms: 3000\n";
/// let config: tradepulse_venue_binance::BinanceConfig = serde_saphyr::from_str(yaml)?;
/// let endpoints = config.endpoints()?;
/// assert_eq!(endpoints.rest.as_str(), "https://testnet.binance.vision/");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BinanceConfig {
    /// Testnet, production or custom.
    pub environment: BinanceEnvironment,
    /// REST base URL (without `/api/v3`).
    #[serde(default)]
    pub rest_url: Option<String>,
    /// WebSocket API URL (`…/ws-api/v3`): trading session and user-data subscription.
    #[serde(default)]
    pub ws_api_url: Option<String>,
    /// Market-stream base URL (without `/stream` or `/ws`).
    #[serde(default)]
    pub stream_url: Option<String>,
    /// `recvWindow` sent with signed requests, in ms (Binance: default 5000, maximum 60000).
    #[serde(default = "default_recv_window_ms")]
    pub recv_window_ms: u32,
    /// Deadline of one HTTP request, in ms.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Deadline of a WebSocket connect and of each WebSocket API answer, in ms.
    #[serde(default = "default_ws_timeout_ms")]
    pub ws_timeout_ms: u64,
    /// A WebSocket that delivers nothing (not even the server's 20-second ping) for this long is
    /// considered dead and reconnected, in ms.
    #[serde(default = "default_ws_idle_timeout_ms")]
    pub ws_idle_timeout_ms: u64,
    /// Attempts per request for transient failures (1 = no retry).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Longest `Retry-After` the client waits out by itself before returning the rate-limit error
    /// to the caller, in ms.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// First reconnect delay of the streams, doubled up to `reconnect_max_ms`, in ms.
    #[serde(default = "default_reconnect_min_ms")]
    pub reconnect_min_ms: u64,
    /// Longest reconnect delay of the streams, in ms.
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
}

fn default_recv_window_ms() -> u32 {
    5_000
}
fn default_request_timeout_ms() -> u64 {
    10_000
}
fn default_ws_timeout_ms() -> u64 {
    10_000
}
fn default_ws_idle_timeout_ms() -> u64 {
    // The server pings every 20 s; three missed pings mean the connection is gone.
    60_000
}
fn default_max_attempts() -> u32 {
    3
}
fn default_max_backoff_ms() -> u64 {
    10_000
}
fn default_reconnect_min_ms() -> u64 {
    200
}
fn default_reconnect_max_ms() -> u64 {
    10_000
}

/// The three base URLs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base, e.g. `https://api.binance.com/`.
    pub rest: Url,
    /// WebSocket API, e.g. `wss://ws-api.binance.com:443/ws-api/v3`.
    pub ws_api: Url,
    /// Market streams base, e.g. `wss://stream.binance.com:9443/`.
    pub stream: Url,
}

const PRODUCTION: (&str, &str, &str) = (
    "https://api.binance.com",
    "wss://ws-api.binance.com:443/ws-api/v3",
    "wss://stream.binance.com:9443",
);
const TESTNET: (&str, &str, &str) = (
    "https://testnet.binance.vision",
    "wss://ws-api.testnet.binance.vision/ws-api/v3",
    "wss://stream.testnet.binance.vision",
);

/// Hosts of the live venue: a config naming one of these is live trading whatever its
/// `environment` says.
const PRODUCTION_HOSTS: [&str; 10] = [
    "api.binance.com",
    "data-api.binance.vision",
    "api-gcp.binance.com",
    "api1.binance.com",
    "api2.binance.com",
    "api3.binance.com",
    "api4.binance.com",
    "ws-api.binance.com",
    "stream.binance.com",
    "data-stream.binance.vision",
];

impl BinanceConfig {
    /// A config for explicit URLs (a local fake), with default settings.
    #[must_use]
    pub fn custom(rest_url: &str, ws_api_url: &str, stream_url: &str) -> Self {
        Self {
            environment: BinanceEnvironment::Custom,
            rest_url: Some(rest_url.to_owned()),
            ws_api_url: Some(ws_api_url.to_owned()),
            stream_url: Some(stream_url.to_owned()),
            recv_window_ms: default_recv_window_ms(),
            request_timeout_ms: default_request_timeout_ms(),
            ws_timeout_ms: default_ws_timeout_ms(),
            ws_idle_timeout_ms: default_ws_idle_timeout_ms(),
            max_attempts: default_max_attempts(),
            max_backoff_ms: default_max_backoff_ms(),
            reconnect_min_ms: default_reconnect_min_ms(),
            reconnect_max_ms: default_reconnect_max_ms(),
        }
    }

    /// Validates the settings and resolves the URLs.
    ///
    /// # Errors
    /// [`Error::Config`] if a URL does not parse or has the wrong scheme, a `custom` environment
    /// lacks a URL, or `recv_window_ms` is outside 1..=60000.
    pub fn endpoints(&self) -> Result<Endpoints, Error> {
        if !(1..=60_000).contains(&self.recv_window_ms) {
            return Err(Error::Config(format!(
                "recv_window_ms must be within 1..=60000 (Binance's maximum), got {}",
                self.recv_window_ms
            )));
        }
        if self.max_attempts == 0 {
            return Err(Error::Config("max_attempts must be at least 1".to_owned()));
        }
        // A zero delay would reconnect (and backfill over REST) in a tight loop.
        if self.reconnect_min_ms < 10 {
            return Err(Error::Config(format!(
                "reconnect_min_ms must be at least 10, got {}",
                self.reconnect_min_ms
            )));
        }
        let defaults = match self.environment {
            BinanceEnvironment::Production => Some(PRODUCTION),
            BinanceEnvironment::Testnet => Some(TESTNET),
            BinanceEnvironment::Custom => None,
        };
        let pick = |given: &Option<String>, default: Option<&str>, field: &str| {
            given
                .as_deref()
                .or(default)
                .ok_or_else(|| {
                    Error::Config(format!("{field} is required when environment is custom"))
                })
                .and_then(|text| {
                    Url::parse(text)
                        .map_err(|e| Error::Config(format!("{field}: '{text}' is not a URL: {e}")))
                })
        };
        let rest = pick(&self.rest_url, defaults.map(|d| d.0), "rest_url")?;
        let ws_api = pick(&self.ws_api_url, defaults.map(|d| d.1), "ws_api_url")?;
        let stream = pick(&self.stream_url, defaults.map(|d| d.2), "stream_url")?;
        for (field, url, schemes) in [
            ("rest_url", &rest, ["http", "https"]),
            ("ws_api_url", &ws_api, ["ws", "wss"]),
            ("stream_url", &stream, ["ws", "wss"]),
        ] {
            if !schemes.contains(&url.scheme()) {
                return Err(Error::Config(format!(
                    "{field}: scheme must be {} or {}, got '{url}'",
                    schemes[0], schemes[1]
                )));
            }
        }
        Ok(Endpoints {
            rest,
            ws_api,
            stream,
        })
    }

    /// True if any endpoint is a live Binance host (or the environment is `production`).
    ///
    /// # Errors
    /// As [`BinanceConfig::endpoints`].
    pub fn is_production(&self) -> Result<bool, Error> {
        let endpoints = self.endpoints()?;
        Ok(self.environment == BinanceEnvironment::Production
            || [&endpoints.rest, &endpoints.ws_api, &endpoints.stream]
                .iter()
                .any(|url| {
                    url.host_str()
                        .is_some_and(|h| PRODUCTION_HOSTS.contains(&h))
                }))
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
    pub(crate) fn ws_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_timeout_ms)
    }
    pub(crate) fn ws_idle_timeout(&self) -> Duration {
        Duration::from_millis(self.ws_idle_timeout_ms)
    }
    pub(crate) fn max_backoff(&self) -> Duration {
        Duration::from_millis(self.max_backoff_ms)
    }
    pub(crate) fn reconnect_delays(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.reconnect_min_ms),
            Duration::from_millis(self.reconnect_max_ms.max(self.reconnect_min_ms)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_environment() {
        let cfg: BinanceConfig = serde_saphyr::from_str("environment: production\n").unwrap();
        let e = cfg.endpoints().unwrap();
        assert_eq!(e.ws_api.as_str(), "wss://ws-api.binance.com/ws-api/v3"); // the default port is dropped
        assert!(cfg.is_production().unwrap());
        let test: BinanceConfig = serde_saphyr::from_str("environment: testnet\n").unwrap();
        assert!(!test.is_production().unwrap());
        assert_eq!(test.recv_window_ms, 5000);
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(
            serde_saphyr::from_str::<BinanceConfig>("environment: testnet\nrecv: 1\n").is_err()
        );
        let mut cfg = BinanceConfig::custom(
            "http://127.0.0.1:1",
            "ws://127.0.0.1:1/ws-api/v3",
            "ws://127.0.0.1:1",
        );
        assert!(cfg.endpoints().is_ok());
        cfg.recv_window_ms = 60_001;
        assert!(cfg.endpoints().is_err());
        let custom: BinanceConfig = serde_saphyr::from_str("environment: custom\n").unwrap();
        assert!(matches!(custom.endpoints(), Err(Error::Config(m)) if m.contains("rest_url")));
        let sneaky = BinanceConfig::custom("https://api.binance.com", "ws://x/ws-api/v3", "ws://x");
        assert!(sneaky.is_production().unwrap());
    }
}
