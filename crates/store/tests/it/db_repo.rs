//! The repository API, identical on both backends.

use std::collections::BTreeMap;

use serde_json::json;
use tradepulse_model::{
    ClientOrderId, Fill, InstrumentId, Liquidity, Money, OrderKind, OrderRequest, Price, Quantity,
    Side, TimeInForce, UnixNanos,
};
use tradepulse_store::{
    AuditEntry, Balance, EquitySnapshot, Error, KillSwitchState, NewApiToken, NewBacktestRun,
    OrderEvent, OrderRecord, PositionRecord, RunTrade, StoredFill, SweepTrial, TokenHash,
};

use crate::both_backends;
use crate::support::TestDb;

fn t(n: i64) -> UnixNanos {
    UnixNanos::new(1_700_000_000_000_000_000 + n)
}

fn btc() -> InstrumentId {
    "BTCUSDT.BINANCE".parse().unwrap()
}

fn trade(qty: &str, pnl: Money) -> RunTrade {
    RunTrade {
        instrument: btc(),
        side: Side::Buy,
        quantity: qty.parse().unwrap(),
        entry_ts: t(1),
        entry_price: "101.25".parse().unwrap(),
        exit_ts: t(2),
        exit_price: "102.000000001".parse().unwrap(),
        pnl,
        fees: "0.000000001".parse().unwrap(),
    }
}

fn sample_run(trades: Vec<RunTrade>) -> NewBacktestRun {
    NewBacktestRun {
        name: "sample".into(),
        strategy: "sma_cross".into(),
        config: json!({"fast": 10, "slow": 30}),
        started_at: t(0),
        finished_at: t(100),
        metrics: BTreeMap::from([
            ("sharpe".to_owned(), 1.25),
            ("max_drawdown".to_owned(), -0.1),
        ]),
        trades,
    }
}

fn order(id: &str, kind: OrderKind) -> OrderRecord {
    OrderRecord {
        request: OrderRequest {
            client_order_id: ClientOrderId::new(id).unwrap(),
            instrument: btc(),
            side: Side::Sell,
            quantity: "0.5".parse().unwrap(),
            kind,
            time_in_force: TimeInForce::Ioc,
        },
        strategy: "sma_cross".into(),
        created_at: t(5),
    }
}

fn event(id: &str, seq: i64, kind: &str) -> OrderEvent {
    OrderEvent {
        client_order_id: ClientOrderId::new(id).unwrap(),
        seq,
        kind: kind.into(),
        ts: t(10 + seq),
        payload: json!({"seq": seq}),
    }
}

both_backends!(
    migrate_is_idempotent,
    run_round_trips_exactly,
    failed_run_leaves_nothing,
    sweep_trials_merge_across_shards,
    orders_round_trip_every_kind,
    duplicate_client_order_id_is_typed,
    order_events_append_in_batches,
    order_event_batch_is_all_or_nothing,
    fills_round_trip_and_reject_duplicates,
    portfolio_state_round_trips,
    kill_switch_survives_restart,
    audit_log_is_ordered,
    api_tokens_store_hashes_only,
    order_events_and_audit_log_are_append_only,
);

async fn order_events_and_audit_log_are_append_only(db: &TestDb) {
    db.store
        .insert_order(&order("ao-1", OrderKind::Market))
        .await
        .unwrap();
    db.store
        .append_order_events(&[event("ao-1", 0, "submitted")])
        .await
        .unwrap();
    db.store
        .append_audit(&AuditEntry {
            id: 0,
            ts: t(0),
            actor: "ops".into(),
            action: "x".into(),
            target: "y".into(),
            detail: json!({}),
        })
        .await
        .unwrap();
    for sql in [
        "UPDATE order_events SET kind = 'tampered'",
        "DELETE FROM order_events",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
    ] {
        let err = db.raw_execute(sql).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let events = db
        .store
        .order_events(ClientOrderId::new("ao-1").unwrap())
        .await
        .unwrap();
    assert_eq!(events[0].kind, "submitted");
    assert_eq!(db.store.audit_log(10).await.unwrap().len(), 1);
}

async fn migrate_is_idempotent(db: &TestDb) {
    db.store.migrate().await.unwrap();
    db.store.migrate().await.unwrap();
    db.store.ping().await.unwrap();
    assert!(db.store.is_ready());
}

async fn run_round_trips_exactly(db: &TestDb) {
    let huge = Money::from_raw(170_141_183_460_469_231_731_687_303_715_884_105_727); // i128::MAX
    let run = sample_run(vec![trade("1.5", huge), trade("2", Money::from_raw(-1))]);
    let id = db.store.save_run(&run).await.unwrap();
    let stored = db.store.run(id).await.unwrap().unwrap();
    assert_eq!(stored.name, "sample");
    assert_eq!(stored.config, run.config);
    assert_eq!(stored.started_at, run.started_at);
    assert_eq!(db.store.run_metrics(id).await.unwrap(), run.metrics);
    assert_eq!(db.store.run_trades(id).await.unwrap(), run.trades);
    assert_eq!(db.store.runs().await.unwrap().len(), 1);
}

async fn failed_run_leaves_nothing(db: &TestDb) {
    // The second trade breaks a CHECK constraint after the run row, its metrics and the first
    // trade were written: the transaction must roll all of it back.
    let bad = sample_run(vec![trade("1", Money::ZERO), trade("0", Money::ZERO)]);
    let err = db.store.save_run(&bad).await.unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
    assert_eq!(db.store.run_count().await.unwrap(), 0);
    assert!(db.store.runs().await.unwrap().is_empty());
}

async fn sweep_trials_merge_across_shards(db: &TestDb) {
    for (trial, shard) in [(2, "1/2"), (0, "0/2"), (1, "1/2"), (3, "0/2")] {
        let t = SweepTrial {
            sweep_id: "sw1".into(),
            trial,
            shard: shard.into(),
            params: json!({"fast": trial}),
            metrics: json!({"sharpe": 0.5}),
            objective: Some(trial as f64 / 2.0),
            returns: (trial % 2 == 0).then(|| vec![0.01, -0.02, trial as f64]),
            created_at: t(trial),
        };
        db.store.save_sweep_trial(&t).await.unwrap();
    }
    // Re-running a trial replaces it.
    let mut rerun = db.store.sweep_trials("sw1").await.unwrap()[0].clone();
    rerun.objective = None;
    db.store.save_sweep_trial(&rerun).await.unwrap();
    let trials = db.store.sweep_trials("sw1").await.unwrap();
    assert_eq!(
        trials.iter().map(|t| t.trial).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert_eq!(trials[0].objective, None);
    assert_eq!(trials[3].objective, Some(1.5));
    assert_eq!(trials[2].returns, Some(vec![0.01, -0.02, 2.0]));
    assert_eq!(trials[3].returns, None);
    assert!(db.store.sweep_trials("other").await.unwrap().is_empty());

    // A shard's batch lands in one transaction.
    let batch: Vec<SweepTrial> = (10..510)
        .map(|trial| SweepTrial {
            sweep_id: "sw2".into(),
            trial,
            shard: "0/1".into(),
            params: json!({"slow": trial}),
            metrics: json!({}),
            objective: Some(1.0),
            returns: Some(vec![0.1 * trial as f64]),
            created_at: t(trial),
        })
        .collect();
    db.store.save_sweep_trials(&batch).await.unwrap();
    assert_eq!(db.store.sweep_trials("sw2").await.unwrap(), batch);
}

async fn orders_round_trip_every_kind(db: &TestDb) {
    let p = |s: &str| s.parse::<Price>().unwrap();
    let kinds = [
        OrderKind::Market,
        OrderKind::Limit { price: p("100.5") },
        OrderKind::Stop { trigger: p("99") },
        OrderKind::StopLimit {
            trigger: p("99"),
            limit: p("98.999999999"),
        },
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        let o = order(&format!("o-{i}"), kind);
        db.store.insert_order(&o).await.unwrap();
        assert_eq!(
            db.store.order(o.request.client_order_id).await.unwrap(),
            Some(o)
        );
    }
    let missing = ClientOrderId::new("nope").unwrap();
    assert_eq!(db.store.order(missing).await.unwrap(), None);
}

async fn duplicate_client_order_id_is_typed(db: &TestDb) {
    let o = order("dup-1", OrderKind::Market);
    db.store.insert_order(&o).await.unwrap();
    let mut other = order(
        "dup-1",
        OrderKind::Limit {
            price: "1".parse().unwrap(),
        },
    );
    other.strategy = "another".into();
    for attempt in [&o, &other] {
        match db.store.insert_order(attempt).await {
            Err(Error::DuplicateClientOrderId { client_order_id }) => {
                assert_eq!(client_order_id.as_str(), "dup-1");
            }
            other => panic!("expected DuplicateClientOrderId, got {other:?}"),
        }
    }
    let err = db.store.insert_order(&o).await.unwrap_err();
    assert_eq!(err.action(), tradepulse_store::Action::FixInput);
}

async fn order_events_append_in_batches(db: &TestDb) {
    db.store
        .insert_order(&order("ev-1", OrderKind::Market))
        .await
        .unwrap();
    db.store
        .insert_order(&order("ev-2", OrderKind::Market))
        .await
        .unwrap();
    // 1201 events: three multi-row chunks (500, 500, 201) in one transaction.
    let events: Vec<OrderEvent> = (0..1201)
        .map(|i| event(if i % 2 == 0 { "ev-1" } else { "ev-2" }, i / 2, "update"))
        .collect();
    db.store.append_order_events(&events).await.unwrap();
    assert_eq!(db.store.order_event_count().await.unwrap(), 1201);
    let first = db
        .store
        .order_events(ClientOrderId::new("ev-1").unwrap())
        .await
        .unwrap();
    assert_eq!(first.len(), 601);
    assert_eq!(first[600], events[1200]);
    assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
}

async fn order_event_batch_is_all_or_nothing(db: &TestDb) {
    db.store
        .insert_order(&order("ev-a", OrderKind::Market))
        .await
        .unwrap();
    db.store
        .append_order_events(&[event("ev-a", 0, "submitted")])
        .await
        .unwrap();

    // A batch whose last event repeats (ev-a, 0): nothing of it is stored.
    let batch = [
        event("ev-a", 1, "accepted"),
        event("ev-a", 2, "filled"),
        event("ev-a", 0, "x"),
    ];
    let err = db.store.append_order_events(&batch).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                table: "order_events",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(db.store.order_event_count().await.unwrap(), 1);

    // An event for an order that was never persisted.
    let err = db
        .store
        .append_order_events(&[event("ghost", 0, "submitted")])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                table: "orders",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(db.store.order_event_count().await.unwrap(), 1);
}

async fn fills_round_trip_and_reject_duplicates(db: &TestDb) {
    db.store
        .insert_order(&order("f-1", OrderKind::Market))
        .await
        .unwrap();
    let fill = |seq| StoredFill {
        seq,
        fill: Fill {
            client_order_id: ClientOrderId::new("f-1").unwrap(),
            venue_order_id: "8389765432".parse().unwrap(),
            trade_id: tradepulse_model::TradeId::numbered("", 1000 + seq as u64),
            ts: t(20 + seq),
            side: Side::Sell,
            quantity: "0.25".parse().unwrap(),
            price: "101.123456789".parse().unwrap(),
            fee: Money::from_raw(-12_345), // a rebate
            fee_asset: "BNB".parse().unwrap(),
            liquidity: Liquidity::Maker,
        },
    };
    db.store.record_fill(&fill(0)).await.unwrap();
    db.store.record_fill(&fill(1)).await.unwrap();
    assert_eq!(
        db.store
            .fills(ClientOrderId::new("f-1").unwrap())
            .await
            .unwrap(),
        vec![fill(0), fill(1)]
    );
    let err = db.store.record_fill(&fill(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict { table: "fills", .. }),
        "{err}"
    );
    // The same execution under another sequence number is refused too: a trade is stored once.
    let mut again = fill(1);
    again.seq = 7;
    let err = db.store.record_fill(&again).await.unwrap_err();
    assert!(
        matches!(err, Error::Conflict { table: "fills", .. }),
        "{err}"
    );
    let mut orphan = fill(0);
    orphan.fill.client_order_id = ClientOrderId::new("f-unknown").unwrap();
    let err = db.store.record_fill(&orphan).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                table: "orders",
                ..
            }
        ),
        "{err}"
    );
}

async fn portfolio_state_round_trips(db: &TestDb) {
    let mut pos = PositionRecord {
        account: "acc".into(),
        instrument: btc(),
        quantity: Quantity::from_raw(-1_500_000_000),
        cost_basis: Money::from_raw(-151_875_000_000),
        realized_pnl: Money::ZERO,
        updated_at: t(1),
    };
    db.store.upsert_position(&pos).await.unwrap();
    pos.quantity = Quantity::ZERO;
    pos.realized_pnl = "12.5".parse().unwrap();
    pos.updated_at = t(2);
    db.store.upsert_position(&pos).await.unwrap();
    assert_eq!(db.store.positions("acc").await.unwrap(), vec![pos]);

    let bal = Balance {
        account: "acc".into(),
        currency: "USDT".into(),
        total: "1000000.000000001".parse().unwrap(),
        updated_at: t(3),
    };
    db.store.upsert_balance(&bal).await.unwrap();
    assert_eq!(db.store.balances("acc").await.unwrap(), vec![bal]);

    let snaps = [
        EquitySnapshot {
            ts: t(2),
            equity: "1001".parse().unwrap(),
            cash: "990".parse().unwrap(),
        },
        EquitySnapshot {
            ts: t(1),
            equity: "1000".parse().unwrap(),
            cash: "1000".parse().unwrap(),
        },
    ];
    for s in &snaps {
        db.store.record_equity("acc", s).await.unwrap();
    }
    assert_eq!(
        db.store.equity_curve("acc").await.unwrap(),
        vec![snaps[1], snaps[0]]
    );
    assert_eq!(
        db.store.equity_tail("acc", 1).await.unwrap(),
        vec![snaps[0]]
    );
    assert_eq!(
        db.store.equity_tail("acc", 10).await.unwrap(),
        vec![snaps[1], snaps[0]]
    );
    assert!(db.store.equity_tail("other", 10).await.unwrap().is_empty());
    let err = db.store.record_equity("acc", &snaps[0]).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
}

async fn kill_switch_survives_restart(db: &TestDb) {
    assert_eq!(db.store.kill_switch("global").await.unwrap(), None);
    let state = KillSwitchState {
        scope: "global".into(),
        engaged: true,
        reason: "drawdown limit".into(),
        actor: "risk".into(),
        updated_at: t(7),
    };
    db.store.set_kill_switch(&state).await.unwrap();
    db.store.close().await;
    let restarted = db.reopen().await;
    assert_eq!(
        restarted.kill_switch("global").await.unwrap(),
        Some(state.clone())
    );
    let released = KillSwitchState {
        engaged: false,
        updated_at: t(8),
        ..state
    };
    restarted.set_kill_switch(&released).await.unwrap();
    assert_eq!(
        restarted.kill_switch("global").await.unwrap(),
        Some(released)
    );
    restarted.close().await;
}

async fn audit_log_is_ordered(db: &TestDb) {
    for i in 0..3 {
        let entry = AuditEntry {
            id: 0,
            ts: t(i),
            actor: "ops".into(),
            action: "kill_switch.engage".into(),
            target: "global".into(),
            detail: json!({"n": i}),
        };
        db.store.append_audit(&entry).await.unwrap();
    }
    let log = db.store.audit_log(2).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].detail, json!({"n": 2}));
    assert!(log[0].id > log[1].id);
}

async fn api_tokens_store_hashes_only(db: &TestDb) {
    assert!(TokenHash::from_hex("tp_live_secret_token").is_err());
    let hash = TokenHash::from_hex(&"AB".repeat(32)).unwrap();
    let token = NewApiToken {
        name: "ci".into(),
        hash: hash.clone(),
        scopes: "read trade".into(),
        created_at: t(1),
        expires_at: Some(t(1_000)),
    };
    let id = db.store.create_api_token(&token).await.unwrap();
    let found = db.store.api_token_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!(found.id, id);
    assert!(found.is_active(t(2)));
    assert!(!found.is_active(t(1_000)));
    let err = db.store.create_api_token(&token).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                table: "api_tokens",
                ..
            }
        ),
        "{err}"
    );
    assert!(db.store.revoke_api_token("ci", t(3)).await.unwrap());
    assert!(!db.store.revoke_api_token("ci", t(4)).await.unwrap());
    let revoked = db.store.api_token_by_hash(&hash).await.unwrap().unwrap();
    assert_eq!(revoked.revoked_at, Some(t(3)));
    assert!(!revoked.is_active(t(3)));
    let other = TokenHash::from_hex(&"cd".repeat(32)).unwrap();
    assert_eq!(db.store.api_token_by_hash(&other).await.unwrap(), None);
}
