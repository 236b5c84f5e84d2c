//! [`MarketDataStream`]: public market data (kline, trade, bookTicker) over one combined stream
//! (`/stream?streams=a/b/c`), with reconnect and a REST kline backfill of the gap.
//!
//! **Gaps.** For every kline stream the task remembers the open time of the last *closed* kline it
//! delivered. After a reconnect (subscribed first, backfilled second, so nothing falls between
//! the two) it asks `GET /api/v3/klines` for everything opening after it, delivers the klines that
//! have closed on the venue's clock (marked `backfilled`), and reports a [`MarketEvent::Gap`]
//! (logged and counted by the runner). Live closed klines at or before the last delivered open
//! time are dropped, so each closed bar arrives exactly once, in order. Trades and book tickers
//! are not backfilled: a trade gap is visible in the trade ids, and a book ticker is a snapshot.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::sync::mpsc;
use tradepulse_model::{Bar, Price, Quantity, UnixNanos};

use crate::Error;
use crate::dto::{CombinedFrame, StreamEvent};
use crate::mapping::{bar_from_rest, bar_from_stream, ms, parse};
use crate::rest::{KlinesQuery, RestClient};
use crate::ws::{Backoff, connect, next_text};

/// One market stream to subscribe to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MarketSubscription {
    /// `<symbol>@kline_<interval>`, e.g. interval `1m`.
    Kline {
        /// Binance symbol, any case.
        symbol: String,
        /// Interval, e.g. `1m`.
        interval: String,
    },
    /// `<symbol>@trade`.
    Trade {
        /// Binance symbol.
        symbol: String,
    },
    /// `<symbol>@bookTicker`.
    BookTicker {
        /// Binance symbol.
        symbol: String,
    },
}

impl MarketSubscription {
    /// The stream name (symbols are lower case in stream names).
    #[must_use]
    pub fn stream_name(&self) -> String {
        match self {
            Self::Kline { symbol, interval } => {
                format!("{}@kline_{interval}", symbol.to_ascii_lowercase())
            }
            Self::Trade { symbol } => format!("{}@trade", symbol.to_ascii_lowercase()),
            Self::BookTicker { symbol } => format!("{}@bookTicker", symbol.to_ascii_lowercase()),
        }
    }
}

/// What the market-data stream delivers.
#[derive(Debug, Clone, PartialEq)]
pub enum MarketEvent {
    /// A kline: a closed bar (exactly once per open time) or an update of the forming one.
    Bar {
        /// Binance symbol (upper case).
        symbol: String,
        /// Interval, e.g. `1m`.
        interval: String,
        /// The bar, stamped with its open time.
        bar: Bar,
        /// Its close time.
        close_time: UnixNanos,
        /// True once the interval is over.
        closed: bool,
        /// True if it came from the REST backfill of a gap.
        backfilled: bool,
    },
    /// A public trade.
    Trade {
        /// Symbol.
        symbol: String,
        /// Binance's trade id.
        trade_id: u64,
        /// Price.
        price: Price,
        /// Quantity.
        quantity: Quantity,
        /// Trade time.
        ts: UnixNanos,
        /// True if the buyer was the resting side.
        buyer_is_maker: bool,
    },
    /// Best bid and ask.
    Quote {
        /// Symbol.
        symbol: String,
        /// Order-book update id.
        update_id: u64,
        /// Best bid.
        bid: Price,
        /// Quantity at the best bid.
        bid_qty: Quantity,
        /// Best ask.
        ask: Price,
        /// Quantity at the best ask.
        ask_qty: Quantity,
    },
    /// Connected (again); backfills, if any, follow as `Gap` and `Bar { backfilled }` events.
    Connected,
    /// A kline stream had a gap: `backfilled` (at least one) closed bars were fetched over REST.
    Gap {
        /// Symbol.
        symbol: String,
        /// Interval.
        interval: String,
        /// Open time of the last bar delivered before the gap.
        after: UnixNanos,
        /// Bars recovered.
        backfilled: u64,
    },
    /// A backfilled kline did not decode and was skipped (it would fail every reconnect the
    /// same way).
    Undecodable {
        /// Symbol.
        symbol: String,
        /// Interval.
        interval: String,
        /// Its open time.
        open_time: UnixNanos,
        /// What was wrong.
        reason: String,
    },
    /// The connection was lost; the task reconnects by itself.
    Disconnected {
        /// Why.
        reason: String,
    },
}

/// Counters for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MarketStreamStats {
    /// Successful connections.
    pub connects: u64,
    /// Closed bars recovered over REST.
    pub backfilled_bars: u64,
    /// Live closed bars dropped because the backfill had already delivered them.
    pub duplicate_bars: u64,
}

#[derive(Default)]
struct Counters {
    connects: AtomicU64,
    backfilled: AtomicU64,
    duplicates: AtomicU64,
}

/// The running stream task. Dropping it stops the task.
pub struct MarketDataStream {
    counters: Arc<Counters>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for MarketDataStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketDataStream")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Drop for MarketDataStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MarketDataStream {
    /// Starts the task on the current tokio runtime. `rest` is used for the kline backfill (no
    /// credentials needed).
    ///
    /// # Errors
    /// [`Error::Config`] for bad URLs or an empty subscription list.
    pub fn spawn(
        rest: RestClient,
        subscriptions: Vec<MarketSubscription>,
    ) -> Result<(Self, mpsc::UnboundedReceiver<MarketEvent>), Error> {
        Self::spawn_resuming(rest, subscriptions, &[])
    }

    /// As [`MarketDataStream::spawn`], for a reader that already has the closed klines up to
    /// some point (a runner restarted from a checkpoint): `resume` lists, per kline stream,
    /// `(symbol, interval, open time)` of the last closed kline it has. The first connection
    /// then backfills from there like a reconnect does, with a [`MarketEvent::Gap`] for each.
    ///
    /// # Errors
    /// As [`MarketDataStream::spawn`].
    pub fn spawn_resuming(
        rest: RestClient,
        subscriptions: Vec<MarketSubscription>,
        resume: &[(String, String, UnixNanos)],
    ) -> Result<(Self, mpsc::UnboundedReceiver<MarketEvent>), Error> {
        if subscriptions.is_empty() {
            return Err(Error::Config(
                "no market streams to subscribe to".to_owned(),
            ));
        }
        let mut url = rest
            .config()
            .endpoints()?
            .stream
            .join("stream")
            .map_err(|e| Error::Config(e.to_string()))?;
        let names: Vec<String> = subscriptions
            .iter()
            .map(MarketSubscription::stream_name)
            .collect();
        // Stream names are `[a-z0-9@_]` plus the interval; `/` separates them and is not encoded.
        url.set_query(Some(&format!("streams={}", names.join("/"))));
        let (tx, rx) = mpsc::unbounded_channel();
        let counters = Arc::new(Counters::default());
        let last_closed: LastClosed = resume
            .iter()
            .map(|(symbol, interval, open)| {
                (
                    (symbol.to_ascii_uppercase(), interval.clone()),
                    open.as_nanos().div_euclid(1_000_000),
                )
            })
            .collect();
        let task = tokio::spawn(run(
            rest,
            url,
            subscriptions,
            tx,
            Arc::clone(&counters),
            last_closed,
        ));
        Ok((Self { counters, task }, rx))
    }

    /// Counters.
    #[must_use]
    pub fn stats(&self) -> MarketStreamStats {
        MarketStreamStats {
            connects: self.counters.connects.load(Ordering::Relaxed),
            backfilled_bars: self.counters.backfilled.load(Ordering::Relaxed),
            duplicate_bars: self.counters.duplicates.load(Ordering::Relaxed),
        }
    }
}

const ENDPOINT: &str = "market data stream";

/// Per kline stream: open time (ms) of the last closed kline delivered.
type LastClosed = HashMap<(String, String), i64>;

async fn run(
    rest: RestClient,
    url: url::Url,
    subscriptions: Vec<MarketSubscription>,
    tx: mpsc::UnboundedSender<MarketEvent>,
    counters: Arc<Counters>,
    mut last_closed: LastClosed,
) {
    let mut backoff = Backoff::new(rest.config().reconnect_delays());
    loop {
        let started = Instant::now();
        let error = session(
            &rest,
            &url,
            &subscriptions,
            &tx,
            &counters,
            &mut last_closed,
        )
        .await;
        if tx
            .send(MarketEvent::Disconnected {
                reason: error.to_string(),
            })
            .is_err()
        {
            return; // nobody listens any more
        }
        if started.elapsed() > rest.config().reconnect_delays().1 {
            backoff.reset();
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

async fn session(
    rest: &RestClient,
    url: &url::Url,
    subscriptions: &[MarketSubscription],
    tx: &mpsc::UnboundedSender<MarketEvent>,
    counters: &Counters,
    last_closed: &mut LastClosed,
) -> Error {
    let config = rest.config();
    let mut socket = match connect(url, config.ws_timeout(), ENDPOINT).await {
        Ok(socket) => socket,
        Err(e) => return e,
    };
    counters.connects.fetch_add(1, Ordering::Relaxed);
    let _ = tx.send(MarketEvent::Connected);
    if let Err(e) = backfill(rest, subscriptions, tx, counters, last_closed).await {
        return e;
    }
    loop {
        let text = match next_text(&mut socket, config.ws_idle_timeout(), ENDPOINT).await {
            Ok(text) => text,
            Err(e) => return e,
        };
        match handle_frame(&text, tx, counters, last_closed) {
            Ok(true) => {}
            Ok(false) => {
                return Error::WebSocket {
                    endpoint: ENDPOINT.to_owned(),
                    reason: "serverShutdown: the server asked us to reconnect".to_owned(),
                };
            }
            Err(e) => return e,
        }
    }
}

/// Fetches the closed klines each kline stream missed since its last delivered one.
async fn backfill(
    rest: &RestClient,
    subscriptions: &[MarketSubscription],
    tx: &mpsc::UnboundedSender<MarketEvent>,
    counters: &Counters,
    last_closed: &mut LastClosed,
) -> Result<(), Error> {
    const PAGE: u16 = 1000;
    // Whether a REST kline has closed is read off the venue's clock (the answer carries no
    // flag): measured again before each backfill, so a skewed local clock cannot make the
    // forming kline pass for a closed one (its live close would then be dropped as a repeat).
    let has_history = subscriptions.iter().any(|s| match s {
        MarketSubscription::Kline { symbol, interval } => {
            last_closed.contains_key(&(symbol.to_ascii_uppercase(), interval.clone()))
        }
        _ => false,
    });
    if has_history {
        rest.sync_time().await?;
    }
    for subscription in subscriptions {
        let MarketSubscription::Kline { symbol, interval } = subscription else {
            continue;
        };
        let symbol = symbol.to_ascii_uppercase();
        let key = (symbol.clone(), interval.clone());
        let Some(&after) = last_closed.get(&key) else {
            continue; // nothing delivered yet: no gap to fill
        };
        let mut recovered = 0;
        loop {
            let since = last_closed.get(&key).copied().unwrap_or(after);
            let klines = rest
                .klines(&KlinesQuery {
                    symbol: symbol.clone(),
                    interval: interval.clone(),
                    start_ms: Some(since + 1),
                    end_ms: None,
                    limit: Some(PAGE),
                })
                .await?;
            let now = rest.server_now_ms();
            let page_full = klines.len() == usize::from(PAGE);
            for kline in &klines {
                // The last kline of the answer may still be forming: only closed ones count
                // (the close time is the interval's last millisecond).
                if kline.0 <= since || kline.6 >= now {
                    continue;
                }
                // An undecodable kline would fail every reconnect the same way: skipped.
                let (bar, close_time) = match bar_from_rest(kline) {
                    Ok(decoded) => decoded,
                    Err(e) => {
                        last_closed.insert(key.clone(), kline.0);
                        let _ = tx.send(MarketEvent::Undecodable {
                            symbol: symbol.clone(),
                            interval: interval.clone(),
                            open_time: ms(kline.0),
                            reason: e.to_string(),
                        });
                        continue;
                    }
                };
                last_closed.insert(key.clone(), kline.0);
                recovered += 1;
                let _ = tx.send(MarketEvent::Bar {
                    symbol: symbol.clone(),
                    interval: interval.clone(),
                    bar,
                    close_time,
                    closed: true,
                    backfilled: true,
                });
            }
            if !page_full {
                break;
            }
        }
        counters.backfilled.fetch_add(recovered, Ordering::Relaxed);
        // A reconnect that missed no closed kline (Binance ends every connection after 24 h)
        // is not a gap.
        if recovered == 0 {
            continue;
        }
        let _ = tx.send(MarketEvent::Gap {
            symbol,
            interval: interval.clone(),
            after: ms(after),
            backfilled: recovered,
        });
    }
    Ok(())
}

/// Handles one frame; `Ok(false)` means the server announced a shutdown.
fn handle_frame(
    text: &str,
    tx: &mpsc::UnboundedSender<MarketEvent>,
    counters: &Counters,
    last_closed: &mut LastClosed,
) -> Result<bool, Error> {
    let decode = |reason: String| Error::Decode {
        endpoint: ENDPOINT.to_owned(),
        reason,
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| decode(e.to_string()))?;
    // Combined streams wrap payloads; answers to SUBSCRIBE requests (`{"result":null,"id":1}`)
    // are neither.
    let payload = if value.get("stream").is_some() {
        let frame: CombinedFrame =
            serde_json::from_value(value).map_err(|e| decode(e.to_string()))?;
        frame.data
    } else {
        value
    };
    let Some(event) = StreamEvent::from_payload(payload).map_err(|e| decode(e.to_string()))? else {
        return Ok(true);
    };
    let out = match event {
        StreamEvent::ServerShutdown => return Ok(false),
        StreamEvent::Kline(k) => {
            let bar = bar_from_stream(&k.kline)?;
            if k.kline.closed {
                let key = (k.symbol.clone(), k.kline.interval.clone());
                if last_closed
                    .get(&key)
                    .is_some_and(|&last| k.kline.open_time <= last)
                {
                    counters.duplicates.fetch_add(1, Ordering::Relaxed);
                    return Ok(true);
                }
                last_closed.insert(key, k.kline.open_time);
            }
            MarketEvent::Bar {
                symbol: k.symbol,
                interval: k.kline.interval,
                bar,
                close_time: ms(k.kline.close_time),
                closed: k.kline.closed,
                backfilled: false,
            }
        }
        StreamEvent::Trade(t) => MarketEvent::Trade {
            price: parse(&t.price, "trade price")?,
            quantity: parse(&t.quantity, "trade quantity")?,
            ts: ms(t.trade_time),
            trade_id: t.trade_id,
            buyer_is_maker: t.buyer_is_maker,
            symbol: t.symbol,
        },
        StreamEvent::BookTicker(b) => MarketEvent::Quote {
            update_id: b.update_id,
            bid: parse(&b.bid_price, "best bid")?,
            bid_qty: parse(&b.bid_qty, "best bid quantity")?,
            ask: parse(&b.ask_price, "best ask")?,
            ask_qty: parse(&b.ask_qty, "best ask quantity")?,
            symbol: b.symbol,
        },
    };
    let _ = tx.send(out);
    Ok(true)
}
