//! What the core service stores (schema v5) on both backends: strategy checkpoints replaced in
//! place and read back exactly, the token list (names and roles, never hashes), and the newest
//! fills across orders with their strategy.

use serde_json::json;
use tradepulse_model::{
    Asset, ClientOrderId, Fill, Liquidity, OrderKind, OrderRequest, Side, TimeInForce, TradeId,
    UnixNanos, VenueOrderId,
};
use tradepulse_store::{
    JournalRow, NewApiToken, OrderRecord, StoredFill, StrategyCheckpoint, TokenHash,
};

use crate::both_backends;
use crate::support::TestDb;

fn checkpoint(bars: i64, closes: &[i64]) -> StrategyCheckpoint {
    StrategyCheckpoint {
        strategy: "sma-spx".into(),
        instrument: "SPX.SIM".parse().unwrap(),
        bar_ts: UnixNanos::new(1_000 + bars),
        bars,
        state: json!({"kind": "sma_cross", "closes": closes, "previous": -1}),
        updated_at: UnixNanos::new(7),
    }
}

async fn checkpoints_are_replaced_and_read_back(db: &TestDb) {
    assert!(db.store.strategy_checkpoints().await.unwrap().is_empty());
    db.store
        .save_strategy_checkpoint(&checkpoint(1, &[10]))
        .await
        .unwrap();
    let latest = checkpoint(2, &[10, i64::MAX]);
    db.store.save_strategy_checkpoint(&latest).await.unwrap();
    let mut other = checkpoint(5, &[]);
    other.strategy = "bh".into();
    db.store.save_strategy_checkpoint(&other).await.unwrap();
    let reopened = db.reopen().await;
    let all = reopened.strategy_checkpoints().await.unwrap();
    assert_eq!(all, vec![other, latest]);
}

async fn tokens_are_listed_without_hashes(db: &TestDb) {
    for (name, scopes) in [("ops", "admin"), ("dash", "viewer")] {
        db.store
            .create_api_token(&NewApiToken {
                name: name.into(),
                hash: TokenHash::from_hex(&format!("{:064x}", name.len())).unwrap(),
                scopes: scopes.into(),
                created_at: UnixNanos::new(1),
                expires_at: None,
            })
            .await
            .unwrap();
    }
    assert!(
        db.store
            .revoke_api_token("dash", UnixNanos::new(2))
            .await
            .unwrap()
    );
    let tokens = db.store.api_tokens().await.unwrap();
    let listed: Vec<(&str, &str, bool)> = tokens
        .iter()
        .map(|t| (t.name.as_str(), t.scopes.as_str(), t.revoked_at.is_some()))
        .collect();
    assert_eq!(listed, [("dash", "viewer", true), ("ops", "admin", false)]);
}

async fn recent_fills_span_orders_newest_first(db: &TestDb) {
    let mut rows = Vec::new();
    for (i, strategy) in ["sma", "bh"].iter().enumerate() {
        let id = ClientOrderId::new(&format!("o{i}")).unwrap();
        rows.push(JournalRow::Order(OrderRecord {
            request: OrderRequest {
                client_order_id: id,
                instrument: "SPX.SIM".parse().unwrap(),
                side: Side::Buy,
                quantity: "2".parse().unwrap(),
                kind: OrderKind::Market,
                time_in_force: TimeInForce::Ioc,
            },
            strategy: (*strategy).into(),
            created_at: UnixNanos::new(1),
        }));
        rows.push(JournalRow::Fill(StoredFill {
            seq: 0,
            fill: Fill {
                client_order_id: id,
                venue_order_id: VenueOrderId::new(&format!("v{i}")).unwrap(),
                trade_id: TradeId::new(&format!("t{i}")).unwrap(),
                ts: UnixNanos::new(100 + i as i64),
                side: Side::Buy,
                quantity: "2".parse().unwrap(),
                price: "1500.25".parse().unwrap(),
                fee: "0.3".parse().unwrap(),
                fee_asset: Asset::new("USD").unwrap(),
                liquidity: Liquidity::Taker,
            },
        }));
    }
    db.store.append_journal(&rows).await.unwrap();
    let fills = db.store.recent_fills(10).await.unwrap();
    let got: Vec<(&str, String, &str)> = fills
        .iter()
        .map(|(s, i, f)| (s.as_str(), i.to_string(), f.fill.client_order_id.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("bh", "SPX.SIM".into(), "o1"),
            ("sma", "SPX.SIM".into(), "o0")
        ]
    );
    assert_eq!(db.store.recent_fills(1).await.unwrap().len(), 1);
}

both_backends!(
    checkpoints_are_replaced_and_read_back,
    tokens_are_listed_without_hashes,
    recent_fills_span_orders_newest_first,
);
