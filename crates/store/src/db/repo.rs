//! The repository operations of [`Store`]. Every SQL statement here is written once and runs on
//! both backends (see [`on_pool!`](super::on_pool)); every call retries transient failures.

use std::collections::BTreeMap;

use sqlx::AssertSqlSafe;
use tradepulse_model::{
    ClientOrderId, Fill, Liquidity, Money, OrderKind, OrderRequest, Price, Quantity, TimeInForce,
};

use super::records::{
    ApiToken, AuditEntry, BacktestRun, Balance, EquitySnapshot, KillSwitchState, NewApiToken,
    NewBacktestRun, OrderEvent, OrderRecord, PositionRecord, RunId, RunTrade, StoredFill,
    StrategyCheckpoint, SweepShard, SweepTrial, TokenHash,
};
use super::row::{Columns, Decode};
use super::{Store, on_pool};
use crate::error::{Error, Result, is_unique_violation};
use crate::url::BackendKind;

/// Rows per multi-row `INSERT` in batched appends (5 parameters each, well under both
/// backends' parameter limits).
const BATCH_ROWS: usize = 500;

pub(super) fn money(value: Money) -> String {
    value.raw().to_string()
}

fn is_foreign_key_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_foreign_key_violation())
}

pub(super) fn kind_prices(kind: &OrderKind) -> (Option<i64>, Option<i64>) {
    match *kind {
        OrderKind::Market => (None, None),
        OrderKind::Limit { price } => (Some(price.raw()), None),
        OrderKind::Stop { trigger } => (None, Some(trigger.raw())),
        OrderKind::StopLimit { trigger, limit } => (Some(limit.raw()), Some(trigger.raw())),
        // The trailing distance goes in the trigger column; the kind tells them apart.
        OrderKind::TrailingStop { offset } => (None, Some(offset.raw())),
    }
}

fn decode_run(row: &impl Columns) -> Result<BacktestRun> {
    let d = Decode {
        row,
        table: "backtest_runs",
    };
    Ok(BacktestRun {
        id: RunId(row.i64("id")?),
        name: row.text("name")?,
        strategy: row.text("strategy")?,
        config: d.json("config_json")?,
        started_at: d.time("started_at_ns")?,
        finished_at: d.time("finished_at_ns")?,
    })
}

fn decode_trade(row: &impl Columns) -> Result<RunTrade> {
    let d = Decode {
        row,
        table: "run_trades",
    };
    Ok(RunTrade {
        instrument: d.instrument("instrument")?,
        side: d.side("side")?,
        quantity: Quantity::from_raw(row.i64("quantity_raw")?),
        entry_ts: d.time("entry_ts_ns")?,
        entry_price: Price::from_raw(row.i64("entry_price_raw")?),
        exit_ts: d.time("exit_ts_ns")?,
        exit_price: Price::from_raw(row.i64("exit_price_raw")?),
        pnl: d.money("pnl_money")?,
        fees: d.money("fees_money")?,
    })
}

fn decode_trial(row: &impl Columns) -> Result<SweepTrial> {
    let d = Decode {
        row,
        table: "sweep_trials",
    };
    Ok(SweepTrial {
        sweep_id: row.text("sweep_id")?,
        trial: row.i64("trial")?,
        shard: row.text("shard")?,
        params: d.json("params_json")?,
        metrics: d.json("metrics_json")?,
        objective: row.opt_f64("objective")?,
        returns: match row.opt_text("returns_json")? {
            None => None,
            Some(text) => Some(serde_json::from_str(&text).map_err(|_| Error::Corrupt {
                table: "sweep_trials",
                column: "returns_json",
                value: text,
            })?),
        },
        created_at: d.time("created_at_ns")?,
    })
}

fn decode_shard(row: &impl Columns) -> Result<SweepShard> {
    let d = Decode {
        row,
        table: "sweep_shards",
    };
    Ok(SweepShard {
        sweep_id: row.text("sweep_id")?,
        shard_index: row.i64("shard_index")?,
        shard_count: row.i64("shard_count")?,
        trials: row.i64("trials")?,
        meta: d.json("meta_json")?,
        created_at: d.time("created_at_ns")?,
    })
}

pub(super) fn decode_order(row: &impl Columns) -> Result<OrderRecord> {
    let d = Decode {
        row,
        table: "orders",
    };
    let corrupt = |column, value: String| Error::Corrupt {
        table: "orders",
        column,
        value,
    };
    let limit = row.opt_i64("limit_price_raw")?.map(Price::from_raw);
    let trigger = row.opt_i64("trigger_price_raw")?.map(Price::from_raw);
    let kind_text = row.text("kind")?;
    let kind = match (kind_text.as_str(), limit, trigger) {
        ("market", None, None) => OrderKind::Market,
        ("limit", Some(price), None) => OrderKind::Limit { price },
        ("stop", None, Some(trigger)) => OrderKind::Stop { trigger },
        ("stop_limit", Some(limit), Some(trigger)) => OrderKind::StopLimit { trigger, limit },
        ("trailing_stop", None, Some(offset)) => OrderKind::TrailingStop { offset },
        _ => return Err(corrupt("kind", kind_text)),
    };
    let tif_text = row.text("time_in_force")?;
    let time_in_force = match tif_text.as_str() {
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        "FOK" => TimeInForce::Fok,
        "DAY" => TimeInForce::Day,
        _ => return Err(corrupt("time_in_force", tif_text)),
    };
    Ok(OrderRecord {
        request: OrderRequest {
            client_order_id: d.client_order_id("client_order_id")?,
            instrument: d.instrument("instrument")?,
            side: d.side("side")?,
            quantity: Quantity::from_raw(row.i64("quantity_raw")?),
            kind,
            time_in_force,
        },
        strategy: row.text("strategy")?,
        created_at: d.time("created_at_ns")?,
    })
}

pub(super) fn decode_event(row: &impl Columns) -> Result<OrderEvent> {
    let d = Decode {
        row,
        table: "order_events",
    };
    Ok(OrderEvent {
        client_order_id: d.client_order_id("client_order_id")?,
        seq: row.i64("seq")?,
        kind: row.text("kind")?,
        ts: d.time("ts_ns")?,
        payload: d.json("payload_json")?,
    })
}

pub(super) fn decode_fill(row: &impl Columns) -> Result<StoredFill> {
    let d = Decode {
        row,
        table: "fills",
    };
    let liquidity_text = row.text("liquidity")?;
    let liquidity = match liquidity_text.as_str() {
        "maker" => Liquidity::Maker,
        "taker" => Liquidity::Taker,
        _ => {
            return Err(Error::Corrupt {
                table: "fills",
                column: "liquidity",
                value: liquidity_text,
            });
        }
    };
    Ok(StoredFill {
        seq: row.i64("seq")?,
        fill: Fill {
            client_order_id: d.client_order_id("client_order_id")?,
            venue_order_id: d.parsed("venue_order_id")?,
            trade_id: d.parsed("trade_id")?,
            ts: d.time("ts_ns")?,
            side: d.side("side")?,
            quantity: Quantity::from_raw(row.i64("quantity_raw")?),
            price: Price::from_raw(row.i64("price_raw")?),
            fee: d.money("fee_money")?,
            fee_asset: d.parsed("fee_asset")?,
            liquidity,
        },
    })
}

fn decode_position(row: &impl Columns) -> Result<PositionRecord> {
    let d = Decode {
        row,
        table: "positions",
    };
    Ok(PositionRecord {
        account: row.text("account")?,
        instrument: d.instrument("instrument")?,
        quantity: Quantity::from_raw(row.i64("quantity_raw")?),
        cost_basis: d.money("cost_money")?,
        realized_pnl: d.money("realized_money")?,
        updated_at: d.time("updated_at_ns")?,
    })
}

fn decode_balance(row: &impl Columns) -> Result<Balance> {
    let d = Decode {
        row,
        table: "balances",
    };
    Ok(Balance {
        account: row.text("account")?,
        currency: row.text("currency")?,
        total: d.money("total_money")?,
        updated_at: d.time("updated_at_ns")?,
    })
}

fn decode_equity(row: &impl Columns) -> Result<EquitySnapshot> {
    let d = Decode {
        row,
        table: "equity_snapshots",
    };
    Ok(EquitySnapshot {
        ts: d.time("ts_ns")?,
        equity: d.money("equity_money")?,
        cash: d.money("cash_money")?,
    })
}

fn decode_kill_switch(row: &impl Columns) -> Result<KillSwitchState> {
    let d = Decode {
        row,
        table: "kill_switch",
    };
    Ok(KillSwitchState {
        scope: row.text("scope")?,
        engaged: row.bool("engaged")?,
        reason: row.text("reason")?,
        actor: row.text("actor")?,
        updated_at: d.time("updated_at_ns")?,
    })
}

fn decode_audit(row: &impl Columns) -> Result<AuditEntry> {
    let d = Decode {
        row,
        table: "audit_log",
    };
    Ok(AuditEntry {
        id: row.i64("id")?,
        ts: d.time("ts_ns")?,
        actor: row.text("actor")?,
        action: row.text("action")?,
        target: row.text("target")?,
        detail: d.json("detail_json")?,
    })
}

fn decode_checkpoint(row: &impl Columns) -> Result<StrategyCheckpoint> {
    let d = Decode {
        row,
        table: "strategy_checkpoints",
    };
    Ok(StrategyCheckpoint {
        strategy: row.text("strategy")?,
        instrument: d.instrument("instrument")?,
        bar_ts: d.time("bar_ts_ns")?,
        bars: row.i64("bars")?,
        state: d.json("state_json")?,
        updated_at: d.time("updated_at_ns")?,
    })
}

fn decode_token(row: &impl Columns) -> Result<ApiToken> {
    let d = Decode {
        row,
        table: "api_tokens",
    };
    Ok(ApiToken {
        id: row.i64("id")?,
        name: row.text("name")?,
        scopes: row.text("scopes")?,
        created_at: d.time("created_at_ns")?,
        expires_at: d.opt_time("expires_at_ns")?,
        revoked_at: d.opt_time("revoked_at_ns")?,
    })
}

/// `INSERT … VALUES ($1,…,$k), ($k+1,…)` for `rows` rows of `columns` parameters, bound in
/// that order. On SQLite the placeholders are anonymous `?`: SQLite looks a named parameter
/// (`$n`, `?n`) up by a linear scan of the statement's names, when it parses the statement and
/// again when the driver asks each parameter's name to bind it, so a batch of n parameters cost
/// O(n²) — a backlog made the journal's batches bigger and every commit slower (found by the
/// exec's HTTP load benchmark).
pub(super) fn multi_row_insert(
    backend: BackendKind,
    head: &str,
    columns: usize,
    rows: usize,
) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns * 6);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push('(');
        for c in 0..columns {
            if c > 0 {
                sql.push(',');
            }
            match backend {
                BackendKind::Sqlite => sql.push('?'),
                BackendKind::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * columns + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

impl Store {
    // ----- backtest runs -----

    /// Stores a finished run with its metrics and trades in **one transaction**: either all of
    /// it is committed or nothing is (a failure never leaves a half-written run).
    ///
    /// A transient failure retries the whole transaction. Caveat: if the connection drops
    /// after the server committed but before it acknowledged, the retry stores the run a
    /// second time under a new id.
    ///
    /// # Errors
    /// [`Error::Rejected`] if a row breaks a constraint (nothing is stored);
    /// [`Error::Transient`] once the retries are used up.
    pub async fn save_run(&self, run: &NewBacktestRun) -> Result<RunId> {
        const OP: &str = "save_run";
        let config = run.config.to_string();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await.map_err(|e| Error::db(OP, e))?;
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO backtest_runs (name, strategy, config_json, started_at_ns, \
                     finished_at_ns) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&run.name)
                .bind(&run.strategy)
                .bind(&config)
                .bind(run.started_at.as_nanos())
                .bind(run.finished_at.as_nanos())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| Error::db(OP, e))?;
                for (name, value) in &run.metrics {
                    sqlx::query(
                        "INSERT INTO run_metrics (run_id, name, value) VALUES ($1, $2, $3)",
                    )
                    .bind(id)
                    .bind(name)
                    .bind(*value)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db(OP, e))?;
                }
                for (seq, t) in (0_i64..).zip(&run.trades) {
                    sqlx::query(
                        "INSERT INTO run_trades (run_id, seq, instrument, side, quantity_raw, \
                         entry_ts_ns, entry_price_raw, exit_ts_ns, exit_price_raw, pnl_money, \
                         fees_money) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(id)
                    .bind(seq)
                    .bind(t.instrument.to_string())
                    .bind(t.side.as_str())
                    .bind(t.quantity.raw())
                    .bind(t.entry_ts.as_nanos())
                    .bind(t.entry_price.raw())
                    .bind(t.exit_ts.as_nanos())
                    .bind(t.exit_price.raw())
                    .bind(money(t.pnl))
                    .bind(money(t.fees))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db(OP, e))?;
                }
                tx.commit().await.map_err(|e| Error::db(OP, e))?;
                Ok(RunId(id))
            })
        })
        .await
    }

    /// One run by id.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn run(&self, id: RunId) -> Result<Option<BacktestRun>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let row = sqlx::query("SELECT * FROM backtest_runs WHERE id = $1")
                    .bind(id.0)
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| Error::db("run", e))?;
                row.as_ref().map(decode_run).transpose()
            })
        })
        .await
    }

    /// All runs, newest first.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn runs(&self) -> Result<Vec<BacktestRun>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM backtest_runs ORDER BY id DESC")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("runs", e))?;
                rows.iter().map(decode_run).collect()
            })
        })
        .await
    }

    /// Number of stored runs.
    ///
    /// # Errors
    /// Database failures.
    pub async fn run_count(&self) -> Result<i64> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query_scalar("SELECT COUNT(*) FROM backtest_runs")
                    .fetch_one(pool)
                    .await
                    .map_err(|e| Error::db("run_count", e))
            })
        })
        .await
    }

    /// The metrics of a run.
    ///
    /// # Errors
    /// Database failures.
    pub async fn run_metrics(&self, id: RunId) -> Result<BTreeMap<String, f64>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT name, value FROM run_metrics WHERE run_id = $1")
                    .bind(id.0)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("run_metrics", e))?;
                rows.iter()
                    .map(|r| Ok((r.text("name")?, r.f64("value")?)))
                    .collect()
            })
        })
        .await
    }

    /// The trades of a run, in order.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn run_trades(&self, id: RunId) -> Result<Vec<RunTrade>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM run_trades WHERE run_id = $1 ORDER BY seq")
                    .bind(id.0)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("run_trades", e))?;
                rows.iter().map(decode_trade).collect()
            })
        })
        .await
    }

    // ----- sweeps -----

    /// Stores (or replaces, when a shard re-runs it) one sweep trial.
    ///
    /// # Errors
    /// Database failures.
    pub async fn save_sweep_trial(&self, trial: &SweepTrial) -> Result<()> {
        self.save_sweep_trials(std::slice::from_ref(trial)).await
    }

    /// Stores (or replaces) many sweep trials in **one transaction** — one commit instead of
    /// one per trial, so a shard's results land all at once or not at all.
    ///
    /// # Errors
    /// Database failures (nothing of the batch is stored).
    pub async fn save_sweep_trials(&self, trials: &[SweepTrial]) -> Result<()> {
        const OP: &str = "save_sweep_trials";
        if trials.is_empty() {
            return Ok(());
        }
        let json: Vec<(String, String, Option<String>)> = trials
            .iter()
            .map(|t| {
                let returns = t
                    .returns
                    .as_ref()
                    .map(|r| {
                        serde_json::to_string(r).map_err(|source| Error::Encode {
                            what: "sweep trial returns",
                            source,
                        })
                    })
                    .transpose()?;
                Ok((t.params.to_string(), t.metrics.to_string(), returns))
            })
            .collect::<Result<_>>()?;
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await.map_err(|e| Error::db(OP, e))?;
                for (trial, (params, metrics, returns)) in trials.iter().zip(&json) {
                    sqlx::query(
                        "INSERT INTO sweep_trials (sweep_id, trial, shard, params_json, \
                         metrics_json, objective, returns_json, created_at_ns) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (sweep_id, trial) DO UPDATE SET shard = excluded.shard, \
                         params_json = excluded.params_json, \
                         metrics_json = excluded.metrics_json, \
                         objective = excluded.objective, returns_json = excluded.returns_json, \
                         created_at_ns = excluded.created_at_ns",
                    )
                    .bind(&trial.sweep_id)
                    .bind(trial.trial)
                    .bind(&trial.shard)
                    .bind(params)
                    .bind(metrics)
                    .bind(trial.objective)
                    .bind(returns)
                    .bind(trial.created_at.as_nanos())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db(OP, e))?;
                }
                tx.commit().await.map_err(|e| Error::db(OP, e))
            })
        })
        .await
    }

    /// All trials of a sweep (from every shard), by trial number.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn sweep_trials(&self, sweep_id: &str) -> Result<Vec<SweepTrial>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows =
                    sqlx::query("SELECT * FROM sweep_trials WHERE sweep_id = $1 ORDER BY trial")
                        .bind(sweep_id)
                        .fetch_all(pool)
                        .await
                        .map_err(|e| Error::db("sweep_trials", e))?;
                rows.iter().map(decode_trial).collect()
            })
        })
        .await
    }

    /// Stores (or replaces, when a shard re-runs) the record of one shard of a sweep.
    ///
    /// # Errors
    /// Database failures.
    pub async fn save_sweep_shard(&self, shard: &SweepShard) -> Result<()> {
        const OP: &str = "save_sweep_shard";
        let meta = shard.meta.to_string();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO sweep_shards (sweep_id, shard_index, shard_count, trials, \
                     meta_json, created_at_ns) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (sweep_id, shard_index) DO UPDATE SET \
                     shard_count = excluded.shard_count, trials = excluded.trials, \
                     meta_json = excluded.meta_json, created_at_ns = excluded.created_at_ns",
                )
                .bind(&shard.sweep_id)
                .bind(shard.shard_index)
                .bind(shard.shard_count)
                .bind(shard.trials)
                .bind(&meta)
                .bind(shard.created_at.as_nanos())
                .execute(pool)
                .await
                .map_err(|e| Error::db(OP, e))?;
                Ok(())
            })
        })
        .await
    }

    /// The shard records of a sweep, by shard index.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn sweep_shards(&self, sweep_id: &str) -> Result<Vec<SweepShard>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query(
                    "SELECT * FROM sweep_shards WHERE sweep_id = $1 ORDER BY shard_index",
                )
                .bind(sweep_id)
                .fetch_all(pool)
                .await
                .map_err(|e| Error::db("sweep_shards", e))?;
                rows.iter().map(decode_shard).collect()
            })
        })
        .await
    }

    /// The shard records of every sweep, by sweep id and shard index.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn all_sweep_shards(&self) -> Result<Vec<SweepShard>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM sweep_shards ORDER BY sweep_id, shard_index")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("all_sweep_shards", e))?;
                rows.iter().map(decode_shard).collect()
            })
        })
        .await
    }

    // ----- orders, events, fills -----

    /// Persists a new order (before it is sent to a venue).
    ///
    /// Idempotent under retries: if a retried attempt finds the identical order already
    /// stored (the first attempt committed but its acknowledgement was lost), it succeeds.
    ///
    /// # Errors
    /// [`Error::DuplicateClientOrderId`] if a different (or earlier) order has this id.
    pub async fn insert_order(&self, order: &OrderRecord) -> Result<()> {
        let r = &order.request;
        let (limit, trigger) = kind_prices(&r.kind);
        let cid = r.client_order_id.as_str();
        let instrument = r.instrument.to_string();
        let attempt = std::sync::atomic::AtomicU32::new(0);
        self.retrying(|| async {
            let n = attempt.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let inserted = on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO orders (client_order_id, instrument, side, kind, limit_price_raw, \
                     trigger_price_raw, quantity_raw, time_in_force, strategy, created_at_ns) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(cid)
                .bind(&instrument)
                .bind(r.side.as_str())
                .bind(r.kind.as_str())
                .bind(limit)
                .bind(trigger)
                .bind(r.quantity.raw())
                .bind(r.time_in_force.as_str())
                .bind(&order.strategy)
                .bind(order.created_at.as_nanos())
                .execute(pool)
                .await
                .map(|_| ())
            });
            match inserted {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => {
                    if n > 0 && self.order(r.client_order_id).await?.as_ref() == Some(order) {
                        return Ok(());
                    }
                    Err(Error::DuplicateClientOrderId {
                        client_order_id: r.client_order_id,
                    })
                }
                Err(e) => Err(Error::db("insert_order", e)),
            }
        })
        .await
    }

    /// One order by client order id.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn order(&self, id: ClientOrderId) -> Result<Option<OrderRecord>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let row = sqlx::query("SELECT * FROM orders WHERE client_order_id = $1")
                    .bind(id.as_str())
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| Error::db("order", e))?;
                row.as_ref().map(decode_order).transpose()
            })
        })
        .await
    }

    /// Appends order events in one transaction, using multi-row inserts of up to 500 rows.
    /// Events are never updated or deleted (the schema rejects both).
    ///
    /// # Errors
    /// [`Error::Conflict`] if an event `(client_order_id, seq)` already exists;
    /// [`Error::NotFound`] if an event names an order that was never inserted. In both cases
    /// nothing of the batch is stored.
    pub async fn append_order_events(&self, events: &[OrderEvent]) -> Result<()> {
        const OP: &str = "append_order_events";
        if events.is_empty() {
            return Ok(());
        }
        let payloads: Vec<String> = events.iter().map(|e| e.payload.to_string()).collect();
        let full_sql = multi_row_insert(
            self.backend(),
            "INSERT INTO order_events (client_order_id, seq, kind, ts_ns, payload_json)",
            5,
            BATCH_ROWS.min(events.len()),
        );
        let map_err = |e: sqlx::Error| {
            if is_unique_violation(&e) {
                Error::Conflict {
                    table: "order_events",
                    key: format!(
                        "(client_order_id, seq) in the batch starting at ({}, {})",
                        events[0].client_order_id, events[0].seq
                    ),
                }
            } else if is_foreign_key_violation(&e) {
                Error::NotFound {
                    table: "orders",
                    key: format!(
                        "a client_order_id of the batch starting at {}",
                        events[0].client_order_id
                    ),
                }
            } else {
                Error::db(OP, e)
            }
        };
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await.map_err(|e| Error::db(OP, e))?;
                for (chunk, payload_chunk) in
                    events.chunks(BATCH_ROWS).zip(payloads.chunks(BATCH_ROWS))
                {
                    let sql = if chunk.len() == BATCH_ROWS.min(events.len()) {
                        full_sql.clone()
                    } else {
                        multi_row_insert(
                            self.backend(),
                            "INSERT INTO order_events (client_order_id, seq, kind, ts_ns, \
                             payload_json)",
                            5,
                            chunk.len(),
                        )
                    };
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for (event, payload) in chunk.iter().zip(payload_chunk) {
                        query = query
                            .bind(event.client_order_id.as_str())
                            .bind(event.seq)
                            .bind(event.kind.as_str())
                            .bind(event.ts.as_nanos())
                            .bind(payload.as_str());
                    }
                    query.execute(&mut *tx).await.map_err(map_err)?;
                }
                tx.commit().await.map_err(|e| Error::db(OP, e))
            })
        })
        .await
    }

    /// The events of an order in sequence (an order is a fold over these).
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn order_events(&self, id: ClientOrderId) -> Result<Vec<OrderEvent>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query(
                    "SELECT * FROM order_events WHERE client_order_id = $1 ORDER BY seq",
                )
                .bind(id.as_str())
                .fetch_all(pool)
                .await
                .map_err(|e| Error::db("order_events", e))?;
                rows.iter().map(decode_event).collect()
            })
        })
        .await
    }

    /// Number of stored order events.
    ///
    /// # Errors
    /// Database failures.
    pub async fn order_event_count(&self) -> Result<i64> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query_scalar("SELECT COUNT(*) FROM order_events")
                    .fetch_one(pool)
                    .await
                    .map_err(|e| Error::db("order_event_count", e))
            })
        })
        .await
    }

    /// Records a fill of a stored order.
    ///
    /// # Errors
    /// [`Error::Conflict`] if `(client_order_id, seq)` exists; [`Error::NotFound`] if the order
    /// does not.
    pub async fn record_fill(&self, fill: &StoredFill) -> Result<()> {
        let f = &fill.fill;
        self.retrying(|| async {
            let result = on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO fills (client_order_id, seq, ts_ns, side, quantity_raw, \
                     price_raw, fee_money, liquidity, venue_order_id, trade_id, fee_asset) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(f.client_order_id.as_str())
                .bind(fill.seq)
                .bind(f.ts.as_nanos())
                .bind(f.side.as_str())
                .bind(f.quantity.raw())
                .bind(f.price.raw())
                .bind(money(f.fee))
                .bind(f.liquidity.as_str())
                .bind(f.venue_order_id.as_str())
                .bind(f.trade_id.as_str())
                .bind(f.fee_asset.as_str())
                .execute(pool)
                .await
                .map(|_| ())
            });
            match result {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(Error::Conflict {
                    table: "fills",
                    key: format!("({}, {})", f.client_order_id, fill.seq),
                }),
                Err(e) if is_foreign_key_violation(&e) => Err(Error::NotFound {
                    table: "orders",
                    key: f.client_order_id.to_string(),
                }),
                Err(e) => Err(Error::db("record_fill", e)),
            }
        })
        .await
    }

    /// The fills of an order, in sequence.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn fills(&self, id: ClientOrderId) -> Result<Vec<StoredFill>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows =
                    sqlx::query("SELECT * FROM fills WHERE client_order_id = $1 ORDER BY seq")
                        .bind(id.as_str())
                        .fetch_all(pool)
                        .await
                        .map_err(|e| Error::db("fills", e))?;
                rows.iter().map(decode_fill).collect()
            })
        })
        .await
    }

    // ----- portfolio -----

    /// Inserts or replaces a position.
    ///
    /// # Errors
    /// Database failures.
    pub async fn upsert_position(&self, p: &PositionRecord) -> Result<()> {
        let instrument = p.instrument.to_string();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO positions (account, instrument, quantity_raw, cost_money, \
                     realized_money, updated_at_ns) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (account, instrument) DO UPDATE SET \
                     quantity_raw = excluded.quantity_raw, cost_money = excluded.cost_money, \
                     realized_money = excluded.realized_money, \
                     updated_at_ns = excluded.updated_at_ns",
                )
                .bind(&p.account)
                .bind(&instrument)
                .bind(p.quantity.raw())
                .bind(money(p.cost_basis))
                .bind(money(p.realized_pnl))
                .bind(p.updated_at.as_nanos())
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| Error::db("upsert_position", e))
            })
        })
        .await
    }

    /// The positions of an account, by instrument.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn positions(&self, account: &str) -> Result<Vec<PositionRecord>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows =
                    sqlx::query("SELECT * FROM positions WHERE account = $1 ORDER BY instrument")
                        .bind(account)
                        .fetch_all(pool)
                        .await
                        .map_err(|e| Error::db("positions", e))?;
                rows.iter().map(decode_position).collect()
            })
        })
        .await
    }

    /// Inserts or replaces a balance.
    ///
    /// # Errors
    /// Database failures.
    pub async fn upsert_balance(&self, b: &Balance) -> Result<()> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO balances (account, currency, total_money, updated_at_ns) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (account, currency) DO UPDATE SET \
                     total_money = excluded.total_money, updated_at_ns = excluded.updated_at_ns",
                )
                .bind(&b.account)
                .bind(&b.currency)
                .bind(money(b.total))
                .bind(b.updated_at.as_nanos())
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| Error::db("upsert_balance", e))
            })
        })
        .await
    }

    /// The balances of an account, by currency.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn balances(&self, account: &str) -> Result<Vec<Balance>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows =
                    sqlx::query("SELECT * FROM balances WHERE account = $1 ORDER BY currency")
                        .bind(account)
                        .fetch_all(pool)
                        .await
                        .map_err(|e| Error::db("balances", e))?;
                rows.iter().map(decode_balance).collect()
            })
        })
        .await
    }

    /// Records an equity snapshot (one per account and instant).
    ///
    /// # Errors
    /// [`Error::Conflict`] if the account already has a snapshot at `snapshot.ts`.
    pub async fn record_equity(&self, account: &str, snapshot: &EquitySnapshot) -> Result<()> {
        self.retrying(|| async {
            let result = on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO equity_snapshots (account, ts_ns, equity_money, cash_money) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(account)
                .bind(snapshot.ts.as_nanos())
                .bind(money(snapshot.equity))
                .bind(money(snapshot.cash))
                .execute(pool)
                .await
                .map(|_| ())
            });
            match result {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(Error::Conflict {
                    table: "equity_snapshots",
                    key: format!("({account}, {})", snapshot.ts.as_nanos()),
                }),
                Err(e) => Err(Error::db("record_equity", e)),
            }
        })
        .await
    }

    /// The equity curve of an account, oldest first.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn equity_curve(&self, account: &str) -> Result<Vec<EquitySnapshot>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows =
                    sqlx::query("SELECT * FROM equity_snapshots WHERE account = $1 ORDER BY ts_ns")
                        .bind(account)
                        .fetch_all(pool)
                        .await
                        .map_err(|e| Error::db("equity_curve", e))?;
                rows.iter().map(decode_equity).collect()
            })
        })
        .await
    }

    /// The newest `limit` points of `account`'s equity series, oldest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn equity_tail(&self, account: &str, limit: i64) -> Result<Vec<EquitySnapshot>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query(
                    "SELECT * FROM (SELECT * FROM equity_snapshots WHERE account = $1 \
                     ORDER BY ts_ns DESC LIMIT $2) AS tail ORDER BY ts_ns",
                )
                .bind(account)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| Error::db("equity_tail", e))?;
                rows.iter().map(decode_equity).collect()
            })
        })
        .await
    }

    // ----- kill switch -----

    /// Persists the kill-switch state of `state.scope` (it survives restarts). To also tell
    /// running processes, use [`crate::KillSwitchBus::publish`].
    ///
    /// # Errors
    /// Database failures.
    pub async fn set_kill_switch(&self, state: &KillSwitchState) -> Result<()> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO kill_switch (scope, engaged, reason, actor, updated_at_ns) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope) DO UPDATE SET \
                     engaged = excluded.engaged, reason = excluded.reason, \
                     actor = excluded.actor, updated_at_ns = excluded.updated_at_ns",
                )
                .bind(&state.scope)
                .bind(state.engaged)
                .bind(&state.reason)
                .bind(&state.actor)
                .bind(state.updated_at.as_nanos())
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| Error::db("set_kill_switch", e))
            })
        })
        .await
    }

    /// Every persisted kill-switch state, by scope (a live engine applies them at start).
    ///
    /// # Errors
    /// Database failures.
    pub async fn kill_switches(&self) -> Result<Vec<KillSwitchState>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM kill_switch ORDER BY scope")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("kill_switches", e))?;
                rows.iter().map(decode_kill_switch).collect()
            })
        })
        .await
    }

    /// The persisted kill-switch state of `scope` (`None` = never set, i.e. disengaged).
    ///
    /// # Errors
    /// Database failures.
    pub async fn kill_switch(&self, scope: &str) -> Result<Option<KillSwitchState>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let row = sqlx::query("SELECT * FROM kill_switch WHERE scope = $1")
                    .bind(scope)
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| Error::db("kill_switch", e))?;
                row.as_ref().map(decode_kill_switch).transpose()
            })
        })
        .await
    }

    // ----- audit log -----

    /// Appends an audit entry (its `id` is ignored) and returns the assigned id.
    ///
    /// # Errors
    /// Database failures.
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<i64> {
        let detail = entry.detail.to_string();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query_scalar(
                    "INSERT INTO audit_log (ts_ns, actor, action, target, detail_json) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(entry.ts.as_nanos())
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.target)
                .bind(&detail)
                .fetch_one(pool)
                .await
                .map_err(|e| Error::db("append_audit", e))
            })
        })
        .await
    }

    /// Appends audit entries (their `id`s are ignored) in one transaction, in order: a busy
    /// API's entries cost one commit per batch instead of one each.
    ///
    /// # Errors
    /// Database failures; nothing of the batch is stored then.
    pub async fn append_audit_batch(&self, entries: &[AuditEntry]) -> Result<()> {
        const OP: &str = "append_audit_batch";
        /// Five parameters a row: well under either backend's limit per statement.
        const ROWS_PER_INSERT: usize = 500;
        if entries.is_empty() {
            return Ok(());
        }
        let details: Vec<String> = entries.iter().map(|e| e.detail.to_string()).collect();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let mut tx = pool.begin().await.map_err(|e| Error::db(OP, e))?;
                for (chunk, details) in entries
                    .chunks(ROWS_PER_INSERT)
                    .zip(details.chunks(ROWS_PER_INSERT))
                {
                    let sql = multi_row_insert(
                        self.backend(),
                        "INSERT INTO audit_log (ts_ns, actor, action, target, detail_json)",
                        5,
                        chunk.len(),
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (entry, detail) in chunk.iter().zip(details) {
                        q = q
                            .bind(entry.ts.as_nanos())
                            .bind(&entry.actor)
                            .bind(&entry.action)
                            .bind(&entry.target)
                            .bind(detail);
                    }
                    q.execute(&mut *tx).await.map_err(|e| Error::db(OP, e))?;
                }
                tx.commit().await.map_err(|e| Error::db(OP, e))
            })
        })
        .await
    }

    /// The newest `limit` audit entries, newest first.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM audit_log ORDER BY id DESC LIMIT $1")
                    .bind(limit)
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("audit_log", e))?;
                rows.iter().map(decode_audit).collect()
            })
        })
        .await
    }

    // ----- API tokens -----

    /// Registers an API token by its hash and returns its id.
    ///
    /// # Errors
    /// [`Error::Conflict`] if the name or the hash is already registered.
    pub async fn create_api_token(&self, token: &NewApiToken) -> Result<i64> {
        self.retrying(|| async {
            let result: Result<i64, sqlx::Error> = on_pool!(self, |pool| {
                sqlx::query_scalar(
                    "INSERT INTO api_tokens (name, token_hash, scopes, created_at_ns, \
                     expires_at_ns) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&token.name)
                .bind(token.hash.as_str())
                .bind(&token.scopes)
                .bind(token.created_at.as_nanos())
                .bind(token.expires_at.map(|t| t.as_nanos()))
                .fetch_one(pool)
                .await
            });
            match result {
                Ok(id) => Ok(id),
                Err(e) if is_unique_violation(&e) => Err(Error::Conflict {
                    table: "api_tokens",
                    key: token.name.clone(),
                }),
                Err(e) => Err(Error::db("create_api_token", e)),
            }
        })
        .await
    }

    /// Looks a token up by the hash of a presented bearer token.
    ///
    /// # Errors
    /// Database failures.
    pub async fn api_token_by_hash(&self, hash: &TokenHash) -> Result<Option<ApiToken>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let row = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
                    .bind(hash.as_str())
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| Error::db("api_token_by_hash", e))?;
                row.as_ref().map(decode_token).transpose()
            })
        })
        .await
    }

    /// Revokes the token `name` at `at`; `false` if no active token has that name.
    ///
    /// # Errors
    /// Database failures.
    pub async fn revoke_api_token(
        &self,
        name: &str,
        at: tradepulse_model::UnixNanos,
    ) -> Result<bool> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query(
                    "UPDATE api_tokens SET revoked_at_ns = $1 WHERE name = $2 \
                     AND revoked_at_ns IS NULL",
                )
                .bind(at.as_nanos())
                .bind(name)
                .execute(pool)
                .await
                .map(|r| r.rows_affected() > 0)
                .map_err(|e| Error::db("revoke_api_token", e))
            })
        })
        .await
    }

    /// Every registered token (active, expired and revoked), by name; hashes are not returned.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM api_tokens ORDER BY name")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("api_tokens", e))?;
                rows.iter().map(decode_token).collect()
            })
        })
        .await
    }

    // ----- strategy checkpoints -----

    /// Replaces the checkpoint of `checkpoint.strategy`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn save_strategy_checkpoint(&self, checkpoint: &StrategyCheckpoint) -> Result<()> {
        let state = checkpoint.state.to_string();
        let instrument = checkpoint.instrument.to_string();
        self.retrying(|| async {
            on_pool!(self, |pool| {
                sqlx::query(
                    "INSERT INTO strategy_checkpoints (strategy, instrument, bar_ts_ns, bars, \
                     state_json, updated_at_ns) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (strategy) DO UPDATE SET instrument = excluded.instrument, \
                     bar_ts_ns = excluded.bar_ts_ns, bars = excluded.bars, \
                     state_json = excluded.state_json, updated_at_ns = excluded.updated_at_ns",
                )
                .bind(&checkpoint.strategy)
                .bind(&instrument)
                .bind(checkpoint.bar_ts.as_nanos())
                .bind(checkpoint.bars)
                .bind(&state)
                .bind(checkpoint.updated_at.as_nanos())
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(|e| Error::db("save_strategy_checkpoint", e))
            })
        })
        .await
    }

    /// Every strategy checkpoint, by strategy name.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn strategy_checkpoints(&self) -> Result<Vec<StrategyCheckpoint>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query("SELECT * FROM strategy_checkpoints ORDER BY strategy")
                    .fetch_all(pool)
                    .await
                    .map_err(|e| Error::db("strategy_checkpoints", e))?;
                rows.iter().map(decode_checkpoint).collect()
            })
        })
        .await
    }

    /// The newest `limit` fills of every order, newest first, with their order's strategy and
    /// instrument.
    ///
    /// # Errors
    /// Database failures; [`Error::Corrupt`] for undecodable rows.
    pub async fn recent_fills(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, tradepulse_model::InstrumentId, StoredFill)>> {
        self.retrying(|| async {
            on_pool!(self, |pool| {
                let rows = sqlx::query(
                    "SELECT f.*, o.strategy AS order_strategy, o.instrument AS order_instrument \
                     FROM fills f \
                     JOIN orders o ON o.client_order_id = f.client_order_id \
                     ORDER BY f.ts_ns DESC, f.client_order_id DESC, f.seq DESC LIMIT $1",
                )
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(|e| Error::db("recent_fills", e))?;
                rows.iter()
                    .map(|r| {
                        let d = Decode {
                            row: r,
                            table: "fills",
                        };
                        Ok((
                            r.text("order_strategy")?,
                            d.instrument("order_instrument")?,
                            decode_fill(r)?,
                        ))
                    })
                    .collect()
            })
        })
        .await
    }
}
