//! [`KillSwitchBus`]: the kill switch, persisted in the database and broadcast over Redis
//! pub/sub so every process halts new orders at once.

use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, PubSubStream};

use super::RedisConfig;
use crate::db::{KillSwitchState, Store};
use crate::error::{Error, Result};

/// Persists kill-switch changes in the [`Store`] (so they survive restarts) and publishes them
/// on the channel `{prefix}:kill-switch`.
///
/// The database is the source of truth: a process starting up, or resubscribing after its
/// Redis connection dropped, reads [`KillSwitchBus::current`] first, then listens.
#[derive(Clone)]
pub struct KillSwitchBus {
    store: Store,
    conn: ConnectionManager,
    config: RedisConfig,
    channel: String,
}

impl KillSwitchBus {
    /// Connects to Redis.
    ///
    /// # Errors
    /// [`Error::RedisTimeout`] / [`Error::Redis`] if Redis cannot be reached.
    pub async fn connect(store: Store, config: &RedisConfig) -> Result<Self> {
        Ok(Self {
            store,
            conn: config.connect().await?,
            channel: config.key("kill-switch"),
            config: config.clone(),
        })
    }

    /// Persists `state`, then broadcasts it. If the broadcast fails the state is still
    /// persisted (and the error is returned so the caller can retry the broadcast).
    ///
    /// # Errors
    /// Database failures (nothing broadcast); Redis failures (persisted, not broadcast).
    pub async fn publish(&self, state: &KillSwitchState) -> Result<()> {
        self.store.set_kill_switch(state).await?;
        let json = serde_json::to_vec(state).map_err(|source| Error::Encode {
            what: "kill-switch state",
            source,
        })?;
        let mut conn = self.conn.clone();
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(json)
            .query_async::<i64>(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| Error::redis("PUBLISH kill-switch", e))
    }

    /// The persisted state of `scope`; a scope never set is disengaged.
    ///
    /// # Errors
    /// Database failures.
    pub async fn current(&self, scope: &str) -> Result<Option<KillSwitchState>> {
        self.store.kill_switch(scope).await
    }

    /// Subscribes to changes (of every scope).
    ///
    /// # Errors
    /// [`Error::RedisTimeout`] / [`Error::Redis`] if Redis cannot be reached.
    pub async fn subscribe(&self) -> Result<KillSwitchSubscription> {
        let client = self.config.client()?;
        let mut pubsub =
            tokio::time::timeout(self.config.connect_timeout, client.get_async_pubsub())
                .await
                .map_err(|_| self.config.timeout("SUBSCRIBE kill-switch"))?
                .map_err(|e| Error::redis("SUBSCRIBE kill-switch", e))?;
        pubsub
            .subscribe(&self.channel)
            .await
            .map_err(|e| Error::redis("SUBSCRIBE kill-switch", e))?;
        Ok(KillSwitchSubscription {
            stream: pubsub.into_on_message(),
        })
    }
}

/// A live subscription to kill-switch changes.
pub struct KillSwitchSubscription {
    stream: PubSubStream,
}

impl KillSwitchSubscription {
    /// Waits up to `timeout` for the next change. `Ok(None)` on timeout.
    ///
    /// # Errors
    /// [`Error::Decode`] for a malformed message; [`Error::InvalidValue`] if the connection
    /// closed (resubscribe and re-read [`KillSwitchBus::current`]).
    pub async fn next(&mut self, timeout: Duration) -> Result<Option<KillSwitchState>> {
        let Ok(message) = tokio::time::timeout(timeout, self.stream.next()).await else {
            return Ok(None);
        };
        let Some(message) = message else {
            return Err(Error::InvalidValue {
                what: "kill-switch subscription",
                reason: "the Redis connection closed; resubscribe and re-read the persisted state",
            });
        };
        serde_json::from_slice(message.get_payload_bytes())
            .map(Some)
            .map_err(|source| Error::Decode {
                what: "kill-switch state",
                source,
            })
    }
}
