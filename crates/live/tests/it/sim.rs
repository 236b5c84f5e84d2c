//! The engine on the in-process sim venue and SQLite: orders, idempotent submits, kill switch,
//! restart with restore and reconciliation.

use std::time::Duration;

use tradepulse_live::{EngineError, EngineEvent, KillSwitchChange, OrderFilter};
use tradepulse_model::{ClientOrderId, OrderKind, Side};
use tradepulse_risk::KillScope;

use crate::support::{WAIT, bar, btc, limit, request, sim_engine, sqlite};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_fill_cancel_and_submits_are_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let (engine, registry) = sim_engine(store.clone()).await;
    let mut events = engine.subscribe();
    engine.on_bar(btc().id().clone(), bar("50000")).unwrap();

    let market = engine
        .submit(
            request(Some("m-1"), Side::Buy, "0.5", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    assert!(market.created);
    assert_eq!(market.order.status(), "filled");
    assert_eq!(market.order.avg_fill_price, Some("50000".parse().unwrap()));

    // The same id and request again: the first order, not a second one.
    let again = engine
        .submit(
            request(Some("m-1"), Side::Buy, "0.5", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    assert!(!again.created);
    assert_eq!(again.order.filled, "0.5".parse().unwrap());
    // The same id for another order: a conflict.
    let conflict = engine
        .submit(
            request(Some("m-1"), Side::Sell, "0.5", OrderKind::Market),
            WAIT,
        )
        .await;
    assert_eq!(
        conflict.unwrap_err(),
        EngineError::Conflict(ClientOrderId::new("m-1").unwrap())
    );

    let resting = engine
        .submit(request(None, Side::Buy, "0.1", limit("40000")), WAIT)
        .await
        .unwrap();
    assert_eq!(resting.order.status(), "accepted");
    let id = resting.order.request.client_order_id;
    assert!(
        id.as_str().starts_with(&format!("tp{}", engine.session())),
        "{id}"
    );
    let cancelled = engine.cancel(id).await.unwrap();
    assert_eq!(cancelled.status(), "canceled");
    assert!(matches!(
        engine.cancel(id).await,
        Err(EngineError::NotCancelable { .. })
    ));

    // Risk refusal: more than the cash allows.
    let refused = engine
        .submit(
            request(Some("big-1"), Side::Buy, "100", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(refused.order.status(), "refused");
    assert!(
        refused
            .message
            .unwrap()
            .starts_with("INSUFFICIENT_BUYING_POWER")
    );

    let open = engine
        .orders(OrderFilter {
            status: Some("open".into()),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    assert!(open.is_empty());
    let all = engine.orders(OrderFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);

    let positions = engine.positions().await.unwrap();
    assert_eq!(positions[0].quantity, "0.5".parse().unwrap());
    let balances = engine.balances().await.unwrap();
    // 100000 − 25000 − 0.1 % fee.
    assert_eq!(balances[0].total, "74975".parse().unwrap());

    let mut saw_fill = false;
    while let Ok(event) = events.try_recv() {
        saw_fill |= matches!(event, EngineEvent::Fill { .. });
    }
    assert!(saw_fill);
    let text = registry.render();
    assert!(
        text.contains("tradepulse_fills_total{venue=\"sim\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("tradepulse_order_decision_to_ack_seconds_count{venue=\"sim\"} 2\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "tradepulse_order_rejects_total{venue=\"sim\",reason=\"INSUFFICIENT_BUYING_POWER\"} 1\n"
        ),
        "{text}"
    );
    engine
        .shutdown(false, Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_restores_orders_positions_and_reconciles_lost_orders() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let (engine, _) = sim_engine(store.clone()).await;
    engine.on_bar(btc().id().clone(), bar("50000")).unwrap();
    engine
        .submit(
            request(Some("r-1"), Side::Buy, "1", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    engine
        .submit(request(Some("r-2"), Side::Buy, "0.2", limit("45000")), WAIT)
        .await
        .unwrap();
    engine
        .submit(
            request(Some("r-3"), Side::Buy, "1000", limit("45000")),
            WAIT,
        )
        .await
        .unwrap();
    let first_session = engine.session();
    let before_positions = engine.positions().await.unwrap();
    let before_balances = engine.balances().await.unwrap();
    // Stopped without cancelling anything: the sim venue's resting order dies with it. (A real
    // kill -9 is the crash test's, in tradepulse-server.)
    engine
        .shutdown(false, Duration::from_secs(1))
        .await
        .unwrap();

    let store = sqlite(&dir).await;
    let (engine, _) = sim_engine(store.clone()).await;
    assert!(engine.session() > first_session);
    // Marks are market data, not journaled: compare what the journal restores.
    let restored: Vec<_> = engine
        .positions()
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.instrument, p.quantity, p.cost_basis, p.realized_pnl))
        .collect();
    let before: Vec<_> = before_positions
        .into_iter()
        .map(|p| (p.instrument, p.quantity, p.cost_basis, p.realized_pnl))
        .collect();
    assert_eq!(restored, before);
    assert_eq!(engine.balances().await.unwrap(), before_balances);
    let filled = engine
        .order(ClientOrderId::new("r-1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(filled.status(), "filled");
    // The sim venue lost the resting order with the process: reconciliation cancelled it.
    let lost = engine
        .order(ClientOrderId::new("r-2").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lost.status(), "canceled");
    let refused = engine
        .submit(
            request(Some("r-3"), Side::Buy, "1000", limit("45000")),
            WAIT,
        )
        .await
        .unwrap();
    assert!(!refused.created);
    assert_eq!(refused.order.status(), "refused");
    // Ids used before the restart stay used.
    let reused = engine
        .submit(
            request(Some("r-1"), Side::Sell, "1", OrderKind::Market),
            WAIT,
        )
        .await;
    assert!(matches!(reused, Err(EngineError::Conflict(_))));
    let audit = store.audit_log(50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "reconcile.lost" && a.target == "r-2"),
        "{audit:?}"
    );
    engine
        .shutdown(false, Duration::from_secs(1))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kill_switch_halts_orders_cancels_open_ones_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let (engine, registry) = sim_engine(store.clone()).await;
    engine.on_bar(btc().id().clone(), bar("50000")).unwrap();
    engine
        .submit(request(Some("k-1"), Side::Buy, "0.1", limit("40000")), WAIT)
        .await
        .unwrap();
    let cancelled = engine
        .set_kill_switch(KillSwitchChange {
            scope: KillScope::Global,
            engaged: true,
            reason: "drill".into(),
            actor: "ops".into(),
            cancel_open: true,
        })
        .await
        .unwrap();
    assert_eq!(cancelled, [ClientOrderId::new("k-1").unwrap()]);
    let refused = engine
        .submit(
            request(Some("k-2"), Side::Buy, "0.1", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(
        refused.order.reject_reason.map(|r| r.code()),
        Some("KILL_SWITCH")
    );
    assert!(
        registry
            .render()
            .contains("tradepulse_kill_switch_active{scope=\"global\"} 1\n")
    );
    engine
        .shutdown(false, Duration::from_secs(1))
        .await
        .unwrap();

    let (engine, _) = sim_engine(sqlite(&dir).await).await;
    let status = engine.status().await.unwrap();
    assert_eq!(status.kill_switches, [KillScope::Global]);
    engine.on_bar(btc().id().clone(), bar("50000")).unwrap();
    let audit = store.audit_log(10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "kill_switch.engage" && a.actor == "ops")
    );
    engine
        .set_kill_switch(KillSwitchChange {
            scope: KillScope::Global,
            engaged: false,
            reason: "drill over".into(),
            actor: "ops".into(),
            cancel_open: false,
        })
        .await
        .unwrap();
    let ok = engine
        .submit(
            request(Some("k-3"), Side::Buy, "0.1", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(ok.order.status(), "filled");
    engine
        .shutdown(false, Duration::from_secs(1))
        .await
        .unwrap();
}

/// A backtest forgets ended orders beyond the last few thousand; a live session must not: a
/// client order id repeated after thousands of later orders still gets the first order back
/// and sends nothing (the HTTP load benchmark found this).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_id_is_idempotent_after_thousands_of_later_orders() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let (engine, _registry) = sim_engine(store.clone()).await;
    engine.on_bar(btc().id().clone(), bar("100")).unwrap();
    let n = tradepulse_execution::OrderManager::ENDED_KEPT + 100;
    // Concurrent submits, so they share journal commits and the test stays quick.
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let id = format!("r-{i}");
        let engine = engine.clone();
        pending.push(tokio::spawn(async move {
            engine
                .submit(
                    request(Some(&id), side, "0.001", OrderKind::Market),
                    WAIT * 10,
                )
                .await
        }));
        if i == 0 {
            // The first buy before any sell: a cash account cannot go short.
            let first = pending.pop().unwrap().await.unwrap().unwrap();
            assert_eq!(first.order.status(), "filled");
        }
    }
    for p in pending {
        let outcome = p.await.unwrap();
        assert!(outcome.is_ok_and(|o| o.created), "every order is new");
    }
    let sent = engine.status().await.unwrap().orders_sent;
    let again = engine
        .submit(
            request(Some("r-0"), Side::Buy, "0.001", OrderKind::Market),
            WAIT,
        )
        .await
        .unwrap();
    assert!(!again.created, "r-0 is the first order, not a new one");
    assert_eq!(again.order.status(), "filled");
    assert_eq!(engine.status().await.unwrap().orders_sent, sent);
    assert!(
        engine
            .order(ClientOrderId::new("r-0").unwrap())
            .await
            .unwrap()
            .is_some()
    );
}
