//! Real `tradepulse-indicators` streaming indicators checkpointed to Redis mid-stream and
//! restored continue exactly (bit for bit) like the same indicator never interrupted.

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tradepulse_indicators::{Bollinger, HurstDfa, HurstRs, Indicator, Kama, Kuramoto, Macd, Rsi};
use tradepulse_store::CheckpointStore;

use crate::support::TestRedis;

fn prices(n: u32) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let i = f64::from(i);
            100.0 + (i * 0.21).sin() * 4.0 + (i * 0.057).cos() * 9.0 + i / 50.0
        })
        .collect()
}

async fn resumes_exactly<I>(checkpoints: &CheckpointStore, name: &str, fresh: impl Fn() -> I)
where
    I: Indicator<Input = f64> + Serialize + DeserializeOwned,
    I::Output: Debug,
{
    let inputs = prices(600);
    let mut uninterrupted = fresh();
    let expected: Vec<Option<I::Output>> =
        inputs.iter().map(|&x| uninterrupted.update(x)).collect();

    for cut in [1, 37, 299, 599] {
        let mut outputs = {
            let mut first_life = fresh();
            let outputs: Vec<Option<I::Output>> = inputs[..cut]
                .iter()
                .map(|&x| first_life.update(x))
                .collect();
            checkpoints.save(name, &first_life).await.unwrap();
            outputs
        };
        let mut restored: I = checkpoints.load(name).await.unwrap().unwrap();
        outputs.extend(inputs[cut..].iter().map(|&x| restored.update(x)));
        // `{:?}` prints the shortest text that round-trips, so equal text = equal bits.
        assert_eq!(
            format!("{outputs:?}"),
            format!("{expected:?}"),
            "{name} diverged after a restore at input {cut}"
        );
    }
}

#[tokio::test]
async fn restored_indicators_continue_like_uninterrupted_ones() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let checkpoints = CheckpointStore::connect(&redis.config).await.unwrap();
    resumes_exactly(&checkpoints, "rsi", || Rsi::new(14).unwrap()).await;
    resumes_exactly(&checkpoints, "macd", || Macd::new(12, 26, 9).unwrap()).await;
    resumes_exactly(&checkpoints, "bollinger", || {
        Bollinger::new(20, 2.0, 2.0).unwrap()
    })
    .await;
    resumes_exactly(&checkpoints, "kama", || Kama::new(10).unwrap()).await;
    resumes_exactly(&checkpoints, "kuramoto", || Kuramoto::new(64, 8).unwrap()).await;
    resumes_exactly(&checkpoints, "hurst_rs", || HurstRs::new(128).unwrap()).await;
    resumes_exactly(&checkpoints, "hurst_dfa", || HurstDfa::new(128).unwrap()).await;
}
