//! Strategy checkpoints: an engine stopped mid-stream and restarted on the same store makes
//! exactly the later decisions of a run that was never interrupted; without checkpoints it
//! does not (the strategy has to warm up again), which shows the test can fail.

use std::time::Duration;

use tokio::sync::watch;
use tradepulse_live::{EngineHandle, ReplaySpeed, replay_bars};
use tradepulse_model::{Bar, Price, Quantity, Side, UnixNanos};

use crate::support::{btc, decisions, sma_engine, sqlite, wave};

/// Bars on [`wave`], a day apart.
fn bars(n: usize) -> Vec<Bar> {
    (0..n)
        .map(|i| {
            let p: Price = wave(i).parse().unwrap();
            Bar {
                ts: UnixNanos::new(1_600_000_000_000_000_000 + i as i64 * 86_400_000_000_000),
                open: p,
                high: p,
                low: p,
                close: p,
                volume: 1e9,
            }
        })
        .collect()
}

/// Feeds `bars` (after the restored checkpoint, if any) and waits until the strategy saw them.
async fn feed(engine: &EngineHandle, bars: &[Bar], total_seen: i64) {
    let resume = engine.strategies().await.unwrap()[0].last_bar;
    let (_stop, stopping) = watch::channel(false);
    replay_bars(
        engine.clone(),
        btc().id().clone(),
        bars.to_vec(),
        ReplaySpeed::Max,
        resume,
        stopping,
    )
    .await
    .unwrap();
    for _ in 0..1000 {
        if engine.strategies().await.unwrap()[0].bars >= total_seen {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the strategy did not see {total_seen} bars");
}

async fn run(
    stop_after: Option<usize>,
    checkpoints_after_restart: bool,
) -> Vec<(Side, Quantity, Option<Price>)> {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let data = bars(200);
    let Some(cut) = stop_after else {
        let engine = sma_engine(store, true).await;
        feed(&engine, &data, data.len() as i64).await;
        let out = decisions(&engine).await;
        engine
            .shutdown(false, Duration::from_secs(2))
            .await
            .unwrap();
        return out;
    };
    let first = sma_engine(store.clone(), true).await;
    // The whole file is offered, but the first process stops after `cut` bars.
    feed(&first, &data[..cut], cut as i64).await;
    first.shutdown(false, Duration::from_secs(2)).await.unwrap();

    let second = sma_engine(store, checkpoints_after_restart).await;
    let restored = &second.strategies().await.unwrap()[0];
    assert_eq!(restored.restored, checkpoints_after_restart);
    if checkpoints_after_restart {
        assert_eq!(restored.bars, cut as i64);
        assert_eq!(restored.last_bar, Some(data[cut - 1].ts));
        feed(&second, &data, data.len() as i64).await;
    } else {
        // A runner without checkpoints resumes the feed where the first stopped, cold.
        feed(&second, &data[cut..], (data.len() - cut) as i64).await;
    }
    let out = decisions(&second).await;
    second
        .shutdown(false, Duration::from_secs(2))
        .await
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_stream_makes_the_same_later_decisions() {
    let whole = run(None, true).await;
    assert!(
        whole.len() >= 10,
        "the fixture should trade often: {whole:?}"
    );
    for cut in [37, 101] {
        let resumed = run(Some(cut), true).await;
        assert_eq!(resumed, whole, "restart after bar {cut}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_checkpoints_a_restart_changes_the_decisions() {
    let whole = run(None, true).await;
    let cold = run(Some(37), false).await;
    assert_ne!(cold, whole);
}

/// A replay at full speed never queues more than `MARKET_BACKLOG` bars ahead of the engine, so
/// an operator's command waits behind at most that many: commands are answered while the
/// replay is still running, and no bar is lost to the back-pressure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_speed_replay_keeps_commands_answered_and_loses_no_bar() {
    let dir = tempfile::tempdir().unwrap();
    // Checkpoints: a store write per bar, the slowest bar path there is.
    let engine = sma_engine(sqlite(&dir).await, true).await;
    let data = bars(1_500);
    let (_stop, stopping) = watch::channel(false);
    let replay = tokio::spawn(replay_bars(
        engine.clone(),
        btc().id().clone(),
        data.clone(),
        ReplaySpeed::Max,
        None,
        stopping,
    ));
    let mut most = 0;
    let mut answered_mid_replay = false;
    while !replay.is_finished() {
        most = most.max(engine.market_backlog());
        let seen = engine.strategies().await.unwrap()[0].bars;
        if !replay.is_finished() && seen > 0 && seen < data.len() as i64 {
            answered_mid_replay = true;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let report = replay.await.unwrap().unwrap();
    assert_eq!(report.sent, data.len() as u64);
    assert!(
        most <= tradepulse_live::MARKET_BACKLOG,
        "{most} bars queued ahead of the engine"
    );
    assert!(
        answered_mid_replay,
        "no command was answered during the replay"
    );
    feed(&engine, &[], data.len() as i64).await;
}
