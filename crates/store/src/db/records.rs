//! Row types the repository reads and writes. Exact values stay exact: prices and quantities as
//! their i64 mantissas, money as its i128 mantissa (TEXT), times as UTC nanoseconds.

use std::collections::BTreeMap;
use std::fmt;

use tradepulse_model::{
    ClientOrderId, Fill, InstrumentId, Money, OrderRequest, Price, Quantity, Side, UnixNanos,
};

use crate::error::{Error, Result};

/// Id of a stored backtest run (assigned by the database).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A finished backtest to store: the run, its metrics and its round-trip trades, written in
/// one transaction ([`crate::Store::save_run`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NewBacktestRun {
    /// Human name (e.g. the config file stem).
    pub name: String,
    /// Strategy name.
    pub strategy: String,
    /// The full configuration the run used.
    pub config: serde_json::Value,
    /// Wall-clock start.
    pub started_at: UnixNanos,
    /// Wall-clock end.
    pub finished_at: UnixNanos,
    /// Performance metrics by name (`sharpe`, `max_drawdown`, …).
    pub metrics: BTreeMap<String, f64>,
    /// Round-trip trades in order.
    pub trades: Vec<RunTrade>,
}

impl NewBacktestRun {
    /// The record of a finished `backtest`: every numeric metric of its summary (`sharpe`,
    /// `total_return`, `final_equity`, …; a metric without a value, such as the Sharpe ratio of
    /// a flat equity curve, is left out), and its round trips with their volume-weighted entry
    /// and exit prices. `config` is the document it ran
    /// ([`tradepulse_backtest::BacktestConfig::load_with_document`]).
    #[must_use]
    pub fn from_backtest(
        name: &str,
        config: serde_json::Value,
        backtest: &tradepulse_backtest::Backtest,
        started_at: UnixNanos,
        finished_at: UnixNanos,
    ) -> Self {
        let metrics = match serde_json::to_value(&backtest.summary) {
            Ok(serde_json::Value::Object(fields)) => fields
                .into_iter()
                .filter_map(|(k, v)| v.as_f64().map(|v| (k, v)))
                .collect(),
            _ => BTreeMap::new(),
        };
        let trades = backtest
            .run
            .round_trips
            .iter()
            .map(|t| RunTrade {
                instrument: t.instrument.clone(),
                side: t.direction,
                quantity: t.quantity,
                entry_ts: t.entry_ts,
                entry_price: Price::average(t.entry_notional, t.quantity).unwrap_or_default(),
                exit_ts: t.exit_ts,
                exit_price: Price::average(t.exit_notional, t.quantity).unwrap_or_default(),
                pnl: t.gross_pnl,
                fees: t.fees,
            })
            .collect();
        Self {
            name: name.to_owned(),
            strategy: backtest.summary.strategy.clone(),
            config,
            started_at,
            finished_at,
            metrics,
            trades,
        }
    }
}

/// A stored backtest run (without metrics and trades; see
/// [`crate::Store::run_metrics`] and [`crate::Store::run_trades`]).
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestRun {
    /// Database id.
    pub id: RunId,
    /// Human name.
    pub name: String,
    /// Strategy name.
    pub strategy: String,
    /// The configuration.
    pub config: serde_json::Value,
    /// Wall-clock start.
    pub started_at: UnixNanos,
    /// Wall-clock end.
    pub finished_at: UnixNanos,
}

/// One round-trip trade of a backtest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTrade {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Side of the entry.
    pub side: Side,
    /// Quantity.
    pub quantity: Quantity,
    /// Entry time.
    pub entry_ts: UnixNanos,
    /// Entry price.
    pub entry_price: Price,
    /// Exit time.
    pub exit_ts: UnixNanos,
    /// Exit price.
    pub exit_price: Price,
    /// Realised PnL before fees.
    pub pnl: Money,
    /// Fees paid.
    pub fees: Money,
}

/// One trial of a parameter sweep (one row per `(sweep_id, trial)`; shards write disjoint
/// trials and one query merges them).
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTrial {
    /// The sweep this trial belongs to.
    pub sweep_id: String,
    /// Trial number within the sweep.
    pub trial: i64,
    /// Shard that ran it (`i/N`).
    pub shard: String,
    /// Parameter values.
    pub params: serde_json::Value,
    /// Resulting metrics.
    pub metrics: serde_json::Value,
    /// The objective value being optimised, if any.
    pub objective: Option<f64>,
    /// The trial's per-period returns (`None` in rows written before schema version 2).
    pub returns: Option<Vec<f64>>,
    /// When it was recorded.
    pub created_at: UnixNanos,
}

/// What one shard of a sweep is (one row per `(sweep_id, shard_index)`), written after all of
/// the shard's trials.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepShard {
    /// The sweep.
    pub sweep_id: String,
    /// The shard's index, `0..shard_count`.
    pub shard_index: i64,
    /// How many shards the sweep was cut into.
    pub shard_count: i64,
    /// Trials the shard ran.
    pub trials: i64,
    /// The shard's metadata document (as `tradepulse-research` writes it).
    pub meta: serde_json::Value,
    /// When it was recorded.
    pub created_at: UnixNanos,
}

/// A stored order: the request plus who placed it and when it was persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    /// The order as the strategy asked for it.
    pub request: OrderRequest,
    /// Strategy (or operator) that placed it.
    pub strategy: String,
    /// When it was persisted (before it was sent).
    pub created_at: UnixNanos,
}

/// One append-only event in an order's life (`submitted`, `accepted`, `filled`, …). The event
/// vocabulary belongs to the execution engine; the store keeps `kind` and a JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderEvent {
    /// The order.
    pub client_order_id: ClientOrderId,
    /// Position in the order's event sequence, from 0; `(client_order_id, seq)` is unique.
    pub seq: i64,
    /// Event name.
    pub kind: String,
    /// When it happened.
    pub ts: UnixNanos,
    /// Event details.
    pub payload: serde_json::Value,
}

/// A stored fill with its sequence number within the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredFill {
    /// Position among the order's fills, from 0; `(client_order_id, seq)` is unique.
    pub seq: i64,
    /// The fill.
    pub fill: Fill,
}

/// A net position of an account in one instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRecord {
    /// Account.
    pub account: String,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Signed net quantity (negative = short).
    pub quantity: Quantity,
    /// Signed cost basis of the open quantity.
    pub cost_basis: Money,
    /// Realised PnL so far.
    pub realized_pnl: Money,
    /// Last update.
    pub updated_at: UnixNanos,
}

/// A cash balance of an account in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    /// Account.
    pub account: String,
    /// Currency code.
    pub currency: String,
    /// Total.
    pub total: Money,
    /// Last update.
    pub updated_at: UnixNanos,
}

/// Equity of an account at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquitySnapshot {
    /// When.
    pub ts: UnixNanos,
    /// Cash plus marked positions.
    pub equity: Money,
    /// Cash.
    pub cash: Money,
}

/// The kill switch of one scope (`global`, an account, a strategy).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KillSwitchState {
    /// Scope name.
    pub scope: String,
    /// `true` = no new orders.
    pub engaged: bool,
    /// Why it was changed.
    pub reason: String,
    /// Who changed it.
    pub actor: String,
    /// When.
    pub updated_at: UnixNanos,
}

/// The latest checkpoint of an in-process strategy (`tradepulse serve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyCheckpoint {
    /// The strategy's name (unique in a deployment).
    pub strategy: String,
    /// The instrument it trades.
    pub instrument: InstrumentId,
    /// Time of the last bar the state includes; a restarted runner resumes after it.
    pub bar_ts: UnixNanos,
    /// Bars the strategy had seen in total.
    pub bars: i64,
    /// The strategy's own state (`Strategy::checkpoint`).
    pub state: serde_json::Value,
    /// When it was written.
    pub updated_at: UnixNanos,
}

/// One audit-log entry (append-only).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Database id (ignored when appending).
    pub id: i64,
    /// When.
    pub ts: UnixNanos,
    /// Who (user, token name, `system`).
    pub actor: String,
    /// What (`kill_switch.engage`, `token.create`, …).
    pub action: String,
    /// On what.
    pub target: String,
    /// Details.
    pub detail: serde_json::Value,
}

/// The SHA-256 hash of an API token, as 64 lower-case hex digits. The store never sees a
/// token itself.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Validates a hex-encoded SHA-256 digest.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] unless `hex` is 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self> {
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(hex.to_ascii_lowercase()))
        } else {
            Err(Error::InvalidValue {
                what: "API token hash",
                reason: "expected a SHA-256 digest as 64 hex digits (hash the token before storing it)",
            })
        }
    }

    /// The hex digest.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.0[..8])
    }
}

/// An API token to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Unique name.
    pub name: String,
    /// Hash of the token.
    pub hash: TokenHash,
    /// Space-separated scopes.
    pub scopes: String,
    /// Creation time.
    pub created_at: UnixNanos,
    /// Expiry, if any.
    pub expires_at: Option<UnixNanos>,
}

/// A stored API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Database id.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Creation time.
    pub created_at: UnixNanos,
    /// Expiry, if any.
    pub expires_at: Option<UnixNanos>,
    /// Revocation time, if revoked.
    pub revoked_at: Option<UnixNanos>,
}

impl ApiToken {
    /// `true` if neither revoked nor expired at `now`.
    #[must_use]
    pub fn is_active(&self, now: UnixNanos) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|t| now < t)
    }
}
