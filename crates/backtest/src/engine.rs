//! [`Engine`]: the backtest driver of the trading pipeline — bars from memory, a simulated
//! clock, one thread.
//!
//! A backtest is the [`Pipeline`] of `tradepulse-execution` fed bar by bar, with the
//! [`SimVenue`] as its venue and no journal: the strategy, the risk checks, the order manager
//! and the portfolio are the very code paper and live trading run. This module only feeds the
//! bars in time order, records the equity curve after each one, and collects the fills into
//! round trips.
//!
//! # Several instruments
//!
//! An engine may trade several instruments ([`Engine::add_instrument`], [`Engine::run_many`]):
//! each has its own bar feed and strategy instance, and all share one portfolio. Bars of all
//! feeds are processed in timestamp order (ties: feed order), each strategy instance sees only
//! its instrument's bars, and equity — cash plus every position at its latest close — is
//! recorded once per distinct timestamp. A strategy's `Context::equity` includes the other
//! instruments' positions.

use tradepulse_execution::{
    NoJournal, OrderIds, Pipeline, PipelineError, PipelineEvent, SimConfig, SimVenue,
};
use tradepulse_model::{Bar, Fill, Instrument, InstrumentId, Money, Position, Price, UnixNanos};
use tradepulse_portfolio::{AccountConfig, Portfolio};
use tradepulse_risk::{InvalidRiskConfig, RiskConfig, RiskEngine};
use tradepulse_strategy::Strategy;

use crate::trades::{RoundTrip, RoundTripBook};

/// A backtest could not run to the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// Exact accounting left the fixed-point range.
    #[error("accounting overflow at {ts}: a position or balance left the supported range")]
    Overflow {
        /// When.
        ts: UnixNanos,
    },
    /// The strategy kept sending orders in reaction to its own fills within one bar.
    #[error(
        "strategy kept reacting to its own orders for {} rounds at {ts}",
        tradepulse_execution::MAX_ROUNDS
    )]
    RunawayStrategy {
        /// When.
        ts: UnixNanos,
    },
    /// No bars (in some feed).
    #[error("no bars to run on")]
    NoData,
    /// `run_many` was given a different number of feeds or strategies than instruments.
    #[error("{instruments} instruments but {feeds} bar feeds and {strategies} strategies")]
    Mismatch {
        /// Instruments added.
        instruments: usize,
        /// Feeds given.
        feeds: usize,
        /// Strategies given.
        strategies: usize,
    },
    /// The `risk:` section cannot be used.
    #[error(transparent)]
    Risk(#[from] InvalidRiskConfig),
    /// The instruments cannot be traded together (currencies, duplicates).
    #[error("{0}")]
    Setup(String),
}

impl From<PipelineError> for EngineError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Overflow { ts } => Self::Overflow { ts },
            PipelineError::RunawayStrategy { ts } => Self::RunawayStrategy { ts },
            other => Self::Setup(other.to_string()),
        }
    }
}

/// A booked fill and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillRecord {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The fill.
    pub fill: Fill,
    /// PnL it realised.
    pub realized_pnl: Money,
    /// Position quantity after it.
    pub position_after: tradepulse_model::Quantity,
}

/// A position at the end of a run, marked at its instrument's last close (not closed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalPosition {
    /// The instrument.
    pub instrument: InstrumentId,
    /// The position.
    pub position: Position,
    /// The instrument's last close.
    pub mark: Price,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Equity points: bars for one instrument, distinct timestamps for several.
    pub bars: usize,
    /// Time of each equity point.
    pub timestamps: Vec<UnixNanos>,
    /// Equity at each point (f64: for analytics; the exact final value is
    /// [`RunResult::final_equity`]).
    pub equity: Vec<f64>,
    /// Equity points with a non-zero position in some instrument.
    pub exposed_bars: usize,
    /// Every fill, in order.
    pub fills: Vec<FillRecord>,
    /// Closed round trips, in order of their exit.
    pub round_trips: Vec<RoundTrip>,
    /// Orders the strategies asked for (sent to the venue or refused before it).
    pub orders_submitted: usize,
    /// Orders refused by the risk engine or rejected by the venue.
    pub orders_rejected: usize,
    /// Refusals and rejections by reason code, in [`tradepulse_model::RejectReason::ALL`]
    /// order; reasons that did not occur are left out.
    pub rejections: Vec<(tradepulse_model::RejectReason, u64)>,
    /// Starting cash.
    pub initial_cash: Money,
    /// Cash at the end.
    pub final_cash: Money,
    /// Positions at the end, one per instrument.
    pub positions: Vec<FinalPosition>,
    /// Fees paid.
    pub fees_paid: Money,
    /// Borrow costs of short positions paid.
    pub borrow_paid: Money,
    /// Financing costs of borrowed cash (margin accounts) paid.
    pub financing_paid: Money,
}

impl RunResult {
    /// Exact final equity: cash plus every position marked at its last close.
    #[must_use]
    pub fn final_equity(&self) -> Money {
        let value: i128 = self
            .positions
            .iter()
            .map(|p| p.position.market_value(p.mark).raw())
            .sum();
        Money::from_raw(self.final_cash.raw() + value)
    }
}

/// A backtest: instruments, the simulated venue's fill model and costs, the account, the risk
/// limits. Run it with [`Engine::run`] or [`Engine::run_many`].
#[derive(Debug, Clone)]
pub struct Engine {
    instruments: Vec<Instrument>,
    venue: SimConfig,
    initial_cash: Money,
    account: AccountConfig,
    risk: RiskConfig,
    warmup: usize,
}

impl Engine {
    /// An engine trading `instrument` on a [`SimVenue`] with `venue`, starting with
    /// `initial_cash` in a cash account, with the default risk limits.
    #[must_use]
    pub fn new(instrument: Instrument, venue: SimConfig, initial_cash: Money) -> Self {
        Self {
            instruments: vec![instrument],
            venue,
            initial_cash,
            account: AccountConfig::cash(),
            risk: RiskConfig::default(),
            warmup: 0,
        }
    }

    /// The engine a config describes (venue, account, risk) for `instrument`, starting with
    /// `initial_cash`; the `universe` members are added by the caller.
    #[must_use]
    pub fn for_config(
        config: &crate::BacktestConfig,
        instrument: Instrument,
        initial_cash: Money,
    ) -> Self {
        Self::new(instrument, config.execution, initial_cash)
            .with_account(config.portfolio.account_config())
            .with_risk(config.risk.clone())
    }

    /// Adds another instrument, traded on the same venue from the same portfolio.
    #[must_use]
    pub fn add_instrument(mut self, instrument: Instrument) -> Self {
        self.instruments.push(instrument);
        self
    }

    /// Trades from `account` (cash, or margin with its leverage and financing).
    #[must_use]
    pub fn with_account(mut self, account: AccountConfig) -> Self {
        self.account = account;
        self
    }

    /// Checks every order against `risk`.
    #[must_use]
    pub fn with_risk(mut self, risk: RiskConfig) -> Self {
        self.risk = risk;
        self
    }

    /// Feeds the first `bars` bars to the strategy as history only: its orders are refused with
    /// `WARM_UP`, and equity, exposure and metrics start after them. Walk-forward uses this so a
    /// strategy enters its test window with its indicators already formed.
    #[must_use]
    pub fn with_warmup(mut self, bars: usize) -> Self {
        self.warmup = bars;
        self
    }

    /// Runs `strategy` over `bars` (which must be in time order; the data loader guarantees it)
    /// for the engine's single instrument.
    ///
    /// # Errors
    /// [`EngineError`] if there are no bars, the setup is invalid, accounting overflows, or the
    /// strategy loops.
    pub fn run(
        self,
        bars: &[Bar],
        strategy: &mut (dyn Strategy + Send),
    ) -> Result<RunResult, EngineError> {
        self.run_many(&[bars], &mut [strategy])
    }

    /// Runs one strategy instance per instrument (in the order they were added) over its feed.
    ///
    /// # Errors
    /// [`EngineError`] if there are no bars, the feeds or strategies do not match the
    /// instruments, the setup is invalid, accounting overflows, or a strategy loops.
    pub fn run_many(
        self,
        feeds: &[&[Bar]],
        strategies: &mut [&mut (dyn Strategy + Send)],
    ) -> Result<RunResult, EngineError> {
        let n = self.instruments.len();
        if feeds.len() != n || strategies.len() != n {
            return Err(EngineError::Mismatch {
                instruments: n,
                feeds: feeds.len(),
                strategies: strategies.len(),
            });
        }
        if feeds.iter().any(|f| f.is_empty()) {
            return Err(EngineError::NoData);
        }
        let currency = self.instruments[0].quote_currency();
        let portfolio = Portfolio::new(currency, self.initial_cash, self.account);
        let risk = RiskEngine::new(self.risk)?;
        let mut pipeline = Pipeline::new(
            portfolio,
            risk,
            Box::new(SimVenue::new(self.venue)),
            Box::new(NoJournal),
        );
        pipeline.record_all_events(false);
        let mut keys = Vec::with_capacity(n);
        for instrument in self.instruments {
            keys.push(pipeline.add_instrument(instrument)?);
        }
        // One id sequence for the whole run, named after the (first) strategy: ids read
        // `sma_cross-000001`, whatever instrument they trade.
        let prefix = strategies[0].name().to_owned();
        for (key, strategy) in keys.iter().zip(strategies.iter_mut()) {
            let name = strategy.name().to_owned();
            pipeline.add_strategy(
                &name,
                *key,
                Some(Box::new(&mut **strategy)),
                OrderIds {
                    prefix: prefix.clone(),
                    first_sequence: 1,
                },
            );
        }
        let ids = keys
            .iter()
            .map(|&k| pipeline.portfolio().instrument(k).id().clone())
            .collect();
        let mut driver = Driver {
            pipeline,
            books: (0..n).map(|_| RoundTripBook::default()).collect(),
            fills: Vec::new(),
            ids,
        };

        let total: usize = feeds.iter().map(|f| f.len()).sum();
        let warmup = self.warmup.min(total);
        let mut timestamps = Vec::with_capacity(total - warmup);
        let mut equity = Vec::with_capacity(total - warmup);
        let mut exposed_bars = 0usize;
        let first_ts = feeds
            .iter()
            .map(|f| f[0].ts)
            .min()
            .unwrap_or(UnixNanos::EPOCH);
        driver.pipeline.set_trading(warmup == 0);
        driver.pipeline.start(first_ts)?;
        driver.collect(0);

        if let [bars] = feeds {
            // One instrument (the common case) needs no merging: a plain loop.
            let key = keys[0];
            for (index, bar) in bars.iter().enumerate() {
                if index == warmup && warmup > 0 {
                    driver.pipeline.set_trading(true);
                }
                driver.pipeline.on_bar(key, bar, bar.ts)?;
                if !driver.pipeline.events().is_empty() {
                    driver.collect(index);
                }
                if index >= warmup {
                    let portfolio = driver.pipeline.portfolio();
                    equity.push(portfolio.equity_f64());
                    exposed_bars += usize::from(!portfolio.position(key).is_flat());
                }
            }
            // One instrument: the timeline is its bars' times, copied in one pass rather than
            // written bar by bar next to the equity (half the memory traffic in the loop).
            timestamps.extend(bars[warmup.min(bars.len())..].iter().map(|b| b.ts));
        } else {
            let mut cursors = vec![0usize; feeds.len()];
            let mut index = 0usize;
            while let Some(leg) = next_feed(feeds, &cursors) {
                let bar = &feeds[leg][cursors[leg]];
                cursors[leg] += 1;
                if index == warmup && warmup > 0 {
                    driver.pipeline.set_trading(true);
                }
                driver.pipeline.on_bar(keys[leg], bar, bar.ts)?;
                if !driver.pipeline.events().is_empty() {
                    driver.collect(index);
                }
                index += 1;
                if index <= warmup {
                    continue;
                }
                // Record equity once every bar of this timestamp has been handled.
                let same_time_follows = next_feed(feeds, &cursors)
                    .is_some_and(|next| feeds[next][cursors[next]].ts == bar.ts);
                if !same_time_follows {
                    let portfolio = driver.pipeline.portfolio();
                    timestamps.push(bar.ts);
                    equity.push(portfolio.equity_f64());
                    exposed_bars += usize::from(portfolio.is_exposed());
                }
            }
        }
        let last_ts = feeds
            .iter()
            .map(|f| f[f.len() - 1].ts)
            .max()
            .unwrap_or(UnixNanos::EPOCH);
        driver.pipeline.stop(last_ts)?;
        driver.collect(total);

        let Driver {
            pipeline,
            books,
            fills,
            ids,
        } = driver;
        // One instrument's round trips are taken as they are (a copy would hold them twice).
        let mut books = books.into_iter().map(RoundTripBook::into_closed);
        let mut round_trips = books.next().unwrap_or_default();
        for closed in books {
            round_trips.extend(closed);
        }
        // Round trips of different instruments interleave in time: order them by exit (stable,
        // so one instrument's keep their order). One instrument's are in exit order already, and
        // the merge sort's scratch buffer would be as large again.
        if !round_trips.is_sorted_by_key(|t| t.exit_ts) {
            round_trips.sort_by_key(|t| t.exit_ts);
        }
        let portfolio = pipeline.portfolio();
        let stats = pipeline.stats();
        let rejected = stats.rejected();
        Ok(RunResult {
            bars: equity.len(),
            timestamps,
            equity,
            exposed_bars,
            fills,
            round_trips,
            orders_submitted: usize::try_from(stats.orders_sent + stats.refused)
                .unwrap_or(usize::MAX),
            orders_rejected: usize::try_from(rejected).unwrap_or(usize::MAX),
            rejections: stats.rejections_by_reason().collect(),
            initial_cash: portfolio.initial_cash(),
            final_cash: portfolio.cash(),
            positions: keys
                .iter()
                .zip(ids)
                .map(|(&key, instrument)| FinalPosition {
                    instrument,
                    position: *portfolio.position(key),
                    mark: portfolio.mark(key).unwrap_or(Price::ZERO),
                })
                .collect(),
            fees_paid: portfolio.fees_paid(),
            borrow_paid: portfolio.borrow_paid(),
            financing_paid: portfolio.financing_paid(),
        })
    }
}

/// The pipeline of a run and what the run collects from its events.
struct Driver<'a> {
    pipeline: Pipeline<'a>,
    books: Vec<RoundTripBook>,
    fills: Vec<FillRecord>,
    ids: Vec<InstrumentId>,
}

impl Driver<'_> {
    /// Collects the fills of the events so far (bar `index` for the round trips' holding time).
    fn collect(&mut self, index: usize) {
        for event in self.pipeline.drain_events() {
            if let PipelineEvent::Fill {
                key, fill, booking, ..
            } = event
            {
                let id = &self.ids[key.index()];
                self.books[key.index()].record(
                    id,
                    &fill,
                    booking.position_before,
                    booking.realized_pnl,
                    index,
                );
                self.fills.push(FillRecord {
                    instrument: id.clone(),
                    fill,
                    realized_pnl: booking.realized_pnl,
                    position_after: booking.position_after,
                });
            }
        }
    }
}

/// The feed whose next bar comes first (ties: the lower feed index), if any is left.
fn next_feed(feeds: &[&[Bar]], cursors: &[usize]) -> Option<usize> {
    let mut best: Option<(usize, UnixNanos)> = None;
    for (i, feed) in feeds.iter().enumerate() {
        if let Some(bar) = feed.get(cursors[i])
            && best.is_none_or(|(_, ts)| bar.ts < ts)
        {
            best = Some((i, bar.ts));
        }
    }
    best.map(|(i, _)| i)
}
