//! [`Error`]: everything the adapter can fail with, grouped by what the caller should do
//! ([`ErrorClass`]): retry with the same client order id, fix the request, or halt.
//!
//! No variant carries a secret: request URLs are stripped from transport errors (their query holds
//! the signature and the account's parameters), and credentials never enter a message.

use std::time::Duration;

/// What the caller should do about an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Intermittent (network, timeout, venue overload, rate limit): retry later, with the **same**
    /// client order id. For a write whose outcome is unknown ([`Error::outcome_unknown`]), query
    /// the order before sending it again.
    Transient,
    /// The venue refused the request (filters, balance, unknown order, bad parameter): sending it
    /// again unchanged fails again.
    Rejected,
    /// Credentials, permissions, an IP ban or a protocol mismatch: stop trading and alert.
    Fatal,
}

impl ErrorClass {
    /// Lower-case name, usable as a metrics label.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Rejected => "rejected",
            Self::Fatal => "fatal",
        }
    }
}

/// A failed Binance call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request never got an HTTP answer (connect, TLS, reset).
    #[error("{endpoint}: transport error: {source}")]
    Transport {
        /// `METHOD /path`.
        endpoint: String,
        /// The cause, with the URL removed.
        #[source]
        source: reqwest::Error,
    },
    /// No answer within the deadline.
    #[error("{endpoint}: no answer within {after:?}")]
    Timeout {
        /// `METHOD /path` or the WebSocket step.
        endpoint: String,
        /// The deadline that passed.
        after: Duration,
    },
    /// HTTP 429 (request weight or order rate exceeded) or 418 (IP banned), or a request not sent
    /// because an earlier `Retry-After` has not passed yet.
    #[error("{endpoint}: rate limited (HTTP {status}), retry after {retry_after:?}")]
    RateLimited {
        /// `METHOD /path`.
        endpoint: String,
        /// 429 or 418 (0 when the request was held back locally).
        status: u16,
        /// Binance's `Retry-After`.
        retry_after: Duration,
        /// Binance's error code, when the body had one (-1003, -1015).
        code: Option<i32>,
    },
    /// Binance answered with an error payload `{"code": …, "msg": …}`.
    #[error("{endpoint}: Binance error {code} (HTTP {http_status}): {msg}")]
    Venue {
        /// `METHOD /path` or the WebSocket API method.
        endpoint: String,
        /// HTTP status (or the WebSocket API `status`).
        http_status: u16,
        /// Binance's error code, e.g. -1013, -2010.
        code: i32,
        /// Binance's message, e.g. `Filter failure: LOT_SIZE`.
        msg: String,
    },
    /// HTTP 5xx without a Binance error body: the execution status is unknown.
    #[error("{endpoint}: venue internal error (HTTP {http_status}); execution status unknown")]
    Server {
        /// `METHOD /path`.
        endpoint: String,
        /// The 5xx status.
        http_status: u16,
    },
    /// The answer was not the JSON Binance documents.
    #[error("{endpoint}: unexpected response: {reason}")]
    Decode {
        /// `METHOD /path` or the stream.
        endpoint: String,
        /// What did not parse.
        reason: String,
    },
    /// A WebSocket connection failed or closed.
    #[error("{endpoint}: WebSocket: {reason}")]
    WebSocket {
        /// The connection (user data, market data).
        endpoint: String,
        /// What happened.
        reason: String,
    },
    /// A request this adapter cannot express on Binance (e.g. a DAY order), or a bad value.
    #[error("unsupported request: {0}")]
    Unsupported(String),
    /// A signed call without credentials, or a key that cannot be used.
    #[error("credentials: {0}")]
    Credentials(String),
    /// A configuration value is invalid.
    #[error("config: {0}")]
    Config(String),
    /// A venue value does not fit the model (bad decimal, unknown enum value).
    #[error("mapping {what}: {reason}")]
    Mapping {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// Binance codes after which a retry can succeed (documented in `errors.md` as server-side,
/// overload or rate issues).
const TRANSIENT_CODES: [i32; 7] = [
    -1000, // UNKNOWN
    -1001, // DISCONNECTED: internal error, try again
    -1003, // TOO_MANY_REQUESTS
    -1006, // UNEXPECTED_RESP: execution status unknown
    -1007, // TIMEOUT: execution status unknown
    -1008, // SERVER_BUSY
    -1015, // TOO_MANY_ORDERS
];

/// Codes that mean the credentials or permissions are wrong: retrying cannot help.
const FATAL_CODES: [i32; 5] = [
    -1002, // UNAUTHORIZED
    -1022, // INVALID_SIGNATURE
    -2014, // BAD_API_KEY_FMT
    -2015, // REJECTED_MBX_KEY
    -1016, // SERVICE_SHUTTING_DOWN
];

impl Error {
    /// What the caller should do.
    #[must_use]
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } | Self::Server { .. } => {
                ErrorClass::Transient
            }
            Self::WebSocket { .. } => ErrorClass::Transient,
            Self::RateLimited { status, .. } => {
                if *status == 418 {
                    ErrorClass::Fatal
                } else {
                    ErrorClass::Transient
                }
            }
            Self::Venue {
                code, http_status, ..
            } => {
                if TRANSIENT_CODES.contains(code) || *http_status >= 500 {
                    ErrorClass::Transient
                } else if *code == -1021 {
                    // Timestamp outside recvWindow: transient once the clock is resynchronised
                    // (the client does that itself and retries once).
                    ErrorClass::Transient
                } else if FATAL_CODES.contains(code) {
                    ErrorClass::Fatal
                } else {
                    ErrorClass::Rejected
                }
            }
            Self::Decode { .. } | Self::Credentials(_) | Self::Config(_) => ErrorClass::Fatal,
            Self::Unsupported(_) | Self::Mapping { .. } => ErrorClass::Rejected,
        }
    }

    /// True when a write may have been executed although it failed: the request may have reached
    /// the matching engine (timeout, transport error after sending, HTTP 5xx, -1006/-1007).
    /// Before re-sending such an order, query it by its client order id.
    #[must_use]
    pub fn outcome_unknown(&self) -> bool {
        match self {
            Self::Transport { source, .. } => !source.is_connect(),
            Self::Timeout { .. } | Self::Server { .. } => true,
            Self::Venue {
                code, http_status, ..
            } => matches!(code, -1006 | -1007) || *http_status >= 500,
            _ => false,
        }
    }

    /// Binance's error code, if the venue sent one.
    #[must_use]
    pub fn venue_code(&self) -> Option<i32> {
        match self {
            Self::Venue { code, .. } => Some(*code),
            Self::RateLimited { code, .. } => *code,
            _ => None,
        }
    }

    /// How long Binance asked us to wait, for rate-limit errors.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// A stable label for metrics: the Binance code (`-2010`), or the variant name.
    #[must_use]
    pub fn reason_label(&self) -> String {
        match self {
            Self::Venue { code, .. } => code.to_string(),
            Self::RateLimited { status, .. } => format!("http_{status}"),
            Self::Transport { .. } => "transport".to_owned(),
            Self::Timeout { .. } => "timeout".to_owned(),
            Self::Server { http_status, .. } => format!("http_{http_status}"),
            Self::Decode { .. } => "decode".to_owned(),
            Self::WebSocket { .. } => "websocket".to_owned(),
            Self::Unsupported(_) => "unsupported".to_owned(),
            Self::Credentials(_) => "credentials".to_owned(),
            Self::Config(_) => "config".to_owned(),
            Self::Mapping { .. } => "mapping".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(code: i32, http_status: u16) -> Error {
        Error::Venue {
            endpoint: "POST /api/v3/order".to_owned(),
            http_status,
            code,
            msg: String::new(),
        }
    }

    #[test]
    fn classifies_documented_codes() {
        assert_eq!(venue(-1013, 400).class(), ErrorClass::Rejected);
        assert_eq!(venue(-2010, 400).class(), ErrorClass::Rejected);
        assert_eq!(venue(-2011, 400).class(), ErrorClass::Rejected);
        assert_eq!(venue(-2013, 400).class(), ErrorClass::Rejected);
        assert_eq!(venue(-1021, 400).class(), ErrorClass::Transient);
        assert_eq!(venue(-1007, 408).class(), ErrorClass::Transient);
        assert_eq!(venue(-1001, 500).class(), ErrorClass::Transient);
        assert_eq!(venue(-1022, 400).class(), ErrorClass::Fatal);
        assert_eq!(venue(-2015, 401).class(), ErrorClass::Fatal);
        assert!(venue(-1007, 408).outcome_unknown());
        assert!(!venue(-2010, 400).outcome_unknown());
        assert_eq!(venue(-2010, 400).reason_label(), "-2010");
    }

    #[test]
    fn rate_limits_are_transient_bans_fatal() {
        let limited = |status| Error::RateLimited {
            endpoint: "GET /api/v3/account".to_owned(),
            status,
            retry_after: Duration::from_secs(2),
            code: Some(-1003),
        };
        assert_eq!(limited(429).class(), ErrorClass::Transient);
        assert_eq!(limited(418).class(), ErrorClass::Fatal);
        assert_eq!(limited(429).retry_after(), Some(Duration::from_secs(2)));
    }
}
