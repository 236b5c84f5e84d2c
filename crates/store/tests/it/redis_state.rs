//! Kill-switch broadcast (persisted in the database) and indicator checkpoints on the real
//! Redis.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tradepulse_model::UnixNanos;
use tradepulse_store::{CheckpointStore, KillSwitchBus, KillSwitchState};

use crate::support::{TestDb, TestRedis};

#[tokio::test]
async fn kill_switch_is_broadcast_and_persisted() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let db = TestDb::sqlite().await;
    let bus = KillSwitchBus::connect(db.store.clone(), &redis.config)
        .await
        .unwrap();
    let mut sub_a = bus.subscribe().await.unwrap();
    let mut sub_b = bus.subscribe().await.unwrap();
    let state = KillSwitchState {
        scope: "global".into(),
        engaged: true,
        reason: "daily loss limit".into(),
        actor: "risk-engine".into(),
        updated_at: UnixNanos::new(42),
    };
    bus.publish(&state).await.unwrap();
    for sub in [&mut sub_a, &mut sub_b] {
        let got = sub.next(Duration::from_secs(2)).await.unwrap();
        assert_eq!(got.as_ref(), Some(&state));
    }
    // A process started later (no Redis message to see) reads the persisted state.
    let restarted = db.reopen().await;
    assert_eq!(
        restarted.kill_switch("global").await.unwrap(),
        Some(state.clone())
    );
    assert_eq!(bus.current("global").await.unwrap(), Some(state));
    // Nothing more arrives.
    assert_eq!(sub_a.next(Duration::from_millis(100)).await.unwrap(), None);
    restarted.close().await;
    db.finish().await;
}

/// A simple stateful streaming indicator: an exponential moving average with warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Ema {
    alpha: f64,
    value: Option<f64>,
    seen: u64,
}

impl Ema {
    fn new(period: u32) -> Self {
        Self {
            alpha: 2.0 / (f64::from(period) + 1.0),
            value: None,
            seen: 0,
        }
    }

    fn update(&mut self, x: f64) -> Option<f64> {
        self.seen += 1;
        let v = match self.value {
            None => x,
            Some(prev) => prev + self.alpha * (x - prev),
        };
        self.value = Some(v);
        (self.seen >= 3).then_some(v)
    }
}

fn input(i: u32) -> f64 {
    100.0 + (f64::from(i) * 0.37).sin() * 3.0 + f64::from(i) / 7.0
}

#[tokio::test]
async fn restored_indicator_continues_exactly() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let checkpoints = CheckpointStore::connect(&redis.config).await.unwrap();
    let mut uninterrupted = Ema::new(10);
    let expected: Vec<Option<f64>> = (0..200).map(|i| uninterrupted.update(input(i))).collect();

    let mut outputs = {
        // The first life of the process: it checkpoints, then dies.
        let mut first_life = Ema::new(10);
        let outputs: Vec<Option<f64>> = (0..117).map(|i| first_life.update(input(i))).collect();
        checkpoints.save("ema:BTCUSDT", &first_life).await.unwrap();
        outputs
    };

    let mut restored: Ema = checkpoints.load("ema:BTCUSDT").await.unwrap().unwrap();
    outputs.extend((117..200).map(|i| restored.update(input(i))));
    // Bit-for-bit identical, not merely close.
    let bits = |v: &[Option<f64>]| v.iter().map(|x| x.map(f64::to_bits)).collect::<Vec<_>>();
    assert_eq!(bits(&outputs), bits(&expected));

    assert_eq!(checkpoints.load::<Ema>("missing").await.unwrap(), None);
    let err = checkpoints
        .load::<Vec<String>>("ema:BTCUSDT")
        .await
        .unwrap_err();
    assert!(
        matches!(err, tradepulse_store::Error::Decode { .. }),
        "{err}"
    );
    assert!(checkpoints.delete("ema:BTCUSDT").await.unwrap());
    assert!(!checkpoints.delete("ema:BTCUSDT").await.unwrap());
}
