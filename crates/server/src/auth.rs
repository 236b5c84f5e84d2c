//! Bearer tokens with roles, stored hashed (`api_tokens`: SHA-256 of the token, never the
//! token), checked with a short cache so a busy API does not read the store per request.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use foldhash::{HashMap, HashMapExt};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tradepulse_execution::{Clock, WallClock};
use tradepulse_store::{NewApiToken, Store, TokenHash};

/// What a token may do. Ordered: each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read orders, positions, balances, the stream.
    Viewer,
    /// Also submit and cancel orders.
    Trader,
    /// Also the kill switch.
    Admin,
}

impl Role {
    /// `viewer`, `trader`, `admin` (stored as the token's scopes).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Trader => "trader",
            Self::Admin => "admin",
        }
    }

    /// The role named in a stored token's scopes (the highest one listed).
    #[must_use]
    pub fn from_scopes(scopes: &str) -> Option<Self> {
        scopes
            .split_whitespace()
            .filter_map(|s| match s {
                "viewer" => Some(Self::Viewer),
                "trader" => Some(Self::Trader),
                "admin" => Some(Self::Admin),
                _ => None,
            })
            .max()
    }
}

/// Who a request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name (the audit log's actor).
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// The SHA-256 hash of a token, as stored.
#[must_use]
pub fn hash_token(token: &str) -> TokenHash {
    let digest = Sha256::digest(token.as_bytes());
    // 64 hex digits always parse.
    TokenHash::from_hex(&hex::encode(digest)).unwrap_or_else(|_| unreachable!())
}

/// A new random token (32 bytes, hex) for `tradepulse token create`-style tooling.
///
/// # Errors
/// If the operating system's random source fails.
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("tp_{}", hex::encode(bytes)))
}

/// Registers `token` under `name` with `role` unless a token of that hash exists already.
///
/// # Errors
/// Store failures; a name taken by another token.
pub async fn register_token(
    store: &Store,
    name: &str,
    role: Role,
    token: &str,
) -> Result<(), tradepulse_store::Error> {
    let hash = hash_token(token);
    if store.api_token_by_hash(&hash).await?.is_some() {
        return Ok(());
    }
    store
        .create_api_token(&NewApiToken {
            name: name.to_owned(),
            hash,
            scopes: role.as_str().to_owned(),
            created_at: WallClock.now(),
            expires_at: None,
        })
        .await
        .map(|_| ())
}

/// Checks bearer tokens against the store, caching answers (positive and negative) for a few
/// seconds: a revoked token stops working within [`Authenticator::CACHE_TTL`].
#[derive(Debug, Clone)]
pub struct Authenticator {
    store: Store,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
}

/// A token hash's answer (`None`: unknown, revoked or expired) and when it was fetched.
type Cached = (Option<Caller>, Instant);

/// Why a request is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No or an unknown token.
    Unauthenticated,
    /// The token's role is too low.
    Forbidden,
    /// The store could not be asked.
    Unavailable,
}

/// The WebSocket subprotocol a browser offers beside [`WS_TOKEN_PREFIX`]`<token>`, and the one the
/// server selects: browsers cannot set headers on a WebSocket, and a token in the URL would end up
/// in access logs.
pub const WS_PROTOCOL: &str = "tradepulse.v1";
/// The prefix of the subprotocol entry that carries a WebSocket client's token.
pub const WS_TOKEN_PREFIX: &str = "tradepulse.bearer.";

/// The request's bearer token: `Authorization: Bearer <token>`, or, on a WebSocket upgrade only,
/// a `Sec-WebSocket-Protocol` entry `tradepulse.bearer.<token>`.
#[must_use]
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    use axum::http::header;
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "));
    let upgrade = headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let from_protocol = || {
        headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .find_map(|p| p.trim().strip_prefix(WS_TOKEN_PREFIX))
    };
    from_header
        .or_else(|| upgrade.then(from_protocol).flatten())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

impl Authenticator {
    /// How long an answer is reused.
    pub const CACHE_TTL: Duration = Duration::from_secs(5);

    /// Checks tokens against `store`.
    #[must_use]
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The caller of a bearer token (see [`bearer_token`]), if it may act as `needed`.
    ///
    /// # Errors
    /// [`AuthError`].
    pub async fn check(&self, token: Option<&str>, needed: Role) -> Result<Caller, AuthError> {
        let token = token.ok_or(AuthError::Unauthenticated)?;
        let hash = hash_token(token);
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(hash.as_str())
            .filter(|(_, at)| at.elapsed() < Self::CACHE_TTL)
            .map(|(c, _)| c.clone());
        let caller = match cached {
            Some(c) => c,
            None => {
                let found = self
                    .store
                    .api_token_by_hash(&hash)
                    .await
                    .map_err(|_| AuthError::Unavailable)?;
                let now = WallClock.now();
                let caller = found.filter(|t| t.is_active(now)).and_then(|t| {
                    Role::from_scopes(&t.scopes).map(|role| Caller { name: t.name, role })
                });
                let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
                if cache.len() > 10_000 {
                    cache.clear();
                }
                cache.insert(hash.as_str().to_owned(), (caller.clone(), Instant::now()));
                caller
            }
        };
        let caller = caller.ok_or(AuthError::Unauthenticated)?;
        if caller.role < needed {
            return Err(AuthError::Forbidden);
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parsed_from_scopes() {
        assert!(Role::Admin > Role::Trader && Role::Trader > Role::Viewer);
        assert_eq!(Role::from_scopes("viewer trader"), Some(Role::Trader));
        assert_eq!(Role::from_scopes("other"), None);
        let token = new_token().unwrap_or_default();
        assert_eq!(token.len(), 67);
        assert_eq!(hash_token("abc").as_str().len(), 64);
        assert_ne!(hash_token("abc"), hash_token("abd"));
    }

    #[test]
    fn the_token_comes_from_the_header_or_a_websocket_subprotocol_only() {
        use axum::http::{HeaderMap, HeaderValue, header};
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  abc "),
        );
        assert_eq!(bearer_token(&headers), Some("abc"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&headers), None);
        headers.remove(header::AUTHORIZATION);
        headers.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("tradepulse.v1, tradepulse.bearer.xyz"),
        );
        // Not an upgrade: a plain request cannot authenticate with the subprotocol header.
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert_eq!(bearer_token(&headers), Some("xyz"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer_token(&headers), Some("abc"));
    }
}
