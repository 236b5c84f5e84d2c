-- TradePulse schema v1 (SQLite).
-- Conventions (identical in the PostgreSQL migration):
--   *_ns        BIGINT/INTEGER: UnixNanos::as_nanos() (UTC nanoseconds)
--   *_raw       BIGINT/INTEGER: Price::raw() / Quantity::raw() (i64 mantissa, scale 1e-9)
--   *_money     TEXT: Money::raw() (i128 mantissa, scale 1e-9) as a base-10 integer string;
--               TEXT because SQLite has no 128-bit integer and both backends must agree exactly.
--   *_json      TEXT holding JSON.

CREATE TABLE backtest_runs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    strategy       TEXT    NOT NULL,
    config_json    TEXT    NOT NULL,
    started_at_ns  INTEGER NOT NULL,
    finished_at_ns INTEGER NOT NULL
);

CREATE TABLE run_metrics (
    run_id INTEGER NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
    name   TEXT    NOT NULL,
    value  REAL    NOT NULL,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE run_trades (
    run_id          INTEGER NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    instrument      TEXT    NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity_raw    INTEGER NOT NULL CHECK (quantity_raw > 0),
    entry_ts_ns     INTEGER NOT NULL,
    entry_price_raw INTEGER NOT NULL,
    exit_ts_ns      INTEGER NOT NULL,
    exit_price_raw  INTEGER NOT NULL,
    pnl_money       TEXT    NOT NULL,
    fees_money      TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE sweep_trials (
    sweep_id      TEXT    NOT NULL,
    trial         INTEGER NOT NULL,
    shard         TEXT    NOT NULL,
    params_json   TEXT    NOT NULL,
    metrics_json  TEXT    NOT NULL,
    objective     REAL,
    created_at_ns INTEGER NOT NULL,
    PRIMARY KEY (sweep_id, trial)
);

CREATE TABLE orders (
    client_order_id   TEXT    NOT NULL PRIMARY KEY,
    instrument        TEXT    NOT NULL,
    side              TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    kind              TEXT    NOT NULL CHECK (kind IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop')),
    limit_price_raw   INTEGER,
    trigger_price_raw INTEGER,
    quantity_raw      INTEGER NOT NULL CHECK (quantity_raw > 0),
    time_in_force     TEXT    NOT NULL,
    strategy          TEXT    NOT NULL,
    created_at_ns     INTEGER NOT NULL
);

CREATE TABLE order_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_order_id TEXT    NOT NULL REFERENCES orders (client_order_id),
    seq             INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    ts_ns           INTEGER NOT NULL,
    payload_json    TEXT    NOT NULL,
    UNIQUE (client_order_id, seq)
);

CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;

CREATE TABLE fills (
    client_order_id TEXT    NOT NULL REFERENCES orders (client_order_id),
    seq             INTEGER NOT NULL,
    ts_ns           INTEGER NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity_raw    INTEGER NOT NULL,
    price_raw       INTEGER NOT NULL,
    fee_money       TEXT    NOT NULL,
    liquidity       TEXT    NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    PRIMARY KEY (client_order_id, seq)
);

CREATE TABLE positions (
    account           TEXT    NOT NULL,
    instrument        TEXT    NOT NULL,
    quantity_raw      INTEGER NOT NULL,
    cost_money        TEXT    NOT NULL,
    realized_money    TEXT    NOT NULL,
    updated_at_ns     INTEGER NOT NULL,
    PRIMARY KEY (account, instrument)
);

CREATE TABLE balances (
    account       TEXT    NOT NULL,
    currency      TEXT    NOT NULL,
    total_money   TEXT    NOT NULL,
    updated_at_ns INTEGER NOT NULL,
    PRIMARY KEY (account, currency)
);

CREATE TABLE equity_snapshots (
    account      TEXT    NOT NULL,
    ts_ns        INTEGER NOT NULL,
    equity_money TEXT    NOT NULL,
    cash_money   TEXT    NOT NULL,
    PRIMARY KEY (account, ts_ns)
);

CREATE TABLE kill_switch (
    scope         TEXT    NOT NULL PRIMARY KEY,
    engaged       BOOLEAN NOT NULL,
    reason        TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    updated_at_ns INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ns       INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    detail_json TEXT    NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    token_hash    TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    created_at_ns INTEGER NOT NULL,
    expires_at_ns INTEGER,
    revoked_at_ns INTEGER
);
