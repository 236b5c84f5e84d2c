//! [`RiskEngine`]: the pre-trade checks every order intent passes, in every mode.

use tradepulse_model::{
    Instrument, InstrumentId, Money, OrderKind, OrderRequest, Price, Quantity, RejectReason, Side,
    UnixNanos,
};
use tradepulse_portfolio::{InstrumentKey, Portfolio};

use crate::config::{InvalidRiskConfig, RiskConfig, Shortfall};
use crate::kill_switch::{KillScope, KillSwitch};
use crate::rate::RateWindow;
use crate::rejection::{Breach, Rejection};

/// Index of a strategy registered with [`RiskEngine::register_strategy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StrategyId(u32);

impl StrategyId {
    /// Position in registration order.
    #[must_use]
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// Orders working at the venue for one instrument, summed: what they would add if they filled.
/// The order manager keeps one per instrument and passes them in a [`Book`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Working {
    /// Unfilled quantity of working buys.
    pub buy_quantity: Quantity,
    /// Unfilled quantity of working sells.
    pub sell_quantity: Quantity,
    /// Cash working buys would spend at their prices (limit, or reference for market orders).
    pub buy_notional: Money,
    /// Orders that can still fill.
    pub orders: u32,
}

/// What is already committed when an intent is checked.
#[derive(Debug, Clone, Copy)]
pub struct Book<'a> {
    /// Positions, cash, marks.
    pub portfolio: &'a Portfolio,
    /// Working orders per instrument, indexed by [`InstrumentKey`].
    pub working: &'a [Working],
    /// Orders working over all strategies.
    pub open_orders: usize,
    /// The reference price of the intent's instrument (last trade or close, or mid), if known.
    pub reference: Option<Price>,
}

/// An order intent to check.
#[derive(Debug, Clone, Copy)]
pub struct Intent<'a> {
    /// Who sends it.
    pub strategy: StrategyId,
    /// The instrument's key in the portfolio.
    pub key: InstrumentKey,
    /// The order.
    pub request: &'a OrderRequest,
    /// Now, on the mode's clock.
    pub now: UnixNanos,
}

/// Whether new risk may be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradingState {
    /// Every order that passes the limits is accepted.
    Active,
    /// Only orders that reduce positions are accepted, for the reason given
    /// (`DAILY_LOSS_LIMIT` until the next UTC day, `MAX_DRAWDOWN` until reset).
    Reducing(RejectReason),
}

#[derive(Debug, Clone)]
struct InstrumentRisk {
    id: InstrumentId,
    max_order_quantity: Option<Quantity>,
    max_order_notional: Option<Money>,
    max_position: Option<Quantity>,
}

#[derive(Debug, Clone)]
struct StrategyRisk {
    name: String,
    rate: Option<RateWindow>,
}

/// Pre-trade risk checks and the trading state (kill switches, loss and drawdown halts).
///
/// # Checks, in order
///
/// 1. kill switch (global, the strategy's, the instrument's) → `KILL_SWITCH`;
/// 2. instrument rules: positive quantity, whole lots, prices on the tick, minimum notional;
/// 3. a price for the order: its limit or trigger, else the reference price
///    (`NO_REFERENCE_PRICE` without one: never a placeholder);
/// 4. trading state: while reducing, only orders that shrink the position (with working
///    orders) pass;
/// 5. order quantity and notional limits, per instrument overrides first;
/// 6. price band around the reference;
/// 7. position limit, counting working orders on the same side;
/// 8. a cash account sells only what it holds (`SHORT_NOT_ALLOWED`);
/// 9. gross and net exposure, counting working orders;
/// 10. open-order count;
/// 11. buying power — cash account: cost ≤ cash minus what working buys reserve; margin
///     account: gross exposure ≤ leverage × equity — rejected, or shrunk to whole lots if
///     configured;
/// 12. order rate, per strategy and global, on the clock of the intent.
///
/// Prices are the order's limit/trigger or the reference; fills can still come at another
/// price (a gap, slippage), so [`RiskEngine::fill_allowance`] checks buying power and limits
/// again at the fill's real price, and a simulated venue asks it before every fill.
#[derive(Debug, Clone)]
pub struct RiskEngine {
    config: RiskConfig,
    kill: KillSwitch,
    instruments: Vec<InstrumentRisk>,
    strategies: Vec<StrategyRisk>,
    global_rate: Option<RateWindow>,
    state: TradingState,
    /// `daily_loss_limit` and `max_drawdown` as `f64`, read on every event.
    daily_loss_f64: Option<f64>,
    /// `1 − max_drawdown`, widened by 1e-12 so rounding never lets a breach through.
    drawdown_floor: Option<f64>,
    /// Start of the next UTC day (nanoseconds) and equity at the start of the current one.
    next_day_at: i64,
    day_start_equity: f64,
    peak_equity: f64,
}

impl RiskEngine {
    /// An engine enforcing `config`, with its start-up kill switches on.
    ///
    /// # Errors
    /// [`InvalidRiskConfig`] for values the engine cannot use.
    pub fn new(config: RiskConfig) -> Result<Self, InvalidRiskConfig> {
        config.validate()?;
        let mut kill = KillSwitch::default();
        if config.kill_switch.global {
            kill.set(&KillScope::Global, true);
        }
        for name in &config.kill_switch.strategies {
            kill.set(&KillScope::Strategy(name.clone()), true);
        }
        for id in &config.kill_switch.instruments {
            if let Ok(id) = id.parse() {
                kill.set(&KillScope::Instrument(id), true);
            }
        }
        Ok(Self {
            global_rate: config.order_rate.global.map(RateWindow::new),
            // A loss within 1e-12 (relative) of the limit counts as reaching it: equity is an
            // f64 mirror here, and rounding must never let a breach through.
            daily_loss_f64: config.daily_loss_limit.map(|m| m.as_f64() * (1.0 - 1e-12)),
            drawdown_floor: config
                .max_drawdown
                .map(|d| (1.0 - d.as_f64()) * (1.0 + 1e-12)),
            config,
            kill,
            instruments: Vec::new(),
            strategies: Vec::new(),
            state: TradingState::Active,
            next_day_at: i64::MIN,
            day_start_equity: 0.0,
            peak_equity: f64::NEG_INFINITY,
        })
    }

    /// The configuration.
    #[must_use]
    pub const fn config(&self) -> &RiskConfig {
        &self.config
    }

    /// Registers the instrument of portfolio key `key`; call once per instrument, in key order.
    ///
    /// # Panics
    /// If `key` is not the next key in order (a bug in the caller).
    pub fn register_instrument(&mut self, key: InstrumentKey, instrument: &Instrument) {
        assert_eq!(
            key.index(),
            self.instruments.len(),
            "instruments must be registered in key order"
        );
        let overrides = self
            .config
            .instruments
            .get(instrument.id().as_str())
            .copied()
            .unwrap_or_default();
        self.instruments.push(InstrumentRisk {
            id: instrument.id().clone(),
            max_order_quantity: overrides
                .max_order_quantity
                .or(self.config.max_order_quantity),
            max_order_notional: overrides
                .max_order_notional
                .or(self.config.max_order_notional),
            max_position: overrides.max_position.or(self.config.max_position),
        });
    }

    /// Registers a strategy by name (kill switches and per-strategy rates are by name).
    pub fn register_strategy(&mut self, name: &str) -> StrategyId {
        let id = StrategyId(self.strategies.len() as u32);
        self.strategies.push(StrategyRisk {
            name: name.to_owned(),
            rate: self.config.order_rate.per_strategy.map(RateWindow::new),
        });
        id
    }

    /// The kill switches.
    #[must_use]
    pub const fn kill_switch(&self) -> &KillSwitch {
        &self.kill
    }

    /// Turns a kill switch on or off; returns whether anything changed. The next intent sees it.
    pub fn set_kill_switch(&mut self, scope: &KillScope, on: bool) -> bool {
        self.kill.set(scope, on)
    }

    /// Whether new risk may be taken.
    #[must_use]
    pub const fn state(&self) -> TradingState {
        self.state
    }

    /// Ends a `MAX_DRAWDOWN` halt (an operator's decision); the peak restarts at current equity.
    pub fn reset_drawdown(&mut self) {
        if self.state == TradingState::Reducing(RejectReason::MaxDrawdown) {
            self.state = TradingState::Active;
        }
        self.peak_equity = f64::NEG_INFINITY;
    }

    /// True if the daily-loss or drawdown guard needs the equity of every event
    /// ([`RiskEngine::on_equity`]).
    #[must_use]
    #[inline]
    pub const fn watches_equity(&self) -> bool {
        self.daily_loss_f64.is_some() || self.drawdown_floor.is_some()
    }

    /// Feeds the account's equity at `now` to the daily-loss and drawdown guards.
    #[inline]
    pub fn on_equity(&mut self, now: UnixNanos, equity: f64) {
        if let Some(limit) = self.daily_loss_f64 {
            if now.as_nanos() >= self.next_day_at {
                let day = now.as_nanos().div_euclid(UnixNanos::NANOS_PER_DAY);
                self.next_day_at = (day + 1).saturating_mul(UnixNanos::NANOS_PER_DAY);
                self.day_start_equity = equity;
                if self.state == TradingState::Reducing(RejectReason::DailyLossLimit) {
                    self.state = TradingState::Active;
                }
            }
            if self.state == TradingState::Active && self.day_start_equity - equity >= limit {
                self.state = TradingState::Reducing(RejectReason::DailyLossLimit);
            }
        }
        if let Some(floor) = self.drawdown_floor {
            self.peak_equity = self.peak_equity.max(equity);
            if self.peak_equity > 0.0
                && equity <= self.peak_equity * floor
                && self.state != TradingState::Reducing(RejectReason::MaxDrawdown)
            {
                self.state = TradingState::Reducing(RejectReason::MaxDrawdown);
            }
        }
    }

    /// Checks an intent. On success returns the quantity to send: the order's own, or less if
    /// buying power is short and `risk.buying_power.on_shortfall` is `shrink`. A passing
    /// intent is counted against the order-rate limits.
    ///
    /// # Errors
    /// The [`Rejection`] naming the first check it failed.
    pub fn check(&mut self, intent: &Intent<'_>, book: &Book<'_>) -> Result<Quantity, Rejection> {
        let request = intent.request;
        let key = intent.key;
        let strategy = &self.strategies[intent.strategy.index()];
        let limits = &self.instruments[key.index()];
        let instrument = book.portfolio.instrument(key);

        // 1. Kill switches.
        if self.kill.halts(&strategy.name, &limits.id) {
            return Err(Rejection::new(RejectReason::KillSwitch));
        }
        // 2. Instrument rules.
        check_rules(request, instrument)?;
        // 3. The price the order is valued at.
        let price = match order_price(&request.kind) {
            Some(p) => p,
            None => book
                .reference
                .ok_or(Rejection::new(RejectReason::NoReferencePrice))?,
        };
        let notional = price.notional(request.quantity);
        if notional < instrument.min_notional() {
            return Err(Rejection::money(
                RejectReason::BelowMinNotional,
                notional,
                instrument.min_notional(),
            ));
        }
        let position = book.portfolio.position(key).quantity();
        let working = book.working[key.index()];
        // The position if this order and the working orders on its side all filled.
        let reach = match request.side {
            Side::Buy => position
                .checked_add(working.buy_quantity)
                .and_then(|q| q.checked_add(request.quantity)),
            Side::Sell => position
                .checked_sub(working.sell_quantity)
                .and_then(|q| q.checked_sub(request.quantity)),
        }
        .ok_or(Rejection::new(RejectReason::MaxPosition))?;
        let reduces = match request.side {
            Side::Buy => !reach.is_positive(),
            Side::Sell => !reach.is_negative(),
        };
        // 4. Trading state.
        if let TradingState::Reducing(reason) = self.state
            && !reduces
        {
            return Err(Rejection::new(reason));
        }
        // 5. Order size.
        if let Some(max) = limits.max_order_quantity
            && request.quantity > max
        {
            return Err(Rejection::quantity(
                RejectReason::MaxOrderQuantity,
                request.quantity,
                max,
            ));
        }
        if let Some(max) = limits.max_order_notional
            && notional > max
        {
            return Err(Rejection::money(
                RejectReason::MaxOrderNotional,
                notional,
                max,
            ));
        }
        // 6. Price band.
        if let Some(band) = self.config.price_band
            && let Some(order_price) = order_price(&request.kind)
        {
            let reference = book
                .reference
                .ok_or(Rejection::new(RejectReason::NoReferencePrice))?;
            // Both at scale 1e-9: the band is reference × bps / 10 000 in price units.
            let distance = i128::from(order_price.raw()) - i128::from(reference.raw());
            let allowed = reference
                .notional(Quantity::from_units(1))
                .bps(band.max_deviation_bps)
                .raw();
            if distance.abs() > allowed {
                return Err(Rejection {
                    reason: RejectReason::PriceBand,
                    breach: Breach::Price {
                        price: order_price,
                        reference,
                    },
                });
            }
        }
        // 7. Position limit.
        if let Some(max) = limits.max_position
            && !reduces
            && reach.abs() > max
        {
            return Err(Rejection::quantity(
                RejectReason::MaxPosition,
                reach.abs(),
                max,
            ));
        }
        // 8. No shorts in a cash account.
        let margin = book.portfolio.account().is_margin();
        if !margin && request.side == Side::Sell && reach.is_negative() {
            return Err(Rejection::quantity(
                RejectReason::ShortNotAllowed,
                reach.abs(),
                position
                    .checked_sub(working.sell_quantity)
                    .unwrap_or(position),
            ));
        }
        // 9. Exposure.
        let exposures = exposure_after(book, key, price, reach);
        if let Some(max) = self.config.max_gross_exposure
            && !reduces
            && exposures.gross > max
        {
            return Err(Rejection::money(
                RejectReason::MaxGrossExposure,
                exposures.gross,
                max,
            ));
        }
        if let Some(max) = self.config.max_net_exposure
            && !reduces
            && exposures.net.abs() > max
        {
            return Err(Rejection::money(
                RejectReason::MaxNetExposure,
                exposures.net.abs(),
                max,
            ));
        }
        // 10. Open orders.
        if let Some(max) = self.config.max_open_orders
            && book.open_orders >= max
        {
            return Err(Rejection {
                reason: RejectReason::MaxOpenOrders,
                breach: Breach::Count {
                    value: book.open_orders as u64 + 1,
                    limit: max as u64,
                },
            });
        }
        // 11. Buying power.
        let quantity = self.buying_power(intent, book, price, reduces, exposures.gross)?;
        // 12. Order rate.
        let strategy = &mut self.strategies[intent.strategy.index()];
        if let Some(rate) = &mut strategy.rate
            && !rate.allows(intent.now)
        {
            return Err(rate_rejection(rate));
        }
        if let Some(rate) = &mut self.global_rate
            && !rate.allows(intent.now)
        {
            return Err(rate_rejection(rate));
        }
        if let Some(rate) = &mut strategy.rate {
            rate.record(intent.now);
        }
        if let Some(rate) = &mut self.global_rate {
            rate.record(intent.now);
        }
        Ok(quantity)
    }

    /// Checks a bracket's exit (a stop-loss or take-profit that closes the position its entry
    /// opens): kill switches and the instrument rules. The limits were checked on the entry.
    ///
    /// # Errors
    /// The [`Rejection`] naming the check it failed.
    pub fn check_exit(&self, intent: &Intent<'_>, portfolio: &Portfolio) -> Result<(), Rejection> {
        let strategy = &self.strategies[intent.strategy.index()];
        let limits = &self.instruments[intent.key.index()];
        if self.kill.halts(&strategy.name, &limits.id) {
            return Err(Rejection::new(RejectReason::KillSwitch));
        }
        check_rules(intent.request, portfolio.instrument(intent.key))
    }

    fn buying_power(
        &self,
        intent: &Intent<'_>,
        book: &Book<'_>,
        price: Price,
        reduces: bool,
        gross_after: Money,
    ) -> Result<Quantity, Rejection> {
        let request = intent.request;
        let portfolio = book.portfolio;
        let instrument = portfolio.instrument(intent.key);
        let buffer = self.config.buying_power.cost_buffer_bps;
        let cost = |q: Quantity| {
            let n = price.notional(q);
            Money::from_raw(n.raw() + n.bps(buffer).raw())
        };
        // (what the shrunk order may cost, the limit, the value that broke it)
        let (room, limit, value) = if portfolio.account().is_margin() {
            if reduces {
                return Ok(request.quantity);
            }
            let capacity = portfolio.equity().scaled(portfolio.account().leverage);
            if gross_after <= capacity {
                return Ok(request.quantity);
            }
            // Each unit of the order adds its price to the gross exposure: what is left of the
            // capacity once the rest is counted.
            let rest = gross_after.raw() - price.notional(request.quantity).raw();
            (
                Money::from_raw(capacity.raw() - rest),
                capacity,
                gross_after,
            )
        } else {
            if request.side == Side::Sell {
                return Ok(request.quantity);
            }
            let reserved: i128 = book
                .working
                .iter()
                .map(|w| w.buy_notional.raw() + w.buy_notional.bps(buffer).raw())
                .sum();
            let available = Money::from_raw(portfolio.cash().raw() - reserved);
            let needed = cost(request.quantity);
            if needed <= available {
                return Ok(request.quantity);
            }
            (available, available, needed)
        };
        let shortfall = Rejection::money(RejectReason::InsufficientBuyingPower, value, limit);
        if self.config.buying_power.on_shortfall == Shortfall::Reject || room.raw() <= 0 {
            return Err(shortfall);
        }
        let unit = cost(Quantity::from_units(1));
        let quantity = room
            .units_at(Price::from_raw(
                i64::try_from(unit.raw()).map_err(|_| shortfall)?,
            ))
            .map(|q| q.trunc_to(instrument.lot_size()))
            .ok_or(shortfall)?;
        if !quantity.is_positive() || price.notional(quantity) < instrument.min_notional() {
            return Err(shortfall);
        }
        Ok(quantity.min(request.quantity))
    }

    /// The largest part of a fill of `quantity` at `price` with `fee` (for the whole quantity,
    /// in the account currency) that keeps the account within buying power and the position and
    /// exposure limits, in whole lots; `pending` is what earlier fills of the same venue call
    /// changed but the portfolio has not booked yet. Zero means the fill must not happen.
    /// With `on_shortfall: reject` the answer is all or nothing.
    #[must_use]
    pub fn fill_allowance(
        &self,
        portfolio: &Portfolio,
        key: InstrumentKey,
        pending: Pending,
        fill: ProposedFill,
    ) -> Quantity {
        let ProposedFill {
            side,
            quantity,
            price,
            fee,
        } = fill;
        let instrument = portfolio.instrument(key);
        let lot = instrument.lot_size();
        let limits = &self.instruments[key.index()];
        let position = portfolio.position(key).quantity().raw() + pending.quantity;
        let signed = |q: i64| if side == Side::Buy { q } else { -q };
        let reduces_fully = |q: i64| {
            let after = position + signed(q);
            (position >= 0 && after >= 0 && after <= position)
                || (position <= 0 && after <= 0 && after >= position)
        };
        let cash = portfolio.cash().raw() + pending.cash;
        let fee_per_unit = if quantity.is_positive() {
            fee.raw() * 1_000_000_000 / i128::from(quantity.raw())
        } else {
            0
        };
        let mark_of = |k: InstrumentKey| {
            if k == key {
                Some(price)
            } else {
                portfolio.mark(k)
            }
        };
        let fits = |q: i64| -> bool {
            if q == 0 {
                return true;
            }
            if reduces_fully(q) {
                return true;
            }
            let after = position + signed(q);
            let value = |k: InstrumentKey| -> i128 {
                let qty = if k == key {
                    after
                } else {
                    portfolio.position(k).quantity().raw()
                };
                mark_of(k).map_or(0, |m| m.notional(Quantity::from_raw(qty)).raw())
            };
            let gross: i128 = portfolio.keys().map(|k| value(k).abs()).sum();
            let net: i128 = portfolio.keys().map(value).sum();
            let notional = price.notional(Quantity::from_raw(q)).raw();
            let fee_q = fee_per_unit * i128::from(q) / 1_000_000_000;
            let cash_after = match side {
                Side::Buy => cash - notional - fee_q,
                Side::Sell => cash + notional - fee_q,
            };
            if limits.max_position.is_some_and(|m| after.abs() > m.raw()) {
                return false;
            }
            if self
                .config
                .max_gross_exposure
                .is_some_and(|m| gross > m.raw())
            {
                return false;
            }
            if self
                .config
                .max_net_exposure
                .is_some_and(|m| net.abs() > m.raw())
            {
                return false;
            }
            if portfolio.account().is_margin() {
                let positions: i128 = net;
                let equity = cash_after + positions;
                let capacity = Money::from_raw(equity)
                    .scaled(portfolio.account().leverage)
                    .raw();
                gross <= capacity
            } else {
                cash_after >= 0 && after >= 0
            }
        };
        let whole = quantity.raw();
        if fits(whole) {
            return quantity;
        }
        if self.config.buying_power.on_shortfall == Shortfall::Reject {
            return Quantity::ZERO;
        }
        // Largest whole number of lots that fits: the checks are monotone in the quantity.
        let (mut lo, mut hi) = (0i64, whole / lot.raw());
        while lo < hi {
            let mid = lo + (hi - lo + 1) / 2;
            if fits(mid * lot.raw()) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Quantity::from_raw(lo * lot.raw())
    }
}

/// A fill a simulated venue is about to make, for [`RiskEngine::fill_allowance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposedFill {
    /// Buy or sell.
    pub side: Side,
    /// Quantity the venue would fill.
    pub quantity: Quantity,
    /// Its price.
    pub price: Price,
    /// Fee for the whole quantity, in the account currency.
    pub fee: Money,
}

/// Changes of earlier fills in the same venue call, not yet booked into the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pending {
    /// Cash raw change (1e-9 units).
    pub cash: i128,
    /// Position raw change of the instrument (1e-9 units).
    pub quantity: i64,
}

impl Pending {
    /// Adds a fill that was allowed.
    pub fn add(&mut self, fill: ProposedFill) {
        let notional = fill.price.notional(fill.quantity).raw();
        match fill.side {
            Side::Buy => {
                self.cash -= notional + fill.fee.raw();
                self.quantity += fill.quantity.raw();
            }
            Side::Sell => {
                self.cash += notional - fill.fee.raw();
                self.quantity -= fill.quantity.raw();
            }
        }
    }
}

fn rate_rejection(rate: &RateWindow) -> Rejection {
    Rejection {
        reason: RejectReason::OrderRateLimit,
        breach: Breach::Count {
            value: rate.len() as u64 + 1,
            limit: u64::from(rate.limit().orders),
        },
    }
}

/// The order's own price (limit, trigger), `None` for market and trailing-stop orders.
const fn order_price(kind: &OrderKind) -> Option<Price> {
    match *kind {
        OrderKind::Market | OrderKind::TrailingStop { .. } => None,
        OrderKind::Limit { price } => Some(price),
        OrderKind::Stop { trigger } => Some(trigger),
        OrderKind::StopLimit { limit, .. } => Some(limit),
    }
}

/// Quantity, lot, tick: the venue's own rules, checked before anything leaves the process.
fn check_rules(request: &OrderRequest, instrument: &Instrument) -> Result<(), Rejection> {
    if !request.quantity.is_positive() {
        return Err(Rejection::new(RejectReason::InvalidQuantity));
    }
    if !request.quantity.is_multiple_of(instrument.lot_size()) {
        return Err(Rejection::new(RejectReason::QuantityNotMultipleOfLot));
    }
    let tick = instrument.tick_size();
    let on_tick = |p: Price| p.is_positive() && p.raw() % tick.raw() == 0;
    let price_ok = match request.kind {
        OrderKind::Market => true,
        OrderKind::Limit { price } => on_tick(price),
        OrderKind::Stop { trigger } => on_tick(trigger),
        OrderKind::StopLimit { trigger, limit } => on_tick(trigger) && on_tick(limit),
        OrderKind::TrailingStop { offset } => on_tick(offset),
    };
    if !price_ok {
        return Err(Rejection::new(RejectReason::InvalidPrice));
    }
    Ok(())
}

struct Exposures {
    gross: Money,
    net: Money,
}

/// Gross and net exposure if `key` reached `reach` at `price` and every other instrument's
/// working orders on its larger side filled at its mark.
fn exposure_after(book: &Book<'_>, key: InstrumentKey, price: Price, reach: Quantity) -> Exposures {
    let portfolio = book.portfolio;
    let mut gross = 0i128;
    let mut net = 0i128;
    for k in portfolio.keys() {
        let (value_high, value_low) = if k == key {
            let v = price.notional(reach).raw();
            (v, v)
        } else {
            let Some(mark) = portfolio.mark(k) else {
                continue;
            };
            let q = portfolio.position(k).quantity();
            let w = book.working[k.index()];
            let high = q.checked_add(w.buy_quantity).unwrap_or(q);
            let low = q.checked_sub(w.sell_quantity).unwrap_or(q);
            (mark.notional(high).raw(), mark.notional(low).raw())
        };
        gross += value_high.abs().max(value_low.abs());
        net += if value_high.abs() >= value_low.abs() {
            value_high
        } else {
            value_low
        };
    }
    Exposures {
        gross: Money::from_raw(gross),
        net: Money::from_raw(net),
    }
}
