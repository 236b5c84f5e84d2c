//! The core's Binance market data (`binance_bars`) against the fake Binance's market streams:
//! closed klines reach the strategy once each and in order; a disconnect pauses the strategy,
//! the gap is backfilled over REST, logged and counted, and the decisions are those of an
//! uninterrupted run; a runner restarted from its checkpoint backfills from there.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::sync::watch;
use tradepulse_fake_binance::{FakeBinance, FakeConfig, KlineSpec};
use tradepulse_live::{
    BinanceBars, BinanceFeedOptions, BinanceFeedReport, EngineHandle, Registry, ReplaySpeed,
    binance_bars, replay_bars,
};
use tradepulse_model::{Bar, UnixNanos};
use tradepulse_venue_binance::{BinanceConfig, RestClient};

use crate::support::{btc, decisions, sma_engine, sqlite, wave};

const MINUTE: i64 = 60_000;

/// Closed one-minute klines a few hours old, on [`wave`].
fn klines(fake: &FakeBinance, n: usize) -> Vec<KlineSpec> {
    let base = (fake.now_ms() / MINUTE - 600) * MINUTE;
    (0..n)
        .map(|i| {
            let close: Decimal = wave(i).parse().unwrap();
            KlineSpec {
                open_time: base + i as i64 * MINUTE,
                close_time: base + (i as i64 + 1) * MINUTE - 1,
                open: close,
                high: close + Decimal::ONE,
                low: close - Decimal::ONE,
                close,
                volume: "12.5".parse().unwrap(),
                trades: 3,
                closed: true,
            }
        })
        .collect()
}

/// The bars the klines are, as a recorded file would hold them (stamped with the open time).
fn as_bars(klines: &[KlineSpec]) -> Vec<Bar> {
    klines
        .iter()
        .map(|k| Bar {
            ts: UnixNanos::new(k.open_time * 1_000_000),
            open: k.open.to_string().parse().unwrap(),
            high: k.high.to_string().parse().unwrap(),
            low: k.low.to_string().parse().unwrap(),
            close: k.close.to_string().parse().unwrap(),
            volume: 12.5,
        })
        .collect()
}

fn connection(fake: &FakeBinance) -> BinanceConfig {
    let mut c = BinanceConfig::custom(&fake.rest_url(), &fake.ws_api_url(), &fake.stream_url());
    c.reconnect_min_ms = 20;
    c.reconnect_max_ms = 200;
    c
}

struct Feed {
    task: tokio::task::JoinHandle<Result<BinanceFeedReport, tradepulse_live::EngineError>>,
    stop: watch::Sender<bool>,
    registry: Registry,
    gaps: Arc<tradepulse_live::metrics::Counter>,
}

impl Feed {
    async fn start(fake: &FakeBinance, engine: &EngineHandle) -> Self {
        let registry = Registry::new();
        let (stop, stopping) = watch::channel(false);
        let resume = engine
            .strategies()
            .await
            .unwrap()
            .into_iter()
            .map(|v| (v.instrument, v.last_bar.filter(|_| v.restored)))
            .collect();
        let rest = RestClient::new(&connection(fake), None).unwrap();
        let gaps = tradepulse_live::metrics::market_data_gaps(&registry);
        let task = tokio::spawn(binance_bars(
            engine.clone(),
            rest,
            vec![BinanceBars {
                instrument: btc().id().clone(),
                symbol: "BTCUSDT".into(),
                interval: "1m".into(),
            }],
            BinanceFeedOptions {
                trades: true,
                book_ticker: true,
                gaps: Arc::clone(&gaps),
            },
            resume,
            stopping,
        ));
        eventually("the feed subscribes", || fake.market_sessions() == 1).await;
        Self {
            task,
            stop,
            registry,
            gaps,
        }
    }

    /// The gap counter, as read and as scraped.
    fn gaps(&self) -> f64 {
        let n = self.gaps.get(&["binance", btc().id().as_str()]);
        let series = format!(
            "tradepulse_market_data_gaps_total{{source=\"binance\",instrument=\"{}\"}} {n}",
            btc().id()
        );
        if n > 0.0 {
            let text = self.registry.render();
            assert!(text.contains(&series), "{series} not in\n{text}");
        }
        n
    }

    async fn stop(self) -> BinanceFeedReport {
        let _ = self.stop.send(true);
        self.task.await.unwrap().unwrap()
    }
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting until {what}");
}

async fn bars_seen(engine: &EngineHandle, n: i64) {
    for _ in 0..1000 {
        if engine.strategies().await.unwrap()[0].bars >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "the strategy saw {} bars, not {n}",
        engine.strategies().await.unwrap()[0].bars
    );
}

/// The decisions of the same bars replayed without any interruption.
async fn uninterrupted(
    bars: Vec<Bar>,
) -> Vec<(
    tradepulse_model::Side,
    tradepulse_model::Quantity,
    Option<tradepulse_model::Price>,
)> {
    let dir = tempfile::tempdir().unwrap();
    let engine = sma_engine(sqlite(&dir).await, false).await;
    let (_stop, stopping) = watch::channel(false);
    let n = bars.len() as i64;
    replay_bars(
        engine.clone(),
        btc().id().clone(),
        bars,
        ReplaySpeed::Max,
        None,
        stopping,
    )
    .await
    .unwrap();
    bars_seen(&engine, n).await;
    let out = decisions(&engine).await;
    engine
        .shutdown(false, Duration::from_secs(2))
        .await
        .unwrap();
    out
}

/// What the Binance feed logs, as JSON lines, from every test of this binary: a scoped
/// subscriber would miss events whose call sites another test's thread reached first.
fn feed_logs() -> &'static Mutex<Vec<u8>> {
    static LOGS: std::sync::OnceLock<&'static Mutex<Vec<u8>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs: &'static Mutex<Vec<u8>> = Box::leak(Box::default());
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "tradepulse_live::binance=info",
            ))
            .with_writer(move || Logs(logs))
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a global subscriber");
        logs
    })
}

struct Logs(&'static Mutex<Vec<u8>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_pauses_backfills_in_order_and_resumes_with_the_same_decisions() {
    let logs = feed_logs();
    let fake = FakeBinance::start(FakeConfig::default()).await.unwrap();
    let all = klines(&fake, 90);
    let dir = tempfile::tempdir().unwrap();
    let engine = sma_engine(sqlite(&dir).await, false).await;
    let feed = Feed::start(&fake, &engine).await;

    for k in &all[..40] {
        fake.push_kline("BTCUSDT", "1m", k.clone());
    }
    // A forming kline and a trade are not bars.
    let mut forming = all[40].clone();
    forming.closed = false;
    fake.push_kline("BTCUSDT", "1m", forming);
    fake.push_trade("BTCUSDT", 1, "50000.5", "0.1", false);
    fake.push_book_ticker("BTCUSDT", "50000.00", "1", "50001.00", "2");
    bars_seen(&engine, 40).await;

    // The connection drops and stays refused while 25 bars close on the venue.
    fake.refuse_websockets(true);
    fake.drop_connections();
    eventually("the session is gone", || fake.market_sessions() == 0).await;
    for k in &all[40..65] {
        fake.store_kline("BTCUSDT", "1m", k.clone());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused = engine.strategies().await.unwrap()[0].bars;
    assert_eq!(paused, 40, "no bar reaches the strategy while disconnected");
    assert_eq!(feed.gaps(), 0.0);

    fake.refuse_websockets(false);
    eventually("the feed reconnects", || fake.market_sessions() == 1).await;
    bars_seen(&engine, 65).await;
    // The last backfilled bar closes again live (a late frame): dropped, not a second bar.
    fake.push_kline("BTCUSDT", "1m", all[64].clone());
    for k in &all[65..] {
        fake.push_kline("BTCUSDT", "1m", k.clone());
    }
    bars_seen(&engine, 90).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let view = &engine.strategies().await.unwrap()[0];
    assert_eq!(view.bars, 90, "each bar once");
    assert_eq!(
        view.last_bar,
        Some(UnixNanos::new(all[89].open_time * 1_000_000))
    );
    assert_eq!(feed.gaps(), 1.0, "one gap counted");

    let live = decisions(&engine).await;
    let reference = uninterrupted(as_bars(&all)).await;
    assert!(
        reference.len() >= 4,
        "the fixture should trade: {reference:?}"
    );
    assert_eq!(live, reference, "same decisions as without the gap");

    let report = feed.stop().await;
    assert_eq!(report.bars, 90);
    assert_eq!(report.backfilled, 25);
    assert_eq!(report.gaps, 1);
    assert_eq!(report.disconnects, 1);
    assert_eq!(report.prices, 2, "the trade and the book ticker's mid");
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    // This test's lines: the gap after its bar 39, the outage of its port.
    let after = format!("\"after_ns\":{}", all[39].open_time * 1_000_000);
    let gap_line = text
        .lines()
        .find(|l| l.contains("market data gap") && l.contains(&after))
        .unwrap_or_else(|| panic!("the gap is not logged:\n{text}"));
    assert!(gap_line.contains("\"backfilled\":25"), "{gap_line}");
    assert!(gap_line.contains(btc().id().as_str()), "{gap_line}");
    assert!(
        text.contains("market data (binance) disconnected"),
        "{text}"
    );
    assert!(text.contains("reconnected; backfilling the gap"), "{text}");
    engine
        .shutdown(false, Duration::from_secs(2))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_restarted_from_its_checkpoint_backfills_from_there() {
    let fake = FakeBinance::start(FakeConfig::default()).await.unwrap();
    let all = klines(&fake, 80);
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;

    let first = sma_engine(store.clone(), true).await;
    let feed = Feed::start(&fake, &first).await;
    for k in &all[..30] {
        fake.push_kline("BTCUSDT", "1m", k.clone());
    }
    bars_seen(&first, 30).await;
    feed.stop().await;
    first.shutdown(false, Duration::from_secs(2)).await.unwrap();
    eventually("the session is gone", || fake.market_sessions() == 0).await;

    // Bars close while no runner is up.
    for k in &all[30..55] {
        fake.store_kline("BTCUSDT", "1m", k.clone());
    }
    let second = sma_engine(store, true).await;
    let restored = second.strategies().await.unwrap()[0].clone();
    assert!(restored.restored);
    assert_eq!(restored.bars, 30);
    let feed = Feed::start(&fake, &second).await;
    bars_seen(&second, 55).await;
    for k in &all[55..] {
        fake.push_kline("BTCUSDT", "1m", k.clone());
    }
    bars_seen(&second, 80).await;
    assert_eq!(feed.gaps(), 1.0);
    let report = feed.stop().await;
    assert_eq!(report.backfilled, 25);
    assert_eq!(report.bars, 50);

    let resumed = decisions(&second).await;
    let whole = uninterrupted(as_bars(&all)).await;
    assert!(whole.len() >= 4, "the fixture should trade: {whole:?}");
    assert_eq!(resumed, whole);
    second
        .shutdown(false, Duration::from_secs(2))
        .await
        .unwrap();
}
