-- TradePulse schema v4: what a live execution engine needs to restart.
-- `live_sessions`: one row per start of a live process; its id is the unique part of every client
-- order id the session chooses, so ids never repeat across restarts or processes sharing the
-- database.
-- `balance_adjustments`: external changes of the account's balances (deposits, withdrawals, the
-- opening balances reconciliation found), append-only. `after_event_id` is the `order_events.id`
-- the change was booked after, so a restart replays orders, reports and adjustments in the order
-- they happened.

CREATE TABLE live_sessions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    service       TEXT    NOT NULL,
    host          TEXT    NOT NULL,
    pid           INTEGER NOT NULL,
    started_at_ns INTEGER NOT NULL
);

CREATE TABLE balance_adjustments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    after_event_id INTEGER NOT NULL,
    ts_ns          INTEGER NOT NULL,
    asset          TEXT    NOT NULL,
    amount_money   TEXT    NOT NULL,
    price_raw      INTEGER NOT NULL,
    reason         TEXT    NOT NULL
);

CREATE TRIGGER balance_adjustments_no_update BEFORE UPDATE ON balance_adjustments
BEGIN SELECT RAISE(ABORT, 'balance_adjustments is append-only'); END;
CREATE TRIGGER balance_adjustments_no_delete BEFORE DELETE ON balance_adjustments
BEGIN SELECT RAISE(ABORT, 'balance_adjustments is append-only'); END;
