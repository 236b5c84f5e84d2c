//! Binance for the engine: venue snapshots from the REST API, and credentials from a
//! [`SecretSource`].

use std::collections::HashSet;

use tradepulse_execution::reconcile::{VenueBalances, VenueOrder, VenueOrderStatus, VenueSnapshot};
use tradepulse_model::{
    Asset, ClientOrderId, Fill, InstrumentId, OrderKind, Price, Quantity, TimeInForce, UnixNanos,
    UnixUnit, VenueOrderId,
};
use tradepulse_portfolio::AssetBalance;
use tradepulse_venue_binance::dto::{AccountTrade, OrderResponse};
use tradepulse_venue_binance::{
    Credentials, MarketDataStream, MarketEvent, MarketSubscription, OrderRef, OrderUpdate,
    RestClient, SecretString, TradesQuery, report_of,
};

use crate::engine::{EngineError, EngineHandle, PriceFeed, VenueSetup};
use crate::reconcile::{BoxFuture, ReconcileScope, SnapshotError, SnapshotSource, VenueUsage};
use crate::secrets::{SecretError, SecretSource};

/// Binance credentials from `source`: `{PREFIX}_API_KEY` plus either `{PREFIX}_SECRET_KEY`
/// (HMAC) or `{PREFIX}_PRIVATE_KEY` (an Ed25519 PKCS#8 PEM), each from the variable or its
/// `_FILE` mount.
///
/// # Errors
/// [`SecretError`] if the key or both secrets are missing, or the PEM is not usable.
pub fn binance_credentials(
    source: &dyn SecretSource,
    prefix: &str,
) -> Result<Credentials, SecretError> {
    let api_key = source.require(&format!("{prefix}_API_KEY"))?;
    let api_key = SecretString::from(api_key.expose().to_owned());
    if let Some(pem) = source.get(&format!("{prefix}_PRIVATE_KEY"))? {
        let pem = SecretString::from(pem.expose().to_owned());
        return Credentials::ed25519_pem(api_key, &pem).map_err(|e| SecretError::Backend {
            backend: "binance",
            reason: e.to_string(),
        });
    }
    let secret = source.require(&format!("{prefix}_SECRET_KEY"))?;
    Ok(Credentials::hmac(
        api_key,
        SecretString::from(secret.expose().to_owned()),
    ))
}

/// The engine's venue on Binance Spot: the adapter ([`tradepulse_venue_binance::BinanceVenue`]:
/// clock sync, the symbols' rules from exchangeInfo, the user-data stream) and snapshots over
/// the same REST client. `venue` is the venue part of the instrument ids (`BINANCE`). Must be
/// called inside a tokio runtime.
///
/// # Errors
/// [`EngineError::Venue`] if the venue cannot be reached or a symbol's rules do not fit.
pub async fn binance_venue(
    config: &tradepulse_venue_binance::BinanceConfig,
    credentials: Credentials,
    venue: &str,
    symbols: &[&str],
) -> Result<VenueSetup, EngineError> {
    let err = |e: tradepulse_venue_binance::Error| EngineError::Venue(e.to_string());
    let rest = RestClient::new(config, Some(credentials)).map_err(err)?;
    let adapter = tradepulse_venue_binance::BinanceVenue::start(rest.clone(), venue, symbols)
        .await
        .map_err(err)?;
    let instruments = adapter.instruments().map_err(err)?;
    let weight_limits = request_weight_limits(adapter.rate_limits());
    let subscriptions = symbols
        .iter()
        .flat_map(|s| {
            [
                MarketSubscription::Trade {
                    symbol: (*s).to_owned(),
                },
                MarketSubscription::BookTicker {
                    symbol: (*s).to_owned(),
                },
            ]
        })
        .collect();
    let (stream, events) = MarketDataStream::spawn(rest.clone(), subscriptions).map_err(err)?;
    let venue_part = venue.to_owned();
    let prices: PriceFeed =
        Box::new(move |engine| tokio::spawn(feed_prices(stream, events, venue_part, engine)));
    Ok(VenueSetup {
        venue: Box::new(adapter),
        instruments,
        snapshots: std::sync::Arc::new(
            BinanceSnapshots::new(rest, venue).with_weight_limits(weight_limits),
        ),
        prices: Some(prices),
    })
}

/// The `REQUEST_WEIGHT` limits of exchangeInfo as `(interval, limit)`, the interval named as
/// the `X-MBX-USED-WEIGHT-*` headers name it (`intervalNum` + the unit's letter: `1M`).
fn request_weight_limits(
    limits: &[tradepulse_venue_binance::dto::RateLimit],
) -> Vec<(String, u64)> {
    limits
        .iter()
        .filter(|l| l.rate_limit_type == "REQUEST_WEIGHT")
        .map(|l| {
            let unit = l.interval.chars().next().unwrap_or('?');
            (
                format!("{}{}", l.interval_num, unit.to_ascii_uppercase()),
                l.limit,
            )
        })
        .collect()
}

/// Forwards trades (last price) and quotes (mid) to the engine until it stops.
async fn feed_prices(
    stream: MarketDataStream,
    mut events: tokio::sync::mpsc::UnboundedReceiver<MarketEvent>,
    venue: String,
    engine: EngineHandle,
) {
    let _stream = stream; // the connection lives as long as this task
    while let Some(event) = events.recv().await {
        let (symbol, price, mid) = match event {
            MarketEvent::Trade { symbol, price, .. } => (symbol, price, false),
            MarketEvent::Quote {
                symbol, bid, ask, ..
            } => (symbol, mid(bid, ask), true),
            _ => continue,
        };
        let Ok(instrument) = InstrumentId::new(&symbol, &venue) else {
            continue;
        };
        if engine.on_price(instrument, price, mid).is_err() {
            return;
        }
    }
}

/// The mid of a quote, exact to the price's last digit (halves round toward zero).
fn mid(bid: Price, ask: Price) -> Price {
    Price::from_raw(bid.raw() / 2 + ask.raw() / 2 + (bid.raw() % 2 + ask.raw() % 2) / 2)
}

/// One kline stream of [`binance_bars`]: the closed klines of `symbol` at `interval` are the
/// bars of `instrument`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinanceBars {
    /// The instrument the strategies trade (`BTCUSDT.BINANCE`, or `BTCUSDT.SIM` for paper
    /// trading on Binance's market data).
    pub instrument: InstrumentId,
    /// Binance symbol, e.g. `BTCUSDT`.
    pub symbol: String,
    /// Kline interval as Binance names it, e.g. `1m`.
    pub interval: String,
}

/// What [`binance_bars`] does besides the klines, and where it counts gaps.
pub struct BinanceFeedOptions {
    /// Also forward each trade's price (the last price) to the engine.
    pub trades: bool,
    /// Also forward each book ticker's mid.
    pub book_ticker: bool,
    /// `tradepulse_market_data_gaps_total{source, instrument}`: one per gap found after a
    /// disconnect (or a restart from a checkpoint), however many bars its backfill recovered.
    pub gaps: std::sync::Arc<crate::metrics::Counter>,
}

impl std::fmt::Debug for BinanceFeedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BinanceFeedOptions")
            .field("trades", &self.trades)
            .field("book_ticker", &self.book_ticker)
            .finish_non_exhaustive()
    }
}

/// What a Binance market-data feed did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BinanceFeedReport {
    /// Closed bars handed to the engine (live and backfilled).
    pub bars: u64,
    /// Of those, bars recovered over REST after a gap.
    pub backfilled: u64,
    /// Closed bars at or before the resume point (already in a restored checkpoint).
    pub skipped: u64,
    /// Trade prices and quote mids handed to the engine.
    pub prices: u64,
    /// Gaps found (each one backfilled).
    pub gaps: u64,
    /// Disconnects (each one followed by a reconnect, as long as the feed runs).
    pub disconnects: u64,
}

/// The core service's market data from Binance's public WebSocket: the closed klines of each of
/// `bars` become bars of its instrument, in order and exactly once, and trades (last price) and
/// book tickers (mid) become prices when `options` asks for them. Starts once the engine is
/// ready (no intent may leave before reconciliation); ends when `stop` turns `true`.
///
/// **Disconnects.** While the connection is down nothing reaches the strategies: they pause
/// on their last bar. After the reconnect [`MarketDataStream`] backfills the closed klines of
/// the gap over REST; they reach the strategies first, in order, so their indicators and
/// decisions are those of an uninterrupted run, and then live bars resume. Each gap is logged
/// (instrument, last bar before it, bars recovered) and counted in `options.gaps`.
///
/// **Restarts.** `resume_after` holds, per strategy, its instrument and the last bar its
/// restored checkpoint includes (`None` for a strategy that starts fresh): the first
/// connection backfills each instrument from its oldest checkpointed bar (a gap like any
/// other), and bars at or before it are skipped.
///
/// # Errors
/// [`EngineError::Venue`] if the stream cannot be set up (bad endpoints), and
/// [`EngineError::Stopped`] if the engine stops.
pub async fn binance_bars(
    engine: EngineHandle,
    rest: RestClient,
    bars: Vec<BinanceBars>,
    options: BinanceFeedOptions,
    resume_after: Vec<(InstrumentId, Option<UnixNanos>)>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<BinanceFeedReport, EngineError> {
    use std::time::Duration;
    let mut report = BinanceFeedReport::default();
    while !engine.is_ready() {
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(5)) => {}
            _ = stop.wait_for(|s| *s) => return Ok(report),
        }
    }
    // Per kline stream: the instrument and the open time of the last bar handed over.
    let mut streams: Vec<(BinanceBars, Option<UnixNanos>)> = bars
        .into_iter()
        .map(|b| {
            // The oldest checkpoint of the instrument's restored strategies (they are written
            // together after every bar, so they differ only for a strategy added since): a
            // strategy that starts fresh warms up on the backfill too.
            let after = resume_after
                .iter()
                .filter(|(i, _)| *i == b.instrument)
                .filter_map(|(_, t)| *t)
                .min();
            (b, after)
        })
        .collect();
    let mut subscriptions = Vec::new();
    for (b, _) in &streams {
        subscriptions.push(MarketSubscription::Kline {
            symbol: b.symbol.clone(),
            interval: b.interval.clone(),
        });
        let symbol = b.symbol.clone();
        if options.trades {
            subscriptions.push(MarketSubscription::Trade {
                symbol: symbol.clone(),
            });
        }
        if options.book_ticker {
            subscriptions.push(MarketSubscription::BookTicker { symbol });
        }
    }
    subscriptions.dedup();
    let resume: Vec<(String, String, UnixNanos)> = streams
        .iter()
        .filter_map(|(b, after)| after.map(|t| (b.symbol.clone(), b.interval.clone(), t)))
        .collect();
    let (stream, mut events) = MarketDataStream::spawn_resuming(rest, subscriptions, &resume)
        .map_err(|e| EngineError::Venue(e.to_string()))?;
    let _stream = stream; // the connection lives as long as this feed
    let price_instrument = |streams: &[(BinanceBars, Option<UnixNanos>)], symbol: &str| {
        streams
            .iter()
            .find(|(b, _)| b.symbol.eq_ignore_ascii_case(symbol))
            .map(|(b, _)| b.instrument.clone())
    };
    let mut down_since: Option<std::time::Instant> = None;
    loop {
        let event = tokio::select! {
            e = events.recv() => e,
            _ = stop.wait_for(|s| *s) => return Ok(report),
        };
        let Some(event) = event else {
            return Ok(report); // the stream task ended (it only does when dropped)
        };
        match event {
            MarketEvent::Bar {
                symbol,
                interval,
                bar,
                closed: true,
                backfilled,
                ..
            } => {
                let Some((b, after)) = streams.iter_mut().find(|(b, _)| {
                    b.symbol.eq_ignore_ascii_case(&symbol) && b.interval == interval
                }) else {
                    continue;
                };
                if after.is_some_and(|t| bar.ts <= t) {
                    report.skipped += 1;
                    continue;
                }
                *after = Some(bar.ts);
                let instrument = b.instrument.clone();
                engine.market_room().await;
                engine.on_bar(instrument, bar)?;
                report.bars += 1;
                report.backfilled += u64::from(backfilled);
            }
            // A forming kline: its bar is handed over once closed.
            MarketEvent::Bar { .. } => {}
            MarketEvent::Trade { symbol, price, .. } => {
                if let Some(instrument) = price_instrument(&streams, &symbol) {
                    engine.market_room().await;
                    engine.on_price(instrument, price, false)?;
                    report.prices += 1;
                }
            }
            MarketEvent::Quote {
                symbol, bid, ask, ..
            } => {
                if let Some(instrument) = price_instrument(&streams, &symbol) {
                    engine.market_room().await;
                    engine.on_price(instrument, mid(bid, ask), true)?;
                    report.prices += 1;
                }
            }
            MarketEvent::Connected => {
                if let Some(since) = down_since.take() {
                    tracing::info!(
                        down_ms = since.elapsed().as_millis() as u64,
                        "market data (binance) reconnected; backfilling the gap"
                    );
                } else {
                    tracing::info!("market data (binance) connected");
                }
            }
            MarketEvent::Gap {
                symbol,
                interval,
                after,
                backfilled,
            } => {
                let Some(instrument) = price_instrument(&streams, &symbol) else {
                    continue;
                };
                report.gaps += 1;
                options.gaps.inc(&["binance", instrument.as_str()]);
                tracing::warn!(
                    %instrument,
                    symbol,
                    interval,
                    after_ns = after.as_nanos(),
                    backfilled,
                    "market data gap: bars recovered over REST reached the strategies in order"
                );
            }
            MarketEvent::Undecodable {
                symbol,
                interval,
                open_time,
                reason,
            } => {
                tracing::warn!(
                    symbol,
                    interval,
                    open_time_ns = open_time.as_nanos(),
                    reason,
                    "a backfilled kline does not decode; skipped (its bar is missing)"
                );
            }
            MarketEvent::Disconnected { reason } => {
                // Every failed attempt reports again: the outage is logged once.
                if down_since.is_none() {
                    down_since = Some(std::time::Instant::now());
                    report.disconnects += 1;
                    tracing::warn!(
                        reason,
                        "market data (binance) disconnected: strategies pause until it reconnects"
                    );
                } else {
                    tracing::debug!(reason, "market data (binance) still unreachable");
                }
            }
        }
    }
}

/// Snapshots of a Binance Spot account over its REST API: balances first (so every execution
/// they include is listed after them), working orders per symbol, each local open order by
/// client order id, executions after the last one applied (with the orders they belong to).
#[derive(Debug, Clone)]
pub struct BinanceSnapshots {
    rest: RestClient,
    venue: String,
    weight_limits: Vec<(String, u64)>,
}

/// Pages of `myTrades` read per symbol and run (1,000 executions each).
const MAX_TRADE_PAGES: usize = 20;

impl BinanceSnapshots {
    /// Snapshots through `rest`; `venue` is the venue part of the instrument ids (`BINANCE`).
    #[must_use]
    pub fn new(rest: RestClient, venue: &str) -> Self {
        Self {
            rest,
            venue: venue.to_owned(),
            weight_limits: Vec::new(),
        }
    }

    /// Reports these request-weight limits `(interval, limit)` with the usage (the
    /// `tradepulse_venue_request_weight_limit` metric).
    #[must_use]
    pub fn with_weight_limits(mut self, limits: Vec<(String, u64)>) -> Self {
        self.weight_limits = limits;
        self
    }

    fn instrument(&self, symbol: &str) -> Result<InstrumentId, SnapshotError> {
        InstrumentId::new(symbol, &self.venue).map_err(|e| fail(&e))
    }

    async fn take(&self, scope: &ReconcileScope) -> Result<VenueSnapshot, SnapshotError> {
        let account = self.rest.account().await.map_err(|e| fail(&e))?;
        let balances = account
            .balances
            .iter()
            .map(|b| {
                Ok(AssetBalance {
                    asset: Asset::new(&b.asset).map_err(|e| fail(&e))?,
                    amount: b.total(),
                })
            })
            .collect::<Result<Vec<_>, SnapshotError>>()?;
        let mut snapshot = VenueSnapshot {
            balances: Some(VenueBalances {
                ts: account.update_time,
                balances,
            }),
            ..VenueSnapshot::default()
        };
        let mut seen: HashSet<ClientOrderId> = HashSet::new();
        let mut by_venue_id: HashSet<(String, u64)> = HashSet::new();
        for instrument in &scope.instruments {
            let symbol = instrument.symbol();
            for response in self
                .rest
                .open_orders(Some(symbol))
                .await
                .map_err(|e| fail(&e))?
            {
                let order = self.venue_order(&response)?;
                by_venue_id.insert((symbol.to_owned(), response.order_id));
                seen.insert(order.client_order_id);
                snapshot.orders.push(order);
            }
        }
        for local in &scope.open {
            if seen.contains(&local.client_order_id) {
                continue;
            }
            let symbol = local.instrument.symbol();
            match self
                .rest
                .query_order(symbol, OrderRef::Client(local.client_order_id))
                .await
            {
                Ok(response) => {
                    by_venue_id.insert((symbol.to_owned(), response.order_id));
                    seen.insert(local.client_order_id);
                    snapshot.orders.push(self.venue_order(&response)?);
                }
                Err(e) if e.venue_code() == Some(-2013) => {
                    snapshot.missing.push(local.client_order_id);
                }
                Err(e) => return Err(fail(&e)),
            }
        }
        if scope.baseline {
            // Past executions are in the opening balances: none is booked again.
            return Ok(snapshot);
        }
        for instrument in &scope.instruments {
            let symbol = instrument.symbol();
            let last = scope
                .last_trade_ids
                .iter()
                .find(|(i, _)| i == instrument)
                .map(|(_, n)| *n);
            let mut from = last.map(|n| n + 1);
            for _ in 0..MAX_TRADE_PAGES {
                let page = self
                    .rest
                    .my_trades(&TradesQuery {
                        symbol: symbol.to_owned(),
                        order_id: None,
                        from_id: from,
                        limit: Some(1000),
                    })
                    .await
                    .map_err(|e| fail(&e))?;
                let full = page.len() == 1000;
                for trade in &page {
                    self.add_trade(&mut snapshot, &mut by_venue_id, &mut seen, trade)
                        .await?;
                }
                match (full, page.last()) {
                    (true, Some(t)) => from = Some(t.id + 1),
                    _ => break,
                }
            }
        }
        // Orders that executed more than we know of and whose executions were not listed
        // (older than the last trade id applied): list them by order.
        let listed: Vec<(ClientOrderId, Quantity)> = snapshot
            .orders
            .iter()
            .map(|o| {
                let sum = snapshot
                    .fills
                    .iter()
                    .filter(|f| f.client_order_id == o.client_order_id)
                    .fold(0i64, |acc, f| acc + f.quantity.raw());
                (o.client_order_id, Quantity::from_raw(sum))
            })
            .collect();
        let short: Vec<(String, u64)> = snapshot
            .orders
            .iter()
            .zip(&listed)
            .filter(|(o, (_, sum))| {
                let local = scope
                    .open
                    .iter()
                    .find(|l| l.client_order_id == o.client_order_id)
                    .map_or(Quantity::ZERO, |l| l.filled);
                o.filled.raw() > local.raw() + sum.raw()
            })
            .filter_map(|(o, _)| {
                o.venue_order_id
                    .as_str()
                    .parse()
                    .ok()
                    .map(|n| (o.instrument.symbol().to_owned(), n))
            })
            .collect();
        for (symbol, order_id) in short {
            let trades = self
                .rest
                .my_trades(&TradesQuery {
                    symbol: symbol.clone(),
                    order_id: Some(order_id),
                    from_id: None,
                    limit: Some(1000),
                })
                .await
                .map_err(|e| fail(&e))?;
            for trade in &trades {
                self.add_trade(&mut snapshot, &mut by_venue_id, &mut seen, trade)
                    .await?;
            }
        }
        Ok(snapshot)
    }

    /// Adds an execution (once) and, if its order is not in the snapshot yet, the order.
    async fn add_trade(
        &self,
        snapshot: &mut VenueSnapshot,
        by_venue_id: &mut HashSet<(String, u64)>,
        seen: &mut HashSet<ClientOrderId>,
        trade: &AccountTrade,
    ) -> Result<(), SnapshotError> {
        if !by_venue_id.contains(&(trade.symbol.clone(), trade.order_id)) {
            let response = self
                .rest
                .query_order(&trade.symbol, OrderRef::OrderId(trade.order_id))
                .await
                .map_err(|e| fail(&e))?;
            let order = self.venue_order(&response)?;
            by_venue_id.insert((trade.symbol.clone(), trade.order_id));
            if seen.insert(order.client_order_id) {
                snapshot.orders.push(order);
            }
        }
        let vid = trade.order_id.to_string();
        let Some(owner) = snapshot
            .orders
            .iter()
            .find(|o| o.venue_order_id.as_str() == vid && o.instrument.symbol() == trade.symbol)
        else {
            return Ok(());
        };
        let update =
            OrderUpdate::from_account_trade(trade, owner.client_order_id).map_err(|e| fail(&e))?;
        let report = report_of(&update).map_err(|e| SnapshotError { reason: e })?;
        if let tradepulse_execution::ExecutionReport::Fill(fill) = report {
            let fill: Fill = fill;
            if !snapshot
                .fills
                .iter()
                .any(|f| f.trade_id == fill.trade_id && f.client_order_id == fill.client_order_id)
            {
                snapshot.fills.push(fill);
            }
        }
        Ok(())
    }

    fn venue_order(&self, r: &OrderResponse) -> Result<VenueOrder, SnapshotError> {
        let text = |v: &Option<String>, what: &str| {
            v.clone().ok_or_else(|| SnapshotError {
                reason: format!("order {} has no {what}", r.order_id),
            })
        };
        let qty = |v: &Option<String>, what: &str| -> Result<Quantity, SnapshotError> {
            text(v, what)?.parse().map_err(|e| fail(&e))
        };
        let price = |v: &Option<String>| -> Result<Option<Price>, SnapshotError> {
            match v.as_deref() {
                None => Ok(None),
                Some(p) => {
                    let p: Price = p.parse().map_err(|e| fail(&e))?;
                    Ok(p.is_positive().then_some(p))
                }
            }
        };
        let limit = price(&r.price)?;
        let stop = price(&r.stop_price)?;
        let kind = match (r.order_type.as_deref().unwrap_or("LIMIT"), limit, stop) {
            ("MARKET", ..) => OrderKind::Market,
            (_, Some(limit), Some(trigger)) => OrderKind::StopLimit { trigger, limit },
            (_, None, Some(trigger)) => OrderKind::Stop { trigger },
            (_, Some(price), None) => OrderKind::Limit { price },
            (other, None, None) => {
                return Err(SnapshotError {
                    reason: format!("order {} of type {other} has no price", r.order_id),
                });
            }
        };
        let status = match r.status.as_deref().unwrap_or("NEW") {
            "NEW" | "PARTIALLY_FILLED" | "PENDING_NEW" => VenueOrderStatus::Open,
            "FILLED" => VenueOrderStatus::Filled,
            "CANCELED" | "PENDING_CANCEL" => VenueOrderStatus::Canceled,
            "REJECTED" => VenueOrderStatus::Rejected,
            _ => VenueOrderStatus::Expired,
        };
        let ts = r.update_time.or(r.transact_time).or(r.time).unwrap_or(0);
        Ok(VenueOrder {
            client_order_id: ClientOrderId::new(
                r.orig_client_order_id
                    .as_deref()
                    .unwrap_or(&r.client_order_id),
            )
            .map_err(|e| fail(&e))?,
            venue_order_id: VenueOrderId::new(&r.order_id.to_string()).map_err(|e| fail(&e))?,
            instrument: self.instrument(&r.symbol)?,
            side: match r.side.as_deref() {
                Some("SELL") => tradepulse_model::Side::Sell,
                _ => tradepulse_model::Side::Buy,
            },
            quantity: qty(&r.orig_qty, "origQty")?,
            filled: qty(&r.executed_qty, "executedQty")?,
            kind,
            time_in_force: match r.time_in_force.as_deref() {
                Some("IOC") => TimeInForce::Ioc,
                Some("FOK") => TimeInForce::Fok,
                _ => TimeInForce::Gtc,
            },
            status,
            ts: UnixNanos::from_unix(ts, UnixUnit::Millis).unwrap_or(UnixNanos::EPOCH),
        })
    }
}

fn fail(e: &dyn std::fmt::Display) -> SnapshotError {
    SnapshotError {
        reason: e.to_string(),
    }
}

impl SnapshotSource for BinanceSnapshots {
    fn snapshot<'a>(
        &'a self,
        scope: &'a ReconcileScope,
    ) -> BoxFuture<'a, Result<VenueSnapshot, SnapshotError>> {
        Box::pin(self.take(scope))
    }

    fn usage(&self) -> VenueUsage {
        let limits = self.rest.rate_limits();
        VenueUsage {
            weight: limits
                .used_weight
                .into_iter()
                .map(|u| (u.interval, u.count))
                .collect(),
            orders: limits
                .order_count
                .into_iter()
                .map(|u| (u.interval, u.count))
                .collect(),
            weight_limit: self.weight_limits.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tradepulse_venue_binance::dto::RateLimit;

    use super::request_weight_limits;

    #[test]
    fn weight_limits_are_named_like_the_usage_headers() {
        let limit = |kind: &str, interval: &str, num: u32, limit: u64| RateLimit {
            rate_limit_type: kind.to_owned(),
            interval: interval.to_owned(),
            interval_num: num,
            limit,
            count: None,
        };
        let published = [
            limit("REQUEST_WEIGHT", "MINUTE", 1, 6000),
            limit("ORDERS", "SECOND", 10, 100),
            limit("RAW_REQUESTS", "MINUTE", 5, 61000),
            limit("REQUEST_WEIGHT", "SECOND", 10, 1200),
        ];
        assert_eq!(
            request_weight_limits(&published),
            [("1M".to_owned(), 6000), ("10S".to_owned(), 1200)]
        );
    }
}
