//! Market-data streams on Redis Streams: [`MarketStream`] publishes (`XADD … MAXLEN`),
//! [`StreamConsumer`] consumes in a consumer group (`XREADGROUP`/`XACK`) and recovers entries
//! left pending by dead consumers (`XAUTOCLAIM`).
//!
//! # Delivery guarantee
//! At least once. An entry stays in the group's pending-entries list until it is acknowledged;
//! after its connection drops, a consumer first re-reads its own pending entries (id `0`), so
//! it resumes from its last acknowledged entry, and entries of a consumer that died are
//! claimed by another with [`StreamConsumer::claim_stale`]. Handlers must tolerate redelivery.

use std::time::Duration;

use redis::AsyncConnectionConfig;
use redis::Value;
use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingReply, StreamReadReply};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::RedisConfig;
use crate::error::{Error, Result};
use crate::retry::RetryPolicy;

/// The field holding an entry's JSON payload.
const FIELD: &str = "d";

/// One stream entry: its id (`ms-seq`) and decoded value.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntry<T> {
    /// Redis entry id; pass it to [`StreamConsumer::ack`].
    pub id: String,
    /// The decoded payload.
    pub value: T,
}

fn decode<T: DeserializeOwned>(entry: StreamId) -> Result<StreamEntry<T>> {
    let value = match entry.map.get(FIELD) {
        Some(Value::BulkString(bytes)) => {
            serde_json::from_slice(bytes).map_err(|e| Error::PoisonEntry {
                id: entry.id.clone(),
                reason: e.to_string(),
            })?
        }
        _ => {
            return Err(Error::PoisonEntry {
                id: entry.id,
                reason: "missing the payload field `d`".to_owned(),
            });
        }
    };
    Ok(StreamEntry {
        id: entry.id,
        value,
    })
}

/// Publishes JSON entries to the stream `{prefix}:stream:{name}`, trimmed to at most `maxlen`
/// entries (`XADD … MAXLEN maxlen`).
#[derive(Clone)]
pub struct MarketStream {
    conn: ConnectionManager,
    key: String,
    maxlen: usize,
}

impl MarketStream {
    /// Connects to the stream `name`.
    ///
    /// # Errors
    /// [`Error::RedisTimeout`] / [`Error::Redis`] if Redis cannot be reached.
    pub async fn connect(config: &RedisConfig, name: &str, maxlen: usize) -> Result<Self> {
        Ok(Self {
            conn: config.connect().await?,
            key: config.key(&format!("stream:{name}")),
            maxlen,
        })
    }

    /// The Redis key of the stream.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Appends one entry and returns its id.
    ///
    /// # Errors
    /// [`Error::Encode`]; Redis failures.
    pub async fn publish<T: Serialize>(&self, value: &T) -> Result<String> {
        let json = serde_json::to_vec(value).map_err(|source| Error::Encode {
            what: "stream entry",
            source,
        })?;
        let mut conn = self.conn.clone();
        redis::cmd("XADD")
            .arg(&self.key)
            .arg("MAXLEN")
            .arg(self.maxlen)
            .arg("*")
            .arg(FIELD)
            .arg(json)
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::redis("XADD", e))
    }

    /// Appends many entries in one round trip (a pipeline) and returns their ids.
    ///
    /// # Errors
    /// [`Error::Encode`]; Redis failures.
    pub async fn publish_batch<T: Serialize>(&self, values: &[T]) -> Result<Vec<String>> {
        let mut pipe = redis::pipe();
        for value in values {
            let json = serde_json::to_vec(value).map_err(|source| Error::Encode {
                what: "stream entry",
                source,
            })?;
            pipe.cmd("XADD")
                .arg(&self.key)
                .arg("MAXLEN")
                .arg(self.maxlen)
                .arg("*")
                .arg(FIELD)
                .arg(json);
        }
        let mut conn = self.conn.clone();
        pipe.query_async(&mut conn)
            .await
            .map_err(|e| Error::redis("XADD pipeline", e))
    }

    /// Number of entries in the stream.
    ///
    /// # Errors
    /// Redis failures.
    pub async fn len(&self) -> Result<usize> {
        let mut conn = self.conn.clone();
        redis::cmd("XLEN")
            .arg(&self.key)
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::redis("XLEN", e))
    }

    /// `true` if the stream has no entries.
    ///
    /// # Errors
    /// Redis failures.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }
}

/// A consumer `consumer` in group `group` of the stream `{prefix}:stream:{name}`.
///
/// It owns its connection (no transparent reconnects), so it knows when the connection was
/// lost: after any connection failure it re-dials and re-reads its own pending entries before
/// new ones.
pub struct StreamConsumer {
    config: RedisConfig,
    client: redis::Client,
    conn: Option<MultiplexedConnection>,
    key: String,
    group: String,
    consumer: String,
    /// Read own pending entries before new ones (at start and after a connection error).
    read_pending: bool,
    block: Duration,
    count: usize,
    retry: RetryPolicy,
}

impl StreamConsumer {
    /// Connects and joins `group` (creating it, at the start of the stream, if needed).
    ///
    /// # Errors
    /// [`Error::RedisTimeout`] / [`Error::Redis`] if Redis cannot be reached.
    pub async fn join(
        config: &RedisConfig,
        name: &str,
        group: &str,
        consumer: &str,
    ) -> Result<Self> {
        let block = config
            .response_timeout
            .saturating_sub(Duration::from_millis(500))
            .min(Duration::from_secs(1));
        let mut this = Self {
            config: config.clone(),
            client: config.client()?,
            conn: None,
            key: config.key(&format!("stream:{name}")),
            group: group.to_owned(),
            consumer: consumer.to_owned(),
            read_pending: true,
            block,
            count: 100,
            retry: RetryPolicy::default(),
        };
        let mut create = redis::cmd("XGROUP");
        create
            .arg("CREATE")
            .arg(&this.key)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM");
        match this.query::<()>("XGROUP CREATE", &create).await {
            Ok(()) => {}
            Err(Error::Redis { source, .. }) if source.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(e),
        }
        Ok(this)
    }

    /// Sets how many entries one read returns at most (default 100).
    #[must_use]
    pub fn with_count(mut self, count: usize) -> Self {
        self.count = count.max(1);
        self
    }

    /// Sets how long a read waits for new entries (default 1 s; keep it below the response
    /// timeout).
    #[must_use]
    pub fn with_block(mut self, block: Duration) -> Self {
        self.block = block;
        self
    }

    /// This consumer's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.consumer
    }

    /// The live connection, dialling a new one (and scheduling a pending re-read) if needed.
    async fn connection(&mut self) -> Result<&mut MultiplexedConnection> {
        if self.conn.is_none() {
            let settings = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(self.config.connect_timeout))
                .set_response_timeout(Some(self.config.response_timeout));
            let conn = tokio::time::timeout(
                self.config.connect_timeout,
                self.client
                    .get_multiplexed_async_connection_with_config(&settings),
            )
            .await
            .map_err(|_| self.config.timeout("connect"))?
            .map_err(|e| Error::redis("connect", e))?;
            self.read_pending = true;
            self.conn = Some(conn);
        }
        self.conn.as_mut().ok_or(Error::InvalidValue {
            what: "redis connection",
            reason: "connection vanished while in use",
        })
    }

    /// Runs `cmd` once; a failure drops the connection so the next call re-dials.
    async fn query_once<T: redis::FromRedisValue>(
        &mut self,
        op: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T> {
        let result = cmd.query_async(self.connection().await?).await;
        result.map_err(|e| {
            if e.is_unrecoverable_error()
                || e.is_io_error()
                || e.is_connection_dropped()
                || e.is_timeout()
            {
                self.conn = None;
                self.read_pending = true;
            }
            Error::redis(op, e)
        })
    }

    /// Runs an idempotent `cmd`, retrying transient failures on a fresh connection.
    async fn query<T: redis::FromRedisValue>(
        &mut self,
        op: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            match self.query_once(op, cmd).await {
                Ok(value) => return Ok(value),
                Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn read_once<T: DeserializeOwned>(&mut self) -> Result<Vec<StreamEntry<T>>> {
        // Dial first: a fresh connection turns on the pending re-read.
        self.connection().await?;
        loop {
            let pending = self.read_pending;
            let mut cmd = redis::cmd("XREADGROUP");
            cmd.arg("GROUP")
                .arg(&self.group)
                .arg(&self.consumer)
                .arg("COUNT")
                .arg(self.count);
            if !pending {
                cmd.arg("BLOCK")
                    .arg(u64::try_from(self.block.as_millis()).unwrap_or(u64::MAX));
            }
            cmd.arg("STREAMS")
                .arg(&self.key)
                .arg(if pending { "0" } else { ">" });
            let reply: Option<StreamReadReply> = self.query_once("XREADGROUP", &cmd).await?;
            let entries: Vec<StreamId> = reply
                .into_iter()
                .flat_map(|r| r.keys)
                .flat_map(|k| k.ids)
                .collect();
            if pending && entries.is_empty() {
                // Own backlog drained: continue with new entries.
                self.read_pending = false;
                continue;
            }
            let decoded: Result<Vec<StreamEntry<T>>> = entries.into_iter().map(decode).collect();
            if decoded.is_err() {
                // The batch's good entries are pending too: re-read them after the caller
                // has dealt with the poison one.
                self.read_pending = true;
            }
            return decoded;
        }
    }

    /// The next entries for this consumer: first its own unacknowledged (pending) entries
    /// when it (re)connected, then new ones, waiting up to the block time. An empty vector
    /// means nothing arrived.
    ///
    /// Transient failures (connection killed, Redis restarting) are retried with backoff on a
    /// fresh connection, and after a reconnect the consumer re-reads its pending entries
    /// first, so it resumes from its last acknowledged entry.
    ///
    /// # Errors
    /// [`Error::PoisonEntry`] for an entry that does not fit `T` (acknowledge it, then call
    /// again: the rest of its batch is delivered again); Redis failures once the retries are
    /// used up.
    pub async fn next_batch<T: DeserializeOwned>(&mut self) -> Result<Vec<StreamEntry<T>>> {
        let mut attempt = 1;
        loop {
            match self.read_once().await {
                Ok(entries) => return Ok(entries),
                Err(e) if e.is_transient() && attempt < self.retry.max_attempts => {
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Acknowledges processed entries; returns how many were pending.
    ///
    /// # Errors
    /// Redis failures.
    pub async fn ack(&mut self, ids: &[String]) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut cmd = redis::cmd("XACK");
        cmd.arg(&self.key).arg(&self.group).arg(ids);
        self.query("XACK", &cmd).await
    }

    /// Claims, for this consumer, entries that other consumers received but have not
    /// acknowledged for at least `min_idle` (they died or hang) — `XAUTOCLAIM` over the whole
    /// pending list — and returns them. Acknowledge them as usual.
    ///
    /// # Errors
    /// [`Error::PoisonEntry`] (the entry is now pending for this consumer); Redis failures.
    pub async fn claim_stale<T: DeserializeOwned>(
        &mut self,
        min_idle: Duration,
    ) -> Result<Vec<StreamEntry<T>>> {
        let mut start = "0-0".to_owned();
        let mut claimed = Vec::new();
        loop {
            let mut cmd = redis::cmd("XAUTOCLAIM");
            cmd.arg(&self.key)
                .arg(&self.group)
                .arg(&self.consumer)
                .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
                .arg(&start)
                .arg("COUNT")
                .arg(self.count);
            let reply: StreamAutoClaimReply = self.query("XAUTOCLAIM", &cmd).await?;
            for entry in reply.claimed {
                claimed.push(decode(entry)?);
            }
            if reply.next_stream_id == "0-0" {
                return Ok(claimed);
            }
            start = reply.next_stream_id;
        }
    }

    /// Number of entries delivered to the group and not yet acknowledged (all consumers).
    ///
    /// # Errors
    /// Redis failures.
    pub async fn pending_count(&mut self) -> Result<usize> {
        let mut cmd = redis::cmd("XPENDING");
        cmd.arg(&self.key).arg(&self.group);
        let reply: StreamPendingReply = self.query("XPENDING", &cmd).await?;
        Ok(reply.count())
    }

    /// The Redis client id of the current connection (`CLIENT ID`), for diagnostics and for
    /// operators who need to `CLIENT KILL` it.
    ///
    /// # Errors
    /// Redis failures.
    pub async fn connection_id(&mut self) -> Result<i64> {
        self.query("CLIENT ID", &redis::cmd("CLIENT").arg("ID").clone())
            .await
    }
}
