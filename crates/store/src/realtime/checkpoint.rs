//! [`CheckpointStore`]: save and restore the state of stateful (streaming) indicators.

use redis::aio::ConnectionManager;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RedisConfig;
use crate::error::{Error, Result};

/// Saves any serialisable state under `{prefix}:checkpoint:{name}` as JSON and loads it back.
///
/// Restoring an indicator from its checkpoint and feeding it the inputs after the checkpoint
/// gives exactly the outputs of an indicator that was never interrupted, provided `T`'s
/// serialisation round-trips exactly (`serde_json` round-trips every finite `f64` exactly).
#[derive(Clone)]
pub struct CheckpointStore {
    conn: ConnectionManager,
    config: RedisConfig,
}

impl CheckpointStore {
    /// Connects.
    ///
    /// # Errors
    /// [`Error::RedisTimeout`] / [`Error::Redis`] if Redis cannot be reached.
    pub async fn connect(config: &RedisConfig) -> Result<Self> {
        Ok(Self {
            conn: config.connect().await?,
            config: config.clone(),
        })
    }

    fn key(&self, name: &str) -> String {
        self.config.key(&format!("checkpoint:{name}"))
    }

    /// Saves (replaces) the checkpoint `name`.
    ///
    /// # Errors
    /// [`Error::Encode`] if `state` cannot be serialised; Redis failures.
    pub async fn save<T: Serialize>(&self, name: &str, state: &T) -> Result<()> {
        let json = serde_json::to_vec(state).map_err(|source| Error::Encode {
            what: "checkpoint",
            source,
        })?;
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(name))
            .arg(json)
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| Error::redis("SET checkpoint", e))
    }

    /// Loads the checkpoint `name` (`None` if never saved).
    ///
    /// # Errors
    /// [`Error::Decode`] if the stored state does not fit `T`; Redis failures.
    pub async fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let mut conn = self.conn.clone();
        let bytes: Option<Vec<u8>> = redis::cmd("GET")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::redis("GET checkpoint", e))?;
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|source| Error::Decode {
                    what: "checkpoint",
                    source,
                })
            })
            .transpose()
    }

    /// Deletes the checkpoint `name`; `true` if it existed.
    ///
    /// # Errors
    /// Redis failures.
    pub async fn delete(&self, name: &str) -> Result<bool> {
        let mut conn = self.conn.clone();
        let n: i64 = redis::cmd("DEL")
            .arg(self.key(name))
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::redis("DEL checkpoint", e))?;
        Ok(n > 0)
    }
}
