//! [`Credentials`]: the API key and the signing secret (an HMAC secret key or an Ed25519 private
//! key), held in redacting types. Nothing here implements `Display`, and `Debug` prints only the
//! key type.
//!
//! Signing follows Binance's "SIGNED endpoint security": HMAC-SHA256 of the payload as a hex
//! string, or an Ed25519 signature of the payload as standard base64. For REST the payload is the
//! query string exactly as sent (concatenated with the body, which this client never uses); for the
//! WebSocket API it is the request's parameters sorted by name, `name=value` joined with `&`, not
//! percent-encoded ([`ws_api_payload`]).

use std::fmt;

use base64::Engine as _;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::Sha256;

use crate::Error;

/// Which kind of API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// A shared secret (Binance marks HMAC keys as deprecated but still supports them).
    Hmac,
    /// An Ed25519 key pair (Binance's recommendation; required for `session.logon`).
    Ed25519,
}

enum SigningSecret {
    Hmac(SecretString),
    // Boxed so the key material is not copied when `Credentials` moves; `SigningKey` zeroizes on
    // drop.
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// An API key and its signing secret.
pub struct Credentials {
    api_key: SecretString,
    secret: SigningSecret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &"[redacted]")
            .field("key_type", &self.key_type())
            .finish()
    }
}

impl Credentials {
    /// An HMAC API key and its secret key.
    #[must_use]
    pub fn hmac(api_key: SecretString, secret_key: SecretString) -> Self {
        Self {
            api_key,
            secret: SigningSecret::Hmac(secret_key),
        }
    }

    /// An Ed25519 API key and its private key in PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), as
    /// Binance's key generator writes it. Encrypted PEM files are not supported.
    ///
    /// # Errors
    /// [`Error::Credentials`] if the PEM is not an unencrypted Ed25519 PKCS#8 private key. The
    /// message never contains the key.
    pub fn ed25519_pem(
        api_key: SecretString,
        private_key_pem: &SecretString,
    ) -> Result<Self, Error> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(private_key_pem.expose_secret().trim())
            .map_err(|_| {
                Error::Credentials(
                    "the Ed25519 private key is not an unencrypted PKCS#8 PEM \
                     (-----BEGIN PRIVATE KEY-----)"
                        .to_owned(),
                )
            })?;
        Ok(Self {
            api_key,
            secret: SigningSecret::Ed25519(Box::new(key)),
        })
    }

    /// An Ed25519 API key from the private key's 32-byte seed (for tests and key stores that keep
    /// the raw seed).
    #[must_use]
    pub fn ed25519_seed(api_key: SecretString, seed: &[u8; 32]) -> Self {
        Self {
            api_key,
            secret: SigningSecret::Ed25519(Box::new(ed25519_dalek::SigningKey::from_bytes(seed))),
        }
    }

    /// HMAC or Ed25519.
    #[must_use]
    pub fn key_type(&self) -> KeyType {
        match self.secret {
            SigningSecret::Hmac(_) => KeyType::Hmac,
            SigningSecret::Ed25519(_) => KeyType::Ed25519,
        }
    }

    /// The Ed25519 public key (32 bytes), to register with Binance or a fake; `None` for HMAC.
    #[must_use]
    pub fn ed25519_public_key(&self) -> Option<[u8; 32]> {
        match &self.secret {
            SigningSecret::Ed25519(key) => Some(key.verifying_key().to_bytes()),
            SigningSecret::Hmac(_) => None,
        }
    }

    /// The API key, for the `X-MBX-APIKEY` header and WebSocket API `apiKey` parameter only.
    pub(crate) fn api_key(&self) -> &str {
        self.api_key.expose_secret()
    }

    /// Signs `payload`: lower-case hex HMAC-SHA256, or base64 Ed25519.
    #[must_use]
    pub fn sign(&self, payload: &[u8]) -> String {
        match &self.secret {
            SigningSecret::Hmac(secret) => {
                // HMAC accepts keys of any length, so this cannot fail; fall back to an empty
                // signature (which Binance rejects with -1022) rather than panic.
                match Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) {
                    Ok(mut mac) => {
                        mac.update(payload);
                        hex::encode(mac.finalize().into_bytes())
                    }
                    Err(_) => String::new(),
                }
            }
            SigningSecret::Ed25519(key) => {
                base64::engine::general_purpose::STANDARD.encode(key.sign(payload).to_bytes())
            }
        }
    }
}

/// The WebSocket API signature payload: every parameter but `signature`, sorted by name,
/// `name=value` joined with `&`, values as UTF-8 text without percent-encoding.
#[must_use]
pub fn ws_api_payload<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .into_iter()
        .filter(|(name, _)| *name != "signature")
        .collect();
    pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Binance's published example keys (rest-api.md, "SIGNED Endpoint Examples for POST
    // /api/v3/order"); they are illustrative and grant nothing.
    const API_KEY: &str = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
    const SECRET: &str = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

    fn docs_hmac() -> Credentials {
        Credentials::hmac(API_KEY.into(), SECRET.into())
    }

    #[test]
    fn hmac_matches_binance_rest_example() {
        let payload = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            docs_hmac().sign(payload.as_bytes()),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
        );
        // The non-ASCII example: the payload is signed after percent-encoding.
        let encoded = "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
        assert_eq!(
            docs_hmac().sign(encoded.as_bytes()),
            "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
        );
    }

    #[test]
    fn hmac_matches_binance_websocket_api_example() {
        // web-socket-api.md, "SIGNED request example (HMAC)": parameters sorted, not encoded.
        let params = [
            ("symbol", "BTCUSDT"),
            ("side", "SELL"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "0.01000000"),
            ("price", "52000.00"),
            ("recvWindow", "100"),
            ("timestamp", "1645423376532"),
            ("apiKey", API_KEY),
            ("signature", "ignored"),
        ];
        let payload = ws_api_payload(params);
        assert_eq!(
            payload,
            format!(
                "apiKey={API_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
            )
        );
        assert_eq!(
            docs_hmac().sign(payload.as_bytes()),
            "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
        );
        let non_ascii = ws_api_payload([
            ("symbol", "１２３４５６"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", "1.00000000"),
            ("price", "0.10000000"),
            ("recvWindow", "5000"),
            ("timestamp", "1645423376532"),
            ("apiKey", API_KEY),
        ]);
        assert_eq!(
            docs_hmac().sign(non_ascii.as_bytes()),
            "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"
        );
    }

    #[test]
    fn ed25519_matches_rfc8032_test_vector() {
        // Binance's Ed25519 example signs with a key file it does not publish, so the signer is
        // checked against RFC 8032 §7.1 TEST 1 (empty message) and TEST 2 (one byte 0x72).
        let seed: [u8; 32] =
            hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
                .unwrap()
                .try_into()
                .unwrap();
        let creds = Credentials::ed25519_seed("key".into(), &seed);
        let b64 = |hex_sig: &str| {
            base64::engine::general_purpose::STANDARD.encode(hex::decode(hex_sig).unwrap())
        };
        assert_eq!(
            creds.sign(b""),
            b64(
                "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
            )
        );
        let seed2: [u8; 32] =
            hex::decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
                .unwrap()
                .try_into()
                .unwrap();
        let creds2 = Credentials::ed25519_seed("key".into(), &seed2);
        assert_eq!(
            creds2.sign(&[0x72]),
            b64(
                "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
            )
        );
        assert_eq!(
            hex::encode(creds.ed25519_public_key().unwrap()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
    }

    #[test]
    fn pem_keys_load_and_bad_pem_is_a_clean_error() {
        // PKCS#8 v1 of the RFC 8032 TEST 1 seed (OID 1.3.101.112), as `openssl genpkey` writes.
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
        let creds = Credentials::ed25519_pem("key".into(), &pem.into()).unwrap();
        assert_eq!(creds.key_type(), KeyType::Ed25519);
        assert_eq!(
            hex::encode(creds.ed25519_public_key().unwrap()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let err = Credentials::ed25519_pem("key".into(), &"not a key".into()).unwrap_err();
        assert!(!err.to_string().contains("not a key"));
    }

    #[test]
    fn debug_never_shows_secrets() {
        let text = format!("{:?}", docs_hmac());
        assert!(!text.contains(API_KEY) && !text.contains(SECRET), "{text}");
        assert!(text.contains("Hmac"));
    }
}
