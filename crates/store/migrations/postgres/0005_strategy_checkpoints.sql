-- TradePulse schema v5: what the core service (`tradepulse serve`) needs to restart mid-stream.
-- `strategy_checkpoints`: the latest saved state of each in-process strategy (its indicator
-- windows and last signal, as JSON) and the time of the last bar it had seen, so a restarted
-- runner restores the state and resumes the market data after that bar. One row per strategy,
-- replaced after every bar.

CREATE TABLE strategy_checkpoints (
    strategy      TEXT    NOT NULL PRIMARY KEY,
    instrument    TEXT    NOT NULL,
    bar_ts_ns     BIGINT  NOT NULL,
    bars          BIGINT  NOT NULL,
    state_json    TEXT    NOT NULL,
    updated_at_ns BIGINT  NOT NULL
);
