-- TradePulse schema v4: what a live execution engine needs to restart.
-- `live_sessions`: one row per start of a live process; its id is the unique part of every client
-- order id the session chooses, so ids never repeat across restarts or processes sharing the
-- database.
-- `balance_adjustments`: external changes of the account's balances (deposits, withdrawals, the
-- opening balances reconciliation found), append-only. `after_event_id` is the `order_events.id`
-- the change was booked after, so a restart replays orders, reports and adjustments in the order
-- they happened.

CREATE TABLE live_sessions (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service       TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    pid           BIGINT  NOT NULL,
    started_at_ns BIGINT  NOT NULL
);

CREATE TABLE balance_adjustments (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    after_event_id BIGINT  NOT NULL,
    ts_ns          BIGINT  NOT NULL,
    asset          TEXT    NOT NULL,
    amount_money   TEXT    NOT NULL,
    price_raw      BIGINT  NOT NULL,
    reason         TEXT    NOT NULL
);

CREATE TRIGGER balance_adjustments_append_only BEFORE UPDATE OR DELETE ON balance_adjustments
    FOR EACH ROW EXECUTE FUNCTION tradepulse_append_only();
