//! Market-data streams on the real Redis: trimming, consumer groups, recovery of a dead
//! consumer's entries, and resuming after the connection is killed.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tradepulse_store::{MarketStream, StreamConsumer, StreamEntry};

use crate::support::TestRedis;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tick {
    seq: u32,
    price_raw: i64,
}

fn tick(seq: u32) -> Tick {
    Tick {
        seq,
        price_raw: 100_000_000_000 + i64::from(seq),
    }
}

fn seqs(entries: &[StreamEntry<Tick>]) -> Vec<u32> {
    entries.iter().map(|e| e.value.seq).collect()
}

fn ids(entries: &[StreamEntry<Tick>]) -> Vec<String> {
    entries.iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn xadd_trims_to_maxlen() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 10)
        .await
        .unwrap();
    for seq in 0..25 {
        stream.publish(&tick(seq)).await.unwrap();
    }
    assert_eq!(stream.len().await.unwrap(), 10);
    let batch: Vec<Tick> = (25..30).map(tick).collect();
    assert_eq!(stream.publish_batch(&batch).await.unwrap().len(), 5);
    assert_eq!(stream.len().await.unwrap(), 10);
}

#[tokio::test]
async fn group_delivers_in_order_and_ack_clears_pending() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 1000)
        .await
        .unwrap();
    let mut consumer = StreamConsumer::join(&redis.config, "ticks", "strategies", "c1")
        .await
        .unwrap()
        .with_block(Duration::from_millis(100));
    for seq in 0..5 {
        stream.publish(&tick(seq)).await.unwrap();
    }
    let got: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
    assert_eq!(seqs(&got), [0, 1, 2, 3, 4]);
    assert_eq!(got[2].value, tick(2));
    assert_eq!(consumer.pending_count().await.unwrap(), 5);
    assert_eq!(consumer.ack(&ids(&got)).await.unwrap(), 5);
    assert_eq!(consumer.pending_count().await.unwrap(), 0);
    let empty: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
    assert!(empty.is_empty());

    // A second group sees the whole stream independently.
    let mut other = StreamConsumer::join(&redis.config, "ticks", "recorder", "r1")
        .await
        .unwrap()
        .with_block(Duration::from_millis(100));
    let all: Vec<StreamEntry<Tick>> = other.next_batch().await.unwrap();
    assert_eq!(all.len(), 5);
}

/// Several runners share one feed: consumers of one group each get a part of the stream,
/// together every entry exactly once.
#[tokio::test]
async fn consumers_of_one_group_split_the_stream() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 1000)
        .await
        .unwrap();
    let join = |name: &'static str| {
        let config = redis.config.clone();
        async move {
            StreamConsumer::join(&config, "ticks", "runners", name)
                .await
                .unwrap()
                .with_count(7)
                .with_block(Duration::from_millis(50))
        }
    };
    let (mut a, mut b) = (join("runner-a").await, join("runner-b").await);
    for seq in 0..200 {
        stream.publish(&tick(seq)).await.unwrap();
    }
    let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
    loop {
        let batch_a: Vec<StreamEntry<Tick>> = a.next_batch().await.unwrap();
        let batch_b: Vec<StreamEntry<Tick>> = b.next_batch().await.unwrap();
        if batch_a.is_empty() && batch_b.is_empty() {
            break;
        }
        a.ack(&ids(&batch_a)).await.unwrap();
        b.ack(&ids(&batch_b)).await.unwrap();
        got_a.extend(seqs(&batch_a));
        got_b.extend(seqs(&batch_b));
    }
    assert!(
        !got_a.is_empty() && !got_b.is_empty(),
        "both runners got a share"
    );
    // Each runner's share is in stream order.
    assert!(got_a.windows(2).all(|w| w[0] < w[1]));
    assert!(got_b.windows(2).all(|w| w[0] < w[1]));
    let mut all: Vec<u32> = got_a.iter().chain(&got_b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..200).collect::<Vec<_>>(), "every entry once");
}

#[tokio::test]
async fn dead_consumers_pending_entries_are_claimed() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 1000)
        .await
        .unwrap();
    let mut doomed = StreamConsumer::join(&redis.config, "ticks", "g", "doomed")
        .await
        .unwrap()
        .with_count(5)
        .with_block(Duration::from_millis(100));
    for seq in 0..8 {
        stream.publish(&tick(seq)).await.unwrap();
    }
    let got: Vec<StreamEntry<Tick>> = doomed.next_batch().await.unwrap();
    assert_eq!(seqs(&got), [0, 1, 2, 3, 4]);
    doomed.ack(&ids(&got[..2])).await.unwrap();
    drop(doomed); // dies with 2, 3, 4 delivered but unacknowledged

    let mut rescuer = StreamConsumer::join(&redis.config, "ticks", "g", "rescuer")
        .await
        .unwrap()
        .with_block(Duration::from_millis(100));
    // Not idle long enough yet: nothing is stolen from a live-looking consumer.
    let early: Vec<StreamEntry<Tick>> = rescuer.claim_stale(Duration::from_secs(60)).await.unwrap();
    assert!(early.is_empty());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let claimed: Vec<StreamEntry<Tick>> = rescuer
        .claim_stale(Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(seqs(&claimed), [2, 3, 4]);
    rescuer.ack(&ids(&claimed)).await.unwrap();
    let rest: Vec<StreamEntry<Tick>> = rescuer.next_batch().await.unwrap();
    assert_eq!(seqs(&rest), [5, 6, 7]);
    rescuer.ack(&ids(&rest)).await.unwrap();
    assert_eq!(rescuer.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn consumer_resumes_from_last_ack_after_connection_is_killed() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 1000)
        .await
        .unwrap();
    let mut consumer = StreamConsumer::join(&redis.config, "ticks", "g", "c1")
        .await
        .unwrap()
        .with_count(3)
        .with_block(Duration::from_millis(100));
    for seq in 0..6 {
        stream.publish(&tick(seq)).await.unwrap();
    }
    let first: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
    assert_eq!(seqs(&first), [0, 1, 2]);
    consumer.ack(&ids(&first[..2])).await.unwrap(); // 2 was received, not acknowledged

    // Really kill the consumer's connection from another client.
    let id = consumer.connection_id().await.unwrap();
    let mut admin = redis.admin().await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    for seq in 6..9 {
        stream.publish(&tick(seq)).await.unwrap();
    }

    // The consumer reconnects on its own and continues right after its last ack: 2 again
    // (never acknowledged), then everything new; never 0 or 1.
    let mut after = Vec::new();
    loop {
        let batch: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
        if batch.is_empty() {
            break;
        }
        consumer.ack(&ids(&batch)).await.unwrap();
        after.extend(seqs(&batch));
    }
    assert_eq!(after, [2, 3, 4, 5, 6, 7, 8]);
    assert_ne!(consumer.connection_id().await.unwrap(), id);
    assert_eq!(consumer.pending_count().await.unwrap(), 0);
}

#[tokio::test]
async fn poison_entry_is_reported_and_the_rest_of_its_batch_is_not_lost() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 1000)
        .await
        .unwrap();
    let mut consumer = StreamConsumer::join(&redis.config, "ticks", "g", "c1")
        .await
        .unwrap()
        .with_block(Duration::from_millis(100));
    stream.publish(&tick(0)).await.unwrap();
    let mut admin = redis.admin().await;
    let poison: String = redis::cmd("XADD")
        .arg(stream.key())
        .arg("*")
        .arg("d")
        .arg("{not json")
        .query_async(&mut admin)
        .await
        .unwrap();
    stream.publish(&tick(2)).await.unwrap();

    let err = consumer.next_batch::<Tick>().await.unwrap_err();
    match &err {
        tradepulse_store::Error::PoisonEntry { id, .. } => assert_eq!(id, &poison),
        other => panic!("expected PoisonEntry, got {other:?}"),
    }
    assert_eq!(err.action(), tradepulse_store::Action::FixInput);
    consumer.ack(std::slice::from_ref(&poison)).await.unwrap();
    let rest: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
    assert_eq!(seqs(&rest), [0, 2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_blocked_in_a_read_survives_its_connection_being_killed() {
    let Some(redis) = TestRedis::new().await else {
        return;
    };
    let stream = MarketStream::connect(&redis.config, "ticks", 1000)
        .await
        .unwrap();
    let mut consumer = StreamConsumer::join(&redis.config, "ticks", "g", "c1")
        .await
        .unwrap()
        .with_block(Duration::from_millis(2000));
    let id = consumer.connection_id().await.unwrap();
    let reader = tokio::spawn(async move {
        let got: Vec<StreamEntry<Tick>> = consumer.next_batch().await.unwrap();
        (consumer, got)
    });
    tokio::time::sleep(Duration::from_millis(300)).await; // now blocked in XREADGROUP
    let mut admin = redis.admin().await;
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.publish(&tick(7)).await.unwrap();
    let (mut consumer, got) = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seqs(&got), [7]);
    consumer.ack(&ids(&got)).await.unwrap();
    assert_ne!(consumer.connection_id().await.unwrap(), id);
}
