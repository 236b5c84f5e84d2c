-- Fills carry the venue's order id and trade id and the asset the fee was charged in. A fill is
-- identified by its trade id: a repeated report of the same execution cannot be stored twice.
-- Rows written under version 1 get '' in the new columns, which reading reports as corrupt
-- (never as a made-up id).
ALTER TABLE fills ADD COLUMN venue_order_id TEXT NOT NULL DEFAULT '';
ALTER TABLE fills ADD COLUMN trade_id TEXT NOT NULL DEFAULT '';
ALTER TABLE fills ADD COLUMN fee_asset TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX fills_trade_id ON fills (client_order_id, trade_id) WHERE trade_id <> '';
