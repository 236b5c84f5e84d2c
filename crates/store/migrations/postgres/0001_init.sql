-- TradePulse schema v1 (PostgreSQL).
-- Conventions (identical in the PostgreSQL migration):
--   *_ns        BIGINT/INTEGER: UnixNanos::as_nanos() (UTC nanoseconds)
--   *_raw       BIGINT/INTEGER: Price::raw() / Quantity::raw() (i64 mantissa, scale 1e-9)
--   *_money     TEXT: Money::raw() (i128 mantissa, scale 1e-9) as a base-10 integer string;
--               TEXT because SQLite has no 128-bit integer and both backends must agree exactly.
--   *_json      TEXT holding JSON.

CREATE FUNCTION tradepulse_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TABLE backtest_runs (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT    NOT NULL,
    strategy       TEXT    NOT NULL,
    config_json    TEXT    NOT NULL,
    started_at_ns  BIGINT  NOT NULL,
    finished_at_ns BIGINT  NOT NULL
);

CREATE TABLE run_metrics (
    run_id BIGINT  NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
    name   TEXT    NOT NULL,
    value  DOUBLE PRECISION    NOT NULL,
    PRIMARY KEY (run_id, name)
);

CREATE TABLE run_trades (
    run_id          BIGINT  NOT NULL REFERENCES backtest_runs (id) ON DELETE CASCADE,
    seq             BIGINT  NOT NULL,
    instrument      TEXT    NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity_raw    BIGINT  NOT NULL CHECK (quantity_raw > 0),
    entry_ts_ns     BIGINT  NOT NULL,
    entry_price_raw BIGINT  NOT NULL,
    exit_ts_ns      BIGINT  NOT NULL,
    exit_price_raw  BIGINT  NOT NULL,
    pnl_money       TEXT    NOT NULL,
    fees_money      TEXT    NOT NULL,
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE sweep_trials (
    sweep_id      TEXT    NOT NULL,
    trial         BIGINT  NOT NULL,
    shard         TEXT    NOT NULL,
    params_json   TEXT    NOT NULL,
    metrics_json  TEXT    NOT NULL,
    objective     DOUBLE PRECISION,
    created_at_ns BIGINT  NOT NULL,
    PRIMARY KEY (sweep_id, trial)
);

CREATE TABLE orders (
    client_order_id   TEXT    NOT NULL PRIMARY KEY,
    instrument        TEXT    NOT NULL,
    side              TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    kind              TEXT    NOT NULL CHECK (kind IN ('market', 'limit', 'stop', 'stop_limit', 'trailing_stop')),
    limit_price_raw   BIGINT ,
    trigger_price_raw BIGINT ,
    quantity_raw      BIGINT  NOT NULL CHECK (quantity_raw > 0),
    time_in_force     TEXT    NOT NULL,
    strategy          TEXT    NOT NULL,
    created_at_ns     BIGINT  NOT NULL
);

CREATE TABLE order_events (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_order_id TEXT    NOT NULL REFERENCES orders (client_order_id),
    seq             BIGINT  NOT NULL,
    kind            TEXT    NOT NULL,
    ts_ns           BIGINT  NOT NULL,
    payload_json    TEXT    NOT NULL,
    UNIQUE (client_order_id, seq)
);

CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION tradepulse_append_only();

CREATE TABLE fills (
    client_order_id TEXT    NOT NULL REFERENCES orders (client_order_id),
    seq             BIGINT  NOT NULL,
    ts_ns           BIGINT  NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    quantity_raw    BIGINT  NOT NULL,
    price_raw       BIGINT  NOT NULL,
    fee_money       TEXT    NOT NULL,
    liquidity       TEXT    NOT NULL CHECK (liquidity IN ('maker', 'taker')),
    PRIMARY KEY (client_order_id, seq)
);

CREATE TABLE positions (
    account           TEXT    NOT NULL,
    instrument        TEXT    NOT NULL,
    quantity_raw      BIGINT  NOT NULL,
    cost_money        TEXT    NOT NULL,
    realized_money    TEXT    NOT NULL,
    updated_at_ns     BIGINT  NOT NULL,
    PRIMARY KEY (account, instrument)
);

CREATE TABLE balances (
    account       TEXT    NOT NULL,
    currency      TEXT    NOT NULL,
    total_money   TEXT    NOT NULL,
    updated_at_ns BIGINT  NOT NULL,
    PRIMARY KEY (account, currency)
);

CREATE TABLE equity_snapshots (
    account      TEXT    NOT NULL,
    ts_ns        BIGINT  NOT NULL,
    equity_money TEXT    NOT NULL,
    cash_money   TEXT    NOT NULL,
    PRIMARY KEY (account, ts_ns)
);

CREATE TABLE kill_switch (
    scope         TEXT    NOT NULL PRIMARY KEY,
    engaged       BOOLEAN NOT NULL,
    reason        TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    updated_at_ns BIGINT  NOT NULL
);

CREATE TABLE audit_log (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts_ns       BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    detail_json TEXT    NOT NULL
);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION tradepulse_append_only();

CREATE TABLE api_tokens (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    token_hash    TEXT    NOT NULL UNIQUE,
    scopes        TEXT    NOT NULL,
    created_at_ns BIGINT  NOT NULL,
    expires_at_ns BIGINT ,
    revoked_at_ns BIGINT 
);
