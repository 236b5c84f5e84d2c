-- TradePulse schema v3: sweep shards record what they are, and trials keep their returns.
-- A shard row is written after all of the shard's trials, so a shard that crashed half-way has
-- no row and a merge names it as missing. `meta_json` is the shard's metadata as
-- tradepulse-research writes it to `meta.json` (parameters, objective, shard, trial count, …).

CREATE TABLE sweep_shards (
    sweep_id      TEXT    NOT NULL,
    shard_index   BIGINT  NOT NULL CHECK (shard_index >= 0),
    shard_count   BIGINT  NOT NULL CHECK (shard_count > shard_index),
    trials        BIGINT  NOT NULL CHECK (trials >= 0),
    meta_json     TEXT    NOT NULL,
    created_at_ns BIGINT  NOT NULL,
    PRIMARY KEY (sweep_id, shard_index)
);

-- The trial's per-period returns as a JSON array of numbers (NULL for rows written before v3,
-- which a merge refuses).
ALTER TABLE sweep_trials ADD COLUMN returns_json TEXT;
