//! Request security as Binance documents it: the API key, the signature (HMAC-SHA256 hex,
//! case-insensitive; Ed25519 base64) and the timing rule
//! `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`.

use base64::Engine as _;
use ed25519_dalek::Verifier as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use crate::FakeKey;
use crate::engine::{ApiError, Engine};

/// Checks the API key, then the signature over `payload`, then the timestamp.
pub(crate) fn verify(
    engine: &mut Engine,
    api_key: Option<&str>,
    payload: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    recv_window: Option<&str>,
) -> Result<(), ApiError> {
    let api_key = api_key.ok_or_else(|| ApiError::new(401, -2014, "API-key format invalid."))?;
    let key = engine
        .config
        .keys
        .iter()
        .find(|k| k.api_key == api_key)
        .map(|k| k.key.clone())
        .ok_or_else(|| {
            ApiError::new(
                401,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            )
        })?;
    let signature = signature.ok_or_else(|| {
        ApiError::new(
            400,
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        )
    })?;
    if !signature_ok(&key, payload.as_bytes(), signature) {
        engine.stats.signature_rejections += 1;
        return Err(ApiError::new(
            400,
            -1022,
            "Signature for this request is not valid.",
        ));
    }
    let timestamp = timestamp
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::new(
                400,
                -1102,
                "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
            )
        })?;
    // Microsecond timestamps are accepted too (16 digits).
    let timestamp_ms = if timestamp > 10_000_000_000_000 {
        timestamp / 1000
    } else {
        timestamp
    };
    let recv_window: f64 = match recv_window {
        Some(text) => text.parse().map_err(|_| {
            ApiError::new(
                400,
                -1102,
                "Mandatory parameter 'recvWindow' was not sent, was empty/null, or malformed.",
            )
        })?,
        None => 5000.0,
    };
    if recv_window > 60_000.0 || recv_window <= 0.0 {
        return Err(ApiError::new(
            400,
            -1130,
            "Data sent for parameter 'recvWindow' is not valid.",
        ));
    }
    let server = engine.now_ms();
    if timestamp_ms >= server + 1000 {
        engine.stats.timestamp_rejections += 1;
        return Err(ApiError::new(
            400,
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if (server - timestamp_ms) as f64 > recv_window {
        engine.stats.timestamp_rejections += 1;
        return Err(ApiError::new(
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

fn signature_ok(key: &FakeKey, payload: &[u8], signature: &str) -> bool {
    match key {
        FakeKey::Hmac(secret) => {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
                return false;
            };
            mac.update(payload);
            // HMAC signatures are not case-sensitive.
            hex::decode(signature.to_ascii_lowercase())
                .is_ok_and(|bytes| mac.verify_slice(&bytes).is_ok())
        }
        FakeKey::Ed25519(public) => {
            let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
                return false;
            };
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(signature) else {
                return false;
            };
            let Ok(signature) = ed25519_dalek::Signature::from_slice(&bytes) else {
                return false;
            };
            key.verify(payload, &signature).is_ok()
        }
    }
}

/// REST: the payload is the query string as sent, without its `signature` pair, followed by the
/// body. Returns the payload and the (percent-decoded) signature.
pub(crate) fn rest_payload(raw_query: &str, body: &str) -> (String, Option<String>) {
    let mut signature = None;
    let mut kept = Vec::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        match pair.strip_prefix("signature=") {
            Some(value) => {
                signature = Some(
                    url::form_urlencoded::parse(format!("s={value}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default(),
                );
            }
            None => kept.push(pair),
        }
    }
    let mut payload = kept.join("&");
    payload.push_str(body);
    (payload, signature)
}

/// The WebSocket API payload: parameters but `signature`, sorted, `name=value` joined by `&`.
pub(crate) fn ws_payload(params: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut pairs: Vec<(&String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "signature")
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_binance_documented_hmac_example() {
        let key = FakeKey::Hmac(
            "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".into(),
        );
        let query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature=C8DB56825AE71D6D79447849E617115F4A920FA2ACDCAB2B053C4B2838BD6B71";
        let (payload, signature) = rest_payload(query, "");
        assert!(signature_ok(&key, payload.as_bytes(), &signature.unwrap()));
        let (tampered, signature) = rest_payload(&query.replace("price=0.1", "price=0.2"), "");
        assert!(!signature_ok(
            &key,
            tampered.as_bytes(),
            &signature.unwrap()
        ));
    }
}
